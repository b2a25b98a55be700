// statiq/kernels/arm/conv2d.hpp — the Arm DSP-extension convolution (group 1; Dense is its 1x1 case)
// for Cortex-M4/M7/M55: the windows of two output pixels gathered as int16 (x - zero point), then two
// output channels x two pixels a step, each SMLAD adding two 16x16 products of 32-bit words (weights
// stored oc16_k4 widened by SXTB16). Equal to kernels/reference/conv2d.hpp bit for bit
// (tests/device/arm_kernels_test.cpp, run under QEMU).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_DSP)  // else this header is empty

#include <arm_acle.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm {

// Output pixels whose windows are gathered together (each weight word loaded once serves both).
inline constexpr int conv_pixel_block = 2;

// int32 words of scratch: the gathered windows (conv_pixel_block x padded cols int16) and one row of
// accumulators per pixel of the block.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  const std::size_t block = g.out.h * g.out.w < conv_pixel_block ? 1 : conv_pixel_block;
  return block * w.padded_cols() / 2 + block * std::size_t(g.out.c);
}

namespace detail {

inline std::uint32_t load_word(const void* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);  // LDR: unaligned loads are allowed on Armv7-M and Armv8-M Mainline
  return v;
}

// Where a window's element k (its padded column) is stored: in each group of 4, the order 0 2 1 3,
// so that one word holds columns 0 and 2 (paired by SXTB16 with weight bytes 0 and 2) and the next
// columns 1 and 3 (weight bytes 1 and 3, after a rotation by 8).
constexpr std::size_t gathered(std::size_t k) { return ((k >> 1) ^ k) & 1 ? k ^ 3 : k; }

// The window of output pixel `pixel` as int16 (x - x_zero_point) at the weights' padded columns
// (padded_cols of dst; a pad, like the segments' padding columns, is zero: it adds nothing), in the
// order 0 2 1 3 of each group of 4 when `paired` (the SMLAD kernel), else in order. Returns the
// window's sum of (x - x_zero_point), mod 2^32. dst's padding columns must be zero already.
template <bool paired, class X>
std::uint32_t gather_window(const reference::Conv2DGeometry& g, const WeightLayout& layout, const X* x,
                            std::int32_t x_zero_point, int pixel, std::int16_t* dst) {
  const std::size_t segment = layout.segment_cols(), padded_segment = layout.padded_segment();
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  const auto at = [](std::size_t k) { return paired ? gathered(k) : k; };
  std::uint32_t sum = 0;
  const int oh = pixel / g.out.w, ow = pixel % g.out.w;
  const int ih0 = oh * g.strides.h - g.pads.top, iw0 = ow * g.strides.w - g.pads.left;
  for (int kh = 0; kh < g.kernel.h; ++kh) {
    const int ih = ih0 + kh * g.dilations.h;
    for (int kw = 0; kw < g.kernel.w; ++kw) {
      const int iw = iw0 + kw * g.dilations.w;
      // A tap's channels lie in one segment (a segment is a kernel row or one tap).
      const std::size_t first = std::size_t(kh * g.kernel.w + kw) * in_c;
      const std::size_t start = first / segment * padded_segment + first % segment;
      if (ih < 0 || ih >= g.in.h || iw < 0 || iw >= g.in.w) {
        for (std::size_t c = 0; c < in_c; ++c) dst[at(start + c)] = 0;
        continue;
      }
      const X* src = x + (std::size_t(ih) * in_w + std::size_t(iw)) * in_c;
      for (std::size_t c = 0; c < in_c; ++c) {
        const std::int32_t v = std::int32_t(src[c]) - x_zero_point;  // in [-255, 255]
        dst[at(start + c)] = static_cast<std::int16_t>(v);
        sum += std::uint32_t(v);
      }
    }
  }
  return sum;
}

// P pixels' dot products with output channels oc and oc + 1 (oc + 1 == oc when out.c is odd: the
// same row again, not stored). w0, w1: the channels' first 4 weights in the oc16_k4 blocks.
template <int P>
inline void dot_pair(const std::int16_t* const* window, std::size_t k4, const std::uint8_t* w0, const std::uint8_t* w1,
                     std::int32_t* acc0, std::int32_t* acc1) {
  std::int32_t a0[P], a1[P];
  for (int p = 0; p < P; ++p) {
    a0[p] = acc0[p];
    a1[p] = acc1[p];
  }
  for (std::size_t k = 0; k < k4; ++k, w0 += 64, w1 += 64) {
    const std::uint32_t u = load_word(w0), v = load_word(w1);
    const std::int32_t u02 = __sxtb16(std::int32_t(u)), u13 = __sxtb16(std::int32_t(std::rotr(u, 8)));
    const std::int32_t v02 = __sxtb16(std::int32_t(v)), v13 = __sxtb16(std::int32_t(std::rotr(v, 8)));
    for (int p = 0; p < P; ++p) {
      // Read as words by memcpy (LDR), not through a cast: the windows are written as int16.
      const std::int32_t x02 = std::int32_t(load_word(window[p] + 4 * k));
      const std::int32_t x13 = std::int32_t(load_word(window[p] + 4 * k + 2));
      a0[p] = __smlad(u13, x13, __smlad(u02, x02, a0[p]));
      a1[p] = __smlad(v13, x13, __smlad(v02, x02, a1[p]));
    }
  }
  for (int p = 0; p < P; ++p) {
    acc0[p] = a0[p];
    acc1[p] = a1[p];
  }
}

}  // namespace detail

// The convolution of g (group == 1) over NHWC x, weights w stored as `layout` (oc16_k4, rows =
// out.c, cols = kernel.h * kernel.w * in.c, segments of a kernel row or of one tap). Calls
// epilogue(first, count, acc, ld) once per block of pixels (row-major over out.h x out.w): pixel
// first + p has acc[p * ld + oc], the reference kernel's bias[oc] + sum (x - x_zero_point) *
// (w - w_zero_point). The int32 sums wrap like the reference's, and are exact whenever the true
// accumulator fits (checked at compile time by the layers).
template <class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias, std::int32_t* scratch,
            Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the DSP convolution reads byte activations");
  const std::size_t cols = layout.padded_cols(), k4 = cols / 4;
  const std::size_t block_stride = cols * WeightLayout::block_rows;
  const int pixels = g.out.h * g.out.w;
  const int block = pixels < conv_pixel_block ? 1 : conv_pixel_block;
  const std::size_t out_c = std::size_t(g.out.c);
  auto* windows = reinterpret_cast<std::int16_t*>(scratch);
  std::int32_t* tile = scratch + std::size_t(block) * cols / 2;
  // The segments' padding columns (zero weights) stay zero: only real columns are written below.
  std::memset(windows, 0, std::size_t(block) * cols * sizeof(std::int16_t));

  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    std::uint32_t sum[conv_pixel_block] = {};  // each window's sum of (x - x_zero_point), mod 2^32
    const std::int16_t* window[conv_pixel_block];
    for (int p = 0; p < np; ++p) {
      window[p] = windows + std::size_t(p) * cols;
      sum[p] = detail::gather_window<true>(g, layout, x, x_zero_point, p0 + p, windows + std::size_t(p) * cols);
    }
    for (int p = 0; p < np; ++p) {
      // bias - w_zero_point * sum (x - x_zero_point): the dot products below read the raw weights.
      const std::int32_t start = static_cast<std::int32_t>(-std::uint32_t(w_zero_point) * sum[p]);
      std::int32_t* row = tile + std::size_t(p) * out_c;
      for (std::size_t oc = 0; oc < out_c; ++oc)
        row[oc] = static_cast<std::int32_t>(std::uint32_t(bias ? bias[oc] : 0) + std::uint32_t(start));
    }
    for (std::size_t oc = 0; oc < out_c; oc += 2) {
      const bool pair = oc + 1 < out_c;
      // oc is even, so oc + 1 is in the same block of 16 rows.
      const std::uint8_t* w0 = w + oc / WeightLayout::block_rows * block_stride + oc % WeightLayout::block_rows * 4;
      const std::uint8_t* w1 = pair ? w0 + 4 : w0;
      std::int32_t a0[conv_pixel_block], a1[conv_pixel_block];
      for (int p = 0; p < np; ++p) {
        a0[p] = tile[std::size_t(p) * out_c + oc];
        a1[p] = pair ? tile[std::size_t(p) * out_c + oc + 1] : 0;
      }
      if (np == 2) detail::dot_pair<2>(window, k4, w0, w1, a0, a1);
      else detail::dot_pair<1>(window, k4, w0, w1, a0, a1);
      for (int p = 0; p < np; ++p) {
        tile[std::size_t(p) * out_c + oc] = a0[p];
        if (pair) tile[std::size_t(p) * out_c + oc + 1] = a1[p];
      }
    }
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), out_c);
  }
}

}  // namespace statiq::kernels::arm

#endif  // STATIQ_KERNELS_ARM_DSP
