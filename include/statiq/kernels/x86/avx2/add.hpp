// statiq/kernels/x86/avx2/add.hpp — Add 8 elements at a time, as kernels/x86/add.hpp. QLinearAdd
// with MLAS's x86 formula (arith::qlinear::add, add_kernel::x86_fma): r = fma(a, ra, fma(b, rb,
// fixed)) in float32 (each fused multiply-add rounds once, as std::fma), clamped, rounded half to
// even (vcvtps2dq); it needs FMA (Haswell has it; an AVX2 build without -mfma keeps the scalar rule).
// The other profiles: add_by_terms, each input's term then the profile's output stage.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/kernels/x86/avx2/requantize.hpp"

namespace statiq::kernels::x86::avx2 {

namespace detail {
// 8 bytes (the first `valid`) as float lanes.
template <class X>
inline __m256 bytes_to_float(const X* p, int valid) {
  std::int64_t v = 0;
  std::memcpy(&v, p, std::size_t(valid));
  const __m128i b = _mm_cvtsi64_si128(v);
  return _mm256_cvtepi32_ps(std::is_signed_v<X> ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b));
}
}  // namespace detail

#if defined(__FMA__)
#define STATIQ_KERNELS_AVX2_FMA 1
// y[i] = sat(RNE(fma(a[i], a_ratio, fma(b[i], b_ratio, fixed))), lo, hi) for i < n.
template <class X, class X2, class Y>
void add_qlinear_fma(const X* a, const X2* b, int n, float a_ratio, float b_ratio, float fixed, std::int32_t lo,
                     std::int32_t hi, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  const __m256 ra = _mm256_set1_ps(a_ratio), rb = _mm256_set1_ps(b_ratio), f = _mm256_set1_ps(fixed);
  // Clamped in float before rounding: equal to rounding then saturating (integer bounds, monotonic rounding).
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(lo)), vhi = _mm256_set1_ps(static_cast<float>(hi));
  for (int i = 0; i < n; i += 8) {
    const int valid = n - i < 8 ? n - i : 8;
    const __m256 r = _mm256_fmadd_ps(detail::bytes_to_float(a + i, valid), ra,
                                     _mm256_fmadd_ps(detail::bytes_to_float(b + i, valid), rb, f));
    detail::store_bytes(_mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, vlo), vhi)), valid, y + i);
  }
}
#endif

// The byte of a code as a table index: uint8 codes as they are, int8 codes + 128.
template <class X>
constexpr int code_index(std::int32_t q) {
  return std::is_signed_v<X> ? q + 128 : q;
}

// x86::add_by_terms with AVX2: y[i] = stage(term_a(a[i]) + term_b(b[i])), terms of 8 codes as int32
// lanes (past the end of the inputs the codes are 0: a valid table index), the sums 256 at a time
// handed to stage(sums, rows, columns, y) as rows of 16 (then one row of columns < 16).
template <class X, class X2, class Y, class TermA, class TermB, class Stage>
void add_by_terms(const X* a, const X2* b, int n, TermA&& term_a, TermB&& term_b, Stage&& stage, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  alignas(32) std::int32_t sums[256];
  const auto codes = []<class T>(const T* p, int valid) {
    std::int64_t v = 0;
    std::memcpy(&v, p, std::size_t(valid));
    const __m128i bytes = _mm_cvtsi64_si128(v);
    return std::is_signed_v<T> ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
  };
  for (int i0 = 0; i0 < n; i0 += 256) {
    const int count = n - i0 < 256 ? n - i0 : 256;
    for (int i = 0; i < count; i += 8) {
      const int valid = count - i < 8 ? count - i : 8;
      _mm256_store_si256(reinterpret_cast<__m256i*>(sums + i),
                         _mm256_add_epi32(term_a(codes(a + i0 + i, valid)), term_b(codes(b + i0 + i, valid))));
    }
    const int rows = count / 16, rest = count % 16;
    if (rows > 0) stage(static_cast<const std::int32_t*>(sums), rows, 16, y + i0);
    if (rest > 0) stage(static_cast<const std::int32_t*>(sums) + rows * 16, 1, rest, y + i0 + rows * 16);
  }
}

// The term of a code looked up in a 256-entry table indexed by code_index<X> (vpgatherdd).
template <class X>
inline auto table_term(const std::int32_t* table) {
  return [table](__m256i q) {
    return _mm256_i32gather_epi32(table, _mm256_add_epi32(q, _mm256_set1_epi32(std::is_signed_v<X> ? 128 : 0)), 4);
  };
}

// The term q * 2^shift (an exact alignment shift; the caller checks that it fits).
inline auto shift_term(int shift) {
  return [shift](__m256i q) { return _mm256_sll_epi32(q, _mm_cvtsi32_si128(shift)); };
}

// Gemmini's MVIN_SCALE: RNE(float(q) * scale) saturated to int8 (the clamp in float first).
inline auto mvin_scale_term(float scale) {
  return [scale](__m256i q) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(scale));
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f)));
  };
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
