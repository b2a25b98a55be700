// statiq/kernels/x86/concat.hpp — Concat of byte tensors along channels: an input already in the
// output's quantization is copied, any other goes through a 256-entry table of its codes' rescaled
// values (the profile's rescale of every code, made by the caller), looked up 64 bytes at a time
// (AVX-512 VBMI) where the CPU has it. Equal to kernels/reference/concat.hpp with the profile's
// rescale as transform, since each table entry is that transform (tests/kernels).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/kernels/concat_rows.hpp"
#include "statiq/kernels/x86/lookup_table.hpp"

namespace statiq::kernels::x86 {

// y[p][offset_i + c] = tables[i] ? tables[i][uint8(x_i[p][c])] : x_i[p][c] (offset_i: the channels
// of the inputs before i), for num_inputs byte inputs of `pixels` pixels each.
template <class X, class Y>
void concat_bytes(int pixels, int num_inputs, const X* const* inputs, const int* channels, const Y* const* tables,
                  Y* y) {
  for_each_concat_row(pixels, num_inputs, inputs, channels, y, [&](int i, const X* src, std::size_t n, Y* dst) {
    if (!tables[i]) return void(std::memcpy(dst, src, n));
#if defined(STATIQ_KERNELS_AVX512_VBMI)
    lookup_table_vbmi(src, int(n), tables[i], dst);
#else
    for (std::size_t c = 0; c < n; ++c) dst[c] = tables[i][static_cast<std::uint8_t>(src[c])];
#endif
  });
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
