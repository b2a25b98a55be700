// statiq/kernels/x86/requantize.hpp — every profile's output stage 16 channels at a time (qlinear,
// tflite's three, pow2, akida_v1; gemmini is qlinear's with a zero point of 0).
// qlinear: the same operations as arith::qlinear::requantize: float32(acc) (rounds to nearest even
// like the scalar cast), one float32 multiply, clamp in float, round half to even (vcvtps2dq under
// the default MXCSR), + zero point. No fused multiply-add is possible here: every step is its own
// instruction.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/pow2.hpp"

namespace statiq::kernels::x86 {

// y[p * n + c] = requantize(acc[p * ld + c]) for p < pixels, c < n, multiplier[c] per channel; Y is
// int8 or uint8 storage. The constants are set once per block of pixels.
template <class Y>
inline void requantize_qlinear(const std::int32_t* acc, std::size_t ld, int pixels, int n, const float* multiplier,
                               std::int32_t zero_point, std::int32_t lo, std::int32_t hi, Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m512 flo = _mm512_set1_ps(static_cast<float>(lo - zero_point));
  const __m512 fhi = _mm512_set1_ps(static_cast<float>(hi - zero_point));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int c = 0; c < n; c += 16) {
    const int valid = n - c < 16 ? n - c : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    const __m512 mult = _mm512_maskz_loadu_ps(m, multiplier + c);
    for (int p = 0; p < pixels; ++p) {
      // The masked forms: GCC 12 warns (-Wmaybe-uninitialized) on some unmasked ones; same results.
      const __m512 a = _mm512_maskz_cvtepi32_ps(m, _mm512_maskz_loadu_epi32(m, acc + std::size_t(p) * ld + c));
      __m512 v = _mm512_maskz_mul_ps(m, a, mult);
      v = _mm512_maskz_min_ps(m, _mm512_maskz_max_ps(m, v, flo), fhi);
      const __m512i q = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(m, v), zp);
      // In range already, so the narrowing is exact for either signedness.
      _mm_mask_storeu_epi8(y + std::size_t(p) * std::size_t(n) + c, m, _mm512_maskz_cvtepi32_epi8(m, q));
    }
  }
}

namespace detail {

// The masked forms with every lane set: GCC 12 warns (-Wuninitialized) on the unmasked ones.
inline constexpr __mmask8 all64 = 0xff;
inline constexpr __mmask16 all16 = 0xffff;

// The 64-bit products a * b of the signed 32-bit lanes, as [even lanes' products] and [odd lanes'].
inline void mul_wide(__m512i a, __m512i b, __m512i& even, __m512i& odd) {
  even = _mm512_maskz_mul_epi32(all64, a, b);
  odd = _mm512_maskz_mul_epi32(all64, _mm512_maskz_srli_epi64(all64, a, 32), _mm512_maskz_srli_epi64(all64, b, 32));
}

// The low 32 bits of 64-bit lanes, even and odd results back in their 32-bit lanes.
inline __m512i join_low(__m512i even, __m512i odd) {
  return _mm512_mask_blend_epi32(__mmask16(0xaaaa), even, _mm512_maskz_slli_epi64(all64, odd, 32));
}

// gemmlowp SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31, truncating, INT_MIN^2 -> INT_MAX.
inline __m512i srdhm(__m512i a, __m512i b) {
  const __m512i pos = _mm512_set1_epi64(std::int64_t{1} << 30), neg = _mm512_set1_epi64(1 - (std::int64_t{1} << 30));
  const __m512i bias = _mm512_set1_epi64((std::int64_t{1} << 31) - 1), zero = _mm512_setzero_si512();
  const auto half = [&](__m512i ab) {
    const __mmask8 negative = _mm512_cmplt_epi64_mask(ab, zero);
    __m512i v = _mm512_add_epi64(ab, _mm512_mask_blend_epi64(negative, pos, neg));
    // Division by 2^31 truncating toward zero: round negative values up before the arithmetic shift.
    v = _mm512_mask_add_epi64(v, _mm512_cmplt_epi64_mask(v, zero), v, bias);
    return _mm512_maskz_srai_epi64(all64, v, 31);
  };
  __m512i even, odd;
  mul_wide(a, b, even, odd);
  const __m512i r = join_low(half(even), half(odd));
  const __m512i int_min = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
  const __mmask16 both = _mm512_cmpeq_epi32_mask(a, int_min) & _mm512_cmpeq_epi32_mask(b, int_min);
  return _mm512_mask_mov_epi32(r, both, _mm512_set1_epi32(std::numeric_limits<std::int32_t>::max()));
}

// gemmlowp RoundingDivideByPOT, per-lane exponents in [0, 31].
inline __m512i rounding_divide_by_pot(__m512i x, __m512i exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_maskz_sllv_epi32(detail::all16, one, exponent), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __mmask16 negative = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
  const __m512i threshold = _mm512_mask_add_epi32(_mm512_maskz_srai_epi32(all16, mask, 1), negative, _mm512_maskz_srai_epi32(all16, mask, 1), one);
  const __m512i q = _mm512_maskz_srav_epi32(detail::all16, x, exponent);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, one);
}

}  // namespace detail

// The output stages of the tflite profiles: gemmlowp's MultiplyByQuantizedMultiplier (SRDHM then
// RoundingDivideByPOT), the single-rounding one ((x * m + 2^(30 - shift)) >> (31 - shift) in 64
// bits), and ruy's x86 GEMM stage (arith::tflite_x86::requantize_gemm: both halves half up, the
// zero point added wrapping before the clamp).
enum class tflite_output_stage { gemmlowp, single_rounding, ruy };

// The tflite profiles' output stage `stage`, 16 channels at a time: multiplier/shift pairs per
// channel (interleaved as arith::tflite::channel_params), integer steps only, so equal to the scalar
// definitions by construction (and tested so).
template <class Y>
inline void requantize_tflite(tflite_output_stage stage, const std::int32_t* acc, std::size_t ld, int pixels, int n,
                              const std::int32_t* params, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                              Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m512i even_index = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd_index = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  const __m512i rlo = _mm512_set1_epi32(lo - zero_point), rhi = _mm512_set1_epi32(hi - zero_point);
  const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi64(1);
  for (int c = 0; c < n; c += 16) {
    const int valid = n - c < 16 ? n - c : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    const int words = 2 * valid;  // multiplier and shift of each channel
    const __m512i p0 = _mm512_maskz_loadu_epi32(__mmask16(words >= 16 ? 0xffff : (1u << words) - 1u), params + 2 * c);
    const __m512i p1 = _mm512_maskz_loadu_epi32(__mmask16(words > 16 ? (1u << (words - 16)) - 1u : 0u),
                                                params + 2 * c + 16);
    const __m512i multiplier = _mm512_permutex2var_epi32(p0, even_index, p1);
    const __m512i shift = _mm512_permutex2var_epi32(p0, odd_index, p1);
    const __m512i left = _mm512_maskz_max_epi32(detail::all16, shift, zero), right = _mm512_maskz_max_epi32(detail::all16, _mm512_sub_epi32(zero, shift), zero);
    // The per-lane 64-bit shift counts of the even and odd lanes.
    const __m512i total = _mm512_sub_epi32(_mm512_set1_epi32(31), shift);
    const __m512i total_even = _mm512_maskz_mov_epi32(__mmask16(0x5555), total);
    const __m512i total_odd = _mm512_maskz_srli_epi64(detail::all64, total, 32);
    const __m512i right_even = _mm512_maskz_mov_epi32(__mmask16(0x5555), right);
    const __m512i right_odd = _mm512_maskz_srli_epi64(detail::all64, right, 32);
    for (int p = 0; p < pixels; ++p) {
      const __m512i x = _mm512_maskz_loadu_epi32(m, acc + std::size_t(p) * ld + c);
      __m512i r;
      if (stage == tflite_output_stage::single_rounding) {
        // (x * m + 2^(total - 1)) >> total in 64 bits, total = 31 - shift.
        __m512i even, odd;
        detail::mul_wide(x, multiplier, even, odd);
        even = _mm512_maskz_srav_epi64(detail::all64, _mm512_add_epi64(even, _mm512_maskz_sllv_epi64(detail::all64, one, _mm512_sub_epi64(total_even, one))),
                                 total_even);
        odd = _mm512_maskz_srav_epi64(detail::all64, _mm512_add_epi64(odd, _mm512_maskz_sllv_epi64(detail::all64, one, _mm512_sub_epi64(total_odd, one))),
                                total_odd);
        r = detail::join_low(even, odd);
      } else if (stage == tflite_output_stage::ruy) {
        // hi = (x << left) * m + 2^30 >> 31, then (hi + 2^(right - 1)) >> right, floor shifts of
        // 64-bit lanes (a count of -1 in sllv gives a nudge of 0 where right is 0).
        __m512i even, odd;
        detail::mul_wide(_mm512_maskz_sllv_epi32(detail::all16, x, left), multiplier, even, odd);
        const __m512i half = _mm512_set1_epi64(std::int64_t{1} << 30);
        even = _mm512_maskz_srai_epi64(detail::all64, _mm512_add_epi64(even, half), 31);
        odd = _mm512_maskz_srai_epi64(detail::all64, _mm512_add_epi64(odd, half), 31);
        even = _mm512_maskz_srav_epi64(detail::all64, _mm512_add_epi64(even, _mm512_maskz_sllv_epi64(detail::all64, one, _mm512_sub_epi64(right_even, one))),
                                 right_even);
        odd = _mm512_maskz_srav_epi64(detail::all64, _mm512_add_epi64(odd, _mm512_maskz_sllv_epi64(detail::all64, one, _mm512_sub_epi64(right_odd, one))),
                                right_odd);
        r = detail::join_low(even, odd);
        // ruy adds the zero point in 32 bits, wrapping, then clamps.
        r = _mm512_maskz_min_epi32(detail::all16, _mm512_maskz_max_epi32(detail::all16, _mm512_add_epi32(r, zp), vlo), vhi);
        _mm_mask_storeu_epi8(y + std::size_t(p) * std::size_t(n) + c, m, _mm512_maskz_cvtepi32_epi8(m, r));
        continue;
      } else {
        r = detail::rounding_divide_by_pot(detail::srdhm(_mm512_maskz_sllv_epi32(detail::all16, x, left), multiplier), right);
      }
      // sat(r + zp, lo, hi) = clamp(r, lo - zp, hi - zp) + zp, with no 32-bit overflow.
      r = _mm512_add_epi32(_mm512_maskz_min_epi32(detail::all16, _mm512_maskz_max_epi32(detail::all16, r, rlo), rhi), zp);
      _mm_mask_storeu_epi8(y + std::size_t(p) * std::size_t(n) + c, m, _mm512_maskz_cvtepi32_epi8(m, r));
    }
  }
}

namespace detail {
// Eight bytes of 64-bit lanes in [-128, 255] as storage bytes (truncation: exact for either signedness).
inline __m128i join_bytes(__m512i low8, __m512i high8) {
  return _mm_unpacklo_epi64(_mm512_maskz_cvtepi64_epi8(all64, low8), _mm512_maskz_cvtepi64_epi8(all64, high8));
}
// The 64-bit lanes of the low and high eight 32-bit lanes of v.
inline __m512i low_to_64(__m512i v) { return _mm512_maskz_cvtepi32_epi64(all64, _mm512_maskz_extracti64x4_epi64(detail::all64, v, 0)); }
inline __m512i high_to_64(__m512i v) { return _mm512_maskz_cvtepi32_epi64(all64, _mm512_maskz_extracti64x4_epi64(detail::all64, v, 1)); }
}  // namespace detail

// arith::pow2::requantize 16 channels at a time, in 64-bit lanes as the scalar rule: min(acc, clip),
// times the 8-bit mantissa (|acc * mantissa| < 2^40), a right shift by s >= 1 rounding half up
// ((v + 2^(s-1)) >> s, an arithmetic shift) or an exact left shift by -s, saturated to [lo, hi].
// Precondition (else the scalar rule runs): accumulator_clip >= INT32_MIN (the clipped value is a
// 32-bit one for vpmuldq) and every shift in [-63, 63] (the scalar rule is undefined beyond).
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
  const __m512i clip = _mm512_set1_epi64(out.accumulator_clip);
  const __m512i lo = _mm512_set1_epi64(out.lo), hi = _mm512_set1_epi64(out.hi);
  for (int c = 0; c < n; c += 16) {
    const int valid = n - c < 16 ? n - c : 16;
    // The channels' constants as 64-bit lanes: mantissa, right shift and its nudge, left shift.
    alignas(64) std::int64_t mantissa[16] = {}, right[16] = {}, nudge[16] = {}, left[16] = {};
    bool in_range = true;
    for (int i = 0; i < valid; ++i) {
      const int s = channel[c + i].shift;
      in_range = in_range && s >= -63 && s <= 63;
      mantissa[i] = channel[c + i].mantissa;
      right[i] = s > 0 ? s : 0;
      nudge[i] = s > 0 ? std::int64_t{1} << (s - 1) : 0;
      left[i] = s < 0 ? -s : 0;
    }
    if (!in_range) {
      scalar(c, c + valid);
      continue;
    }
    const __m512i m0 = _mm512_load_si512(mantissa), m1 = _mm512_load_si512(mantissa + 8);
    const __m512i r0 = _mm512_load_si512(right), r1 = _mm512_load_si512(right + 8);
    const __m512i n0 = _mm512_load_si512(nudge), n1 = _mm512_load_si512(nudge + 8);
    const __m512i l0 = _mm512_load_si512(left), l1 = _mm512_load_si512(left + 8);
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    const auto eight = [&](__m512i v, __m512i mv, __m512i rv, __m512i nv, __m512i lv) {
      v = _mm512_maskz_mul_epi32(detail::all64, _mm512_maskz_min_epi64(detail::all64, v, clip), mv);
      v = _mm512_maskz_sllv_epi64(detail::all64, _mm512_maskz_srav_epi64(detail::all64, _mm512_add_epi64(v, nv), rv), lv);
      return _mm512_maskz_min_epi64(detail::all64, _mm512_maskz_max_epi64(detail::all64, v, lo), hi);
    };
    for (int p = 0; p < pixels; ++p) {
      const __m512i a = _mm512_maskz_loadu_epi32(m, acc + std::size_t(p) * ld + c);
      const __m128i b = detail::join_bytes(eight(detail::low_to_64(a), m0, r0, n0, l0),
                                           eight(detail::high_to_64(a), m1, r1, n1, l1));
      _mm_mask_storeu_epi8(y + std::size_t(p) * std::size_t(n) + c, m, b);
    }
  }
}

// arith::akida_v1::requantize 16 channels at a time, in 32-bit lanes: with 0 <= hi,
// min(ceil(above / step), hi) = ceil(min(above, hi * step) / step), so the accumulator is first
// clamped to [threshold, threshold + hi * step] (above in [0, hi * step], no overflow), then
// level = floor((above + step - 1 + 1/2) / step) in double: the + 1/2 keeps the quotient at least
// 1/(2 step) away from an integer, farther than the error of one multiply by the rounded 1/step
// (relative 2^-52, the quotient < 2^31 / step), so truncating it is the exact integer division.
// Precondition (else the scalar rule runs, per block of channels): 0 <= lo <= hi and
// (hi + 1) * step < 2^31.
template <class Y>
inline void requantize_akida_v1(const std::int32_t* acc, std::size_t ld, int pixels, int n,
                                const arith::akida_v1::channel_params* channel,
                                const arith::akida_v1::output_params& out, Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m512i lo = _mm512_set1_epi32(out.lo), hi = _mm512_set1_epi32(out.hi);
  const __m512d half = _mm512_set1_pd(0.5);
  for (int c = 0; c < n; c += 16) {
    const int valid = n - c < 16 ? n - c : 16;
    alignas(64) std::int32_t threshold[16] = {}, upper[16] = {}, step_less_one[16] = {};
    alignas(64) double inverse[16] = {};
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
    const __m512i t = _mm512_load_si512(threshold), u = _mm512_load_si512(upper), s1 = _mm512_load_si512(step_less_one);
    const __m512d i0 = _mm512_load_pd(inverse), i1 = _mm512_load_pd(inverse + 8);
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    for (int p = 0; p < pixels; ++p) {
      const __m512i a = _mm512_maskz_loadu_epi32(m, acc + std::size_t(p) * ld + c);
      const __m512i k = _mm512_add_epi32(_mm512_sub_epi32(_mm512_maskz_min_epi32(detail::all16, _mm512_maskz_max_epi32(detail::all16, a, t), u), t), s1);
      const __m256i q0 = _mm512_maskz_cvttpd_epi32(detail::all64, 
          _mm512_mul_pd(_mm512_add_pd(_mm512_maskz_cvtepi32_pd(detail::all64, _mm512_maskz_extracti64x4_epi64(detail::all64, k, 0)), half), i0));
      const __m256i q1 = _mm512_maskz_cvttpd_epi32(detail::all64, 
          _mm512_mul_pd(_mm512_add_pd(_mm512_maskz_cvtepi32_pd(detail::all64, _mm512_maskz_extracti64x4_epi64(detail::all64, k, 1)), half), i1));
      const __m512i q = _mm512_maskz_inserti64x4(detail::all64, _mm512_castsi256_si512(q0), q1, 1);
      const __m512i level = _mm512_maskz_min_epi32(detail::all16, _mm512_maskz_max_epi32(detail::all16, q, lo), hi);
      _mm_mask_storeu_epi8(y + std::size_t(p) * std::size_t(n) + c, m, _mm512_maskz_cvtepi32_epi8(m, level));
    }
  }
}

// dst[c] = acc[c] for c < n (a pixel's accumulators into a map; a libc call costs more).
inline void store_accumulators(const std::int32_t* acc, int n, std::int32_t* dst) {
  for (int c = 0; c < n; c += 16) {
    const __mmask16 m = n - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - c)) - 1u);
    _mm512_mask_storeu_epi32(dst + c, m, _mm512_maskz_loadu_epi32(m, acc + c));
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
