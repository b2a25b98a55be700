// statiq/layers/concat.hpp — Concat along channels (NHWC) of up to 4 quantized tensors of the same
// height and width; each input is brought to the output's quantization by the profile's rescale.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/arm/neon/concat.hpp"
#include "statiq/kernels/isa.hpp"
#include "statiq/kernels/reference/concat.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/avx2/concat.hpp"
#include "statiq/kernels/x86/concat.hpp"
#include "statiq/layers/convolution.hpp"

namespace statiq {

struct ConcatAttributes {
  Shape inputs[4]{};
  int count = 2;
  Bits bits{};
  bool signed_input = false;
  bool signed_output = false;
  constexpr bool operator==(const ConcatAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(concat_inputs_differ_in_height_or_width,
                  "Concat joins channels: every input must have the same height and width",
                  fixed_string Layer, Shape first, Shape other);
STATIQ_DIAGNOSTIC(concat_takes_2_to_4_inputs, "Concat takes 2 to 4 inputs", fixed_string Layer, int count);
}  // namespace diag

constexpr int concat_mismatch(const ConcatAttributes& a) {
  for (int i = 1; i < a.count && i < 4; ++i)
    if (a.inputs[i].h != a.inputs[0].h || a.inputs[i].w != a.inputs[0].w) return i;
  return 0;
}

constexpr Shape output_shape(const ConcatAttributes& a) {
  int c = 0;
  for (int i = 0; i < a.count; ++i) c += a.inputs[i].c;
  return Shape{a.inputs[0].h, a.inputs[0].w, c};
}

// Whether a Concat runs this build's byte kernel (kernels/x86/concat.hpp, x86/avx2/concat.hpp,
// arm/neon/concat.hpp: each input copied or looked up in a table of its rescaled codes, made once per
// call), decided at compile time from the element types, the size and the ISA; worth it from a few
// hundred elements, below which the tables cost more than the scalar rescale.
template <class X, class Y>
constexpr bool concat_runs_byte_kernel(const ConcatAttributes& a) {
  constexpr bool vector_isa = kernels::isa == kernels::Isa::avx512_vnni || kernels::isa == kernels::Isa::avx2 ||
                              kernels::isa == kernels::Isa::neon;
  if constexpr (!vector_isa || !std::is_integral_v<X> || sizeof(X) != 1 || !std::is_integral_v<Y> || sizeof(Y) != 1)
    return false;
  else
    return a.inputs[0].h * a.inputs[0].w * output_shape(a).c >= 256;
}

constexpr std::string_view concat_kernel_name(bool byte_kernel) {
  if (!byte_kernel) return "reference::concat";
#if defined(STATIQ_KERNELS_AVX512_VBMI)
  return "x86::concat_bytes (avx512 vbmi)";
#elif defined(STATIQ_KERNELS_AVX512_VNNI)
  return "x86::concat_bytes (avx512, scalar table lookups without vbmi)";
#elif defined(STATIQ_KERNELS_AVX2)
  return "x86::avx2::concat_bytes (avx2)";
#elif defined(STATIQ_KERNELS_ARM_NEON)
  return "arm::neon::concat_bytes (neon)";
#else
  return "reference::concat";
#endif
}

// Concat with run-time attributes: input i brought to the output's quantization by rescale[i].
template <class Profile, class X, class Y>
void compute(const ConcatAttributes& a, const X* const* xs, const typename Profile::rescale_params* rescale, Y* y) {
  int channels[4]{};
  for (int i = 0; i < a.count; ++i) channels[i] = a.inputs[i].c;
#if defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2) || defined(STATIQ_KERNELS_ARM_NEON)
  if constexpr (std::is_integral_v<X> && sizeof(X) == 1 && std::is_integral_v<Y> && sizeof(Y) == 1) {
    if (concat_runs_byte_kernel<X, Y>(a)) {
      // Each input's rescale of its 256 codes; none where it maps every code to itself (a copy).
      Y tables[4][256];
      const Y* use[4]{};
      for (int i = 0; i < a.count; ++i) {
        bool identity = std::is_signed_v<X> == std::is_signed_v<Y>;
        for (int b = 0; b < 256; ++b) {
          const std::int32_t q = static_cast<X>(static_cast<std::uint8_t>(b));
          const std::int32_t r = Profile::rescale(q, rescale[i]);
          tables[i][b] = static_cast<Y>(r);
          identity = identity && r == q;
        }
        use[i] = identity ? nullptr : tables[i];
      }
#if defined(STATIQ_KERNELS_AVX512_VBMI)
      STATIQ_KERNEL_RAN("x86::concat_bytes (avx512 vbmi)");
      kernels::x86::concat_bytes(a.inputs[0].h * a.inputs[0].w, a.count, xs, channels, use, y);
#elif defined(STATIQ_KERNELS_AVX512_VNNI)
      STATIQ_KERNEL_RAN("x86::concat_bytes (avx512, scalar table lookups without vbmi)");
      kernels::x86::concat_bytes(a.inputs[0].h * a.inputs[0].w, a.count, xs, channels, use, y);
#elif defined(STATIQ_KERNELS_AVX2)
      STATIQ_KERNEL_RAN("x86::avx2::concat_bytes (avx2)");
      kernels::x86::avx2::concat_bytes(a.inputs[0].h * a.inputs[0].w, a.count, xs, channels, use, y);
#else
      STATIQ_KERNEL_RAN("arm::neon::concat_bytes (neon)");
      kernels::arm::neon::concat_bytes(a.inputs[0].h * a.inputs[0].w, a.count, xs, channels, use, y);
#endif
      return;
    }
  }
#endif
  STATIQ_KERNEL_RAN("reference::concat");
  kernels::reference::concat(a.inputs[0].h * a.inputs[0].w, a.count, xs, channels, y,
                             [rescale](int i, std::int32_t q) { return Profile::rescale(q, rescale[i]); });
}

template <fixed_string Name, ConcatAttributes A, class Target>
class Concat {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::concat;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr ConcatAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr int bad = concat_mismatch(A);
    using namespace diag;
    constexpr auto common = report_first<
        rule<(A.count >= 2 && A.count <= 4), concat_takes_2_to_4_inputs<Name, A.count>>,
        rule<bad == 0, concat_inputs_differ_in_height_or_width<Name, A.inputs[0], A.inputs[bad]>>,
        rule<valid_bit_width(A.bits.in) && valid_bit_width(A.bits.out), bit_width_not_1_2_4_or_8<Name, A.bits>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::concat, A>();
  }


 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr int arity = valid ? A.count : 2;
  static constexpr Shape output_shape = valid ? statiq::output_shape(A) : Shape{1, 1, 1};
  static constexpr Pattern pattern = Pattern{{"Concat"}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  static constexpr std::string_view kernel_name =
      concat_kernel_name(concat_runs_byte_kernel<input_element, output_element>(A));

  static constexpr Shape input_shape(int i) { return A.inputs[i]; }

  struct parameters {
    std::array<typename profile::rescale_params, 4> rescale{};
  };

  constexpr Concat() = default;
  constexpr explicit Concat(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const std::array<const input_element*, std::size_t(arity)>& xs, output_element* y,
                  std::int32_t*) const {
    compute<profile>(A, xs.data(), p_.rescale.data(), y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
