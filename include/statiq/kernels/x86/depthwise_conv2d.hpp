// statiq/kernels/x86/depthwise_conv2d.hpp — the AVX-512 depthwise convolution (any channel
// multiplier: output channel oc reads input channel oc / multiplier): 16 output channels a vector,
// the kernel's taps (weights stored tap_major, bytes or packed sub-byte) held across a row of output
// pixels, int32 products (exact); the accumulators of each pixel handed to an epilogue.
// Equal to kernels/reference/conv2d.hpp bit for bit (tests/kernels/fast_kernels_test.cpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::x86 {

// The largest kernel (taps) whose weight vectors the kernel keeps at hand.
inline constexpr int depthwise_max_taps = 64;

// int32 words of scratch: one row of output pixels' accumulators.
constexpr std::size_t depthwise_conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  return std::size_t(g.out.w) * w.padded_rows();
}

namespace detail {
// The 16 weights of one tap_major vector (output channels c .. c + 15 of a tap; `index` = tap *
// padded rows + c, a multiple of 16) as int32 lanes. Packed ones (Bits < 8, 8 / Bits to a byte, low
// bits first) are 16 * Bits bits: lane i takes the 32-bit word holding its field (a permute), shifts
// the field to the top and back down arithmetically (sign-extended from Bits bits).
template <int Bits>
inline __m512i load_depthwise_weights(const std::uint8_t* w, std::size_t index) {
  constexpr __mmask16 all = 0xffff;  // masked forms: GCC 12 warns (-Wmaybe-uninitialized) on the unmasked ones
  if constexpr (Bits == 8) {
    return _mm512_maskz_cvtepi8_epi32(all, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + index)));
  } else {
    std::uint64_t packed = 0;
    std::memcpy(&packed, w + index * Bits / 8, 16 * Bits / 8);
    alignas(64) std::int32_t word[16], up[16];
    for (int i = 0; i < 16; ++i) {
      word[i] = i * Bits / 32;
      up[i] = 32 - Bits - i * Bits % 32;
    }
    const __m512i v = _mm512_maskz_permutexvar_epi32(
        all, _mm512_load_si512(word), _mm512_zextsi128_si512(_mm_cvtsi64_si128(static_cast<long long>(packed))));
    return _mm512_maskz_srai_epi32(all, _mm512_maskz_sllv_epi32(all, v, _mm512_load_si512(up)), 32 - Bits);
  }
}
}  // namespace detail

// Depthwise convolution (group == in.c, out.c = multiplier * in.c) over NHWC x, weights tap_major
// (rows = output channels, cols = kernel.h * kernel.w). WeightBits: 8, or 4/2/1 for weights packed
// 2/4/8 to a byte in the same order (widened in registers as they are read). Calls
// epilogue(first, count, acc, ld) as x86::conv2d does, once per output row.
template <int WeightBits = 8, class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias,
                      std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the depthwise kernel reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int taps = g.kernel.h * g.kernel.w;
  const int channels = g.out.c;
  const int multiplier = g.out.c / g.in.c;
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  const __m512i zp = _mm512_set1_epi32(x_zero_point);
  const __m512i wzp = _mm512_set1_epi32(w_zero_point);
  // The masked forms with every lane set: GCC 12 warns (-Wmaybe-uninitialized) on the unmasked ones.
  constexpr __mmask16 all = 0xffff;
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    for (int c0 = 0; c0 < channels; c0 += 16) {
      const int valid = channels - c0 < 16 ? channels - c0 : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
      // The input channels of these output channels: from `first`, byte i of the vector is input
      // channel (c0 + i) / multiplier, `reads` bytes in all (a byte shuffle spreads them).
      const int first = c0 / multiplier;
      const int last = (c0 + valid - 1) / multiplier;
      const __mmask16 read = static_cast<__mmask16>((1u << (last - first + 1)) - 1u);
      alignas(16) std::int8_t spread_index[16];
      for (int i = 0; i < 16; ++i) spread_index[i] = static_cast<std::int8_t>(i < valid ? (c0 + i) / multiplier - first : 0);
      const __m128i spread = _mm_load_si128(reinterpret_cast<const __m128i*>(spread_index));
      __m512i wv[depthwise_max_taps];
      for (int t = 0; t < taps; ++t)
        wv[t] = _mm512_sub_epi32(detail::load_depthwise_weights<WeightBits>(w, std::size_t(t) * rows + std::size_t(c0)), wzp);
      const __m512i bv = bias ? _mm512_maskz_loadu_epi32(m, bias + c0) : _mm512_setzero_si512();
      for (int ow = 0; ow < g.out.w; ++ow) {
        const int iw0 = ow * g.strides.w - g.pads.left;
        __m512i acc = bv;
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          const X* row = x + std::size_t(ih) * in_w * in_c + std::size_t(first);
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            __m128i bytes = _mm_maskz_loadu_epi8(read, row + std::size_t(iw) * in_c);
            if (multiplier > 1) bytes = _mm_shuffle_epi8(bytes, spread);
            __m512i xv;
            if constexpr (std::is_signed_v<X>) xv = _mm512_maskz_cvtepi8_epi32(all, bytes);
            else xv = _mm512_maskz_cvtepu8_epi32(all, bytes);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(_mm512_sub_epi32(xv, zp), wv[kh * g.kernel.w + kw]));
          }
        }
        _mm512_storeu_si512(scratch + std::size_t(ow) * rows + std::size_t(c0), acc);
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), rows);
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
