// statiq/kernels/arm/neon/depthwise_conv2d.hpp — the AArch64 NEON depthwise convolution (any channel
// multiplier: output channel oc reads input channel oc / multiplier): 16 output channels a step
// (then 8, then one at a time), the window's taps inside the input found once per pixel, input
// bytes (spread over the output channels' lanes by TBL when the multiplier is above 1) and weights (stored tap_major, bytes or packed sub-byte) widened to int16 less their zero
// points (|x - zp| <= 255, |w - w_zp| small), each product added exactly into int32 lanes by SMLAL/SMLAL2. Depthwise is
// memory-bound; this is what the dot-product extension would not speed up (one product per channel).
// Equal to kernels/reference/conv2d.hpp bit for bit (tests/device/neon_kernels_test.cpp, qemu-aarch64).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Weights packed 8 / Bits to a byte, low bits first: the 8 fields of `bits` (8 * Bits bits) as int16
// lanes. Lanes 0-3 and 4-7 each take the 16-bit half holding their fields, shift their own field to
// the top and back down arithmetically (sign-extended from Bits bits).
template <int Bits>
inline int16x8_t widen_packed(std::uint32_t bits) {
  static_assert(Bits == 1 || Bits == 2 || Bits == 4);
  alignas(16) static constexpr std::int16_t up[8] = {16 - Bits,
                                                     16 - Bits - 1 * Bits % 16,
                                                     16 - Bits - 2 * Bits % 16,
                                                     16 - Bits - 3 * Bits % 16,
                                                     16 - Bits - 4 * Bits % 16,
                                                     16 - Bits - 5 * Bits % 16,
                                                     16 - Bits - 6 * Bits % 16,
                                                     16 - Bits - 7 * Bits % 16};
  const uint16x8_t halves = vcombine_u16(vdup_n_u16(static_cast<std::uint16_t>(bits)),
                                         vdup_n_u16(static_cast<std::uint16_t>(bits >> (4 * Bits / 16 * 16))));
  return vshrq_n_s16(vshlq_s16(vreinterpretq_s16_u16(halves), vld1q_s16(up)), 16 - Bits);
}

// The 8 weights of tap_major elements index .. index + 7 (index a multiple of 8), as int16.
template <int Bits>
inline int16x8_t load_weights8(const std::uint8_t* w, std::size_t index) {
  if constexpr (Bits == 8) {
    return vmovl_s8(vld1_s8(reinterpret_cast<const std::int8_t*>(w + index)));
  } else {
    std::uint32_t bits = 0;
    std::memcpy(&bits, w + index * Bits / 8, Bits);  // 8 * Bits bits
    return widen_packed<Bits>(bits);
  }
}

// Channel multiplier m > 1: output channel c + i reads input channel (c + i) / m. The input channels
// a block of `lanes` output channels needs, first .. first + count - 1, and the TBL index that spreads
// them over the lanes (lane i takes byte (c + i) / m - first).
struct SpreadBytes {
  uint8x16_t index;
  int first;
  int count;
};
inline SpreadBytes spread_bytes(int c, int lanes, int multiplier) {
  alignas(16) std::uint8_t index[16] = {};
  const int first = c / multiplier;
  for (int i = 0; i < lanes; ++i) index[i] = static_cast<std::uint8_t>((c + i) / multiplier - first);
  return {vld1q_u8(index), first, (c + lanes - 1) / multiplier - first + 1};
}

// The spread bytes of the pixel whose channel 0 is at `pixel`: 16 bytes read at once where they lie
// inside the tensor (which ends at `end`), else only the `count` needed ones (the last pixels'
// channels may end the tensor), then TBL places them.
template <class X>
inline uint8x16_t load_spread(const X* pixel, const SpreadBytes& s, const X* end) {
  const X* p = pixel + s.first;
  if (end - p >= 16) return vqtbl1q_u8(vld1q_u8(reinterpret_cast<const std::uint8_t*>(p)), s.index);
  alignas(16) std::uint8_t bytes[16] = {};
  std::memcpy(bytes, p, std::size_t(s.count));
  return vqtbl1q_u8(vld1q_u8(bytes), s.index);
}

// Lanes 0-7 (high: 8-15) of 16 activation bytes as int16, less the zero point.
template <class X, bool High>
inline int16x8_t centred_half(uint8x16_t bytes, int16x8_t zero_point) {
  if constexpr (std::is_signed_v<X>) {
    const int8x16_t b = vreinterpretq_s8_u8(bytes);
    return vsubq_s16(High ? vmovl_high_s8(b) : vmovl_s8(vget_low_s8(b)), zero_point);
  } else {
    return vsubq_s16(vreinterpretq_s16_u16(High ? vmovl_high_u8(bytes) : vmovl_u8(vget_low_u8(bytes))), zero_point);
  }
}

// The weight of tap_major element index, as int.
template <int Bits>
inline std::int32_t weight_at(const std::uint8_t* w, std::size_t index) {
  if constexpr (Bits == 8) {
    return static_cast<std::int8_t>(w[index]);
  } else {
    const unsigned raw = (w[index * Bits / 8] >> (index % (8 / Bits) * Bits)) & ((1u << Bits) - 1u);
    return static_cast<std::int32_t>(raw ^ (1u << (Bits - 1))) - (1 << (Bits - 1));
  }
}
}  // namespace detail

namespace detail {
// depthwise_conv2d below; Spread: the channel multiplier is above 1 (activations spread by TBL).
template <int WeightBits, bool Spread, class X, class Epilogue>
void depthwise_rows(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the NEON depthwise convolution reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int channels = g.out.c, multiplier = g.out.c / g.in.c;
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  [[maybe_unused]] const X* const x_end = x + std::size_t(g.in.h) * in_w * in_c;
  const int16x8_t zp = vdupq_n_s16(static_cast<std::int16_t>(x_zero_point));
  const int16x8_t wzp = vdupq_n_s16(static_cast<std::int16_t>(w_zero_point));
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    // The kernel rows inside the input (the others fall on pads: they add nothing).
    int kh0 = 0, kh1 = g.kernel.h;
    while (kh0 < kh1 && ih0 + kh0 * g.dilations.h < 0) ++kh0;
    while (kh1 > kh0 && ih0 + (kh1 - 1) * g.dilations.h >= g.in.h) --kh1;
    for (int ow = 0; ow < g.out.w; ++ow) {
      const int iw0 = ow * g.strides.w - g.pads.left;
      int kw0 = 0, kw1 = g.kernel.w;
      while (kw0 < kw1 && iw0 + kw0 * g.dilations.w < 0) ++kw0;
      while (kw1 > kw0 && iw0 + (kw1 - 1) * g.dilations.w >= g.in.w) --kw1;
      std::int32_t* acc = scratch + std::size_t(ow) * std::size_t(channels);
      // The window's first tap inside the input, and the steps to the next tap and kernel row.
      const std::ptrdiff_t x_tap = std::ptrdiff_t(g.dilations.w) * std::ptrdiff_t(in_c);
      const std::ptrdiff_t x_row = std::ptrdiff_t(g.dilations.h) * std::ptrdiff_t(in_w * in_c);
      const bool inside = kh0 < kh1 && kw0 < kw1;  // else every tap falls on a pad: the bias alone
      const X* x0 = inside ? x + (std::ptrdiff_t(ih0 + kh0 * g.dilations.h) * std::ptrdiff_t(in_w) +
                                  std::ptrdiff_t(iw0 + kw0 * g.dilations.w)) * std::ptrdiff_t(in_c)
                           : x;
      const std::size_t w0 = std::size_t(kh0 * g.kernel.w + kw0) * rows;  // tap_major element index
      int c = 0;
      for (; c + 16 <= channels; c += 16) {
        int32x4_t a[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) a[i] = bias ? vld1q_s32(bias + c + 4 * i) : vdupq_n_s32(0);
        [[maybe_unused]] const SpreadBytes spread = Spread ? spread_bytes(c, 16, multiplier) : SpreadBytes{};
        for (int kh = kh0; kh < kh1; ++kh) {
          const X* xp = x0 + std::ptrdiff_t(kh - kh0) * x_row + (Spread ? 0 : c);
          std::size_t wi = w0 + std::size_t((kh - kh0) * g.kernel.w) * rows + std::size_t(c);
          for (int kw = kw0; kw < kw1; ++kw, xp += x_tap, wi += rows) {
            int16x8_t xl, xh;
            if constexpr (Spread) {
              const uint8x16_t bytes = load_spread(xp, spread, x_end);
              xl = centred_half<X, false>(bytes, zp), xh = centred_half<X, true>(bytes, zp);
            } else {
              xl = load_centred(xp, zp), xh = load_centred(xp + 8, zp);
            }
            int16x8_t wl, wh;
            if constexpr (WeightBits == 8) {
              const int8x16_t wb = vld1q_s8(reinterpret_cast<const std::int8_t*>(w + wi));
              wl = vsubq_s16(vmovl_s8(vget_low_s8(wb)), wzp);
              wh = vsubq_s16(vmovl_high_s8(wb), wzp);
            } else {
              wl = vsubq_s16(load_weights8<WeightBits>(w, wi), wzp);
              wh = vsubq_s16(load_weights8<WeightBits>(w, wi + 8), wzp);
            }
            a[0] = vmlal_s16(a[0], vget_low_s16(xl), vget_low_s16(wl));
            a[1] = vmlal_high_s16(a[1], xl, wl);
            a[2] = vmlal_s16(a[2], vget_low_s16(xh), vget_low_s16(wh));
            a[3] = vmlal_high_s16(a[3], xh, wh);
          }
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) vst1q_s32(acc + c + 4 * i, a[i]);
      }
      for (; c + 8 <= channels; c += 8) {
        int32x4_t a0 = bias ? vld1q_s32(bias + c) : vdupq_n_s32(0);
        int32x4_t a1 = bias ? vld1q_s32(bias + c + 4) : vdupq_n_s32(0);
        [[maybe_unused]] const SpreadBytes spread = Spread ? spread_bytes(c, 8, multiplier) : SpreadBytes{};
        for (int kh = kh0; kh < kh1; ++kh) {
          const X* xp = x0 + std::ptrdiff_t(kh - kh0) * x_row + (Spread ? 0 : c);
          std::size_t wi = w0 + std::size_t((kh - kh0) * g.kernel.w) * rows + std::size_t(c);
          for (int kw = kw0; kw < kw1; ++kw, xp += x_tap, wi += rows) {
            int16x8_t xv;
            if constexpr (Spread) xv = centred_half<X, false>(load_spread(xp, spread, x_end), zp);
            else xv = load_centred(xp, zp);
            const int16x8_t wv = vsubq_s16(load_weights8<WeightBits>(w, wi), wzp);
            a0 = vmlal_s16(a0, vget_low_s16(xv), vget_low_s16(wv));
            a1 = vmlal_high_s16(a1, xv, wv);
          }
        }
        vst1q_s32(acc + c, a0);
        vst1q_s32(acc + c + 4, a1);
      }
      for (; c < channels; ++c) {  // the last channels (fewer than 8) one at a time
        std::uint32_t a = bias ? std::uint32_t(bias[c]) : 0u;
        for (int kh = kh0; kh < kh1; ++kh) {
          const X* xp = x0 + std::ptrdiff_t(kh - kh0) * x_row + (Spread ? c / multiplier : c);
          std::size_t wi = w0 + std::size_t((kh - kh0) * g.kernel.w) * rows + std::size_t(c);
          for (int kw = kw0; kw < kw1; ++kw, xp += x_tap, wi += rows)
            a += std::uint32_t((std::int32_t(*xp) - x_zero_point) * (weight_at<WeightBits>(w, wi) - w_zero_point));
        }
        acc[c] = static_cast<std::int32_t>(a);
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), std::size_t(channels));
  }
}
}  // namespace detail

// Depthwise convolution (group == in.c, out.c = multiplier * in.c) over NHWC x, weights tap_major
// (rows = output channels, cols = kernel.h * kernel.w). WeightBits: 8, or 4/2/1 for weights packed
// 2/4/8 to a byte in the same order (widened in registers as they are read). Calls
// epilogue(first, count, acc, ld) as neon::conv2d does, once per output row.
template <int WeightBits = 8, class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  if (g.out.c == g.in.c)
    detail::depthwise_rows<WeightBits, false>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
  else
    detail::depthwise_rows<WeightBits, true>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
