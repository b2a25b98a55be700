// statiq/kernels/arm/neon/depthwise_conv2d.hpp — the AArch64 NEON depthwise convolution (channel
// multiplier 1; kernels/select.hpp leaves the others to the reference kernel): 16 channels a step,
// input bytes and weights (stored tap_major) widened to int16 less their zero points (|x - zp| <= 255,
// |w - w_zp| small), each product added exactly into int32 lanes by SMLAL/SMLAL2. Depthwise is
// memory-bound; this is what the dot-product extension would not speed up (one product per channel).
// Equal to kernels/reference/conv2d.hpp bit for bit (tests/device/neon_kernels_test.cpp, qemu-aarch64).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm::neon {

// int32 words of scratch: one row of output pixels' accumulators.
constexpr std::size_t depthwise_conv2d_scratch_words(const reference::Conv2DGeometry& g) {
  return std::size_t(g.out.w) * std::size_t(g.out.c);
}

namespace detail {
// 8 activations at x as int16, less the zero point.
template <class X>
inline int16x8_t load_centred(const X* x, int16x8_t zero_point) {
  if constexpr (std::is_signed_v<X>)
    return vsubq_s16(vmovl_s8(vld1_s8(reinterpret_cast<const std::int8_t*>(x))), zero_point);
  else
    return vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(reinterpret_cast<const std::uint8_t*>(x)))), zero_point);
}
}  // namespace detail

// Depthwise convolution (group == in.c == out.c) over NHWC x, weights tap_major (rows = channels,
// cols = kernel.h * kernel.w). Calls epilogue(first, count, acc, ld) as neon::conv2d does, once per
// output row.
template <class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the NEON depthwise convolution reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int channels = g.out.c;
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  const int16x8_t zp = vdupq_n_s16(static_cast<std::int16_t>(x_zero_point));
  const int16x8_t wzp = vdupq_n_s16(static_cast<std::int16_t>(w_zero_point));
  const auto* ws = reinterpret_cast<const std::int8_t*>(w);
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    for (int ow = 0; ow < g.out.w; ++ow) {
      const int iw0 = ow * g.strides.w - g.pads.left;
      std::int32_t* acc = scratch + std::size_t(ow) * std::size_t(channels);
      int c = 0;
      for (; c + 8 <= channels; c += 8) {
        int32x4_t a0 = bias ? vld1q_s32(bias + c) : vdupq_n_s32(0);
        int32x4_t a1 = bias ? vld1q_s32(bias + c + 4) : vdupq_n_s32(0);
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          const X* row = x + std::size_t(ih) * in_w * in_c + std::size_t(c);
          const std::int8_t* wrow = ws + std::size_t(kh * g.kernel.w) * rows + std::size_t(c);
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const int16x8_t xv = detail::load_centred(row + std::size_t(iw) * in_c, zp);
            const int16x8_t wv = vsubq_s16(vmovl_s8(vld1_s8(wrow + std::size_t(kw) * rows)), wzp);
            a0 = vmlal_s16(a0, vget_low_s16(xv), vget_low_s16(wv));
            a1 = vmlal_high_s16(a1, xv, wv);
          }
        }
        vst1q_s32(acc + c, a0);
        vst1q_s32(acc + c + 4, a1);
      }
      for (; c < channels; ++c) {  // the last channels (fewer than 8) one at a time
        std::uint32_t a = bias ? std::uint32_t(bias[c]) : 0u;
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const std::int32_t xv = std::int32_t(x[(std::size_t(ih) * in_w + std::size_t(iw)) * in_c + std::size_t(c)]);
            const std::int32_t wv = std::int32_t(ws[std::size_t(kh * g.kernel.w + kw) * rows + std::size_t(c)]);
            a += std::uint32_t((xv - x_zero_point) * (wv - w_zero_point));
          }
        }
        acc[c] = static_cast<std::int32_t>(a);
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), std::size_t(channels));
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
