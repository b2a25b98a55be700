// statiq/kernels/x86/avx2/lookup_table.hpp — the 256-entry byte table lookup 32 bytes at a time with
// AVX2, which has no byte permute over more than 16 entries: the table as 16 rows of 16 bytes, row k
// looked up (vpshufb) by the index less 16k, which selects by the low nibble and gives 0 where bit 7
// of that difference is set, i.e. for the rows above the index's own within its half of the table
// (indices below 128 and rows 0..7, or at least 128 and rows 8..15). The rows are stored XORed with
// the row before them in the same half, so the XOR of the rows up to the index's own is its entry;
// bit 7 of the index picks the half. A pure selection: equal to kernels/reference/lookup_table.hpp;
// tests/kernels checks it byte for byte on every index and tail length.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstdint>

namespace statiq::kernels::x86::avx2 {

// The table as the kernel reads it: row k XOR row k-1 (none before rows 0 and 8), and the table itself
// for the tail. Made once per table (Concat: once per input, not per pixel).
struct LookupRows {
  alignas(16) std::uint8_t rows[256];
  const std::uint8_t* table;
};

template <class Y>
LookupRows lookup_rows(const Y* table) {
  static_assert(sizeof(Y) == 1);
  LookupRows r;
  r.table = reinterpret_cast<const std::uint8_t*>(table);
  for (int i = 0; i < 256; ++i)
    r.rows[i] = static_cast<std::uint8_t>(i % 128 < 16 ? r.table[i] : r.table[i] ^ r.table[i - 16]);
  return r;
}

// y[i] = table[uint8(x[i])] for i < n, the table as lookup_rows made it; X and Y are one byte wide.
template <class X, class Y>
void lookup_table(const X* x, int n, const LookupRows& table, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(Y) == 1);
  const __m256i sixteen = _mm256_set1_epi8(16);
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    __m256i lower = _mm256_setzero_si256(), upper = _mm256_setzero_si256(), shifted = idx;
    for (int k = 0; k < 8; ++k) {  // unrolled by the compiler; shifted = idx - 16k (wrapping)
      const __m256i r = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(table.rows + 16 * k)));
      lower = _mm256_xor_si256(lower, _mm256_shuffle_epi8(r, shifted));
      shifted = _mm256_sub_epi8(shifted, sixteen);
    }
    for (int k = 8; k < 16; ++k) {
      const __m256i r = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(table.rows + 16 * k)));
      upper = _mm256_xor_si256(upper, _mm256_shuffle_epi8(r, shifted));
      shifted = _mm256_sub_epi8(shifted, sixteen);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_blendv_epi8(lower, upper, idx));
  }
  for (; i < n; ++i) y[i] = static_cast<Y>(table.table[static_cast<std::uint8_t>(x[i])]);
}

// y[i] = table[uint8(x[i])] for i < n; X and Y are one byte wide.
template <class X, class Y>
void lookup_table(const X* x, int n, const Y* table, Y* y) {
  lookup_table(x, n, lookup_rows(table), y);
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
