// statiq/kernels/x86/dequantize.hpp — DequantizeLinear 16 codes at a time, as arith::dequantize:
// (q - zero_point) converted to float32 (exact: |q - zero_point| < 2^24), times the scale, one IEEE
// multiply (no fused operation to contract), so every float equals the scalar rule's.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

namespace statiq::kernels::x86 {

template <class X>
void dequantize(const X* x, int n, float scale, std::int32_t zero_point, float* y) {
  static_assert(sizeof(X) == 1, "byte codes");
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m128i bytes = _mm_maskz_loadu_epi8(m, x + i);
    // The masked (maskz) forms: GCC 12 warns that the unmasked ones read an uninitialised vector.
    const __m512i q = std::is_signed_v<X> ? _mm512_maskz_cvtepi8_epi32(m, bytes) : _mm512_maskz_cvtepu8_epi32(m, bytes);
    _mm512_mask_storeu_ps(y + i, m, _mm512_maskz_mul_ps(m, _mm512_maskz_cvtepi32_ps(m, _mm512_sub_epi32(q, zp)), s));
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
