// statiq/arith/qlinear_mul.hpp — the elementwise product of two quantized tensors as onnxruntime's
// QLinearMul computes it on x86-64 (MLAS qlmul.cpp, its SSE2 kernel): the integer product of the
// zero-point-free codes, exact in int32 and in float32 (|p| <= 255^2 < 2^24), times
// ratio = float32(float32(a_scale * b_scale) / y_scale), plus float32(y_zero_point) (a multiply then
// an add, no fused multiply-add), rounded half to even by cvtps2dq, then saturated by the packs.
// cvtps2dq gives INT32_MIN beyond the int32 range, which the packs saturate to the lowest code.
// onnxruntime fuses DQ, DQ -> Mul -> Q into QLinearMul for uint8 and int8 alike (tests/ort/mul_test).
#pragma once

#include <cstdint>

#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

struct qlinear_mul_params {
  float ratio = 1.0f;
  std::int32_t a_zero_point = 0;
  std::int32_t b_zero_point = 0;
  std::int32_t y_zero_point = 0;
  std::int32_t lo = 0;
  std::int32_t hi = 255;
};

constexpr qlinear_mul_params make_qlinear_mul(scale_zero_point a, scale_zero_point b, scale_zero_point y,
                                              output_bounds bounds) {
  return {a.scale * b.scale / y.scale, a.zero_point, b.zero_point, y.zero_point, bounds.lo, bounds.hi};
}

constexpr std::int32_t qlinear_mul(std::int32_t a, std::int32_t b, const qlinear_mul_params& p) {
  const std::int32_t product = (a - p.a_zero_point) * (b - p.b_zero_point);
  const float scaled = static_cast<float>(product) * p.ratio;
  const float r = scaled + static_cast<float>(p.y_zero_point);
  if (!(r > -2147483648.0f && r < 2147483648.0f)) return p.lo;  // cvtps2dq's "integer indefinite"
  return static_cast<std::int32_t>(saturate(round_half_even(r), p.lo, p.hi));
}

}  // namespace statiq::arith
