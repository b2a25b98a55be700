// statiq/kernels/x86/avx2/depthwise_conv2d.hpp — the AVX2 depthwise convolution (any channel
// multiplier: output channel oc reads input channel oc / multiplier), the AVX-512 kernel's scheme
// (kernels/x86/depthwise_conv2d.hpp) 8 output channels a vector: the taps' weights (stored
// tap_major, bytes or packed sub-byte) held across a row of output pixels, int32 products (exact);
// each output row's accumulators handed to an epilogue. Equal to kernels/reference/conv2d.hpp bit for bit
// (tests/kernels/fast_kernels_test.cpp, kernels_fast_avx2_test).
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

namespace statiq::kernels::x86::avx2 {

// The largest kernel (taps) whose weight vectors the kernel keeps at hand.
inline constexpr int depthwise_max_taps = 64;

// int32 words of scratch: one row of output pixels' accumulators.
constexpr std::size_t depthwise_conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  return std::size_t(g.out.w) * w.padded_rows();
}

namespace detail {
// The 8 weights of one tap_major vector (output channels c .. c + 7 of a tap; `index` = tap *
// padded rows + c, a multiple of 8) as int32 lanes. Packed ones (Bits < 8, 8 / Bits to a byte, low
// bits first) are 8 * Bits bits, at most one 32-bit word: every lane takes it, shifts its own field
// to the top and back down arithmetically (sign-extended from Bits bits).
template <int Bits>
inline __m256i load_depthwise_weights(const std::uint8_t* w, std::size_t index) {
  if constexpr (Bits == 8) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + index)));
  } else {
    std::uint32_t packed = 0;
    std::memcpy(&packed, w + index * Bits / 8, Bits);  // 8 * Bits bits
    const __m256i up = _mm256_setr_epi32(32 - Bits, 32 - 2 * Bits, 32 - 3 * Bits, 32 - 4 * Bits, 32 - 5 * Bits,
                                         32 - 6 * Bits, 32 - 7 * Bits, 32 - 8 * Bits);
    return _mm256_srai_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(static_cast<int>(packed)), up), 32 - Bits);
  }
}
}  // namespace detail

// Depthwise convolution (group == in.c, out.c = multiplier * in.c) over NHWC x, weights tap_major
// (rows = output channels, padded to 16, cols = kernel.h * kernel.w). WeightBits: 8, or 4/2/1 for
// weights packed 2/4/8 to a byte in the same order (widened in registers as they are read). Calls
// epilogue(first, count, acc, ld) once per output row.
template <int WeightBits = 8, class X, class Epilogue>
void depthwise_conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point,
                      const WeightLayout& layout, const std::uint8_t* w, std::int32_t w_zero_point,
                      const std::int32_t* bias, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the depthwise kernel reads byte activations");
  const std::size_t rows = layout.padded_rows();
  const int taps = g.kernel.h * g.kernel.w;
  const int channels = g.out.c;
  const int multiplier = g.out.c / g.in.c;
  const std::size_t in_c = std::size_t(g.in.c), in_w = std::size_t(g.in.w);
  const __m256i zp = _mm256_set1_epi32(x_zero_point);
  const __m256i wzp = _mm256_set1_epi32(w_zero_point);
  // Where each tap reads, relative to a window's first input pixel, and the output columns whose
  // window lies inside the input (there no tap is tested, and x_zero_point * sum(w) is folded into
  // the starting value: one multiply and one add a tap).
  int tap_offset[depthwise_max_taps];
  for (int t = 0; t < taps; ++t)
    tap_offset[t] = ((t / g.kernel.w) * g.dilations.h * g.in.w + (t % g.kernel.w) * g.dilations.w) * g.in.c;
  const int span_h = (g.kernel.h - 1) * g.dilations.h + 1, span_w = (g.kernel.w - 1) * g.dilations.w + 1;
  int inner_first = 0;
  while (inner_first < g.out.w && inner_first * g.strides.w - g.pads.left < 0) ++inner_first;
  int inner_end = inner_first;
  while (inner_end < g.out.w && inner_end * g.strides.w - g.pads.left + span_w <= g.in.w) ++inner_end;
  for (int oh = 0; oh < g.out.h; ++oh) {
    const int ih0 = oh * g.strides.h - g.pads.top;
    const bool rows_inside = ih0 >= 0 && ih0 + span_h <= g.in.h;
    for (int c0 = 0; c0 < channels; c0 += 8) {
      const int valid = channels - c0 < 8 ? channels - c0 : 8;
      // The input channels of these output channels: from `first`, `reads` bytes; byte i of the
      // vector is input channel (c0 + i) / multiplier (a byte shuffle spreads them).
      const int first = c0 / multiplier;
      const std::size_t reads = std::size_t((c0 + valid - 1) / multiplier - first + 1);
      const bool direct = reads == 8;  // multiplier 1, 8 whole channels: one 8-byte load
      // (Only with a multiplier: these divisions cost more than a short row's whole work.)
      alignas(16) std::int8_t spread_index[16] = {};
      if (multiplier > 1)
        for (int i = 0; i < valid; ++i) spread_index[i] = static_cast<std::int8_t>((c0 + i) / multiplier - first);
      else
        for (int i = 0; i < valid; ++i) spread_index[i] = static_cast<std::int8_t>(i);
      const __m128i spread = _mm_load_si128(reinterpret_cast<const __m128i*>(spread_index));
      __m256i wv[depthwise_max_taps];
      for (int t = 0; t < taps; ++t)
        wv[t] = _mm256_sub_epi32(detail::load_depthwise_weights<WeightBits>(w, std::size_t(t) * rows + std::size_t(c0)), wzp);
      alignas(32) std::int32_t bias_lanes[8] = {};
      if (bias)
        for (int i = 0; i < valid; ++i) bias_lanes[i] = bias[c0 + i];
      const __m256i bv = _mm256_load_si256(reinterpret_cast<const __m256i*>(bias_lanes));
      if (direct && rows_inside && inner_first < inner_end) {
        // bias - x_zero_point * sum_t (w_t - w_zero_point), then sum_t x * (w_t - w_zero_point).
        __m256i folded = bv;
        for (int t = 0; t < taps; ++t) folded = _mm256_sub_epi32(folded, _mm256_mullo_epi32(zp, wv[t]));
        const X* window = x + (std::size_t(ih0) * in_w + std::size_t(inner_first * g.strides.w - g.pads.left)) * in_c +
                          std::size_t(first);
        const std::size_t step = std::size_t(g.strides.w) * in_c;
        for (int ow = inner_first; ow < inner_end; ++ow, window += step) {
          __m256i acc = folded;
          for (int t = 0; t < taps; ++t) {
            const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(window + tap_offset[t]));
            const __m256i xv = std::is_signed_v<X> ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(xv, wv[t]));
          }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(scratch + std::size_t(ow) * rows + std::size_t(c0)), acc);
        }
      }
      const bool fast = direct && rows_inside;
      for (int ow = 0; ow < g.out.w; ++ow) {
        if (fast && ow == inner_first && inner_first < inner_end) ow = inner_end;  // done above
        if (ow >= g.out.w) break;
        const int iw0 = ow * g.strides.w - g.pads.left;
        __m256i acc = bv;
        for (int kh = 0; kh < g.kernel.h; ++kh) {
          const int ih = ih0 + kh * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          const X* row = x + std::size_t(ih) * in_w * in_c + std::size_t(first);
          for (int kw = 0; kw < g.kernel.w; ++kw) {
            const int iw = iw0 + kw * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const X* src = row + std::size_t(iw) * in_c;
            __m128i bytes;
            if (direct) {
              bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src));
            } else {
              // Fewer than 8 bytes may remain in the tensor: copy just those, then spread.
              std::int64_t part = 0;
              std::memcpy(&part, src, reads);
              bytes = _mm_shuffle_epi8(_mm_cvtsi64_si128(part), spread);
            }
            __m256i xv;
            if constexpr (std::is_signed_v<X>) xv = _mm256_cvtepi8_epi32(bytes);
            else xv = _mm256_cvtepu8_epi32(bytes);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_sub_epi32(xv, zp), wv[kh * g.kernel.w + kw]));
          }
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(scratch + std::size_t(ow) * rows + std::size_t(c0)), acc);
      }
    }
    epilogue(oh * g.out.w, g.out.w, static_cast<const std::int32_t*>(scratch), rows);
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
