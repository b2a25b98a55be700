// statiq/kernels/x86/avx2/grouped_conv2d.hpp — the AVX2 grouped convolution (1 < group < in.c;
// depthwise has its own kernel) for x86 without AVX-512 VNNI: the AVX2 group-1 kernel's tiles and
// weight chunks (kernels/x86/avx2/conv2d.hpp) run once per group over that group's oc16_k4 block set
// (the same stored weights as the VNNI grouped kernel), whose segments are single taps of the group's
// input channels, read at the group's channel offset of each pixel. As the group-1 AVX2 kernel it
// subtracts the input zero point from the activations in int16 and reads no weight sums. Equal to
// kernels/reference/conv2d.hpp bit for bit (tests/kernels/fast_kernels_test.cpp, kernels_fast_avx2_test).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/x86/avx2/conv2d.hpp"

namespace statiq::kernels::x86::avx2 {

// Whether each group's accumulator rows must be gathered into output-channel order for the
// epilogue: they are stored per group padded to 16 channels, so unless a group has a multiple of 16
// channels the stored rows have gaps.
constexpr bool grouped_conv2d_gathers(const WeightLayout& w) { return w.group_rows() % 16 != 0; }

// int32 words of scratch: the bias and one row of accumulators per pixel of a block, both in the
// stored (per-group padded) order; the rows gathered into output-channel order (out.c apart, only
// when grouped_conv2d_gathers); the taps' input offsets; the widened weight chunk; the padded input.
constexpr std::size_t grouped_conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                                   bool signed_input) {
  const std::size_t rows = w.padded_rows(), block = std::size_t(conv_block_pixels(g));
  const std::size_t gather = grouped_conv2d_gathers(w) ? block * std::size_t(g.out.c) : 0;
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return rows + block * rows + gather + w.segments() + 32 * std::size_t(conv2d_chunk_groups(w)) + copy;
}

// The convolution of g (1 < group < in.c) over NHWC x, weights w stored as `layout` (oc16_k4 with
// layout.groups == g.group, segments of one tap of in.c / group channels), with the contract of
// avx2::conv2d: epilogue(first, count, acc, ld) once per block of pixels, acc[p * ld + oc] =
// bias[oc] + sum (x - x_zero_point) * (w - w_zero_point). WeightBits: 8, or 4/2/1 for weights packed
// 2/4/8 to a byte in the same order (widened with the chunk).
template <int WeightBits = 8, class X, class Epilogue>
void grouped_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                    const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                    const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the AVX2 convolution reads byte activations");
  const int groups = g.group;
  const int in_per_group = g.in.c / groups, out_per_group = g.out.c / groups;
  const std::size_t rows = layout.padded_rows(), group_rows = layout.padded_group_rows();
  const std::size_t cols = layout.padded_cols();
  const int segments = int(layout.segments());  // taps
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(group_rows / 16);  // of one group
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const std::size_t group_stride = std::size_t(blocks) * block_stride;  // bytes of one group
  const bool gather = grouped_conv2d_gathers(layout);
  const int block = conv_block_pixels(g);
  const int chunk = conv2d_chunk_groups(layout);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* out = tile + std::size_t(block) * rows;  // the gathered rows (when gather)
  std::int32_t* offset = out + (gather ? std::size_t(block) * std::size_t(g.out.c) : 0);
  auto* wide = reinterpret_cast<std::int16_t*>(offset + segments);

  // As avx2::conv2d: x + flip read as unsigned bytes, shift = x_zero_point + flip subtracted in int16
  // (pads hold shift), so the accumulators start at the bias, here in the stored order.
  const std::int32_t shift = x_zero_point + detail::input_offset<X>;
  const __m256i zp = _mm256_set1_epi16(static_cast<std::int16_t>(shift));
  for (int gi = 0; gi < groups; ++gi)
    for (std::size_t r = 0; r < group_rows; ++r)
      base[std::size_t(gi) * group_rows + r] =
          bias && r < std::size_t(out_per_group) ? bias[std::size_t(gi) * std::size_t(out_per_group) + r] : 0;

  // The input the taps are read from (in place, or a padded copy with slack for a tap's last 4-byte
  // group), and where each tap starts relative to a pixel's window (group 0's channels).
  const std::uint8_t* in = reinterpret_cast<const std::uint8_t*>(x);
  if (!conv2d_reads_input_in_place(g, layout, std::is_signed_v<X>)) {
    auto* copy = reinterpret_cast<std::uint8_t*>(offset + segments + 32 * std::size_t(chunk));
    detail::pad_input(g, x, static_cast<std::uint8_t>(shift), copy);
    in = copy;
  }
  segment_offsets(g, layout, offset);

  const int pixels = g.out.h * g.out.w;
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::uint8_t* pixel[conv_pixel_block];
    block_pixels(g, in, p0, np, np, pixel);
    for (int gi = 0; gi < groups; ++gi) {
      // This group's channels of each pixel, its weights, accumulators and bias.
      const std::uint8_t* gp[conv_pixel_block];
      for (int p = 0; p < np; ++p) gp[p] = pixel[p] + std::size_t(gi) * std::size_t(in_per_group);
      const std::uint8_t* wg = w + std::size_t(gi) * group_stride;
      std::int32_t* tg = tile + std::size_t(gi) * group_rows;
      const std::int32_t* bg = base + std::size_t(gi) * group_rows;
      detail::dot_all_blocks<WeightBits>(gp, np, offset, segments, k4, chunk, wg, blocks, block_stride, wide, zp, tg,
                                         rows, bg);
      if (w_zero_point != 0)
        subtract_weight_zero_point_term(gp, np, offset, segments, std::size_t(in_per_group), shift,
                                                w_zero_point, tg, rows, group_rows);
    }
    if (!gather) {
      epilogue(p0, np, static_cast<const std::int32_t*>(tile), rows);
      continue;
    }
    // Each group's valid rows to its output channels (gi * out_per_group ..), packed out.c apart.
    const std::size_t ld = std::size_t(g.out.c);
    for (int p = 0; p < np; ++p)
      for (int gi = 0; gi < groups; ++gi)
        std::memcpy(out + std::size_t(p) * ld + std::size_t(gi) * std::size_t(out_per_group),
                    tile + std::size_t(p) * rows + std::size_t(gi) * group_rows,
                    std::size_t(out_per_group) * sizeof(std::int32_t));
    epilogue(p0, np, static_cast<const std::int32_t*>(out), ld);
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
