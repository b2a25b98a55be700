// statiq/kernels/x86/avx2/add.hpp — QLinearAdd 8 elements at a time with MLAS's x86 formula
// (arith::qlinear::add, add_kernel::x86_fma), as kernels/x86/add.hpp: r = fma(a, ra, fma(b, rb,
// fixed)) in float32 (each fused multiply-add rounds once, as std::fma), clamped, rounded half to
// even (vcvtps2dq). Needs FMA (Haswell has it); an AVX2 build without -mfma keeps the scalar rule.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2) && defined(__FMA__)  // else this header is empty
#define STATIQ_KERNELS_AVX2_FMA 1

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

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2 && __FMA__
