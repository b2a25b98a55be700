// statiq/kernels/x86/quantize.hpp — QuantizeLinear 16 floats at a time, as layers/quantize.hpp's
// scalar rule for the profiles that round half to even: x / scale (an IEEE division, exact like the
// scalar one), rounded half to even, + zero point in float, saturated, NaN to the zero point.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstdint>

namespace statiq::kernels::x86 {

template <class Y>
void quantize_half_even(const float* x, int n, float scale, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                        Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m512 s = _mm512_set1_ps(scale), zp = _mm512_set1_ps(static_cast<float>(zero_point));
  const __m512 flo = _mm512_set1_ps(static_cast<float>(lo)), fhi = _mm512_set1_ps(static_cast<float>(hi));
  const __m512i izp = _mm512_set1_epi32(zero_point);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 q = _mm512_maskz_div_ps(m, v, s);
    q = _mm512_maskz_roundscale_ps(m, q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q = _mm512_maskz_add_ps(m, q, zp);
    q = _mm512_maskz_min_ps(m, _mm512_maskz_max_ps(m, q, flo), fhi);
    __m512i r = _mm512_maskz_cvtps_epi32(m, q);
    // NaN has no integer: the zero point, as the scalar rule says.
    r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), izp);
    _mm_mask_storeu_epi8(y + i, m, _mm512_maskz_cvtepi32_epi8(m, r));
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
