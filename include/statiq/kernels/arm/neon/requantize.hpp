// statiq/kernels/arm/neon/requantize.hpp — every profile's output stage 4 channels at a time on AArch64
// NEON (qlinear, tflite's three, pow2, akida_v1; gemmini is qlinear's with a zero point of 0), each
// bit-identical to its scalar definition in statiq/arith (tests/device/neon_kernels_test.cpp compares
// them element by element over the int32 range and the parameters' edges, under qemu-aarch64).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/kernels/arm/neon/conv2d.hpp"

namespace statiq::kernels::arm::neon {

namespace detail {
// Four int32 lanes already in [-128, 255] as storage bytes (truncation: exact for either signedness);
// `valid` of them stored.
template <class Y>
inline void store4(int32x4_t v, int valid, Y* y) {
  const int16x4_t h = vmovn_s32(v);
  const std::uint32_t word = vget_lane_u32(vreinterpret_u32_s8(vmovn_s16(vcombine_s16(h, h))), 0);
  if (valid == 4) {
    std::memcpy(y, &word, 4);  // one 32-bit store (unaligned stores are allowed on AArch64)
    return;
  }
  for (int i = 0; i < valid; ++i) y[i] = static_cast<Y>(static_cast<std::uint8_t>(word >> (8 * i)));
}

// Channels c..c + valid - 1 of acc (the others 0), so a short last group reads nothing beyond.
// Lane by lane: a copy loop through a stack array became a memcpy call, around which the callers'
// constant vectors were spilled to the stack on every pixel.
inline int32x4_t load4(const std::int32_t* acc, int valid) {
  if (valid == 4) return vld1q_s32(acc);
  int32x4_t v = vsetq_lane_s32(acc[0], vdupq_n_s32(0), 0);
  if (valid > 1) v = vsetq_lane_s32(acc[1], v, 1);
  if (valid > 2) v = vsetq_lane_s32(acc[2], v, 2);
  return v;
}

// y[p * n + c + i] = op(acc[p * ld + c + i]) (4 lanes at once) for p < pixels, i < valid: the loop of
// a full group apart from that of the short last one, so no pixel tests `valid`.
template <class Y, class Op>
inline void each_pixel4(const std::int32_t* acc, std::size_t ld, int pixels, int n, int c, int valid, Y* y, Op&& op) {
  const std::int32_t* in = acc + c;
  Y* out = y + c;
  if (valid == 4) {
    for (int p = 0; p < pixels; ++p, in += ld, out += n) store4(op(vld1q_s32(in)), 4, out);
  } else {
    for (int p = 0; p < pixels; ++p, in += ld, out += n) store4(op(load4(in, valid)), valid, out);
  }
}
}  // namespace detail

// y[p * n + c] = qlinear requantize(acc[p * ld + c]) for p < pixels, c < n, multiplier[c] per channel:
// float32(acc) (FCVT: to nearest even, like the scalar cast), one float32 multiply (FMUL, its own
// instruction: nothing to contract), clamp in float, round half to even (FCVTNS), + zero point.
template <class Y>
inline void requantize_qlinear(const std::int32_t* acc, std::size_t ld, int pixels, int n, const float* multiplier,
                               std::int32_t zero_point, std::int32_t lo, std::int32_t hi, Y* y) {
  static_assert(sizeof(Y) == 1);
  const float32x4_t flo = vdupq_n_f32(static_cast<float>(lo - zero_point));
  const float32x4_t fhi = vdupq_n_f32(static_cast<float>(hi - zero_point));
  const int32x4_t zp = vdupq_n_s32(zero_point);
  for (int c = 0; c < n; c += 4) {
    const int valid = n - c < 4 ? n - c : 4;
    float m[4] = {};
    for (int i = 0; i < valid; ++i) m[i] = multiplier[c + i];
    const float32x4_t mult = vld1q_f32(m);
    detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t x) {
      const float32x4_t v = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(x), mult), flo), fhi);
      return vaddq_s32(vcvtnq_s32_f32(v), zp);
    });
  }
}

// The output stages of the tflite profiles: gemmlowp's MultiplyByQuantizedMultiplier (SRDHM then
// RoundingDivideByPOT), the single-rounding one ((x * m + 2^(30 - shift)) >> (31 - shift) in 64
// bits), and ruy's x86 GEMM stage (arith::tflite_x86::requantize_gemm: both halves half up, the
// zero point added wrapping before the clamp).
enum class tflite_output_stage { gemmlowp, single_rounding, ruy };

// The tflite profiles' output stage `stage`, 4 channels at a time; params: multiplier/shift pairs
// per channel (interleaved as arith::tflite::channel_params). gemmlowp's steps are gemmlowp's own
// NEON ones: x << left (SSHL wraps, and gives 0 for a count past 31 as the scalar 64-bit shift
// truncated to 32 bits does), SQRDMULH (floor((a b + 2^30) / 2^31), INT_MIN^2 saturated: the scalar
// SRDHM for either sign), then the rounding shift SRSHL (half up) after adding -1 to negative values
// when the exponent is not 0 (SQADD; INT_MIN stays, and still divides exactly): half away from zero.
template <class Y>
inline void requantize_tflite(tflite_output_stage stage, const std::int32_t* acc, std::size_t ld, int pixels, int n,
                              const std::int32_t* params, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                              Y* y) {
  static_assert(sizeof(Y) == 1);
  const int32x4_t zp = vdupq_n_s32(zero_point);
  const int32x4_t rlo = vdupq_n_s32(lo - zero_point), rhi = vdupq_n_s32(hi - zero_point);
  const int32x4_t vlo = vdupq_n_s32(lo), vhi = vdupq_n_s32(hi);
  const int32x4_t zero = vdupq_n_s32(0);
  for (int c = 0; c < n; c += 4) {
    const int valid = n - c < 4 ? n - c : 4;
    std::int32_t mv[4] = {}, sv[4] = {};
    for (int i = 0; i < valid; ++i) {
      mv[i] = params[2 * (c + i)];
      sv[i] = params[2 * (c + i) + 1];
    }
    const int32x4_t multiplier = vld1q_s32(mv), shift = vld1q_s32(sv);
    const int32x4_t left = vmaxq_s32(shift, zero);
    const int32x4_t neg_right = vminq_s32(shift, zero);  // -right, the SRSHL count of a right shift
    // single rounding: -(31 - shift) per 64-bit lane; ruy: -right per 64-bit lane.
    const int32x4_t neg_total = vsubq_s32(shift, vdupq_n_s32(31));
    const int64x2_t total_lo = vmovl_s32(vget_low_s32(neg_total)), total_hi = vmovl_high_s32(neg_total);
    const int64x2_t right_lo = vmovl_s32(vget_low_s32(neg_right)), right_hi = vmovl_high_s32(neg_right);
    // sat(r + zp, lo, hi) = clamp(r, lo - zp, hi - zp) + zp, with no 32-bit overflow.
    const auto saturate = [&](int32x4_t r) { return vaddq_s32(vminq_s32(vmaxq_s32(r, rlo), rhi), zp); };
    if (stage == tflite_output_stage::single_rounding) {
      detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t x) {
        // (x * m + 2^(total - 1)) >> total: SRSHL of the exact 64-bit products, total in [1, 62].
        const int64x2_t l = vrshlq_s64(vmull_s32(vget_low_s32(x), vget_low_s32(multiplier)), total_lo);
        const int64x2_t h = vrshlq_s64(vmull_high_s32(x, multiplier), total_hi);
        return saturate(vcombine_s32(vmovn_s64(l), vmovn_s64(h)));
      });
    } else if (stage == tflite_output_stage::ruy) {
      detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t x) {
        // hi = ((x << left) * m + 2^30) >> 31, then (hi + 2^(right - 1)) >> right, in 64 bits.
        const int32x4_t shifted = vshlq_s32(x, left);
        int64x2_t l = vrshrq_n_s64(vmull_s32(vget_low_s32(shifted), vget_low_s32(multiplier)), 31);
        int64x2_t h = vrshrq_n_s64(vmull_high_s32(shifted, multiplier), 31);
        l = vrshlq_s64(l, right_lo);
        h = vrshlq_s64(h, right_hi);
        const int32x4_t r = vcombine_s32(vmovn_s64(l), vmovn_s64(h));
        // ruy adds the zero point in 32 bits, wrapping, then clamps.
        return vminq_s32(vmaxq_s32(detail::add_wrapping(r, zp), vlo), vhi);
      });
    } else {
      detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t x) {
        const int32x4_t high = vqrdmulhq_s32(vshlq_s32(x, left), multiplier);
        const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, neg_right), 31);
        return saturate(vrshlq_s32(vqaddq_s32(high, fixup), neg_right));
      });
    }
  }
}

// arith::pow2::requantize 4 channels at a time, in 64-bit lanes as the scalar rule: min(acc, clip),
// times the 8-bit mantissa (SMULL, exact), one SRSHL by -shift (a right shift by s >= 1 rounding
// half up, (v + 2^(s-1)) >> s, or a left shift by -s), saturated to [lo, hi]. Precondition (else the
// scalar rule runs): accumulator_clip >= INT32_MIN and every shift in [-63, 63] (beyond, the scalar
// rule is undefined or 0).
template <class Y>
inline void requantize_pow2(const std::int32_t* acc, std::size_t ld, int pixels, int n,
                            const arith::pow2::channel_params* channel, const arith::pow2::output_params& out, Y* y) {
  static_assert(sizeof(Y) == 1);
  const auto scalar = [&](int c0, int c1) {
    for (int p = 0; p < pixels; ++p)
      for (int c = c0; c < c1; ++c)
        y[std::size_t(p) * std::size_t(n) + std::size_t(c)] =
            static_cast<Y>(arith::pow2::requantize(acc[std::size_t(p) * ld + std::size_t(c)], channel[c], out));
  };
  if (out.accumulator_clip < std::numeric_limits<std::int32_t>::min()) return scalar(0, n);
  const int32x4_t clip = vdupq_n_s32(static_cast<std::int32_t>(
      out.accumulator_clip < std::numeric_limits<std::int32_t>::max() ? out.accumulator_clip
                                                                      : std::numeric_limits<std::int32_t>::max()));
  const int32x4_t lo = vdupq_n_s32(out.lo), hi = vdupq_n_s32(out.hi);
  for (int c = 0; c < n; c += 4) {
    const int valid = n - c < 4 ? n - c : 4;
    std::int32_t mantissa[4] = {}, count[4] = {};
    bool in_range = true;
    for (int i = 0; i < valid; ++i) {
      const int s = channel[c + i].shift;
      in_range = in_range && s >= -63 && s <= 63;
      mantissa[i] = channel[c + i].mantissa;
      count[i] = -s;
    }
    if (!in_range) {
      scalar(c, c + valid);
      continue;
    }
    const int32x4_t m = vld1q_s32(mantissa), k = vld1q_s32(count);
    const int64x2_t k_lo = vmovl_s32(vget_low_s32(k)), k_hi = vmovl_high_s32(k);
    detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t x) {
      const int32x4_t a = vminq_s32(x, clip);
      // Saturated to int32 (SQXTN) then clamped in 32 bits: the same as clamping the 64-bit value,
      // since [lo, hi] lies within int32.
      const int32x4_t r = vcombine_s32(vqmovn_s64(vrshlq_s64(vmull_s32(vget_low_s32(a), vget_low_s32(m)), k_lo)),
                                       vqmovn_s64(vrshlq_s64(vmull_high_s32(a, m), k_hi)));
      return vminq_s32(vmaxq_s32(r, lo), hi);
    });
  }
}

// arith::akida_v1::requantize 4 channels at a time, as the x86 kernel does it: with 0 <= hi,
// min(ceil(above / step), hi) = ceil(min(above, hi * step) / step), so the accumulator is first
// clamped to [threshold, threshold + hi * step] (above in [0, hi * step], no overflow), then
// level = floor((above + step - 1 + 1/2) / step) in double: the + 1/2 keeps the quotient at least
// 1/(2 step) away from an integer, farther than the error of one multiply by the rounded 1/step
// (relative 2^-52, the quotient < 2^31 / step), so truncating it (FCVTZS) is the exact integer
// division. Precondition (else the scalar rule runs, per group of channels): 0 <= lo <= hi and
// (hi + 1) * step < 2^31.
template <class Y>
inline void requantize_akida_v1(const std::int32_t* acc, std::size_t ld, int pixels, int n,
                                const arith::akida_v1::channel_params* channel,
                                const arith::akida_v1::output_params& out, Y* y) {
  static_assert(sizeof(Y) == 1);
  const int32x4_t lo = vdupq_n_s32(out.lo), hi = vdupq_n_s32(out.hi);
  const float64x2_t half = vdupq_n_f64(0.5);
  for (int c = 0; c < n; c += 4) {
    const int valid = n - c < 4 ? n - c : 4;
    std::int32_t threshold[4] = {}, upper[4] = {}, step_less_one[4] = {};
    double inverse[4] = {};
    bool in_range = out.lo >= 0 && out.lo <= out.hi;
    for (int i = 0; i < valid; ++i) {
      const arith::akida_v1::channel_params& ch = channel[c + i];
      const std::int64_t top = (std::int64_t{out.hi} + 1) * ch.step;
      in_range = in_range && ch.step >= 1 && top <= std::numeric_limits<std::int32_t>::max();
      const std::int64_t up = std::int64_t{ch.threshold} + std::int64_t{out.hi} * ch.step;
      threshold[i] = ch.threshold;
      upper[i] = static_cast<std::int32_t>(up < std::numeric_limits<std::int32_t>::max() ? up
                                                                                        : std::numeric_limits<std::int32_t>::max());
      step_less_one[i] = ch.step - 1;
      inverse[i] = ch.step >= 1 ? 1.0 / double(ch.step) : 0.0;
    }
    if (!in_range) {
      for (int p = 0; p < pixels; ++p)
        for (int i = c; i < c + valid; ++i)
          y[std::size_t(p) * std::size_t(n) + std::size_t(i)] = static_cast<Y>(
              arith::akida_v1::requantize(acc[std::size_t(p) * ld + std::size_t(i)], channel[i], out));
      continue;
    }
    const int32x4_t t = vld1q_s32(threshold), u = vld1q_s32(upper), s1 = vld1q_s32(step_less_one);
    const float64x2_t i0 = vld1q_f64(inverse), i1 = vld1q_f64(inverse + 2);
    detail::each_pixel4(acc, ld, pixels, n, c, valid, y, [&](int32x4_t a) {
      const int32x4_t k = vaddq_s32(vsubq_s32(vminq_s32(vmaxq_s32(a, t), u), t), s1);
      const float64x2_t d0 = vmulq_f64(vaddq_f64(vcvtq_f64_s64(vmovl_s32(vget_low_s32(k))), half), i0);
      const float64x2_t d1 = vmulq_f64(vaddq_f64(vcvtq_f64_s64(vmovl_high_s32(k)), half), i1);
      const int32x4_t q = vcombine_s32(vmovn_s64(vcvtq_s64_f64(d0)), vmovn_s64(vcvtq_s64_f64(d1)));
      return vminq_s32(vmaxq_s32(q, lo), hi);
    });
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
