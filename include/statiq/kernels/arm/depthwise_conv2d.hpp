// statiq/kernels/arm/depthwise_conv2d.hpp — the Arm DSP-extension depthwise convolution (channel
// multiplier 1) for Cortex-M4/M7/M55: four channels a step, their input bytes and weights (stored
// tap_major) each one word widened by SXTB16/UXTB16, the zero points taken off two at a time (SSUB16)
// and each channel's product added by SMLABB/SMLATT. Equal to kernels/reference/conv2d.hpp bit for bit
// (tests/device/arm_kernels_test.cpp, run under QEMU).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_DSP)  // else this header is empty

#include <arm_acle.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/arm/conv2d.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm {

// int32 words of scratch: one row of output pixels' accumulators.
constexpr std::size_t depthwise_conv2d_scratch_words(const reference::Conv2DGeometry& g) {
  return std::size_t(g.out.w) * std::size_t(g.out.c);
}

// Depthwise convolution (group == in.c == out.c) over NHWC x, weights tap_major (rows = channels,
// cols = kernel.h * kernel.w). Calls epilogue(first, count, acc, ld) as arm::conv2d does, once per
// output row.
template <class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the DSP depthwise convolution reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int channels = g.out.c;
  const int vector_channels = channels / 4 * 4;  // the rest one at a time
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  // Both halves of a word: the zero points as int16 pairs (x - zp and w - w_zp fit in [-255, 255]).
  const auto pair = [](std::int32_t v) { return std::int32_t((std::uint32_t(v) & 0xffff) * 0x10001u); };
  const std::int32_t zp2 = pair(x_zero_point), wzp2 = pair(w_zero_point);
  const auto widen = [](std::uint32_t v) {
    if constexpr (std::is_signed_v<X>) return __sxtb16(std::int32_t(v));
    else return std::int32_t(__uxtb16(v));
  };
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    for (int ow = 0; ow < g.out.w; ++ow) {
      const int iw0 = ow * g.strides.w - g.pads.left;
      std::int32_t* acc = scratch + std::size_t(ow) * std::size_t(channels);
      int c = 0;
      for (; c < vector_channels; c += 4) {
        std::int32_t a0 = bias ? bias[c] : 0, a1 = bias ? bias[c + 1] : 0;
        std::int32_t a2 = bias ? bias[c + 2] : 0, a3 = bias ? bias[c + 3] : 0;
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          const X* row = x + std::size_t(ih) * in_w * in_c + std::size_t(c);
          const std::uint8_t* wrow = w + std::size_t(kh * g.kernel.w) * rows + std::size_t(c);
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const std::uint32_t xv = detail::load_word(row + std::size_t(iw) * in_c);
            const std::uint32_t wv = detail::load_word(wrow + std::size_t(kw) * rows);
            const std::int32_t x02 = __ssub16(widen(xv), zp2), x13 = __ssub16(widen(std::rotr(xv, 8)), zp2);
            const std::int32_t w02 = __ssub16(__sxtb16(std::int32_t(wv)), wzp2);
            const std::int32_t w13 = __ssub16(__sxtb16(std::int32_t(std::rotr(wv, 8))), wzp2);
            a0 = __smlabb(x02, w02, a0);
            a2 = __smlatt(x02, w02, a2);
            a1 = __smlabb(x13, w13, a1);
            a3 = __smlatt(x13, w13, a3);
          }
        }
        acc[c] = a0;
        acc[c + 1] = a1;
        acc[c + 2] = a2;
        acc[c + 3] = a3;
      }
      for (; c < channels; ++c) {
        std::int32_t a = bias ? bias[c] : 0;
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const std::int32_t xv = std::int32_t(x[(std::size_t(ih) * in_w + std::size_t(iw)) * in_c + std::size_t(c)]);
            const std::int32_t wv = std::int32_t(
                static_cast<std::int8_t>(w[std::size_t(kh * g.kernel.w + kw) * rows + std::size_t(c)]));
            a += (xv - x_zero_point) * (wv - w_zero_point);
          }
        }
        acc[c] = a;
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), std::size_t(channels));
  }
}

}  // namespace statiq::kernels::arm

#endif  // STATIQ_KERNELS_ARM_DSP
