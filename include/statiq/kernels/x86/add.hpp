// statiq/kernels/x86/add.hpp — QLinearAdd 16 elements at a time with MLAS's x86 formula
// (arith::qlinear::add, add_kernel::x86_fma): r = fma(a, ra, fma(b, rb, fixed)) in float32, rounded
// half to even (vcvtps2dq), saturated. Fused multiply-adds round once each, as std::fma does, so the
// result equals the scalar definition bit for bit.
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

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
