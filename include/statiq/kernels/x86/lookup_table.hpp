// statiq/kernels/x86/lookup_table.hpp — the 256-entry byte table lookup 64 bytes at a time with
// AVX-512 VBMI: two vpermi2b look up the low and high halves of the table (7-bit index), the
// index's top bit picks one. Equal to kernels/reference/lookup_table.hpp by construction (a pure
// selection, no arithmetic); tests/kernels checks it byte for byte on every index.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI) && defined(__AVX512VBMI__)  // else this header is empty
#define STATIQ_KERNELS_AVX512_VBMI 1

#include <immintrin.h>

#include <cstdint>

namespace statiq::kernels::x86 {

// y[i] = table[uint8(x[i])] for i < n; X and Y are one byte wide.
template <class X, class Y>
void lookup_table_vbmi(const X* x, int n, const Y* table, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(Y) == 1);
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  for (int i = 0; i < n; i += 64) {
    const int left = n - i;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    const __m512i idx = _mm512_maskz_loadu_epi8(m, x + i);
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);  // entries 0..127 (index bit 6 picks t0/t1)
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);  // entries 128..255
    const __mmask64 high = _mm512_movepi8_mask(idx);           // index bit 7
    _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(high, lo, hi));
  }
}

}  // namespace statiq::kernels::x86

#endif
