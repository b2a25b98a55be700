// statiq/kernels/padded_input.hpp — a convolution's input copied with its pads, as the fast
// convolutions read it when they cannot read it in place: the pad bytes hold `pad` (the zero point
// in the kernel's byte encoding, so they add nothing to a dot product), every input row goes through
// flip_bytes(dst, src, n), which copies n bytes flipping their sign bit where the kernel needs it
// (x86 reads int8 as uint8, x + 128; NEON reads uint8 as int8, x - 128; the one part each ISA writes
// with its own vectors), and `slack` more pad bytes follow the last row so that a segment's last
// vector load may overrun it. Also where the oc16_k4 kernels' segments and pixel windows lie in it
// (segment_offsets, block_pixels), the same for every ISA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/core/weight_layout.hpp"
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

// Where each segment of an oc16_k4 reduction starts relative to a pixel's window, in bytes of the
// padded input (width in.w + pads; the input itself when it is read in place, which needs no pads):
// a segment is whole taps of one group's channels (group 1: a kernel row, or one tap when dilated;
// grouped: one tap), read at group 0's channels.
inline void segment_offsets(const reference::Conv2DGeometry& g, const WeightLayout& layout, std::int32_t* offset) {
  const int wp = g.in.w + g.pads.left + g.pads.right;
  const int taps_per_segment = int(layout.segment_cols()) / g.in_channels_per_group();
  for (int s = 0; s < int(layout.segments()); ++s) {
    const int kh = s * taps_per_segment / g.kernel.w, kw = s * taps_per_segment % g.kernel.w;
    offset[s] = (kh * g.dilations.h * wp + kw * g.dilations.w) * g.in.c;
  }
}

// pixel[p] for p < count: where the window of output pixel p0 + p starts in `in` (as in
// segment_offsets). Past np (a short block) the last pixel repeats, for kernels whose register tiles
// always compute a whole block (those rows are never stored).
template <class T>
inline void block_pixels(const reference::Conv2DGeometry& g, const T* in, int p0, int np, int count, const T** pixel) {
  const std::size_t c = std::size_t(g.in.c), wp = std::size_t(g.in.w + g.pads.left + g.pads.right);
  for (int p = 0; p < count; ++p) {
    const int q = p0 + (p < np ? p : np - 1);
    const int oh = q / g.out.w, ow = q % g.out.w;
    pixel[p] = in + (std::size_t(oh * g.strides.h) * wp + std::size_t(ow * g.strides.w)) * c;
  }
}

// A weight zero point: sum (x - zp) * (w - w_zp) = sum (x - zp) * w - w_zp * sum (x - zp), so each of
// np pixels' `channels` accumulators (rows ld apart in tile) lose w_zp times its window's sum, read as
// the kernel reads the bytes (segments of `segment` bytes at offset[s]; T: uint8 where x86 reads
// x + flip, int8 where NEON reads x - flip), less reduction * shift (shift: x_zero_point + flip), so
// the sum is of x - x_zero_point; all mod 2^32 like the accumulators. Only layers with a weight zero
// point pay for it; a plain loop the compiler vectorizes for the ISA at hand.
template <class T>
inline void subtract_weight_zero_point_term(const T* const* pixel, int np, const std::int32_t* offset, int segments,
                                            std::size_t segment, std::int32_t shift, std::int32_t w_zero_point,
                                            std::int32_t* tile, std::size_t ld, std::size_t channels) {
  const std::size_t reduction = std::size_t(segments) * segment;
  for (int p = 0; p < np; ++p) {
    std::uint32_t sum = 0;
    for (int s = 0; s < segments; ++s)
      for (std::size_t k = 0; k < segment; ++k) sum += std::uint32_t(std::int32_t(pixel[p][std::size_t(offset[s]) + k]));
    sum -= std::uint32_t(reduction) * std::uint32_t(shift);
    const std::uint32_t correction = std::uint32_t(w_zero_point) * sum;
    std::int32_t* acc = tile + std::size_t(p) * ld;
    for (std::size_t ch = 0; ch < channels; ++ch)
      acc[ch] = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[ch]) - correction);
  }
}

}  // namespace statiq::kernels
