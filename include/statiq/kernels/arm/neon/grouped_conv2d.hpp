// statiq/kernels/arm/neon/grouped_conv2d.hpp — the AArch64 NEON grouped convolution (1 < group <
// in.c; depthwise has its own kernel): the group-1 kernel's register tiles (kernels/arm/neon/conv2d.hpp,
// SDOT or SMULL/SADALP) run once per group over that group's oc16_k4 block set, whose segments are
// single taps of the group's input channels, read at the group's channel offset of each pixel. Equal
// to kernels/reference/conv2d.hpp bit for bit (tests/device/neon_kernels_test.cpp, under qemu-aarch64
// for both variants).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/arm/neon/conv2d.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm::neon {

// Words between two pixels' accumulator rows. Group gi's rows start at gi * (out.c / group), in
// output-channel order, so the epilogue reads them as they are (no gather); a group's last block
// writes up to 15 padding rows past its channels, over the next group's, which that group's tiles
// then write (groups run in order) — the last group's padding needs room past out.c.
constexpr std::size_t grouped_conv2d_ld(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  return std::size_t(g.out.c) - w.group_rows() + w.padded_group_rows();
}

// int32 words of scratch: the per-channel constants (in the stored, per-group padded order), one row
// of accumulators per pixel of a block, the taps' input offsets, the padded input copy.
constexpr std::size_t grouped_conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                                   bool signed_input) {
  const std::size_t block = std::size_t(conv_block_pixels(g));
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return w.padded_rows() + block * grouped_conv2d_ld(g, w) + w.segments() + copy;
}

// The convolution of g (1 < group < in.c) over NHWC x, weights w stored as `layout` (oc16_k4 with
// layout.groups == g.group, segments of one tap of in.c / group channels). Calls epilogue(first,
// count, acc, ld) once per block of pixels, as arm::neon::conv2d does. WeightBits: 8, or 4/2/1 for
// weights packed 2/4/8 to a byte in the same order (widened in registers as they are read).
// weight_sums: out.c sums of each channel's weights (core/weight_sums.hpp), never null; it may be
// `scratch` itself (weight_sums_for's fallback).
template <int WeightBits = 8, class X, class Epilogue>
void grouped_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                    const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                    const std::int32_t* bias, const std::int32_t* weight_sums, std::int32_t* scratch,
                    Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the NEON convolution reads byte activations");
  const int groups = g.group;
  const std::size_t in_per_group = std::size_t(g.in.c / groups), out_per_group = layout.group_rows();
  const std::size_t rows = layout.padded_rows(), group_rows = layout.padded_group_rows();
  const std::size_t cols = layout.padded_cols();
  const int segments = int(layout.segments());  // taps
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(group_rows / 16);  // of one group
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const std::size_t group_stride = std::size_t(blocks) * block_stride;  // bytes of one group
  const std::size_t ld = grouped_conv2d_ld(g, layout);
  const int block = conv_block_pixels(g);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* offset = tile + std::size_t(block) * ld;

  // base[stored row] = bias - shift * weight_sums[channel], as in arm::neon::conv2d; padding rows get
  // 0. The sums are in output-channel order and may lie in the first words of scratch, where base is
  // written in the stored order, whose index is never below its channel's: so the rows go last to
  // first, each channel's sum read before any lower word is written.
  const std::int32_t shift = x_zero_point - detail::input_offset<X>;
  for (std::size_t row = rows; row-- > 0;) {
    const std::size_t r = row % group_rows, channel = row / group_rows * out_per_group + r;
    const bool live = r < out_per_group;
    const std::uint32_t bv = bias && live ? std::uint32_t(bias[channel]) : 0u;
    const std::uint32_t sv = live ? std::uint32_t(weight_sums[channel]) : 0u;
    base[row] = static_cast<std::int32_t>(bv - std::uint32_t(shift) * sv);
  }

  // The input the taps are read from (in place, or a padded copy with slack for a tap's last 4-byte
  // group), and where each tap starts relative to a pixel's window (group 0's channels).
  const auto* in = reinterpret_cast<const std::int8_t*>(x);
  if (!conv2d_reads_input_in_place(g, layout, std::is_signed_v<X>)) {
    auto* copy = reinterpret_cast<std::uint8_t*>(offset + segments);
    detail::pad_input(g, x, static_cast<std::uint8_t>(shift), copy);
    in = reinterpret_cast<const std::int8_t*>(copy);
  }
  segment_offsets(g, layout, offset);

  const int pixels = g.out.h * g.out.w;
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::int8_t* pixel[conv_pixel_block];
    block_pixels(g, in, p0, np, np, pixel);
    // Group by group, in order (each one's padding rows are written over by the next).
    for (int gi = 0; gi < groups; ++gi) {
      const std::int8_t* gp[conv_pixel_block];
      for (int p = 0; p < np; ++p) gp[p] = pixel[p] + std::size_t(gi) * in_per_group;
      const std::uint8_t* wg = w + std::size_t(gi) * group_stride;
      std::int32_t* tg = tile + std::size_t(gi) * out_per_group;
      const std::int32_t* bg = base + std::size_t(gi) * group_rows;
      detail::dot_all_blocks<WeightBits>(gp, np, offset, segments, k4, wg, blocks, block_stride, tg, ld, bg);
      if (w_zero_point != 0)
        subtract_weight_zero_point_term(gp, np, offset, segments, in_per_group, shift, w_zero_point, tg, ld,
                                                group_rows);
    }
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), ld);
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
