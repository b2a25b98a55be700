// statiq/layers/dequantize.hpp — Dequantize: the engine's integer output back to float,
// (q - zero_point) * scale in float32 as ONNX DequantizeLinear (a power of two on Akida); with
// `softmax`, then the model's final Softmax over the channels of each pixel (statiq/arith/softmax.hpp),
// so the engine's output is the model's, not left to the application.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/arith/dequantize.hpp"
#include "statiq/arith/softmax.hpp"
#include "statiq/kernels/arm/neon/dequantize.hpp"
#include "statiq/kernels/isa.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/avx2/dequantize.hpp"
#include "statiq/kernels/x86/dequantize.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/quantize.hpp"

namespace statiq {

struct DequantizeAttributes {
  Shape shape{};
  int bits = 8;
  bool signed_input = false;
  bool softmax = false;  // then Softmax over the channels (ONNX Softmax on axis 1 of the model's output)
  constexpr bool operator==(const DequantizeAttributes&) const = default;
};

// Whether Dequantize runs this build's vector kernel (kernels/x86[/avx2]/dequantize.hpp,
// arm/neon/dequantize.hpp: byte codes); the Softmax after it (statiq/arith/softmax.hpp) is scalar
// everywhere.
template <class X>
constexpr bool dequantize_runs_vector_kernel() {
  return (kernels::isa == kernels::Isa::avx512_vnni || kernels::isa == kernels::Isa::avx2 ||
          kernels::isa == kernels::Isa::neon) &&
         sizeof(X) == 1;
}

template <class X>
constexpr std::string_view dequantize_kernel_name(bool softmax) {
  if (!dequantize_runs_vector_kernel<X>()) return softmax ? "reference::dequantize + softmax" : "reference::dequantize";
  if (kernels::isa == kernels::Isa::avx512_vnni)
    return softmax ? "x86::dequantize (avx512) + reference softmax" : "x86::dequantize (avx512)";
  if (kernels::isa == kernels::Isa::avx2)
    return softmax ? "x86::avx2::dequantize (avx2) + reference softmax" : "x86::avx2::dequantize (avx2)";
  return softmax ? "arm::neon::dequantize (neon) + reference softmax" : "arm::neon::dequantize (neon)";
}

// Dequantize with run-time attributes: (q - zero_point) * scale in float32 [, then Softmax per pixel].
template <class X>
void compute(const DequantizeAttributes& a, const X* x, float scale, std::int32_t zero_point, float* y) {
  if constexpr (dequantize_runs_vector_kernel<X>()) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    STATIQ_KERNEL_RAN("x86::dequantize (avx512)");
    kernels::x86::dequantize(x, a.shape.size(), scale, zero_point, y);
#elif defined(STATIQ_KERNELS_AVX2)
    STATIQ_KERNEL_RAN("x86::avx2::dequantize (avx2)");
    kernels::x86::avx2::dequantize(x, a.shape.size(), scale, zero_point, y);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    STATIQ_KERNEL_RAN("arm::neon::dequantize (neon)");
    kernels::arm::neon::dequantize(x, a.shape.size(), scale, zero_point, y);
#endif
  } else {
    STATIQ_KERNEL_RAN("reference::dequantize");
    for (int i = 0; i < a.shape.size(); ++i) y[i] = arith::dequantize(static_cast<std::int32_t>(x[i]), scale, zero_point);
  }
  if (a.softmax)
    for (int p = 0; p < a.shape.h * a.shape.w; ++p) arith::softmax(y + p * a.shape.c, y + p * a.shape.c, a.shape.c);
}

template <fixed_string Name, DequantizeAttributes A, class Target>
class Dequantize {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::dequantize;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr DequantizeAttributes attributes = A;

 private:
  static constexpr auto check() { return detail::check_boundary<Name, LayerKind::dequantize, A, Target>(); }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Shape output_shape = input_shape;
  static constexpr Pattern pattern =
      A.softmax ? Pattern{{"DequantizeLinear", "Softmax"}, 2} : Pattern{{"DequantizeLinear"}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;
  using input_type = qint<valid ? A.bits : 8, A.signed_input>;
  using input_element = typename input_type::storage;
  using output_element = float;
  static constexpr std::string_view kernel_name = dequantize_kernel_name<input_element>(A.softmax);

  struct parameters {
    float scale = 1.0f;
    std::int32_t zero_point = 0;
  };

  constexpr Dequantize() = default;
  constexpr explicit Dequantize(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* x, float* y, std::int32_t*) const { compute(A, x, p_.scale, p_.zero_point, y); }

 private:
  parameters p_{};
};

}  // namespace statiq
