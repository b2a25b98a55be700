// statiq/kernels/x86/add.hpp — Add 16 elements at a time. QLinearAdd with MLAS's x86 formula
// (arith::qlinear::add, add_kernel::x86_fma): r = fma(a, ra, fma(b, rb, fixed)) in float32, rounded
// half to even (vcvtps2dq), saturated. Fused multiply-adds round once each, as std::fma does, so the
// result equals the scalar definition bit for bit. The other profiles: add_by_tables.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

namespace statiq::kernels::x86 {

namespace detail {
template <class X>
inline __m512 bytes_to_float(__mmask16 m, const X* p) {
  const __m128i b = _mm_maskz_loadu_epi8(m, p);
  const __m512i i = std::is_signed_v<X> ? _mm512_maskz_cvtepi8_epi32(m, b) : _mm512_maskz_cvtepu8_epi32(m, b);
  return _mm512_maskz_cvtepi32_ps(m, i);
}
}  // namespace detail

// y[i] = sat(RNE(fma(a[i], a_ratio, fma(b[i], b_ratio, fixed))), lo, hi) for i < n.
template <class X, class X2, class Y>
void add_qlinear_fma(const X* a, const X2* b, int n, float a_ratio, float b_ratio, float fixed, std::int32_t lo,
                     std::int32_t hi, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  const __m512 ra = _mm512_set1_ps(a_ratio), rb = _mm512_set1_ps(b_ratio), f = _mm512_set1_ps(fixed);
  // Clamped in float before rounding: equal to rounding then saturating (the bounds are integers and
  // rounding is monotonic), and no value beyond int32 reaches the conversion.
  const __m512 vlo = _mm512_set1_ps(static_cast<float>(lo)), vhi = _mm512_set1_ps(static_cast<float>(hi));
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 r = _mm512_fmadd_ps(detail::bytes_to_float(m, a + i), ra,
                                     _mm512_fmadd_ps(detail::bytes_to_float(m, b + i), rb, f));
    const __m512i q = _mm512_maskz_cvtps_epi32(m, _mm512_maskz_min_ps(m, _mm512_maskz_max_ps(m, r, vlo), vhi));
    _mm_mask_storeu_epi8(y + i, m, _mm512_maskz_cvtepi32_epi8(m, q));
  }
}

// The byte of a code as a table index: uint8 codes as they are, int8 codes + 128.
template <class X>
constexpr int code_index(std::int32_t q) {
  return std::is_signed_v<X> ? q + 128 : q;
}

// An Add whose inputs each contribute an int32 that depends on their code only, and whose sum goes
// through an output stage: y[i] = stage(term_a(a[i]) + term_b(b[i])). term_a/term_b take 16 codes
// as int32 lanes (and the mask of the valid ones) and return 16 int32 terms; the sums are made 256
// at a time and handed to stage(sums, rows, columns, y) as rows of 16 (rows * 16 outputs, then one
// last row of columns < 16), the form the output stages of kernels/x86/requantize.hpp take. Exact
// as long as the sums fit int32 (the caller checks).
template <class X, class X2, class Y, class TermA, class TermB, class Stage>
void add_by_terms(const X* a, const X2* b, int n, TermA&& term_a, TermB&& term_b, Stage&& stage, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  alignas(64) std::int32_t sums[256];
  for (int i0 = 0; i0 < n; i0 += 256) {
    const int count = n - i0 < 256 ? n - i0 : 256;
    for (int i = 0; i < count; i += 16) {
      const __mmask16 m = count - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (count - i)) - 1u);
      const __m128i ba = _mm_maskz_loadu_epi8(m, a + i0 + i), bb = _mm_maskz_loadu_epi8(m, b + i0 + i);
      const __m512i qa = std::is_signed_v<X> ? _mm512_maskz_cvtepi8_epi32(m, ba) : _mm512_maskz_cvtepu8_epi32(m, ba);
      const __m512i qb = std::is_signed_v<X2> ? _mm512_maskz_cvtepi8_epi32(m, bb) : _mm512_maskz_cvtepu8_epi32(m, bb);
      _mm512_store_si512(sums + i, _mm512_add_epi32(term_a(qa, m), term_b(qb, m)));
    }
    const int rows = count / 16, rest = count % 16;
    if (rows > 0) stage(static_cast<const std::int32_t*>(sums), rows, 16, y + i0);
    if (rest > 0) stage(static_cast<const std::int32_t*>(sums) + rows * 16, 1, rest, y + i0 + rows * 16);
  }
}

// The term of a code looked up in a 256-entry table indexed by code_index<X> (vpgatherdd).
template <class X>
inline auto table_term(const std::int32_t* table) {
  return [table](__m512i q, __mmask16 m) {
    const __m512i index = _mm512_add_epi32(q, _mm512_set1_epi32(std::is_signed_v<X> ? 128 : 0));
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index, table, 4);
  };
}

// The term q * 2^shift (an exact alignment shift; the caller checks that it fits).
inline auto shift_term(int shift) {
  return [shift](__m512i q, __mmask16 m) { return _mm512_maskz_slli_epi32(m, q, static_cast<unsigned>(shift)); };
}

// Gemmini's MVIN_SCALE: RNE(float(q) * scale) saturated to int8 (the clamp in float first: the
// bounds are integers and rounding is monotonic).
inline auto mvin_scale_term(float scale) {
  return [scale](__m512i q, __mmask16 m) {
    const __m512 v = _mm512_maskz_mul_ps(m, _mm512_maskz_cvtepi32_ps(m, q), _mm512_set1_ps(scale));
    const __m512 c = _mm512_maskz_min_ps(m, _mm512_maskz_max_ps(m, v, _mm512_set1_ps(-128.0f)), _mm512_set1_ps(127.0f));
    return _mm512_maskz_cvtps_epi32(m, c);
  };
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
