// statiq/kernels/x86/avx2/requantize.hpp — the output stages of kernels/x86/requantize.hpp 8 channels
// at a time with AVX2 only, the same operations in the same order, so bit-identical to the scalar
// definitions in statiq/arith (tests/kernels/fast_kernels_test.cpp, kernels_fast_avx2_test):
// qlinear (and gemmini, qlinear's with a zero point of 0): float32(acc) rounded to nearest even like
// the scalar cast, one float32 multiply (a separate instruction: nothing to contract to an FMA),
// clamp in float, vcvtps2dq (half to even under the default MXCSR), + zero point;
// tflite (gemmlowp double rounding, single rounding, ruy's x86 stage): integer steps in 64-bit lanes.
// AVX2 has no 64-bit arithmetic right shift: sra(x, s) = ~(~x >>> s) for negative x, x >>> s else.
// pow2 (64-bit lanes) and akida_v1 (double lanes): the AVX-512 kernels' schemes and preconditions.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/pow2.hpp"

namespace statiq::kernels::x86::avx2 {

// The masked-off lanes of a channel tail (n - c < 8) are neither read nor written.
namespace detail {
inline __m256i lane_mask(int valid) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), index);
}
// Eight int32 lanes in [-128, 255] as their low bytes (truncation, as the scalar cast to Y and the
// AVX-512 vpmovdb: gemmini may store int8 bounds into uint8 storage), the first `valid` stored.
template <class Y>
inline void store_bytes(__m256i v, int valid, Y* y) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i low = _mm_and_si128(words, _mm_set1_epi16(0xff));
  const __m128i bytes = _mm_packus_epi16(low, low);
  if (valid == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y), bytes);
  } else {
    alignas(16) std::uint8_t b[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), bytes);
    std::memcpy(y, b, std::size_t(valid));
  }
}
}  // namespace detail

// y[p * n + c] = requantize(acc[p * ld + c]) for p < pixels, c < n, multiplier[c] per channel.
template <class Y>
inline void requantize_qlinear(const std::int32_t* acc, std::size_t ld, int pixels, int n, const float* multiplier,
                               std::int32_t zero_point, std::int32_t lo, std::int32_t hi, Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m256 flo = _mm256_set1_ps(static_cast<float>(lo - zero_point));
  const __m256 fhi = _mm256_set1_ps(static_cast<float>(hi - zero_point));
  const __m256i zp = _mm256_set1_epi32(zero_point);
  for (int c = 0; c < n; c += 8) {
    const int valid = n - c < 8 ? n - c : 8;
    const __m256i m = detail::lane_mask(valid);
    const __m256 mult = _mm256_maskload_ps(multiplier + c, m);
    for (int p = 0; p < pixels; ++p) {
      const __m256 a = _mm256_cvtepi32_ps(_mm256_maskload_epi32(acc + std::size_t(p) * ld + c, m));
      __m256 v = _mm256_mul_ps(a, mult);
      v = _mm256_min_ps(_mm256_max_ps(v, flo), fhi);
      detail::store_bytes(_mm256_add_epi32(_mm256_cvtps_epi32(v), zp), valid, y + std::size_t(p) * std::size_t(n) + c);
    }
  }
}

namespace detail {

// The 64-bit products a * b of the signed 32-bit lanes: [even lanes' products], [odd lanes'].
inline void mul_wide(__m256i a, __m256i b, __m256i& even, __m256i& odd) {
  even = _mm256_mul_epi32(a, b);
  odd = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
}
// The low 32 bits of 64-bit lanes, even and odd results back in their 32-bit lanes.
inline __m256i join_low(__m256i even, __m256i odd) {
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
}
// Arithmetic right shifts of 64-bit lanes (counts >= 64 give the sign, as the floor does).
inline __m256i sra64(__m256i x, __m256i count) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), count), sign);
}
inline __m256i sra64_31(__m256i x) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srli_epi64(_mm256_xor_si256(x, sign), 31), sign);
}

// gemmlowp SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 truncating, INT_MIN^2 -> INT_MAX.
inline __m256i srdhm(__m256i a, __m256i b) {
  const __m256i pos = _mm256_set1_epi64x(std::int64_t{1} << 30), neg = _mm256_set1_epi64x(1 - (std::int64_t{1} << 30));
  const __m256i bias = _mm256_set1_epi64x((std::int64_t{1} << 31) - 1), zero = _mm256_setzero_si256();
  const auto half = [&](__m256i ab) {
    __m256i v = _mm256_add_epi64(ab, _mm256_blendv_epi8(pos, neg, _mm256_cmpgt_epi64(zero, ab)));
    // Division by 2^31 truncating toward zero: round negative values up before the floor shift.
    v = _mm256_add_epi64(v, _mm256_and_si256(_mm256_cmpgt_epi64(zero, v), bias));
    return sra64_31(v);
  };
  __m256i even, odd;
  mul_wide(a, b, even, odd);
  const __m256i r = join_low(half(even), half(odd));
  const __m256i int_min = _mm256_set1_epi32(std::numeric_limits<std::int32_t>::min());
  const __m256i both = _mm256_and_si256(_mm256_cmpeq_epi32(a, int_min), _mm256_cmpeq_epi32(b, int_min));
  return _mm256_blendv_epi8(r, _mm256_set1_epi32(std::numeric_limits<std::int32_t>::max()), both);
}

// gemmlowp RoundingDivideByPOT, per-lane exponents in [0, 31].
inline __m256i rounding_divide_by_pot(__m256i x, __m256i exponent) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, exponent), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), negative);  // + 1 where negative
  const __m256i q = _mm256_srav_epi32(x, exponent);
  return _mm256_sub_epi32(q, _mm256_cmpgt_epi32(remainder, threshold));
}

// (v + 2^(count - 1)) >> count in 64-bit lanes, a floor shift (count 0: no nudge, sllv by -1 gives 0).
inline __m256i round_shift64(__m256i v, __m256i count) {
  const __m256i one = _mm256_set1_epi64x(1);
  return sra64(_mm256_add_epi64(v, _mm256_sllv_epi64(one, _mm256_sub_epi64(count, one))), count);
}

}  // namespace detail

// The tflite profiles' output stages (kernels/x86/requantize.hpp's tflite_output_stage: gemmlowp,
// single_rounding, ruy), 8 channels at a time: multiplier/shift pairs per channel interleaved as
// arith::tflite::channel_params.
enum class tflite_output_stage { gemmlowp, single_rounding, ruy };

template <class Y>
inline void requantize_tflite(tflite_output_stage stage, const std::int32_t* acc, std::size_t ld, int pixels, int n,
                              const std::int32_t* params, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                              Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const __m256i rlo = _mm256_set1_epi32(lo - zero_point), rhi = _mm256_set1_epi32(hi - zero_point);
  const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
  const __m256i zero = _mm256_setzero_si256();
  for (int c = 0; c < n; c += 8) {
    const int valid = n - c < 8 ? n - c : 8;
    const __m256i m = detail::lane_mask(valid);
    alignas(32) std::int32_t mult[8] = {}, shifts[8] = {};
    for (int i = 0; i < valid; ++i) {
      mult[i] = params[2 * (c + i)];
      shifts[i] = params[2 * (c + i) + 1];
    }
    const __m256i multiplier = _mm256_load_si256(reinterpret_cast<const __m256i*>(mult));
    const __m256i shift = _mm256_load_si256(reinterpret_cast<const __m256i*>(shifts));
    const __m256i left = _mm256_max_epi32(shift, zero), right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    // The 64-bit shift counts of the even and odd lanes.
    const __m256i total = _mm256_sub_epi32(_mm256_set1_epi32(31), shift);
    const __m256i total_even = _mm256_blend_epi32(zero, total, 0x55), total_odd = _mm256_srli_epi64(total, 32);
    const __m256i right_even = _mm256_blend_epi32(zero, right, 0x55), right_odd = _mm256_srli_epi64(right, 32);
    for (int p = 0; p < pixels; ++p) {
      const __m256i x = _mm256_maskload_epi32(acc + std::size_t(p) * ld + c, m);
      Y* out = y + std::size_t(p) * std::size_t(n) + c;
      __m256i r;
      if (stage == tflite_output_stage::single_rounding) {
        // (x * m + 2^(total - 1)) >> total in 64 bits, total = 31 - shift.
        __m256i even, odd;
        detail::mul_wide(x, multiplier, even, odd);
        r = detail::join_low(detail::round_shift64(even, total_even), detail::round_shift64(odd, total_odd));
      } else if (stage == tflite_output_stage::ruy) {
        // hi = (x << left) * m + 2^30 >> 31, then (hi + 2^(right - 1)) >> right, floor shifts.
        __m256i even, odd;
        detail::mul_wide(_mm256_sllv_epi32(x, left), multiplier, even, odd);
        const __m256i half = _mm256_set1_epi64x(std::int64_t{1} << 30);
        even = detail::round_shift64(detail::sra64_31(_mm256_add_epi64(even, half)), right_even);
        odd = detail::round_shift64(detail::sra64_31(_mm256_add_epi64(odd, half)), right_odd);
        // ruy adds the zero point in 32 bits, wrapping, then clamps.
        r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(detail::join_low(even, odd), zp), vlo), vhi);
        detail::store_bytes(r, valid, out);
        continue;
      } else {
        r = detail::rounding_divide_by_pot(detail::srdhm(_mm256_sllv_epi32(x, left), multiplier), right);
      }
      // sat(r + zp, lo, hi) = clamp(r, lo - zp, hi - zp) + zp, with no 32-bit overflow.
      r = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(r, rlo), rhi), zp);
      detail::store_bytes(r, valid, out);
    }
  }
}

namespace detail {
inline __m256i min64(__m256i a, __m256i b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b)); }
inline __m256i max64(__m256i a, __m256i b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a)); }
// Two groups of four 64-bit lanes (values in [-128, 255]) as the eight int32 lanes of their low halves.
inline __m256i pack64(__m256i low4, __m256i high4) {
  const __m256i index = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  return _mm256_blend_epi32(_mm256_permutevar8x32_epi32(low4, index), _mm256_permutevar8x32_epi32(high4, index), 0xf0);
}
}  // namespace detail

// arith::pow2::requantize 8 channels at a time, in 64-bit lanes as the scalar rule: min(acc, clip),
// times the 8-bit mantissa (|acc * mantissa| < 2^40), a right shift by s >= 1 rounding half up
// ((v + 2^(s-1)) >> s, a floor shift) or an exact left shift by -s, saturated to [lo, hi].
// Precondition (else the scalar rule runs): accumulator_clip >= INT32_MIN (the clipped value is a
// 32-bit one for vpmuldq) and every shift in [-63, 63].
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
  const __m256i clip = _mm256_set1_epi64x(out.accumulator_clip);
  const __m256i lo = _mm256_set1_epi64x(out.lo), hi = _mm256_set1_epi64x(out.hi);
  for (int c = 0; c < n; c += 8) {
    const int valid = n - c < 8 ? n - c : 8;
    alignas(32) std::int64_t mantissa[8] = {}, right[8] = {}, nudge[8] = {}, left[8] = {};
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
    const auto load = [](const std::int64_t* v) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(v)); };
    const __m256i m0 = load(mantissa), m1 = load(mantissa + 4), r0 = load(right), r1 = load(right + 4);
    const __m256i n0 = load(nudge), n1 = load(nudge + 4), l0 = load(left), l1 = load(left + 4);
    const __m256i m = detail::lane_mask(valid);
    const auto four = [&](__m256i v, __m256i mv, __m256i rv, __m256i nv, __m256i lv) {
      v = _mm256_mul_epi32(detail::min64(v, clip), mv);
      v = _mm256_sllv_epi64(detail::sra64(_mm256_add_epi64(v, nv), rv), lv);
      return detail::min64(detail::max64(v, lo), hi);
    };
    for (int p = 0; p < pixels; ++p) {
      const __m256i a = _mm256_maskload_epi32(acc + std::size_t(p) * ld + c, m);
      const __m256i low = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(a));
      const __m256i high = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1));
      detail::store_bytes(detail::pack64(four(low, m0, r0, n0, l0), four(high, m1, r1, n1, l1)), valid,
                          y + std::size_t(p) * std::size_t(n) + c);
    }
  }
}

// arith::akida_v1::requantize 8 channels at a time, the AVX-512 kernel's scheme (kernels/x86/
// requantize.hpp): the accumulator clamped to [threshold, threshold + hi * step], then level =
// floor((above + step - 1 + 1/2) * (1 / step)) in double, exact (the + 1/2 keeps the quotient
// farther from an integer than the multiply's error). Precondition (else the scalar rule runs, per
// block of channels): 0 <= lo <= hi and (hi + 1) * step < 2^31.
template <class Y>
inline void requantize_akida_v1(const std::int32_t* acc, std::size_t ld, int pixels, int n,
                                const arith::akida_v1::channel_params* channel,
                                const arith::akida_v1::output_params& out, Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m256i lo = _mm256_set1_epi32(out.lo), hi = _mm256_set1_epi32(out.hi);
  const __m256d half = _mm256_set1_pd(0.5);
  for (int c = 0; c < n; c += 8) {
    const int valid = n - c < 8 ? n - c : 8;
    alignas(32) std::int32_t threshold[8] = {}, upper[8] = {}, step_less_one[8] = {};
    alignas(32) double inverse[8] = {};
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
    const auto load = [](const std::int32_t* v) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(v)); };
    const __m256i t = load(threshold), u = load(upper), s1 = load(step_less_one);
    const __m256d i0 = _mm256_load_pd(inverse), i1 = _mm256_load_pd(inverse + 4);
    const __m256i m = detail::lane_mask(valid);
    for (int p = 0; p < pixels; ++p) {
      const __m256i a = _mm256_maskload_epi32(acc + std::size_t(p) * ld + c, m);
      const __m256i k = _mm256_add_epi32(_mm256_sub_epi32(_mm256_min_epi32(_mm256_max_epi32(a, t), u), t), s1);
      const __m128i q0 = _mm256_cvttpd_epi32(_mm256_mul_pd(_mm256_add_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(k)), half), i0));
      const __m128i q1 = _mm256_cvttpd_epi32(_mm256_mul_pd(_mm256_add_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(k, 1)), half), i1));
      const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
      detail::store_bytes(_mm256_min_epi32(_mm256_max_epi32(q, lo), hi), valid, y + std::size_t(p) * std::size_t(n) + c);
    }
  }
}

// dst[c] = acc[c] for c < n (a pixel's accumulators into a map).
inline void store_accumulators(const std::int32_t* acc, int n, std::int32_t* dst) {
  int c = 0;
  for (; c + 8 <= n; c += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + c)));
  for (; c < n; ++c) dst[c] = acc[c];
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
