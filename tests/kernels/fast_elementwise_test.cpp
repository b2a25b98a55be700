// The Elementwise layer's computation (Mul, Max, Min, Sub of two 8-bit tensors; layers/elementwise.hpp)
// against the scalar definitions it must equal, arith::qlinear_mul and arith::qdq_elementwise, called
// here element by element: every pair of codes, uint8 and int8, same-shape and per-channel second
// inputs with channel counts that are not multiples of 16, ties (a ratio of 1/2) and results beyond
// the int32 range. Built with the AVX-512 kernels (kernels/x86/elementwise.hpp) and with the
// reference kernels, where it checks the scalar loop the same way.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "statiq/layers/elementwise.hpp"
#include "cpu_variant.hpp"

using namespace statiq;

namespace {

bool cpu_runs_this_variant() { return statiq::test::cpu_runs_this_variant("fast_elementwise_test"); }

struct Quantization {
  float a_scale, b_scale, y_scale;
  std::int32_t a_zp, b_zp, y_zp;  // for uint8; minus 128 for int8
};

// Ordinary scales; a ratio of exactly 1/2 (ties in Mul and in the Sub / Max quantization); a tiny
// output scale whose results leave the int32 range (Mul's integer indefinite, QuantizeLinear's clamp);
// zero points at both ends.
const Quantization quantizations[] = {
    {0.0213f, 0.0071f, 0.0157f, 131, 7, 119},
    {0.5f, 1.0f, 1.0f, 128, 128, 128},
    {1.0f, 1.0f, 2.0f, 0, 255, 128},
    {3.0e4f, 2.0e4f, 1.0e-3f, 255, 0, 3},
    {3.0e4f, 2.0e4f, 1.0e-3f, 0, 0, 3},  // products >= 0: beyond +2^31, where only cvtps2dq's INT32_MIN gives lo
    {0.1f, 0.1f, 0.1f, 0, 0, 0},
};

template <class X, class Y>
std::int32_t scalar(ElementwiseOp op, std::int32_t a, std::int32_t b, const ElementwiseParams& p) {
  using arith::qdq_binary;
  switch (op) {
    case ElementwiseOp::mul: return arith::qlinear_mul(a, b, p.mul);
    case ElementwiseOp::max: return arith::qdq_elementwise<qdq_binary::max>(a, b, p.qdq);
    case ElementwiseOp::min: return arith::qdq_elementwise<qdq_binary::min>(a, b, p.qdq);
    case ElementwiseOp::sub: return arith::qdq_elementwise<qdq_binary::sub>(a, b, p.qdq);
  }
  return 0;
}

template <class X>
void every_code_pair(ElementwiseOp op) {
  constexpr bool is_signed = std::is_signed_v<X>;
  constexpr std::int32_t shift = is_signed ? -128 : 0, lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  for (const Quantization& q : quantizations) {
    ElementwiseParams p;
    const arith::scale_zero_point a{q.a_scale, q.a_zp + shift}, b{q.b_scale, q.b_zp + shift}, y{q.y_scale, q.y_zp + shift};
    p.mul = arith::make_qlinear_mul(a, b, y, {lo, hi});
    p.qdq = arith::make_qdq_elementwise(a, b, y, {lo, hi});
    // 65,536 pairs as a 256 x 256 map: a varies along the channels, b along the pixels.
    constexpr int n = 256 * 256;
    std::vector<X> va(n), vb(n), out(n);
    for (int i = 0; i < n; ++i) {
      va[std::size_t(i)] = static_cast<X>(i % 256 + shift);
      vb[std::size_t(i)] = static_cast<X>(i / 256 + shift);
    }
    const ElementwiseAttributes m{op, Shape{1, 256, 256}, false, Bits{8, 8, 8}, is_signed, is_signed};
    compute(m, va.data(), vb.data(), p, out.data());
    int wrong = 0, saturated = 0;
    for (int i = 0; i < n; ++i) {
      const std::int32_t want = scalar<X, X>(op, va[std::size_t(i)], vb[std::size_t(i)], p);
      wrong += out[std::size_t(i)] != want;
      saturated += want == lo || want == hi;
    }
    INFO(elementwise_op_name(op) << " signed " << is_signed << " scales " << q.a_scale << ", " << q.b_scale << " -> "
                                 << q.y_scale);
    CHECK(wrong == 0);
    CHECK(saturated < n);  // not everything pinned at a bound
  }
}

// The second input one value per channel; channel counts around the 16-lane width.
template <class X>
void per_channel(ElementwiseOp op) {
  constexpr bool is_signed = std::is_signed_v<X>;
  constexpr std::int32_t shift = is_signed ? -128 : 0, lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  std::mt19937 rng(11);
  for (const int c : {1, 3, 15, 16, 17, 31, 33, 40, 72}) {
    for (const Quantization& q : quantizations) {
      ElementwiseParams p;
      const arith::scale_zero_point a{q.a_scale, q.a_zp + shift}, b{q.b_scale, q.b_zp + shift}, y{q.y_scale, q.y_zp + shift};
      p.mul = arith::make_qlinear_mul(a, b, y, {lo, hi});
      p.qdq = arith::make_qdq_elementwise(a, b, y, {lo, hi});
      const Shape shape{3, 5, c};
      const int n = shape.size();
      std::vector<X> va(std::size_t(n) + 16), vb(std::size_t(c) + 16), out(std::size_t(n) + 16, X{42});
      for (auto& v : va) v = static_cast<X>(std::uniform_int_distribution<int>(lo, hi)(rng));
      for (auto& v : vb) v = static_cast<X>(std::uniform_int_distribution<int>(lo, hi)(rng));
      const ElementwiseAttributes m{op, shape, true, Bits{8, 8, 8}, is_signed, is_signed};
      compute(m, va.data(), vb.data(), p, out.data());
      int wrong = 0;
      for (int i = 0; i < n; ++i)
        wrong += out[std::size_t(i)] != scalar<X, X>(op, va[std::size_t(i)], vb[std::size_t(i % c)], p);
      for (std::size_t i = std::size_t(n); i < out.size(); ++i) wrong += out[i] != X{42};  // nothing past the end
      INFO(elementwise_op_name(op) << " channels " << c << " signed " << is_signed);
      CHECK(wrong == 0);
    }
  }
}

}  // namespace

TEST_CASE("Elementwise Mul/Max/Min/Sub equal their scalar definitions on every code pair", "[elementwise]") {
  if (!cpu_runs_this_variant()) return;
  for (const ElementwiseOp op : {ElementwiseOp::mul, ElementwiseOp::max, ElementwiseOp::min, ElementwiseOp::sub}) {
    every_code_pair<std::uint8_t>(op);
    every_code_pair<std::int8_t>(op);
  }
}

TEST_CASE("Elementwise with one value per channel in its second input", "[elementwise]") {
  if (!cpu_runs_this_variant()) return;
  for (const ElementwiseOp op : {ElementwiseOp::mul, ElementwiseOp::max, ElementwiseOp::min, ElementwiseOp::sub}) {
    per_channel<std::uint8_t>(op);
    per_channel<std::int8_t>(op);
  }
}
