// statiq/arith/qdq_elementwise.hpp — Max, Min and Sub of two quantized tensors as onnxruntime runs
// their QDQ form DQ, DQ -> op -> Q: it has no QLinear kernel for them (only Add and Mul are fused,
// tests/ort/elementwise_test), so each input is dequantized (float(q - zp) * scale), the op is one
// IEEE float32 operation, and QuantizeLinear divides by the output scale, rounds half to even and
// saturates (arith::qlinear::quantize). The library builds with -ffp-contract=off: no fused
// multiply-add may merge Sub's two products.
#pragma once

#include <algorithm>
#include <cstdint>

#include "statiq/arith/dequantize.hpp"
#include "statiq/arith/profile.hpp"
#include "statiq/arith/qlinear.hpp"

namespace statiq::arith {

enum class qdq_binary { max, min, sub };

struct qdq_elementwise_params {
  float a_scale = 1.0f;
  std::int32_t a_zero_point = 0;
  float b_scale = 1.0f;
  std::int32_t b_zero_point = 0;
  float y_scale = 1.0f;
  std::int32_t y_zero_point = 0;
  std::int32_t lo = 0;
  std::int32_t hi = 255;
};

constexpr qdq_elementwise_params make_qdq_elementwise(scale_zero_point a, scale_zero_point b, scale_zero_point y,
                                                      output_bounds bounds) {
  return {a.scale, a.zero_point, b.scale, b.zero_point, y.scale, y.zero_point, bounds.lo, bounds.hi};
}

template <qdq_binary Op>
constexpr std::int32_t qdq_elementwise(std::int32_t a, std::int32_t b, const qdq_elementwise_params& p) {
  const float fa = dequantize(a, p.a_scale, p.a_zero_point);
  const float fb = dequantize(b, p.b_scale, p.b_zero_point);
  float r = 0.0f;
  if constexpr (Op == qdq_binary::max) r = std::max(fa, fb);
  else if constexpr (Op == qdq_binary::min) r = std::min(fa, fb);
  else r = fa - fb;
  return qlinear::quantize(r, p.y_scale, p.y_zero_point, p.lo, p.hi);
}

}  // namespace statiq::arith
