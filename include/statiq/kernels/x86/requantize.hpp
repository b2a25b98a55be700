// statiq/kernels/x86/requantize.hpp — the qlinear output stage 16 channels at a time, the same
// operations as arith::qlinear::requantize: float32(acc) (rounds to nearest even like the scalar
// cast), one float32 multiply, clamp in float, round half to even (vcvtps2dq under the default
// MXCSR), + zero point. No fused multiply-add is possible here: every step is its own instruction.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

namespace statiq::kernels::x86 {

// y[c] = requantize(acc[c]) for c < n, multiplier[c] per channel; Y is int8 or uint8 storage.
template <class Y>
inline void requantize_qlinear(const std::int32_t* acc, int n, const float* multiplier, std::int32_t zero_point,
                               std::int32_t lo, std::int32_t hi, Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m512 flo = _mm512_set1_ps(static_cast<float>(lo - zero_point));
  const __m512 fhi = _mm512_set1_ps(static_cast<float>(hi - zero_point));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int c = 0; c < n; c += 16) {
    const int valid = n - c < 16 ? n - c : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    // The masked forms: GCC 12 warns (-Wmaybe-uninitialized) on some unmasked ones; same results.
    const __m512 a = _mm512_maskz_cvtepi32_ps(m, _mm512_maskz_loadu_epi32(m, acc + c));
    __m512 v = _mm512_maskz_mul_ps(m, a, _mm512_maskz_loadu_ps(m, multiplier + c));
    v = _mm512_maskz_min_ps(m, _mm512_maskz_max_ps(m, v, flo), fhi);
    const __m512i q = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(m, v), zp);
    // In range already, so the narrowing is exact for either signedness.
    _mm_mask_storeu_epi8(y + c, m, _mm512_maskz_cvtepi32_epi8(m, q));
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
