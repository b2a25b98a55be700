// statiq/layers/mul.hpp — Mul: the elementwise product of two 8-bit tensors, the second of the same
// shape or one value per channel (the squeeze-excite gate, [1, C, 1, 1] in ONNX), as onnxruntime's
// QLinearMul computes it (statiq/arith/qlinear_mul.hpp) whatever the target's profile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "statiq/arith/qlinear_mul.hpp"
#include "statiq/layers/convolution.hpp"  // Shape, Bits, qint and the shared diagnostics

namespace statiq {

struct MulAttributes {
  Shape shape{};
  bool per_channel_second = false;  // the second input holds one value per channel ([1, 1, C])
  Bits bits{};                      // .in for both inputs, .out for the product; .w unused
  bool signed_input = false;        // both inputs (QLinearMul has one type)
  bool signed_output = false;
  constexpr bool operator==(const MulAttributes&) const = default;
  constexpr Shape second_shape() const { return per_channel_second ? Shape{1, 1, shape.c} : shape; }
};

namespace diag {
STATIQ_DIAGNOSTIC(mul_needs_8_bit_tensors, "Mul is onnxruntime's QLinearMul: 8-bit inputs and output", fixed_string Layer,
                  Bits bits);
}  // namespace diag

// Mul with run-time attributes: y[i] = qlinear_mul(a[i], b[i or its channel]).
template <class X, class Y>
void compute(const MulAttributes& m, const X* a, const X* b, const arith::qlinear_mul_params& p, Y* y) {
  const int n = m.shape.size(), c = m.shape.c;
  if (m.per_channel_second) {
    for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(arith::qlinear_mul(a[i], b[i % c], p));
  } else {
    for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(arith::qlinear_mul(a[i], b[i], p));
  }
}

template <fixed_string Name, MulAttributes A, class Target>
class Mul {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::mul;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr MulAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0;
    constexpr bool eight_bit = A.bits.in == 8 && A.bits.out == 8;
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
        rule<eight_bit, mul_needs_8_bit_tensors<Name, A.bits>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::mul, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr int arity = 2;
  static constexpr Shape input_shape(int i) { return !valid ? Shape{1, 1, 1} : i == 0 ? A.shape : A.second_shape(); }
  static constexpr Shape output_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Pattern pattern = Pattern{{"Mul"}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<8, A.signed_input>;
  using second_input_type = input_type;
  using output_type = qint<8, A.signed_output>;
  using input_element = typename input_type::storage;
  using second_input_element = input_element;
  using output_element = typename output_type::storage;

  struct parameters {
    arith::qlinear_mul_params mul;
  };

  constexpr Mul() = default;
  constexpr explicit Mul(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* a, const second_input_element* b, output_element* y, std::int32_t*) const {
    compute(A, a, b, p_.mul, y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
