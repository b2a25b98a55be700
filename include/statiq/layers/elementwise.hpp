// statiq/layers/elementwise.hpp — Mul: the elementwise product of two 8-bit tensors, the second of the same
// shape or one value per channel (the squeeze-excite gate, [1, C, 1, 1] in ONNX), as onnxruntime's
// QLinearMul computes it (statiq/arith/qlinear_mul.hpp) whatever the target's profile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "statiq/arith/qdq_elementwise.hpp"
#include "statiq/arith/qlinear_mul.hpp"
#include "statiq/kernels/arm/neon/elementwise.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/avx2/elementwise.hpp"
#include "statiq/kernels/x86/elementwise.hpp"
#include "statiq/layers/convolution.hpp"  // Shape, Bits, qint and the shared diagnostics

namespace statiq {

enum class ElementwiseOp { mul, max, min, sub };  // sub: first input minus second

constexpr std::string_view elementwise_op_name(ElementwiseOp op) {
  switch (op) {
    case ElementwiseOp::mul: return "Mul";
    case ElementwiseOp::max: return "Max";
    case ElementwiseOp::min: return "Min";
    case ElementwiseOp::sub: return "Sub";
  }
  return "?";
}

struct ElementwiseAttributes {
  ElementwiseOp op = ElementwiseOp::mul;
  Shape shape{};
  bool per_channel_second = false;  // the second input holds one value per channel ([1, 1, C])
  Bits bits{};                      // .in for both inputs, .out for the product; .w unused
  bool signed_input = false;        // both inputs (QLinearMul has one type)
  bool signed_output = false;
  constexpr bool operator==(const ElementwiseAttributes&) const = default;
  constexpr Shape second_shape() const { return per_channel_second ? Shape{1, 1, shape.c} : shape; }
};

namespace diag {
STATIQ_DIAGNOSTIC(elementwise_needs_8_bit_tensors, "an elementwise Mul/Max/Min/Sub of two tensors is onnxruntime's QDQ form: 8-bit inputs and output", fixed_string Layer,
                  Bits bits);
}  // namespace diag

// An elementwise layer's numbers: `mul` for Mul, `qdq` for Max/Min/Sub (the other one unused).
struct ElementwiseParams {
  arith::qlinear_mul_params mul{};
  arith::qdq_elementwise_params qdq{};
};

namespace detail {
template <class X, class Y, class F>
void elementwise_loop(const ElementwiseAttributes& m, const X* a, const X* b, Y* y, F f) {
  const int n = m.shape.size(), c = m.shape.c;
  if (m.per_channel_second) {
    for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(f(a[i], b[i % c]));
  } else {
    for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(f(a[i], b[i]));
  }
}
}  // namespace detail

// The kernel of op in this build for byte operands (every Elementwise layer's): the vector form of
// its scalar definition (kernels/x86/elementwise.hpp, x86/avx2/, arm/neon/: same names), or the loop.
constexpr std::string_view elementwise_kernel_name(ElementwiseOp op) {
  const bool mul = op == ElementwiseOp::mul;
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  return mul ? "x86::qlinear_mul (avx512)" : "x86::qdq_elementwise (avx512)";
#elif defined(STATIQ_KERNELS_AVX2)
  return mul ? "x86::avx2::qlinear_mul (avx2)" : "x86::avx2::qdq_elementwise (avx2)";
#elif defined(STATIQ_KERNELS_ARM_NEON)
  return mul ? "arm::neon::qlinear_mul (neon)" : "arm::neon::qdq_elementwise (neon)";
#else
  return mul ? "reference::qlinear_mul" : "reference::qdq_elementwise";
#endif
}

// Elementwise with run-time attributes: y[i] = op(a[i], b[i or its channel]).
template <class X, class Y>
void compute(const ElementwiseAttributes& m, const X* a, const X* b, const ElementwiseParams& p, Y* y) {
  using arith::qdq_binary;
#if defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2) || defined(STATIQ_KERNELS_ARM_NEON)
  if constexpr (sizeof(X) == 1 && sizeof(Y) == 1) {  // bit for bit, 16 (AVX-512) or 8 at a time
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    namespace vec = kernels::x86;
    [[maybe_unused]] constexpr const char* names[2] = {"x86::qlinear_mul (avx512)", "x86::qdq_elementwise (avx512)"};
#elif defined(STATIQ_KERNELS_AVX2)
    namespace vec = kernels::x86::avx2;
    [[maybe_unused]] constexpr const char* names[2] = {"x86::avx2::qlinear_mul (avx2)", "x86::avx2::qdq_elementwise (avx2)"};
#else
    namespace vec = kernels::arm::neon;
    [[maybe_unused]] constexpr const char* names[2] = {"arm::neon::qlinear_mul (neon)", "arm::neon::qdq_elementwise (neon)"};
#endif
    const int n = m.shape.size(), channels = m.per_channel_second ? m.shape.c : 0;
    STATIQ_KERNEL_RAN(names[m.op == ElementwiseOp::mul ? 0 : 1]);
    switch (m.op) {
      case ElementwiseOp::mul: return vec::qlinear_mul(a, b, n, channels, p.mul, y);
      case ElementwiseOp::max: return vec::qdq_elementwise<qdq_binary::max>(a, b, n, channels, p.qdq, y);
      case ElementwiseOp::min: return vec::qdq_elementwise<qdq_binary::min>(a, b, n, channels, p.qdq, y);
      case ElementwiseOp::sub: return vec::qdq_elementwise<qdq_binary::sub>(a, b, n, channels, p.qdq, y);
    }
  }
#endif
  STATIQ_KERNEL_RAN(m.op == ElementwiseOp::mul ? "reference::qlinear_mul" : "reference::qdq_elementwise");
  switch (m.op) {
    case ElementwiseOp::mul:
      return detail::elementwise_loop(m, a, b, y, [&](std::int32_t u, std::int32_t v) { return arith::qlinear_mul(u, v, p.mul); });
    case ElementwiseOp::max:
      return detail::elementwise_loop(m, a, b, y, [&](std::int32_t u, std::int32_t v) {
        return arith::qdq_elementwise<qdq_binary::max>(u, v, p.qdq);
      });
    case ElementwiseOp::min:
      return detail::elementwise_loop(m, a, b, y, [&](std::int32_t u, std::int32_t v) {
        return arith::qdq_elementwise<qdq_binary::min>(u, v, p.qdq);
      });
    case ElementwiseOp::sub:
      return detail::elementwise_loop(m, a, b, y, [&](std::int32_t u, std::int32_t v) {
        return arith::qdq_elementwise<qdq_binary::sub>(u, v, p.qdq);
      });
  }
}

template <fixed_string Name, ElementwiseAttributes A, class Target>
class Elementwise {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::elementwise;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr ElementwiseAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0;
    constexpr bool eight_bit = A.bits.in == 8 && A.bits.out == 8;
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
        rule<eight_bit, elementwise_needs_8_bit_tensors<Name, A.bits>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::elementwise, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr int arity = 2;
  static constexpr Shape input_shape(int i) { return !valid ? Shape{1, 1, 1} : i == 0 ? A.shape : A.second_shape(); }
  static constexpr Shape output_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Pattern pattern = Pattern{{elementwise_op_name(A.op)}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<8, A.signed_input>;
  using second_input_type = input_type;
  using output_type = qint<8, A.signed_output>;
  using input_element = typename input_type::storage;
  using second_input_element = input_element;
  using output_element = typename output_type::storage;
  static constexpr std::string_view kernel_name = elementwise_kernel_name(A.op);  // every Elementwise is 8-bit

  using parameters = ElementwiseParams;

  constexpr Elementwise() = default;
  constexpr explicit Elementwise(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* a, const second_input_element* b, output_element* y, std::int32_t*) const {
    compute(A, a, b, p_, y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
