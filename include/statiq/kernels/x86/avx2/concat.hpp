// statiq/kernels/x86/avx2/concat.hpp — Concat of byte tensors along channels with AVX2: an input
// already in the output's quantization is copied, any other goes through a 256-entry table of its
// codes' rescaled values (the profile's rescale of every code, made by the caller), looked up 32
// bytes at a time (x86/avx2/lookup_table.hpp). The same operation as kernels/x86/concat.hpp; equal to
// kernels/reference/concat.hpp with the profile's rescale as transform, since each table entry is
// that transform (tests/kernels).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/kernels/concat_rows.hpp"
#include "statiq/kernels/x86/avx2/lookup_table.hpp"

namespace statiq::kernels::x86::avx2 {

// y[p][offset_i + c] = tables[i] ? tables[i][uint8(x_i[p][c])] : x_i[p][c] (offset_i: the channels
// of the inputs before i), for num_inputs byte inputs of `pixels` pixels each.
template <class X, class Y>
void concat_bytes(int pixels, int num_inputs, const X* const* inputs, const int* channels, const Y* const* tables,
                  Y* y) {
  // The table's vector rows, made once per input (the walk goes input by input).
  int prepared = -1;
  LookupRows rows{};
  for_each_concat_row(pixels, num_inputs, inputs, channels, y, [&](int i, const X* src, std::size_t n, Y* dst) {
    if (!tables[i]) return void(std::memcpy(dst, src, n));
    if (prepared != i) {
      rows = lookup_rows(tables[i]);
      prepared = i;
    }
    lookup_table(src, int(n), rows, dst);
  });
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
