// statiq/kernels/arm/neon/pooling.hpp — MaxPool (int8 / uint8 / int32 accumulators), AveragePool's
// window sums and GlobalAveragePool's sums on AArch64 NEON, channels in lanes (16 bytes or 4 int32 a
// vector, the last channels one at a time). The same contracts as kernels/reference/pooling.hpp, and
// equal to it bit for bit (tests/device/neon_kernels_test.cpp, under qemu-aarch64).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/pads.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/kernels/reference/pooling.hpp"

namespace statiq::kernels::arm::neon {

namespace detail {
// One vector of T: its lanes, load, store and lane-wise maximum.
template <class T>
struct lanes;
template <>
struct lanes<std::int8_t> {
  static constexpr int n = 16;
  static int8x16_t load(const std::int8_t* p) { return vld1q_s8(p); }
  static void store(std::int8_t* p, int8x16_t v) { vst1q_s8(p, v); }
  static int8x16_t max(int8x16_t a, int8x16_t b) { return vmaxq_s8(a, b); }
};
template <>
struct lanes<std::uint8_t> {
  static constexpr int n = 16;
  static uint8x16_t load(const std::uint8_t* p) { return vld1q_u8(p); }
  static void store(std::uint8_t* p, uint8x16_t v) { vst1q_u8(p, v); }
  static uint8x16_t max(uint8x16_t a, uint8x16_t b) { return vmaxq_u8(a, b); }
};
template <>
struct lanes<std::int32_t> {
  static constexpr int n = 4;
  static int32x4_t load(const std::int32_t* p) { return vld1q_s32(p); }
  static void store(std::int32_t* p, int32x4_t v) { vst1q_s32(p, v); }
  static int32x4_t max(int32x4_t a, int32x4_t b) { return vmaxq_s32(a, b); }
};

// 8 activations at x less the zero point, as int16 (|x - zp| <= 255).
template <class X>
inline int16x8_t centred8(const X* x, int16x8_t zero_point) {
  if constexpr (std::is_signed_v<X>)
    return vsubq_s16(vmovl_s8(vld1_s8(reinterpret_cast<const std::int8_t*>(x))), zero_point);
  else
    return vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(reinterpret_cast<const std::uint8_t*>(x)))), zero_point);
}
}  // namespace detail

// y = the maximum of x over each window (padded positions never win); T: int8, uint8 or int32.
template <class T>
void max_pool(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const T* x, T* y) {
  using L = detail::lanes<T>;
  const int channels = in.c;
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      T* dst = y + reference::detail::pixel_offset(oh, ow, out.w, std::size_t(channels));
      const T* first = x + reference::detail::pixel_offset(rows.begin, cols.begin, in.w, std::size_t(channels));
      int c = 0;
      for (; c + L::n <= channels; c += L::n) {
        auto m = L::load(first + c);
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            m = L::max(m, L::load(x + reference::detail::pixel_offset(ih, iw, in.w, std::size_t(channels)) + c));
        L::store(dst + c, m);
      }
      for (; c < channels; ++c) {
        T m = first[c];
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw) {
            const T v = x[reference::detail::pixel_offset(ih, iw, in.w, std::size_t(channels)) + std::size_t(c)];
            m = v > m ? v : m;
          }
        dst[c] = m;
      }
    }
  }
}

// sum[oh][ow][c] = sum over the window's positions inside the input of (x - zero_point); X a byte.
template <class X>
void window_sum(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X* x, std::int32_t zero_point,
                std::int32_t* sum) {
  const int channels = in.c;
  const int16x8_t zp = vdupq_n_s16(static_cast<std::int16_t>(zero_point));
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      std::int32_t* dst = sum + reference::detail::pixel_offset(oh, ow, out.w, std::size_t(channels));
      int c = 0;
      for (; c + 8 <= channels; c += 8) {
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw) {
            const int16x8_t v =
                detail::centred8(x + reference::detail::pixel_offset(ih, iw, in.w, std::size_t(channels)) + c, zp);
            lo = vaddw_s16(lo, vget_low_s16(v));
            hi = vaddw_high_s16(hi, v);
          }
        vst1q_s32(dst + c, lo);
        vst1q_s32(dst + c + 4, hi);
      }
      for (; c < channels; ++c) {
        std::int32_t s = 0;
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            s += std::int32_t(x[reference::detail::pixel_offset(ih, iw, in.w, std::size_t(channels)) + std::size_t(c)]) -
                 zero_point;
        dst[c] = s;
      }
    }
  }
}

// sum[c] = sum over all pixels of (x - zero_point); X a byte.
template <class X>
void global_sum(Shape in, const X* x, std::int32_t zero_point, std::int32_t* sum) {
  const int channels = in.c;
  const std::size_t pixels = std::size_t(in.h) * std::size_t(in.w), ld = std::size_t(channels);
  const int16x8_t zp = vdupq_n_s16(static_cast<std::int16_t>(zero_point));
  int c = 0;
  for (; c + 8 <= channels; c += 8) {
    int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
    for (std::size_t p = 0; p < pixels; ++p) {
      const int16x8_t v = detail::centred8(x + p * ld + std::size_t(c), zp);
      lo = vaddw_s16(lo, vget_low_s16(v));
      hi = vaddw_high_s16(hi, v);
    }
    vst1q_s32(sum + c, lo);
    vst1q_s32(sum + c + 4, hi);
  }
  for (; c < channels; ++c) {
    std::int32_t s = 0;
    for (std::size_t p = 0; p < pixels; ++p) s += std::int32_t(x[p * ld + std::size_t(c)]) - zero_point;
    sum[c] = s;
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
