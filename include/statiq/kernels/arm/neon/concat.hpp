// statiq/kernels/arm/neon/concat.hpp — Concat of byte tensors along channels on AArch64 NEON: an input
// already in the output's quantization is copied, any other goes through a 256-entry table of its
// codes' rescaled values (the profile's rescale of every code, made by the caller), looked up 16
// bytes at a time (arm/neon/lookup_table.hpp). The same operation as kernels/x86/concat.hpp; equal to
// kernels/reference/concat.hpp with the profile's rescale as transform, since each table entry is
// that transform (tests/device/neon_kernels_test.cpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/kernels/concat_rows.hpp"
#include "statiq/kernels/arm/neon/lookup_table.hpp"

namespace statiq::kernels::arm::neon {

// y[p][offset_i + c] = tables[i] ? tables[i][uint8(x_i[p][c])] : x_i[p][c] (offset_i: the channels
// of the inputs before i), for num_inputs byte inputs of `pixels` pixels each.
template <class X, class Y>
void concat_bytes(int pixels, int num_inputs, const X* const* inputs, const int* channels, const Y* const* tables,
                  Y* y) {
  for_each_concat_row(pixels, num_inputs, inputs, channels, y, [&](int i, const X* src, std::size_t n, Y* dst) {
    if (tables[i]) lookup_table(src, int(n), tables[i], dst);
    else std::memcpy(dst, src, n);
  });
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
