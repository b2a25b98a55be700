// statiq/layers/dynamic_dense.hpp — dynamic quantization as onnxruntime runs it on CPU: DynamicQuantizeLinear
// of the activations at run time, MatMulInteger (uint8 x int8, int32 sums), and the float rescale + bias.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/arith/rounding.hpp"

namespace statiq {

// The run-time quantization of one activation tensor (DynamicQuantizeLinear, uint8 only).
struct DynamicQuantParams {
  float scale;
  std::int32_t zero_point;
};

// onnxruntime's GetQuantizationParameter (core/util/qmath.h; the same in DynamicQuantizeMatMul):
// the range [min(x), max(x)] widened to include 0, scale = (max - min) / 255 in float32 (1 when the
// range is empty, so an all-zero tensor quantizes to zero point 0), zero point =
// round_half_even(clamp(0 - min / scale, 0, 255)) in float32. The ONNX spec writes the same.
inline DynamicQuantParams dynamic_quant_params(std::span<const float> x) {
  float lo = 0.0f, hi = 0.0f;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float initial_zero_point = 0.0f - lo / scale;
  const float clamped = std::max(0.0f, std::min(255.0f, initial_zero_point));
  return {scale, static_cast<std::int32_t>(arith::round_half_even(clamped))};
}

// MlasQuantizeLinear: x / scale (a division, not a reciprocal multiply), rounded half to even, + zero
// point, saturated to uint8.
inline std::uint8_t dynamic_quantize(float x, const DynamicQuantParams& p) {
  const std::int64_t q = arith::round_half_even(x / p.scale) + p.zero_point;
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(q, 0, 255));
}

// DynamicQuantizeLinear over a whole tensor: fills q (same size as x), returns its parameters.
inline DynamicQuantParams dynamic_quantize_linear(std::span<const float> x, std::span<std::uint8_t> q) {
  const DynamicQuantParams p = dynamic_quant_params(x);
  for (std::size_t i = 0; i < x.size(); ++i) q[i] = dynamic_quantize(x[i], p);
  return p;
}

// Symmetric per-tensor int8 weights as onnxruntime's quantize_dynamic writes them (QInt8, symmetric
// range [-127, 127]): scale = max|w| / 127 (1 for all-zero weights), q = round_half_even(w / scale).
struct DynamicWeights {
  float scale;
};
inline DynamicWeights quantize_dynamic_weights(std::span<const float> w, std::span<std::int8_t> q) {
  float absmax = 0.0f;
  for (float v : w) absmax = std::max(absmax, std::fabs(v));
  const float scale = absmax == 0.0f ? 1.0f : absmax / 127.0f;
  for (std::size_t i = 0; i < w.size(); ++i)
    q[i] = static_cast<std::int8_t>(std::clamp<std::int64_t>(arith::round_half_even(w[i] / scale), -127, 127));
  return {scale};
}

// The float tail of MatMulIntegerToFloat / DynamicQuantizeMatMul (and of the unfused
// MatMulInteger -> Cast -> Mul -> Add): float32(acc) times float32(x_scale * w_scale), then + bias —
// two roundings, never a fused multiply-add (MLAS' scale/bias output processor multiplies, then
// adds; the unfused graph has two nodes). float32(acc) is exact while |acc| < 2^24.
inline float dynamic_rescale(std::int32_t acc, float multiplier, float bias) {
  const volatile float scaled = static_cast<float>(acc) * multiplier;  // volatile: no FMA contraction
  return scaled + bias;
}

// y[n] = rescale(sum_k (xq[k] - x_zp) * (w[k][n] - w_zp)) for one row x of length K; w is [K, N]
// row-major (MatMul's B), bias may be empty. The scalar reference of ConvInteger/MatMulInteger's
// exact int32 accumulation (products of uint8 and int8 never overflow int32 for K < 2^16).
inline void dynamic_dense(std::span<const float> x, std::span<const std::int8_t> w, std::int32_t w_zero_point,
                          float w_scale, std::span<const float> bias, std::size_t n_out, std::span<float> y,
                          std::span<std::uint8_t> scratch) {
  const std::size_t k_in = x.size();
  const DynamicQuantParams p = dynamic_quantize_linear(x, scratch.first(k_in));
  const float multiplier = p.scale * w_scale;
  for (std::size_t n = 0; n < n_out; ++n) {
    std::int32_t acc = 0;
    for (std::size_t k = 0; k < k_in; ++k)
      acc += (static_cast<std::int32_t>(scratch[k]) - p.zero_point) *
             (static_cast<std::int32_t>(w[k * n_out + n]) - w_zero_point);
    // Without a bias the Mul's product is the output (adding +0.0f would turn -0.0f into +0.0f).
    y[n] = bias.empty() ? static_cast<float>(acc) * multiplier : dynamic_rescale(acc, multiplier, bias[n]);
  }
}

}  // namespace statiq
