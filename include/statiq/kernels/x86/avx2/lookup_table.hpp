// statiq/kernels/x86/avx2/lookup_table.hpp — the 256-entry byte table lookup 32 bytes at a time with
// AVX2, which has no byte permute over more than 16 entries: the table as 16 rows of 16 bytes, each
// row looked up by the index's low nibble (vpshufb) and kept where the index's high nibble is the
// row's number. A pure selection, no arithmetic: equal to kernels/reference/lookup_table.hpp by
// construction; tests/kernels checks it byte for byte on every index and tail length.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>

namespace statiq::kernels::x86::avx2 {

// y[i] = table[uint8(x[i])] for i < n; X and Y are one byte wide.
template <class X, class Y>
void lookup_table(const X* x, int n, const Y* table, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(Y) == 1);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i lo = _mm256_and_si256(idx, low_nibble);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(idx, 4), low_nibble);
    __m256i r = _mm256_setzero_si256();
    for (int row = 0; row < 16; ++row) {  // unrolled by the compiler: 16 rows, 4 instructions each
      const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * row)));
      const __m256i here = _mm256_cmpeq_epi8(hi, _mm256_set1_epi8(static_cast<char>(row)));
      r = _mm256_or_si256(r, _mm256_and_si256(here, _mm256_shuffle_epi8(t, lo)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  for (; i < n; ++i) y[i] = table[static_cast<std::uint8_t>(x[i])];
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
