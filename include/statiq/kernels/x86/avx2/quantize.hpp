// statiq/kernels/x86/avx2/quantize.hpp — QuantizeLinear 8 floats at a time with AVX2, the AVX-512
// kernel's steps (kernels/x86/quantize.hpp): x / scale (an IEEE division, as the scalar one),
// rounded half to even, + zero point in float, saturated, NaN to the zero point.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>

#include "statiq/kernels/x86/avx2/requantize.hpp"

namespace statiq::kernels::x86::avx2 {

template <class Y>
void quantize_half_even(const float* x, int n, float scale, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                        Y* y) {
  static_assert(sizeof(Y) == 1);
  const __m256 s = _mm256_set1_ps(scale), zp = _mm256_set1_ps(static_cast<float>(zero_point));
  const __m256 flo = _mm256_set1_ps(static_cast<float>(lo)), fhi = _mm256_set1_ps(static_cast<float>(hi));
  const __m256i izp = _mm256_set1_epi32(zero_point);
  for (int i = 0; i < n; i += 8) {
    const int valid = n - i < 8 ? n - i : 8;
    const __m256 v = _mm256_maskload_ps(x + i, detail::lane_mask(valid));
    __m256 q = _mm256_round_ps(_mm256_div_ps(v, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(q, zp), flo), fhi);
    // NaN has no integer: the zero point, as the scalar rule says.
    const __m256i r = _mm256_blendv_epi8(_mm256_cvtps_epi32(q), izp, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    detail::store_bytes(r, valid, y + i);
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
