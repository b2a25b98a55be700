// statiq/layers/quantize.hpp — Quantize: the float input (NHWC) becomes the engine's integers,
// q = round(x / scale) + zero_point saturated, rounding as the target's arithmetic does.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "statiq/kernels/arm/neon/quantize.hpp"
#include "statiq/kernels/isa.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/avx2/quantize.hpp"
#include "statiq/kernels/x86/quantize.hpp"
#include "statiq/layers/convolution.hpp"

namespace statiq {

struct QuantizeAttributes {
  Shape shape{};
  int bits = 8;
  bool signed_output = false;
  constexpr bool operator==(const QuantizeAttributes&) const = default;
};

namespace detail {
// Quantize and Dequantize (the float boundary): a positive shape and a valid bit-width, then the
// target's rules.
template <fixed_string Name, LayerKind Kind, auto A, class Target>
constexpr auto check_boundary() {
  using namespace diag;
  constexpr auto common = report_first<
      rule<(A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0),
           shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
      rule<valid_bit_width(A.bits), bit_width_not_1_2_4_or_8<Name, Bits{A.bits, A.bits, A.bits}>>>();
  if constexpr (!common) return common;
  else return Target::template check<Name, Kind, A>();
}

// TFLite rounds its Quantize half away from zero (TfLiteRound); the others half to even.
template <class P>
constexpr bool quantize_rounds_half_away = requires { requires P::quantize_rounds_half_away_from_zero; };

// TFLite's builtin QUANTIZE on x86-64 divides in double (arith::tflite_x86).
template <class P>
constexpr bool quantize_divides_in_double = requires { requires P::quantize_divides_in_double; };

template <class P>
std::int32_t quantize_value(float x, float scale, std::int32_t zero_point, std::int32_t lo, std::int32_t hi) {
  if (std::isnan(x)) return zero_point;  // no integer means NaN; zero is the least surprising
  if constexpr (quantize_divides_in_double<P>) {
    const double q = std::round(static_cast<double>(x) / static_cast<double>(scale)) + zero_point;
    return q < lo ? lo : q > hi ? hi : static_cast<std::int32_t>(q);
  }
  // Division in float32 as ONNX QuantizeLinear; saturate before converting so no value overflows.
  float v = x / scale;
  v = quantize_rounds_half_away<P> ? std::round(v) : std::nearbyint(v);
  v += static_cast<float>(zero_point);
  if (v < static_cast<float>(lo)) return lo;
  if (v > static_cast<float>(hi)) return hi;
  return static_cast<std::int32_t>(v);
}
}  // namespace detail

// Whether Quantize runs this build's vector kernel (kernels/x86[/avx2]/quantize.hpp,
// arm/neon/quantize.hpp: round half to even, to byte codes), from the profile's rounding and the
// output type; TFLite's half-away rounding and the other ISAs run the scalar rule.
template <class Profile, class Y>
constexpr bool quantize_runs_vector_kernel() {
  return (kernels::isa == kernels::Isa::avx512_vnni || kernels::isa == kernels::Isa::avx2 ||
          kernels::isa == kernels::Isa::neon) &&
         !detail::quantize_rounds_half_away<Profile> && sizeof(Y) == 1;
}

template <class Profile, class Y>
constexpr std::string_view quantize_kernel_name() {
  if constexpr (!quantize_runs_vector_kernel<Profile, Y>()) return "reference::quantize";
  else if constexpr (kernels::isa == kernels::Isa::avx512_vnni) return "x86::quantize_half_even (avx512)";
  else if constexpr (kernels::isa == kernels::Isa::avx2) return "x86::avx2::quantize_half_even (avx2)";
  else return "arm::neon::quantize_half_even (neon)";
}

// Quantize with run-time attributes.
template <class Profile, class Y>
void compute(const QuantizeAttributes& a, const float* x, float scale, std::int32_t zero_point, Y* y) {
  const int lo = qmin(a.bits, a.signed_output), hi = qmax(a.bits, a.signed_output);
  if constexpr (quantize_runs_vector_kernel<Profile, Y>()) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    STATIQ_KERNEL_RAN("x86::quantize_half_even (avx512)");
    return kernels::x86::quantize_half_even(x, a.shape.size(), scale, zero_point, lo, hi, y);
#elif defined(STATIQ_KERNELS_AVX2)
    STATIQ_KERNEL_RAN("x86::avx2::quantize_half_even (avx2)");
    return kernels::x86::avx2::quantize_half_even(x, a.shape.size(), scale, zero_point, lo, hi, y);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    STATIQ_KERNEL_RAN("arm::neon::quantize_half_even (neon)");
    return kernels::arm::neon::quantize_half_even(x, a.shape.size(), scale, zero_point, lo, hi, y);
#endif
  }
  STATIQ_KERNEL_RAN("reference::quantize");
  for (int i = 0; i < a.shape.size(); ++i) y[i] = static_cast<Y>(detail::quantize_value<Profile>(x[i], scale, zero_point, lo, hi));
}

template <fixed_string Name, QuantizeAttributes A, class Target>
class Quantize {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::quantize;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr QuantizeAttributes attributes = A;

 private:
  static constexpr auto check() { return detail::check_boundary<Name, LayerKind::quantize, A, Target>(); }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Shape output_shape = input_shape;
  static constexpr Pattern pattern = Pattern{{"QuantizeLinear"}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;
  using input_element = float;
  using output_type = qint<valid ? A.bits : 8, A.signed_output>;
  using output_element = typename output_type::storage;
  static constexpr std::string_view kernel_name = quantize_kernel_name<profile, output_element>();

  struct parameters {
    float scale = 1.0f;
    std::int32_t zero_point = 0;
  };

  constexpr Quantize() = default;
  constexpr explicit Quantize(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const float* x, output_element* y, std::int32_t*) const {
    compute<profile>(A, x, p_.scale, p_.zero_point, y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
