// statiq/layers/add.hpp — Add: the elementwise sum of two quantized tensors of the same shape
// (a residual connection), with an optional fused ReLU, in the target's arithmetic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/arm/neon/add.hpp"
#include "statiq/kernels/isa.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/add.hpp"
#include "statiq/kernels/x86/avx2/add.hpp"
#include "statiq/kernels/x86/requantize.hpp"
#include "statiq/layers/convolution.hpp"

namespace statiq {

struct AddAttributes {
  Shape shape{};
  Activation activation = no_activation;
  Bits bits{};  // .in for both inputs, .out for the sum; .w unused
  bool signed_input = false;
  bool signed_output = false;
  // The second input's signedness when it differs from the first (-1: the same). On Akida a
  // residual Add may join a ReLU output (unsigned) and a convolution without one (signed).
  int signed_second_input = -1;
  constexpr bool operator==(const AddAttributes&) const = default;
  constexpr bool second_input_signed() const { return signed_second_input < 0 ? signed_input : signed_second_input != 0; }
};

namespace detail {

// Below this many elements the scalar Add costs less than the vectorized one's setup (tables, constants).
inline constexpr int add_vectorized_from = 64;

#if defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2) || defined(STATIQ_KERNELS_ARM_NEON)
// The vector kernels of this ISA: kernels/x86 (AVX-512), kernels/x86/avx2 or kernels/arm/neon, each
// with the same names (code_index, shift_term, mvin_scale_term, table_term, add_by_terms and the
// output stages requantize_pow2 / akida_v1 / qlinear / tflite), so one profile dispatch serves all.
#if defined(STATIQ_KERNELS_AVX512_VNNI)
namespace add_isa = kernels::x86;
#elif defined(STATIQ_KERNELS_AVX2)
namespace add_isa = kernels::x86::avx2;
#else
namespace add_isa = kernels::arm::neon;
#endif

// table[code_index<X>(q)] = term(q) for every code q of X; false when a sum of two terms may leave
// int32 (|term| >= 2^30), where the caller runs the scalar rule.
template <class X, class Term>
bool fill_add_table(Term&& term, std::int32_t* table) {
  constexpr int lo = std::is_signed_v<X> ? -128 : 0;
  bool fits = true;
  for (int q = lo; q < lo + 256; ++q) {
    const std::int64_t t = term(q);
    fits = fits && t > -(std::int64_t{1} << 30) && t < (std::int64_t{1} << 30);
    table[add_isa::code_index<X>(q)] = static_cast<std::int32_t>(t);
  }
  return fits;
}

// The vectorized Add of profiles other than qlinear: each input's own step (pow2/akida_v1: the
// aligning left shift; gemmini: MVIN_SCALE; tflite: the offset, the left shift by 20 and the input's
// MultiplyByQuantizedMultiplier, as in Profile::add, as a table of its 256 codes), and the sum goes
// through the profile's vectorized output stage, which is Profile::add's last step:
// pow2/akida_v1/gemmini requantize(sum) with the Add's output parameters, tflite the output
// multiplier, + zero point, saturated. False when this profile or these operands have no fast path.
template <class Profile, class X, class X2, class Y>
bool add_vectorized(const X* a, const X2* b, int n, const typename Profile::add_params& p, Y* y) {
  if constexpr (std::is_same_v<Profile, arith::pow2> || std::is_same_v<Profile, arith::akida_v1>) {
    // |q| <= 255 shifted by at most 22 stays below 2^30, so the sum fits int32.
    if (p.a_shift < 0 || p.a_shift > 22 || p.b_shift < 0 || p.b_shift > 22) return false;
    const auto ta = add_isa::shift_term(p.a_shift), tb = add_isa::shift_term(p.b_shift);
    typename Profile::channel_params ch[16];
    if constexpr (std::is_same_v<Profile, arith::pow2>) {
      std::fill_n(ch, 16, p.output);
      const arith::pow2::output_params out{p.lo, p.hi};
      add_isa::add_by_terms(a, b, n, ta, tb, [&](const std::int32_t* s, int rows, int cols, Y* o) {
        add_isa::requantize_pow2(s, 16, rows, cols, ch, out, o);
      }, y);
    } else {
      std::fill_n(ch, 16, p.activation);
      const arith::akida_v1::output_params out{p.lo, p.hi};
      add_isa::add_by_terms(a, b, n, ta, tb, [&](const std::int32_t* s, int rows, int cols, Y* o) {
        add_isa::requantize_akida_v1(s, 16, rows, cols, ch, out, o);
      }, y);
    }
    return true;
  } else if constexpr (std::is_same_v<Profile, arith::gemmini>) {
    const auto ta = add_isa::mvin_scale_term(p.a_scale), tb = add_isa::mvin_scale_term(p.b_scale);
    float c[16];
    std::fill_n(c, 16, p.c_scale);
    // ACC_SCALE then the clamp: qlinear's stage with a zero point of 0 and the bounds intersected.
    const std::int32_t lo = std::max(p.lo, Profile::int8_min), hi = std::min(p.hi, Profile::int8_max);
    add_isa::add_by_terms(a, b, n, ta, tb, [&](const std::int32_t* s, int rows, int cols, Y* o) {
      add_isa::requantize_qlinear(s, 16, rows, cols, c, 0, lo, hi, o);
    }, y);
    return true;
  } else if constexpr (arith::is_tflite_profile<Profile>) {
    const auto term = [&](std::int32_t q, std::int32_t offset, const typename Profile::channel_params& ch) {
      const std::int32_t shifted = (q + offset) * (1 << p.left_shift);
      return Profile::multiply_by_quantized_multiplier(shifted, ch.multiplier, ch.shift);
    };
    alignas(64) std::int32_t table_a[256], table_b[256];
    if (!fill_add_table<X>([&](std::int32_t q) { return term(q, p.a_offset, p.a); }, table_a) ||
        !fill_add_table<X2>([&](std::int32_t q) { return term(q, p.b_offset, p.b); }, table_b))
      return false;
    const auto ta = add_isa::table_term<X>(table_a), tb = add_isa::table_term<X2>(table_b);
    std::int32_t params[32];
    for (int i = 0; i < 16; ++i) params[2 * i] = p.output.multiplier, params[2 * i + 1] = p.output.shift;
    const auto stage = Profile::rounding == arith::tflite_rounding::single_rounding
                           ? add_isa::tflite_output_stage::single_rounding
                           : add_isa::tflite_output_stage::gemmlowp;
    add_isa::add_by_terms(a, b, n, ta, tb, [&](const std::int32_t* s, int rows, int cols, Y* o) {
      add_isa::requantize_tflite(stage, s, 16, rows, cols, params, p.output_offset, p.lo, p.hi, o);
    }, y);
    return true;
  } else {
    return false;
  }
}
#endif

}  // namespace detail

// The kernel an Add runs in this build, decided at compile time from the profile, the element types,
// the size and the ISA (kernels::isa): `by_terms` (kernels/x86[/avx2]/add.hpp, kernels/arm/neon/add.hpp:
// each input's step as a term, then the profile's vectorized output stage), `qlinear_fma`
// (onnxruntime's x86 QLinearAdd formula, x86), `qlinear` (every formula of arith::qlinear::add, NEON)
// or the scalar Profile::add loop. The vector kernels other than `qlinear` still fall back to the loop
// where the add parameters ask for it at run time (add_kernel_name says when).
enum class AddKernel { reference, qlinear_fma, by_terms, qlinear };

template <class Profile, class X, class X2, class Y>
constexpr AddKernel add_kernel(const AddAttributes& a) {
  constexpr bool x86 = kernels::isa == kernels::Isa::avx512_vnni || kernels::isa == kernels::Isa::avx2;
  if constexpr (!x86 && kernels::isa != kernels::Isa::neon) {
    return AddKernel::reference;
  } else if constexpr (sizeof(X) != 1 || sizeof(X2) != 1 || sizeof(Y) != 1) {
    return AddKernel::reference;
  } else if constexpr (std::is_same_v<Profile, arith::qlinear>) {
#if defined(STATIQ_KERNELS_ARM_NEON)
    return AddKernel::qlinear;
#elif defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2_FMA)  // qlinear's x86 formula needs FMA
    return AddKernel::qlinear_fma;
#else
    return AddKernel::reference;
#endif
  } else if constexpr (std::is_same_v<Profile, arith::pow2> || std::is_same_v<Profile, arith::akida_v1> ||
                       std::is_same_v<Profile, arith::gemmini> || arith::is_tflite_profile<Profile>) {
    return a.shape.size() >= detail::add_vectorized_from ? AddKernel::by_terms : AddKernel::reference;
  } else {
    return AddKernel::reference;
  }
}

namespace detail {
// What STATIQ_KERNEL_RAN records when the vector kernel k runs (add_kernel_name adds the fallbacks).
constexpr const char* add_kernel_ran(AddKernel k) {
  constexpr kernels::Isa isa = kernels::isa;
  if (k == AddKernel::qlinear_fma)
    return isa == kernels::Isa::avx512_vnni ? "x86::add_qlinear_fma (avx512)" : "x86::avx2::add_qlinear_fma (avx2)";
  if (k == AddKernel::qlinear) return "arm::neon::add_qlinear (neon)";
  if (k == AddKernel::by_terms)
    return isa == kernels::Isa::avx512_vnni ? "x86::add_by_terms (avx512)"
           : isa == kernels::Isa::avx2      ? "x86::avx2::add_by_terms (avx2)"
                                            : "arm::neon::add_by_terms (neon)";
  return "reference::add";
}
}  // namespace detail

// The name of kernel k for this profile in this build, with the run-time condition under which the
// vector kernel hands the elements to the scalar loop instead.
template <class Profile>
constexpr std::string_view add_kernel_name(AddKernel k) {
  constexpr kernels::Isa isa = kernels::isa;
  constexpr bool avx512 = isa == kernels::Isa::avx512_vnni, avx2 = isa == kernels::Isa::avx2;
  if (k == AddKernel::qlinear_fma)
    return avx512 ? "x86::add_qlinear_fma (avx512) or reference::add when add_params.kernel is not x86_fma"
                  : "x86::avx2::add_qlinear_fma (avx2) or reference::add when add_params.kernel is not x86_fma";
  if (k == AddKernel::qlinear) return detail::add_kernel_ran(k);  // every formula: no fallback
  if (k == AddKernel::by_terms) {
    if constexpr (std::is_same_v<Profile, arith::gemmini>)
      return detail::add_kernel_ran(k);
    else if constexpr (arith::is_tflite_profile<Profile>)
      return avx512 ? "x86::add_by_terms (avx512) or reference::add when an input's term reaches 2^30"
             : avx2 ? "x86::avx2::add_by_terms (avx2) or reference::add when an input's term reaches 2^30"
                    : "arm::neon::add_by_terms (neon) or reference::add when an input's term reaches 2^30";
    else
      return avx512 ? "x86::add_by_terms (avx512) or reference::add when a shift is outside 0..22"
             : avx2 ? "x86::avx2::add_by_terms (avx2) or reference::add when a shift is outside 0..22"
                    : "arm::neon::add_by_terms (neon) or reference::add when a shift is outside 0..22";
  }
  return "reference::add";
}

// Add with run-time attributes: y = Profile::add(a, b) elementwise (a fused ReLU is in the bounds).
template <class Profile, class X, class X2, class Y>
void compute(const AddAttributes& attributes, const X* a, const X2* b, const typename Profile::add_params& p, Y* y) {
  const int n = attributes.shape.size();
  [[maybe_unused]] const AddKernel k = add_kernel<Profile, X, X2, Y>(attributes);
  if constexpr (sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1) {
    if constexpr (std::is_same_v<Profile, arith::qlinear>) {
#if defined(STATIQ_KERNELS_ARM_NEON)
      if (k == AddKernel::qlinear) {
        STATIQ_KERNEL_RAN(detail::add_kernel_ran(k));
        kernels::arm::neon::add_qlinear(a, b, n, p, y);
        return;
      }
#elif defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2_FMA)
      if (k == AddKernel::qlinear_fma && p.kernel == arith::qlinear::add_kernel::x86_fma) {
        STATIQ_KERNEL_RAN(detail::add_kernel_ran(k));
        detail::add_isa::add_qlinear_fma(a, b, n, p.a_ratio, p.b_ratio, p.fixed_part, p.lo, p.hi, y);
        return;
      }
#endif
    } else {
#if defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2) || defined(STATIQ_KERNELS_ARM_NEON)
      if (k == AddKernel::by_terms && detail::add_vectorized<Profile>(a, b, n, p, y)) {
        STATIQ_KERNEL_RAN(detail::add_kernel_ran(k));
        return;
      }
#endif
    }
  }
  STATIQ_KERNEL_RAN("reference::add");
  for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(Profile::add(a[i], b[i], p));
}

template <fixed_string Name, AddAttributes A, class Target>
class Add {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::add;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr AddAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0;
    constexpr bool bits_ok = valid_bit_width(A.bits.in) && valid_bit_width(A.bits.out);
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
        rule<bits_ok, bit_width_not_1_2_4_or_8<Name, A.bits>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::add, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr int arity = 2;
  static constexpr Shape input_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Shape output_shape = input_shape;
  static constexpr Pattern pattern = fused_pattern("Add", A.activation, no_pool);
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using second_input_type = qint<valid ? A.bits.in : 8, A.second_input_signed()>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using input_element = typename input_type::storage;
  using second_input_element = typename second_input_type::storage;
  using output_element = typename output_type::storage;
  static constexpr std::string_view kernel_name =
      add_kernel_name<profile>(add_kernel<profile, input_element, second_input_element, output_element>(A));

  // A fused ReLU is part of the add parameters' output bounds.
  struct parameters {
    typename profile::add_params add;
  };

  constexpr Add() = default;
  constexpr explicit Add(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* a, const second_input_element* b, output_element* y, std::int32_t*) const {
    compute<profile>(A, a, b, p_.add, y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
