// statiq/kernels/x86/grouped_conv2d.hpp — the AVX-512 VNNI grouped convolution (1 < group < in.c;
// depthwise has its own kernel): the group-1 kernel's register tiles (kernels/x86/conv2d.hpp) run once
// per group over that group's oc16_k4 block set, whose segments are single taps of the group's input
// channels, read at the group's channel offset of each pixel. Equal to kernels/reference/conv2d.hpp
// bit for bit (tests/kernels/fast_kernels_test.cpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/x86/conv2d.hpp"

namespace statiq::kernels::x86 {

// Output channels of the accumulator rows handed to the epilogue (out.c rounded up to 16).
constexpr std::size_t grouped_conv2d_ld(const reference::Conv2DGeometry& g) {
  return (std::size_t(g.out.c) + 15) / 16 * 16;
}

// int32 words of scratch: the per-channel constants and one row of accumulators per pixel of a block,
// both in the stored (per-group padded) order; the rows gathered into output-channel order (only
// when a group's channels are not a multiple of 16); the taps' input offsets; the padded input copy.
constexpr std::size_t grouped_conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                                   bool signed_input) {
  const std::size_t rows = w.padded_rows(), block = std::size_t(conv_block_pixels(g));
  const std::size_t gather = w.group_rows() % 16 == 0 ? 0 : block * grouped_conv2d_ld(g);
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return rows + block * rows + gather + w.segments() + copy;
}

// The convolution of g (1 < group < in.c) over NHWC x, weights w stored as `layout` (oc16_k4 with
// layout.groups == g.group, segments of one tap of in.c / group channels). Calls epilogue(first,
// count, acc, ld) once per block of pixels, as x86::conv2d does. WeightBits: 8, or 4/2/1 for weights
// packed 2/4/8 to a byte in the same order (widened in registers as they are read). weight_sums: per
// output channel the sum of its weights (core/weight_sums.hpp).
template <int WeightBits = 8, class X, class Epilogue>
void grouped_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                    const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                    const std::int32_t* bias, const std::int32_t* weight_sums, std::int32_t* scratch,
                    Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the VNNI convolution reads byte activations");
  const int groups = g.group;
  const int in_per_group = g.in.c / groups, out_per_group = g.out.c / groups;
  const std::size_t rows = layout.padded_rows(), group_rows = layout.padded_group_rows();
  const std::size_t cols = layout.padded_cols();
  const int segments = int(layout.segments());  // taps
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(group_rows / 16);  // of one group
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const std::size_t group_stride = std::size_t(blocks) * block_stride;  // bytes of one group
  const bool gather = out_per_group % 16 != 0;
  const std::size_t ld = gather ? grouped_conv2d_ld(g) : rows;
  const int block = conv_block_pixels(g);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* out = tile + std::size_t(block) * rows;  // the gathered rows (when gather)
  std::int32_t* offset = out + (gather ? std::size_t(block) * ld : 0);

  // base[stored row] = bias - (x_zero_point + flip) * weight_sums[channel], as in x86::conv2d. The
  // sums are in output-channel order and may lie in the first words of scratch (weight_sums_for's
  // fallback), where base is written in the stored order, never at a lower index than a channel's sum:
  // so groups and blocks go last to first, each block's sums read before its base is stored.
  const std::int32_t shift = x_zero_point + detail::input_offset<X>;
  const __m512i vshift = _mm512_set1_epi32(shift);
  for (int gi = groups - 1; gi >= 0; --gi)
    for (int b = blocks - 1; b >= 0; --b) {
      const int first = b * 16;
      const int valid = out_per_group - first < 16 ? out_per_group - first : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
      const std::size_t channel = std::size_t(gi) * std::size_t(out_per_group) + std::size_t(first);
      const __m512i s = _mm512_maskz_loadu_epi32(m, weight_sums + channel);
      const __m512i bv = bias ? _mm512_maskz_loadu_epi32(m, bias + channel) : _mm512_setzero_si512();
      _mm512_storeu_si512(base + std::size_t(gi) * group_rows + std::size_t(first),
                          _mm512_sub_epi32(bv, _mm512_mullo_epi32(vshift, s)));
    }

  // The input the taps are read from (in place, or a padded copy with slack for a tap's last 4-byte
  // group), and where each tap starts relative to a pixel's window (group 0's channels).
  const std::uint8_t* in = detail::conv_input(g, layout, x, shift, reinterpret_cast<std::uint8_t*>(offset + segments));
  segment_offsets(g, layout, offset);

  const int pixels = g.out.h * g.out.w;
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::uint8_t* pixel[conv_pixel_block];
    block_pixels(g, in, p0, np, conv_pixel_block, pixel);
    for (int gi = 0; gi < groups; ++gi) {
      // This group's channels of each pixel, its weights, accumulators and constants.
      const std::uint8_t* gp[conv_pixel_block];
      for (int p = 0; p < conv_pixel_block; ++p) gp[p] = pixel[p] + std::size_t(gi) * std::size_t(in_per_group);
      const std::uint8_t* wg = w + std::size_t(gi) * group_stride;
      std::int32_t* tg = tile + std::size_t(gi) * group_rows;
      const std::int32_t* bg = base + std::size_t(gi) * group_rows;
      detail::dot_all_blocks<WeightBits>(gp, np, offset, segments, k4, wg, blocks, block_stride, tg, rows, bg);
      if (w_zero_point != 0)
        subtract_weight_zero_point_term(gp, np, offset, segments, std::size_t(in_per_group), shift,
                                                w_zero_point, tg, rows, group_rows);
    }
    if (!gather) {
      epilogue(p0, np, static_cast<const std::int32_t*>(tile), rows);
      continue;
    }
    // Each group's valid rows to its output channels (gi * out_per_group ..), 16 at a time, masked.
    for (int p = 0; p < np; ++p)
      for (int gi = 0; gi < groups; ++gi)
        for (int first = 0; first < out_per_group; first += 16) {
          const int valid = out_per_group - first < 16 ? out_per_group - first : 16;
          const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
          _mm512_mask_storeu_epi32(out + std::size_t(p) * ld + std::size_t(gi * out_per_group + first), m,
                                   _mm512_maskz_loadu_epi32(m, tile + std::size_t(p) * rows +
                                                                   std::size_t(gi) * group_rows + std::size_t(first)));
        }
    epilogue(p0, np, static_cast<const std::int32_t*>(out), ld);
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
