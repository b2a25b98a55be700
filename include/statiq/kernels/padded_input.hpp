// statiq/kernels/padded_input.hpp — a convolution's input copied with its pads, as the fast
// convolutions read it when they cannot read it in place: the pad bytes hold `pad` (the zero point
// in the kernel's byte encoding, so they add nothing to a dot product), every input row goes through
// flip_bytes(dst, src, n), which copies n bytes flipping their sign bit where the kernel needs it
// (x86 reads int8 as uint8, x + 128; NEON reads uint8 as int8, x - 128; the one part each ISA writes
// with its own vectors), and `slack` more pad bytes follow the last row so that a segment's last
// vector load may overrun it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels {

template <class FlipBytes>
void copy_padded_input(const reference::Conv2DGeometry& g, const std::uint8_t* src, std::uint8_t pad,
                       std::size_t slack, std::uint8_t* dst, FlipBytes&& flip_bytes) {
  const std::size_t c = std::size_t(g.in.c);
  const std::size_t wp = std::size_t(g.in.w + g.pads.left + g.pads.right);
  const std::size_t row = wp * c, left = std::size_t(g.pads.left) * c, inner = std::size_t(g.in.w) * c;
  const int hp = g.in.h + g.pads.top + g.pads.bottom;
  std::memset(dst, pad, std::size_t(g.pads.top) * row);
  for (int h = 0; h < g.in.h; ++h) {
    std::uint8_t* d = dst + std::size_t(g.pads.top + h) * row;
    std::memset(d, pad, left);
    flip_bytes(d + left, src + std::size_t(h) * inner, inner);
    std::memset(d + left + inner, pad, row - left - inner);
  }
  std::memset(dst + std::size_t(g.pads.top + g.in.h) * row, pad, std::size_t(hp - g.pads.top - g.in.h) * row + slack);
}

}  // namespace statiq::kernels
