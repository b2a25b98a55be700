// statiq/kernels/x86/avx2/elementwise.hpp — Mul, Max, Min and Sub of two 8-bit tensors 8 elements at
// a time with AVX2, bit for bit as their scalar definitions: arith::qlinear_mul (onnxruntime's
// QLinearMul) and arith::qdq_elementwise (DQ, DQ -> op -> Q); the same operations as
// kernels/x86/elementwise.hpp (AVX-512). AVX2 has no rounding mode in the instruction, so each
// float is rounded half to even by vroundps (_MM_FROUND_TO_NEAREST_INT, independent of MXCSR) and
// then converted by truncation, which is exact for an integral float and gives INT32_MIN ("integer
// indefinite") beyond the int32 range, as cvtps2dq does. Separate multiplies and adds (the library
// builds with -ffp-contract=off), as the scalar rules are.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/arith/qdq_elementwise.hpp"
#include "statiq/arith/qlinear_mul.hpp"

namespace statiq::kernels::x86::avx2 {

namespace detail {
// 8 codes widened to int32; `count` < 8 reads only that many bytes (the tail).
template <class X>
inline __m256i load_codes(const X* p, int count) {
  static_assert(sizeof(X) == 1);
  __m128i v;
  if (count >= 8) {
    v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  } else {
    std::int64_t bytes = 0;
    std::memcpy(&bytes, p, std::size_t(count));
    v = _mm_cvtsi64_si128(bytes);
  }
  if constexpr (std::is_signed_v<X>) return _mm256_cvtepi8_epi32(v);
  else return _mm256_cvtepu8_epi32(v);
}

// v holds 8 codes within [lo, hi] (so each low byte is its code); writes `count` of them.
template <class Y>
inline void store_codes(Y* p, int count, __m256i v) {
  static_assert(sizeof(Y) == 1);
  const __m256i bytes = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                 -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                 -1, -1, -1, -1));
  const __m128i packed = _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
  if (count >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), packed);
  } else {
    const std::int64_t low = _mm_cvtsi128_si64(packed);
    std::memcpy(p, &low, std::size_t(count));
  }
}

// Rounds half to even and converts; INT32_MIN beyond the int32 range (and for NaN), as cvtps2dq.
inline __m256i round_half_even_epi32(__m256 x) {
  return _mm256_cvttps_epi32(_mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Runs `op` (8 codes of a, 8 of b -> 8 codes in [lo, hi]) over the tensor: flat, or pixel by pixel
// with the second input's channel values (`channels` > 0).
template <class X, class Y, class Op>
inline void for_each_block(const X* a, const X* b, int n, int channels, Y* y, Op op) {
  if (channels <= 0) {
    for (int i = 0; i < n; i += 8) {
      const int m = n - i;
      store_codes(y + i, m, op(load_codes(a + i, m), load_codes(b + i, m)));
    }
    return;
  }
  for (int p = 0; p < n; p += channels)
    for (int c = 0; c < channels; c += 8) {
      const int m = channels - c;
      store_codes(y + p + c, m, op(load_codes(a + p + c, m), load_codes(b + c, m)));
    }
}
}  // namespace detail

// QLinearMul: (a - a_zp) * (b - b_zp), exact in int32 and float32, times the ratio, plus the output
// zero point in float, rounded half to even; beyond int32 the lowest code (the scalar rule's
// integer indefinite: INT32_MIN, then the clamp).
template <class X, class Y>
void qlinear_mul(const X* a, const X* b, int n, int channels, const arith::qlinear_mul_params& p, Y* y) {
  const __m256i azp = _mm256_set1_epi32(p.a_zero_point), bzp = _mm256_set1_epi32(p.b_zero_point);
  const __m256 ratio = _mm256_set1_ps(p.ratio), yzp = _mm256_set1_ps(static_cast<float>(p.y_zero_point));
  const __m256i lo = _mm256_set1_epi32(p.lo), hi = _mm256_set1_epi32(p.hi);
  detail::for_each_block(a, b, n, channels, y, [&](__m256i va, __m256i vb) {
    const __m256i product = _mm256_mullo_epi32(_mm256_sub_epi32(va, azp), _mm256_sub_epi32(vb, bzp));
    const __m256 r = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(product), ratio), yzp);
    return _mm256_min_epi32(_mm256_max_epi32(detail::round_half_even_epi32(r), lo), hi);
  });
}

// Max / Min / Sub as onnxruntime's QDQ form: each input dequantized (one float32 multiply), one float
// op, then QuantizeLinear (an IEEE division, clamped to [lo - zp, hi - zp], rounded half to even,
// + zp). max_ps/min_ps differ from std::max/min only on (+0, -0), which quantize to the same code.
template <arith::qdq_binary Op, class X, class Y>
void qdq_elementwise(const X* a, const X* b, int n, int channels, const arith::qdq_elementwise_params& p, Y* y) {
  const __m256i azp = _mm256_set1_epi32(p.a_zero_point), bzp = _mm256_set1_epi32(p.b_zero_point);
  const __m256 as = _mm256_set1_ps(p.a_scale), bs = _mm256_set1_ps(p.b_scale), ys = _mm256_set1_ps(p.y_scale);
  const __m256 flo = _mm256_set1_ps(static_cast<float>(p.lo - p.y_zero_point));
  const __m256 fhi = _mm256_set1_ps(static_cast<float>(p.hi - p.y_zero_point));
  const __m256i yzp = _mm256_set1_epi32(p.y_zero_point);
  detail::for_each_block(a, b, n, channels, y, [&](__m256i va, __m256i vb) {
    const __m256 fa = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(va, azp)), as);
    const __m256 fb = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(vb, bzp)), bs);
    __m256 r;
    if constexpr (Op == arith::qdq_binary::max) r = _mm256_max_ps(fa, fb);
    else if constexpr (Op == arith::qdq_binary::min) r = _mm256_min_ps(fa, fb);
    else r = _mm256_sub_ps(fa, fb);
    const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(r, ys), flo), fhi);
    return _mm256_add_epi32(detail::round_half_even_epi32(x), yzp);
  });
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
