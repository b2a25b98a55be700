// codegen/quantize/lookup_table.cpp — see lookup_table.hpp. The float steps are written one
// rounding at a time (std::fma where MLAS's kernels fuse, separate operations elsewhere); the
// library is built with -ffp-contract=off so the compiler adds no fusion of its own.
#include "codegen/quantize/lookup_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "statiq/arith/qlinear.hpp"
#include "statiq/core/qint.hpp"

namespace statiq::codegen {
namespace {

// MLAS's logistic (the rational approximation Eigen also uses): the input clamped to [-18, 18],
// p(x) / q(x^2) + 1/2 with fused multiply-adds in Horner order, then clamped below at 0 (the FMA3
// kernel clamps only there).
float mlas_logistic(float x) {
  constexpr float a9 = 4.37031012579801e-11f, a7 = 1.15627324459942e-07f, a5 = 6.08574864600143e-05f,
                  a3 = 8.51377133304701e-03f, a1 = 2.48287947061529e-01f;
  constexpr float b10 = 6.10247389755681e-13f, b8 = 5.76102136993427e-09f, b6 = 6.29106785017040e-06f,
                  b4 = 1.70198817374094e-03f, b2 = 1.16817656904453e-01f, b0 = 9.93151921023180e-01f;
  const float v = std::min(18.0f, std::max(-18.0f, x));
  const float v2 = v * v;
  float p = std::fma(v2, a9, a7);
  p = std::fma(v2, p, a5);
  p = std::fma(v2, p, a3);
  p = std::fma(v2, p, a1);
  float q = std::fma(v2, b10, b8);
  q = std::fma(v2, q, b6);
  q = std::fma(v2, q, b4);
  q = std::fma(v2, q, b2);
  q = std::fma(v2, q, b0);
  p = v * p;
  const float r = p / q + 0.5f;
  return std::max(0.0f, r);
}

// MLAS's tanh (x86-64 FMA3 kernel; the rational approximation Eigen also uses): the input clamped
// to [-9, 9], x * p(x^2) / q(x^2) with fused multiply-adds in Horner order.
float mlas_tanh(float x) {
  constexpr float a13 = -2.76076847742355e-16f, a11 = 2.00018790482477e-13f, a9 = -8.60467152213735e-11f,
                  a7 = 5.12229709037114e-08f, a5 = 1.48572235717979e-05f, a3 = 6.37261928875436e-04f,
                  a1 = 4.89352455891786e-03f;
  constexpr float b6 = 1.19825839466702e-06f, b4 = 1.18534705686654e-04f, b2 = 2.26843463243900e-03f,
                  b0 = 4.89352518554385e-03f;
  const float v = std::min(9.0f, std::max(-9.0f, x));
  const float v2 = v * v;
  float p = std::fma(v2, a13, a11);
  p = std::fma(v2, p, a9);
  p = std::fma(v2, p, a7);
  p = std::fma(v2, p, a5);
  p = std::fma(v2, p, a3);
  p = std::fma(v2, p, a1);
  p = v * p;
  float q = std::fma(v2, b6, b4);
  q = std::fma(v2, q, b2);
  q = std::fma(v2, q, b0);
  return p / q;
}

float hard_sigmoid(float alpha, float beta, float x) {
  const float t = alpha * x;
  return std::max(0.0f, std::min(1.0f, t + beta));
}

}  // namespace

float onnxruntime_float_function(LookupFunction f, float alpha, float beta, float x) {
  switch (f) {
    case LookupFunction::leaky_relu: return x >= 0.0f ? x : alpha * x;
    case LookupFunction::sigmoid: return mlas_logistic(x);
    case LookupFunction::tanh: return mlas_tanh(x);
    case LookupFunction::hard_sigmoid: return hard_sigmoid(alpha, beta, x);
    case LookupFunction::hard_swish: return x * hard_sigmoid(1.0f / 6.0f, 0.5f, x);
    // onnxruntime's float Max, Min, Add, Sub, Mul, Div: one IEEE operation each.
    case LookupFunction::max_constant: return std::max(x, alpha);
    case LookupFunction::min_constant: return std::min(x, alpha);
    case LookupFunction::add_constant: return x + alpha;
    case LookupFunction::sub_constant: return x - alpha;
    case LookupFunction::constant_sub: return alpha - x;
    case LookupFunction::mul_constant: return x * alpha;
    case LookupFunction::div_constant: return x / alpha;
    case LookupFunction::clip: return std::min(std::max(x, alpha), beta);  // onnxruntime's Clip: max, then min
  }
  return x;
}

std::vector<std::int32_t> qlinear_lookup_table(const LookupTableAttributes& a, const TensorQuantization& x,
                                               const TensorQuantization& y) {
  std::vector<std::int32_t> table(256);
  const int lo = qmin(8, y.is_signed), hi = qmax(8, y.is_signed);
  for (int b = 0; b < 256; ++b) {
    const int code = x.is_signed ? static_cast<int>(static_cast<std::int8_t>(static_cast<std::uint8_t>(b))) : b;
    const float real = x.scale * static_cast<float>(code - x.zero_point);
    const float fy = onnxruntime_float_function(a.function, a.alpha, a.beta, real);
    table[std::size_t(b)] = arith::qlinear::quantize(fy, y.scale, y.zero_point, lo, hi);
  }
  return table;
}

}  // namespace statiq::codegen
