// statiq/arith/softmax.hpp — a final Softmax over the channels, in float32 after the Dequantize,
// computed the same way on every machine: exp is statiq's own (no libm call, whose last bit
// differs between C libraries), so the engine's golden vectors hold on the host and on a device.
// It is not onnxruntime's MLAS exp (an ISA-specific kernel): the outputs agree with onnxruntime to
// a few units in the last place, not bit for bit (tests/ort/operators_test measures it).
//   exp(x), x <= 0 here (x minus the row's maximum): x = k ln2 + r with k = round(x / ln2) and
//   |r| <= ln2 / 2 (ln2 in two parts, so r is exact to float32), exp(r) by its Taylor polynomial to
//   r^7 (truncation below 2^-27 relative), times 2^k built in the exponent bits. Below -87.3 the
//   result would be subnormal: 0 instead.
// One operation per statement and -ffp-contract=off in the library's flags: no fused multiply-add.
#pragma once

#include <bit>
#include <cstdint>

#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

constexpr float softmax_exp(float x) {
  if (!(x > -87.3f)) return 0.0f;
  if (x > 88.0f) x = 88.0f;
  constexpr float log2e = 1.44269504088896341f;
  constexpr float ln2_hi = 0.693145751953125f;      // 12 significant bits: k * ln2_hi is exact
  constexpr float ln2_lo = 1.42860682030941723e-6f;  // ln2 - ln2_hi
  const float t = x * log2e;
  const auto k = static_cast<std::int32_t>(round_half_even(t));
  const float kf = static_cast<float>(k);
  const float hi = kf * ln2_hi;
  const float lo = kf * ln2_lo;
  float r = x - hi;
  r = r - lo;
  float p = 1.0f / 5040.0f;
  p = p * r;
  p = p + 1.0f / 720.0f;
  p = p * r;
  p = p + 1.0f / 120.0f;
  p = p * r;
  p = p + 1.0f / 24.0f;
  p = p * r;
  p = p + 1.0f / 6.0f;
  p = p * r;
  p = p + 0.5f;
  p = p * r;
  p = p + 1.0f;
  p = p * r;
  p = p + 1.0f;
  const float scale = std::bit_cast<float>(static_cast<std::uint32_t>(k + 127) << 23);  // 2^k, -126 <= k <= 127
  return p * scale;
}

// y[0..n) = softmax(x[0..n)): exp(x - max) / sum, the sum in index order, one reciprocal then a
// multiply per element (as onnxruntime's kernel scales).
inline void softmax(const float* x, float* y, int n) {
  float m = x[0];
  for (int i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    y[i] = softmax_exp(x[i] - m);
    sum = sum + y[i];
  }
  const float scale = 1.0f / sum;
  for (int i = 0; i < n; ++i) y[i] = y[i] * scale;
}

}  // namespace statiq::arith
