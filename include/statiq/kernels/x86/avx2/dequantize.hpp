// statiq/kernels/x86/avx2/dequantize.hpp — DequantizeLinear 8 codes at a time with AVX2, as
// arith::dequantize and the AVX-512 kernel (kernels/x86/dequantize.hpp): (q - zero_point) converted
// to float32 (exact: |q - zero_point| < 2^24), times the scale, one IEEE multiply, so every float
// equals the scalar rule's.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/kernels/x86/avx2/requantize.hpp"

namespace statiq::kernels::x86::avx2 {

template <class X>
void dequantize(const X* x, int n, float scale, std::int32_t zero_point, float* y) {
  static_assert(sizeof(X) == 1, "byte codes");
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  for (int i = 0; i < n; i += 8) {
    const int valid = n - i < 8 ? n - i : 8;
    std::int64_t bytes = 0;
    std::memcpy(&bytes, x + i, std::size_t(valid));
    const __m128i v = _mm_cvtsi64_si128(bytes);
    const __m256i q = std::is_signed_v<X> ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
    _mm256_maskstore_ps(y + i, detail::lane_mask(valid), _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), s));
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
