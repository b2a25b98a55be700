// statiq/kernels/concat_rows.hpp — the walk of a byte Concat along channels that the vector Concat
// kernels share (x86, x86/avx2, arm/neon concat.hpp): for each input i and each pixel p, one row of
// n = channels[i] bytes from x_i[p] to y[p][offset_i ..] (offset_i: the channels of the inputs
// before i), handed to row(i, src, n, dst), which copies it or looks it up with its ISA's vectors.
#pragma once

#include <cstddef>

namespace statiq::kernels {

template <class X, class Y, class Row>
void for_each_concat_row(int pixels, int num_inputs, const X* const* inputs, const int* channels, Y* y, Row&& row) {
  static_assert(sizeof(X) == 1 && sizeof(Y) == 1);
  std::size_t out_channels = 0;
  for (int i = 0; i < num_inputs; ++i) out_channels += std::size_t(channels[i]);
  for (int i = 0, offset = 0; i < num_inputs; offset += channels[i], ++i) {
    const std::size_t n = std::size_t(channels[i]);
    for (std::size_t p = 0; p < std::size_t(pixels); ++p)
      row(i, inputs[i] + p * n, n, y + p * out_channels + std::size_t(offset));
  }
}

}  // namespace statiq::kernels
