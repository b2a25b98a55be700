// statiq/layers/add.hpp — Add: the elementwise sum of two quantized tensors of the same shape
// (a residual connection), with an optional fused ReLU, in the target's arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/x86/add.hpp"
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

// Add with run-time attributes: y = Profile::add(a, b) elementwise (a fused ReLU is in the bounds).
template <class Profile, class X, class X2, class Y>
void compute(const AddAttributes& attributes, const X* a, const X2* b, const typename Profile::add_params& p, Y* y) {
  const int n = attributes.shape.size();
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  if constexpr (std::is_same_v<Profile, arith::qlinear> && sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1) {
    if (p.kernel == arith::qlinear::add_kernel::x86_fma) {
      kernels::x86::add_qlinear_fma(a, b, n, p.a_ratio, p.b_ratio, p.fixed_part, p.lo, p.hi, y);
      return;
    }
  }
#endif
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
