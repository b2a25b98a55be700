// statiq/kernels/arm/mve/conv2d.hpp — the Arm MVE (Helium) convolution (group 1; Dense is its 1x1
// case) for Cortex-M55: the windows of two output pixels gathered as int16 (x - zero point), then per
// step of 4 reduction elements one int32x4 of each pixel's window and of each of 4 output channels'
// weights (stored oc16_k4: 4 bytes of a channel are contiguous), each pair reduced into the channel's
// accumulator by VMLADAVA. Equal to kernels/reference/conv2d.hpp bit for bit
// (tests/device/arm_kernels_test.cpp, run under QEMU on the Cortex-M55 board).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_MVE)  // else this header is empty

#include <arm_mve.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/arm/conv2d.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm::mve {

// The same scratch as the DSP convolution: two windows and two rows of accumulators.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  return arm::conv2d_scratch_words(g, w);
}

namespace detail {

// P pixels' dot products with the 4 output channels whose weights start at w (a block's row, 4 bytes
// a channel, the next 4 reduction elements 64 bytes on). acc[p][j] accumulates pixel p, channel j.
template <int P>
inline void dot_quad(const std::int16_t* const* window, std::size_t k4, const std::uint8_t* w,
                     std::int32_t (*acc)[4]) {
  std::int32_t a[P][4];
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < 4; ++j) a[p][j] = acc[p][j];
  const auto* ws = reinterpret_cast<const std::int8_t*>(w);
  for (std::size_t k = 0; k < k4; ++k, ws += 64) {
    int32x4_t xv[P];
    for (int p = 0; p < P; ++p) xv[p] = vldrhq_s32(window[p] + 4 * k);
    for (int j = 0; j < 4; ++j) {
      const int32x4_t wv = vldrbq_s32(ws + 4 * j);
      for (int p = 0; p < P; ++p) a[p][j] = vmladavaq_s32(a[p][j], wv, xv[p]);
    }
  }
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < 4; ++j) acc[p][j] = a[p][j];
}

}  // namespace detail

// As arm::conv2d (the same contract and epilogue calls), with MVE dot products.
template <class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias, std::int32_t* scratch,
            Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the MVE convolution reads byte activations");
  const std::size_t cols = layout.padded_cols(), k4 = cols / 4;
  const std::size_t block_stride = cols * WeightLayout::block_rows;
  const int pixels = g.out.h * g.out.w;
  const int block = pixels < arm::conv_pixel_block ? 1 : arm::conv_pixel_block;
  const std::size_t out_c = std::size_t(g.out.c);
  auto* windows = reinterpret_cast<std::int16_t*>(scratch);
  std::int32_t* tile = scratch + std::size_t(block) * cols / 2;
  std::memset(windows, 0, std::size_t(block) * cols * sizeof(std::int16_t));  // padding columns stay zero

  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::int16_t* window[arm::conv_pixel_block];
    std::int32_t start[arm::conv_pixel_block];
    for (int p = 0; p < np; ++p) {
      window[p] = windows + std::size_t(p) * cols;
      const std::uint32_t sum =
          arm::detail::gather_window<false>(g, layout, x, x_zero_point, p0 + p, windows + std::size_t(p) * cols);
      // - w_zero_point * sum (x - x_zero_point): the dot products read the raw weights (mod 2^32).
      start[p] = static_cast<std::int32_t>(-std::uint32_t(w_zero_point) * sum);
    }
    // Channels 4 at a time; past out.c the rows are the layout's zero padding (rows padded to 16).
    for (std::size_t oc = 0; oc < out_c; oc += 4) {
      const std::uint8_t* wq = w + oc / WeightLayout::block_rows * block_stride + oc % WeightLayout::block_rows * 4;
      std::int32_t acc[arm::conv_pixel_block][4];
      for (int p = 0; p < np; ++p)
        for (std::size_t j = 0; j < 4; ++j)
          acc[p][j] = static_cast<std::int32_t>(std::uint32_t(bias && oc + j < out_c ? bias[oc + j] : 0) +
                                                std::uint32_t(start[p]));
      if (np == 2) detail::dot_quad<2>(window, k4, wq, acc);
      else detail::dot_quad<1>(window, k4, wq, acc);
      for (int p = 0; p < np; ++p)
        for (std::size_t j = 0; j < 4 && oc + j < out_c; ++j) tile[std::size_t(p) * out_c + oc + j] = acc[p][j];
    }
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), out_c);
  }
}

}  // namespace statiq::kernels::arm::mve

#endif  // STATIQ_KERNELS_ARM_MVE
