// statiq/kernels/arm/mve/depthwise_conv2d.hpp — the Arm MVE (Helium) depthwise convolution (channel
// multiplier 1) for Cortex-M55: four channels a vector, input bytes and weights (stored tap_major)
// widened to int32 lanes by the load, zero points taken off, products added lane by lane; a channel
// tail is predicated (VCTP), so no byte past the input's last channel is read. Equal to
// kernels/reference/conv2d.hpp bit for bit (tests/device/arm_kernels_test.cpp, under QEMU).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_MVE)  // else this header is empty

#include <arm_mve.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm::mve {

// int32 words of scratch: one row of output pixels' accumulators.
constexpr std::size_t depthwise_conv2d_scratch_words(const reference::Conv2DGeometry& g) {
  return std::size_t(g.out.w) * std::size_t(g.out.c);
}

// As arm::depthwise_conv2d (the same contract and epilogue calls, once per output row), with MVE.
template <class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the MVE depthwise convolution reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int channels = g.out.c;
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  const auto* ws = reinterpret_cast<const std::int8_t*>(w);
  const auto load_x = [](const X* p, mve_pred16_t live) {
    if constexpr (std::is_signed_v<X>) return vldrbq_z_s32(reinterpret_cast<const std::int8_t*>(p), live);
    else return vreinterpretq_s32_u32(vldrbq_z_u32(reinterpret_cast<const std::uint8_t*>(p), live));
  };
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    for (int ow = 0; ow < g.out.w; ++ow) {
      const int iw0 = ow * g.strides.w - g.pads.left;
      std::int32_t* acc_row = scratch + std::size_t(ow) * std::size_t(channels);
      for (int c = 0; c < channels; c += 4) {
        const mve_pred16_t live = vctp32q(std::uint32_t(channels - c));
        int32x4_t acc = bias ? vldrwq_z_s32(bias + c, live) : vdupq_n_s32(0);
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          const X* row = x + std::size_t(ih) * in_w * in_c + std::size_t(c);
          // The weights' rows are padded to 16 channels (zeros): whole vectors are in the array.
          const std::int8_t* wrow = ws + std::size_t(kh * g.kernel.w) * rows + std::size_t(c);
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const int32x4_t xv = vsubq_n_s32(load_x(row + std::size_t(iw) * in_c, live), x_zero_point);
            const int32x4_t wv = vsubq_n_s32(vldrbq_s32(wrow + std::size_t(kw) * rows), w_zero_point);
            acc = vaddq_s32(acc, vmulq_s32(xv, wv));
          }
        }
        vstrwq_p_s32(acc_row + c, acc, live);
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), std::size_t(channels));
  }
}

}  // namespace statiq::kernels::arm::mve

#endif  // STATIQ_KERNELS_ARM_MVE
