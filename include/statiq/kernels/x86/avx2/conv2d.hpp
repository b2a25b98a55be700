// statiq/kernels/x86/avx2/conv2d.hpp — the AVX2 convolution (group 1; Dense is its 1x1 case) for
// x86 without AVX-512 VNNI (Haswell and later). It reads the same oc16_k4 weights as the VNNI
// kernel (the layout depends on the geometry only, so one generated data file serves every build).
// AVX2 has no u8 x s8 dot product that is exact for every byte: vpmaddubsw saturates its int16 pair
// sums (255 * 127 * 2 > 32767). So the weights are widened to int16 (a chunk of the reduction at a
// time, then read by every pixel of a block) and multiplied by x - x_zero_point in int16 (in
// [-255, 255]: x + flip and x_zero_point + flip are both bytes) with vpmaddwd, whose int32 pair sums
// are exact (2 * 255 * 128 < 2^31). The input zero point costs one vpsubw, and no weight sums are
// needed (the VNNI kernel folds x_zero_point * sum(w) into its constants). Equal to
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
#include "statiq/kernels/padded_input.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::x86::avx2 {

// Output pixels computed together (the weights of a chunk of the reduction, widened, stay in L1
// while every pixel of the block passes, 3 at a time) and the chunk: conv_k_chunk groups of 4
// reduction elements x 16 channels as int16 = 8 KiB.
inline constexpr int conv_pixel_block = 48;
inline constexpr int conv_k_chunk = 64;
inline constexpr int conv_tile_pixels = 3;  // 3 pixels x 4 accumulators of 4 channels: 12 of 16 ymm

constexpr int conv_block_pixels(const reference::Conv2DGeometry& g) {
  const int pixels = g.out.h * g.out.w;
  return pixels < conv_pixel_block ? pixels : conv_pixel_block;
}

// As the VNNI kernel: an unsigned, unpadded input whose segments hold whole 4-byte groups is read in
// place; any other is copied once per call, padded with its zero point, int8 flipped to uint8 (x +
// 128, so every input byte zero-extends), with slack for a segment's last 4-byte group.
constexpr bool conv2d_reads_input_in_place(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  return !signed_input && g.pads.top == 0 && g.pads.left == 0 && g.pads.bottom == 0 && g.pads.right == 0 &&
         w.segment_cols() % 4 == 0;
}
constexpr std::size_t conv2d_padded_input_bytes(const reference::Conv2DGeometry& g) {
  return std::size_t(g.in.h + g.pads.top + g.pads.bottom) * std::size_t(g.in.w + g.pads.left + g.pads.right) *
             std::size_t(g.in.c) + 64;
}
// 4-byte groups the kernel widens at a time: as many whole segments as fit in conv_k_chunk (short
// segments, e.g. a grouped convolution's taps, then share one pass of the accumulators), or a
// segment conv_k_chunk groups at a time.
constexpr int conv2d_chunk_groups(const WeightLayout& w) {
  const int k4 = int(w.padded_segment() / 4), segments = int(w.segments());
  if (k4 == 0 || k4 >= conv_k_chunk) return k4 == 0 ? 0 : conv_k_chunk;
  const int per = conv_k_chunk / k4;
  return k4 * (segments < per ? segments : per);
}

// int32 words of scratch: the bias (padded to 16 channels), one row of accumulators per pixel of a
// block, the segments' input offsets, the widened weight chunk (16 channels x 4 int16 = 32 words a
// group), and the padded input copy.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  const std::size_t rows = w.padded_rows(), block = std::size_t(conv_block_pixels(g));
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return rows + block * rows + w.segments() + 32 * std::size_t(conv2d_chunk_groups(w)) + copy;
}

namespace detail {

inline std::int32_t load_u32(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bytes of one oc16_k4 vector (64 weights) stored Bits wide (packed 8 / Bits to a byte, low bits first).
template <int Bits>
inline constexpr std::size_t vector_bytes = 64 * std::size_t(Bits) / 8;

// `groups` oc16_k4 vectors from w as int16: dst[64 g + 16 q + 4 c + k] = weight of channel 4 q + c,
// reduction element k of group g (the order of the bytes, widened).
template <int Bits>
inline void widen_weights(const std::uint8_t* w, int groups, std::int16_t* dst) {
  if constexpr (Bits == 8) {
    for (int i = 0; i < groups * 4; ++i)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 16 * i),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16 * i))));
  } else if constexpr (Bits == 4) {
    // 16 bytes hold 32 weights: the low nibble of byte i is weight 2i, the high one 2i + 1;
    // interleaved back in order, then sign-extended from 4 bits ((v ^ 8) - 8).
    const __m128i low4 = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (int i = 0; i < groups * 2; ++i) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16 * i));
      const __m128i lo = _mm_and_si128(b, low4), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low4);
      const __m128i first = _mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), eight), eight);
      const __m128i second = _mm_sub_epi8(_mm_xor_si128(_mm_unpackhi_epi8(lo, hi), eight), eight);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32 * i), _mm256_cvtepi8_epi16(first));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32 * i + 16), _mm256_cvtepi8_epi16(second));
    }
  } else {
    // 2 and 1 bits: rare (and small) layers; field i at bit i * Bits, sign-extended.
    constexpr int mask = (1 << Bits) - 1, half = 1 << (Bits - 1);
    for (int i = 0; i < groups * 64; ++i) {
      const int v = (w[std::size_t(i) * Bits / 8] >> (i * Bits % 8)) & mask;
      dst[i] = static_cast<std::int16_t>((v ^ half) - half);
    }
  }
}

// Four int32 values as the split accumulator of 4 channels (value in the even int32 lane of its
// pair, 0 in the odd one), and two split accumulators (8 channels) summed back to 8 int32 in order:
// vphaddd pairs within 128-bit lanes give channels [0 1 4 5 | 2 3 6 7], vpermq puts them in order.
inline __m256i split(const std::int32_t* v) {
  return _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v)));
}
inline __m256i join(__m256i a, __m256i b) { return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xd8); }

// acc[p][0..15] = start + sum over segments j < nseg and k < kn of (pixel[p][offset[j] + first + 4k
// .. +3] - zp) . wide[group j * kn + k][16 channels], where start is what `out` holds when
// accumulate is set, else base[0..15]. vpmaddwd of 4 channels x 4 reduction elements (int16) by the
// 4 input bytes (zero-extended, minus zp, repeated) leaves each channel's sum in two int32 lanes,
// added together at the end. Stores the P pixels' rows.
template <int P>
inline void dot_tile(const std::uint8_t* const* pixel, const std::int32_t* offset, int nseg, std::size_t first, int kn,
                     const std::int16_t* wide, __m256i zp, std::int32_t* out, std::size_t ld, bool accumulate,
                     const std::int32_t* base) {
  __m256i acc[P][4];
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      acc[p][q] = split(accumulate ? out + std::size_t(p) * ld + std::size_t(4 * q) : base + 4 * q);
  // Bytes 0..3 of each 128-bit lane to int16 lanes x0 x1 x2 x3 x0 x1 x2 x3 (index -128: a zero byte).
  const __m256i spread = _mm256_setr_epi8(0, -128, 1, -128, 2, -128, 3, -128, 0, -128, 1, -128, 2, -128, 3, -128,
                                          0, -128, 1, -128, 2, -128, 3, -128, 0, -128, 1, -128, 2, -128, 3, -128);
  for (int j = 0; j < nseg; ++j) {
    const std::size_t at = std::size_t(offset[j]) + first;
    for (int k = 0; k < kn; ++k, wide += 64) {
#pragma GCC unroll 4
      for (int p = 0; p < P; ++p) {
        const __m256i xb =
            _mm256_sub_epi16(_mm256_shuffle_epi8(_mm256_set1_epi32(load_u32(pixel[p] + at + 4 * k)), spread), zp);
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q)
          acc[p][q] = _mm256_add_epi32(
              acc[p][q], _mm256_madd_epi16(xb, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wide + 16 * q))));
      }
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p) {
    std::int32_t* o = out + std::size_t(p) * ld;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), join(acc[p][0], acc[p][1]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8), join(acc[p][2], acc[p][3]));
  }
}

// Input bytes as the kernel reads them (unsigned): int8 activations are flipped to x + 128.
template <class X>
inline constexpr std::uint8_t input_offset = std::is_signed_v<X> ? 128 : 0;

// The input copied with its pads (the zero point, so they add nothing) and int8 flipped to uint8.
template <class X>
inline void pad_input(const reference::Conv2DGeometry& g, const X* x, std::uint8_t pad, std::uint8_t* dst) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(input_offset<X>));
  copy_padded_input(g, reinterpret_cast<const std::uint8_t*>(x), pad, 64, dst,
                    [&](std::uint8_t* d, const std::uint8_t* s, std::size_t n) {
                      std::size_t i = 0;
                      for (; i + 32 <= n; i += 32)
                        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                                            _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)), flip));
                      for (; i < n; ++i) d[i] = static_cast<std::uint8_t>(s[i] ^ input_offset<X>);
                    });
}

// The accumulators of np pixels (rows ld apart in tile) for `blocks` blocks of 16 channels of the
// weights w (block_stride bytes apart): each block starts from base, then per chunk of the reduction
// (conv2d_chunk_groups: whole segments, or part of one) its weights are widened into `wide` and
// every pixel passes, in tiles of 3, then of 2 or 1 (no pixel computed twice).
template <int Bits>
inline void dot_all_blocks(const std::uint8_t* const* pixel, int np, const std::int32_t* offset, int segments, int k4,
                           int chunk, const std::uint8_t* w, int blocks, std::size_t block_stride, std::int16_t* wide,
                           __m256i zp, std::int32_t* tile, std::size_t ld, const std::int32_t* base) {
  constexpr int P = conv_tile_pixels;
  const int per = k4 < chunk ? chunk / k4 : 1;  // segments a chunk
  for (int b = 0; b < blocks; ++b) {
    const std::uint8_t* wb = w + std::size_t(b) * block_stride;
    std::int32_t* tb = tile + std::size_t(b) * 16;
    const std::int32_t* bb = base + std::size_t(b) * 16;
    for (int s = 0; s < segments; s += per) {
      const int ns = segments - s < per ? segments - s : per;
      for (int k0 = 0; k0 < k4; k0 += chunk) {  // (one pass when per > 1: k4 <= chunk)
        const int kn = k4 - k0 < chunk ? k4 - k0 : chunk;
        widen_weights<Bits>(wb + (std::size_t(s) * std::size_t(k4) + std::size_t(k0)) * vector_bytes<Bits>, ns * kn,
                            wide);
        const std::size_t first = 4 * std::size_t(k0);
        const bool accumulate = s > 0 || k0 > 0;
        int sub = 0;
        for (; sub + P <= np; sub += P)
          dot_tile<P>(pixel + sub, offset + s, ns, first, kn, wide, zp, tb + std::size_t(sub) * ld, ld, accumulate, bb);
        if (np - sub == 2)
          dot_tile<2>(pixel + sub, offset + s, ns, first, kn, wide, zp, tb + std::size_t(sub) * ld, ld, accumulate, bb);
        else if (np - sub == 1)
          dot_tile<1>(pixel + sub, offset + s, ns, first, kn, wide, zp, tb + std::size_t(sub) * ld, ld, accumulate, bb);
      }
    }
  }
}


}  // namespace detail

// The convolution of g (group == 1) over NHWC x, weights w stored as `layout` (oc16_k4), with the
// contract of x86::conv2d (kernels/x86/conv2d.hpp): epilogue(first, count, acc, ld) once per block
// of pixels, acc[p * ld + oc] = bias[oc] + sum (x - x_zero_point) * (w - w_zero_point).
template <int WeightBits = 8, class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias, std::int32_t* scratch,
            Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the AVX2 convolution reads byte activations");
  const std::size_t rows = layout.padded_rows(), cols = layout.padded_cols();
  const int segments = int(layout.segments());
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(rows / 16);
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const int block = conv_block_pixels(g);
  const int chunk = conv2d_chunk_groups(layout);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* offset = tile + std::size_t(block) * rows;
  auto* wide = reinterpret_cast<std::int16_t*>(offset + segments);

  // The kernel reads x + flip as unsigned bytes and subtracts shift = x_zero_point + flip in int16
  // (pads hold shift, so they add nothing): the accumulators start at the bias.
  const std::int32_t shift = x_zero_point + detail::input_offset<X>;
  const __m256i zp = _mm256_set1_epi16(static_cast<std::int16_t>(shift));
  for (std::size_t oc = 0; oc < rows; ++oc) base[oc] = bias && oc < std::size_t(g.out.c) ? bias[oc] : 0;

  // The input the segments are read from, and where each segment starts relative to a pixel's window.
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
    detail::dot_all_blocks<WeightBits>(pixel, np, offset, segments, k4, chunk, w, blocks, block_stride, wide, zp, tile,
                                       rows, base);
    if (w_zero_point != 0)
      subtract_weight_zero_point_term(pixel, np, offset, segments, layout.segment_cols(), shift, w_zero_point,
                                              tile, rows, rows);
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), rows);
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
