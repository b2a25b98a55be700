// tests/device/neon_kernels_test.cpp — the AArch64 NEON kernels (kernels/arm/neon) against the reference
// kernels and the scalar arithmetic, bit for bit, under qemu-aarch64 (device/ builds it twice for the
// aarch64-linux toolchain: -march=armv8-a, plain NEON, and -march=armv8.2-a+dotprod, SDOT; label
// device). Random geometries (kernels 1..7, strides, dilations, asymmetric pads, channel counts that
// are not multiples of 4 or 16, 1x1 outputs), operands over the whole range or pinned to the extremes
// (the largest accumulators), both input signs, w_zero_point 0 or not: first the accumulators (8-bit
// weights, and 1/2/4-bit weights packed in oc16_k4), then whole layers (kernel + fused pool +
// requantization) for every profile, Dense, and each profile's NEON requantization element by element
// against statiq/arith over the int32 range and the parameters' edges. The same kind of suite as
// tests/device/arm_kernels_test.cpp (no Catch2 for aarch64 here): a printed description of the first
// differences, exit status 0 only if all agree.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"

using namespace statiq;

#if !defined(STATIQ_KERNELS_ARM_NEON)
int main() {
  std::printf("neon kernels: not built (STATIQ_REFERENCE_KERNELS, or not AArch64 NEON): nothing compared\n");
  return 1;
}
#else
namespace {

constexpr std::size_t max_inputs = 6144, max_weights = 16384, max_outputs = 6144, max_scratch = 16384;
constexpr long max_macs = 400000;

std::int32_t x_values[max_inputs], w_values[max_weights], bias[256];
std::uint8_t x_bytes[max_inputs], w_fast[2 * max_weights + 4096], w_row_major[max_weights];
std::int32_t acc_fast[max_outputs], acc_reference[max_outputs];
std::int32_t scratch_fast[max_scratch], scratch_reference[max_scratch];
std::uint8_t y_fast[max_outputs], y_reference[max_outputs];
int x_zero_point = 0, w_zero_point = 0;
int failures = 0;

std::mt19937& rng() {
  static std::mt19937 g(20261206);
  return g;
}
int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng()); }
bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng()); }
int pick(std::initializer_list<int> v) { return *(v.begin() + uniform(0, int(v.size()) - 1)); }

void describe(const char* what, const ConvAttributes& a, bool signed_input) {
  std::printf("MISMATCH %s: in %dx%dx%d filters %d kernel %dx%d strides %dx%d dilations %dx%d pads %d,%d,%d,%d group %d "
              "%s x_zp %d w_zp %d\n",
              what, a.input.h, a.input.w, a.input.c, a.filters, a.kernel.h, a.kernel.w, a.strides.h, a.strides.w,
              a.dilations.h, a.dilations.w, a.pads.top, a.pads.left, a.pads.bottom, a.pads.right, a.group,
              signed_input ? "int8" : "uint8", x_zero_point, w_zero_point);
}

// A random convolution within the buffers: group 1 or depthwise.
ConvAttributes random_conv(bool depthwise) {
  for (;;) {
    ConvAttributes a;
    a.kernel = {uniform(1, 7), uniform(1, 7)};
    if (coin(0.2)) a.kernel = {1, 1};
    a.strides = {uniform(1, 2), uniform(1, 2)};
    a.dilations = coin(0.2) ? Dilation{uniform(1, 2), uniform(1, 2)} : Dilation{1, 1};
    const int eh = (a.kernel.h - 1) * a.dilations.h + 1, ew = (a.kernel.w - 1) * a.dilations.w + 1;
    a.pads = Pads{uniform(0, eh - 1), uniform(0, ew - 1), uniform(0, eh - 1), uniform(0, ew - 1)};
    const int h = std::max(1, uniform(1, 8) + (coin(0.3) ? 0 : eh - a.pads.top - a.pads.bottom));
    const int w = std::max(1, uniform(1, 8) + (coin(0.3) ? 0 : ew - a.pads.left - a.pads.right));
    const int c = pick({1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 65});
    a.input = {h, w, c};
    a.filters = depthwise ? c : pick({1, 3, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65});
    a.group = depthwise ? c : 1;
    if (conv_output_shape(a).h <= 0 || conv_output_shape(a).w <= 0) a.pads = Pads{eh - 1, ew - 1, eh - 1, ew - 1};
    const Shape out = conv_output_shape(a);
    const long macs = long(out.size()) * a.kernel.h * a.kernel.w * (c / a.group);
    const WeightLayout layout = weight_layout(a, true);
    if (std::size_t(a.input.size()) <= max_inputs && weight_count(a) <= max_weights &&
        layout.stored(weight_count(a)) <= sizeof w_fast && std::size_t(out.size()) <= max_outputs && macs <= max_macs &&
        scratch_words(a, row_major_layout) <= max_scratch && scratch_words(a, layout) <= max_scratch)
      return a;
  }
}

// Operands over the whole range, or pinned to the extremes (the largest accumulators).
void random_operands(std::size_t inputs, std::size_t weights, int channels, bool signed_input) {
  const int lo = signed_input ? -128 : 0, hi = signed_input ? 127 : 255;
  const int mode = uniform(0, 3);
  x_zero_point = mode == 1 ? hi : mode == 2 ? lo : uniform(lo, hi);
  for (std::size_t i = 0; i < inputs; ++i) {
    x_values[i] = mode == 1 ? lo : mode == 2 ? hi : uniform(lo, hi);
    x_bytes[i] = static_cast<std::uint8_t>(x_values[i] & 0xff);
  }
  for (std::size_t i = 0; i < weights; ++i)
    w_values[i] = mode == 1 ? 127 : mode == 2 ? -128 : mode == 3 && coin(0.3) ? 0 : uniform(-128, 127);
  for (int c = 0; c < channels; ++c) bias[c] = uniform(-(1 << 20), 1 << 20);
  w_zero_point = coin(0.15) ? uniform(-5, 5) : 0;
}


template <class X>
const X* input() {
  return reinterpret_cast<const X*>(x_bytes);
}

// w_values (Bits wide, logical order) placed in `layout` and packed 8 / Bits to a byte, low bits
// first, as the generator stores them.
template <int Bits>
void pack_weights(const WeightLayout& layout, std::size_t count, std::uint8_t* dst) {
  if constexpr (Bits == 8) {
    lay_out_weights(layout, w_values, count, dst);
  } else {
    static std::int32_t stored[2 * max_weights + 4096];
    const std::size_t n = layout.stored(count);
    std::fill_n(stored, n, 0);
    for (std::size_t i = 0; i < count; ++i) stored[layout.index(i)] = w_values[i];
    constexpr std::size_t per_byte = 8 / Bits;
    std::fill_n(dst, (n + per_byte - 1) / per_byte, 0);
    for (std::size_t i = 0; i < n; ++i)
      dst[i / per_byte] |= static_cast<std::uint8_t>((unsigned(stored[i]) & ((1u << Bits) - 1u)) << (i % per_byte * Bits));
  }
}

// The NEON kernel's accumulators for every output pixel, as its epilogue receives them, against the
// reference kernel's (which reads the logical weights).
template <int Bits, class X>
bool accumulators_agree(const ConvAttributes& a, kernels::ConvKernel k) {
  const auto g = conv_geometry(a);
  const WeightLayout layout = weight_layout(a, Bits == 8);
  pack_weights<Bits>(layout, weight_count(a), w_fast);
  const std::size_t n = std::size_t(g.out.size());
  std::fill_n(acc_fast, n, 0x7e7e7e7e);
  std::fill_n(scratch_fast, max_scratch, 0x5a5a5a5a);
  int delivered = 0;
  detail::run_conv_kernel<Bits>(k, g, input<X>(), x_zero_point, layout, w_fast, w_zero_point, bias, scratch_fast,
                                [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                  for (int p = 0; p < count; ++p)
                                    std::copy_n(rows + std::size_t(p) * ld, g.out.c,
                                                acc_fast + std::size_t(first + p) * std::size_t(g.out.c));
                                  delivered += count;
                                });
  kernels::reference::conv2d(g, x_values, x_zero_point, w_values, w_zero_point, bias, acc_reference);
  // The kernel stayed inside the scratch it declares (kernels/select.hpp): the words past it untouched.
  const std::size_t declared = kernels::conv_kernel_scratch_words(k, g, layout, std::is_signed_v<X>);
  const bool inside = declared + 64 <= max_scratch &&
                      std::all_of(scratch_fast + declared, scratch_fast + declared + 64, [](std::int32_t v) { return v == 0x5a5a5a5a; });
  if (!inside) std::printf("MISMATCH scratch: the kernel wrote past its %zu declared words\n", declared);
  return inside && delivered == g.out.h * g.out.w && std::equal(acc_fast, acc_fast + n, acc_reference);
}

// Random per-channel parameters and output parameters of each profile, ties and saturation in reach.
template <class P>
typename P::channel_params random_channel() {
  if constexpr (std::is_same_v<P, arith::qlinear>)
    return {coin(0.3) ? 1.0f / float(1 << uniform(1, 12)) : std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
  else if constexpr (arith::is_tflite_profile<P>)
    return {uniform(1 << 30, 0x7fffffff), uniform(-20, 1)};
  else if constexpr (std::is_same_v<P, arith::pow2>)
    return {static_cast<std::uint8_t>(uniform(1, 255)), uniform(8, 24)};
  else if constexpr (std::is_same_v<P, arith::gemmini>)
    return {std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
  else
    return {uniform(-1000, 1000), uniform(1, 50000)};
}
template <class P>
typename P::output_params random_output(bool s) {
  if constexpr (std::is_same_v<P, arith::qlinear>) {
    const int zp = s ? uniform(-20, 20) : uniform(0, 40);
    return {zp, coin() ? zp : (s ? -128 : 0), s ? 127 : 255};
  } else if constexpr (arith::is_tflite_profile<P>) {
    const int zp = s ? uniform(-128, 20) : uniform(0, 40);
    return {zp, s ? (coin() ? zp : -128) : 0, s ? 127 : 255};
  } else if constexpr (std::is_same_v<P, arith::pow2>) {
    return {s ? -128 : 0, s ? 127 : 255};
  } else if constexpr (std::is_same_v<P, arith::gemmini>) {
    return {coin() ? 0 : -128, 127};
  } else {
    return {0, 15};
  }
}

template <class P>
typename P::channel_params* channel_buffer() {
  static typename P::channel_params buffer[256];
  return buffer;
}

// The whole layer through the NEON kernel and through the reference path (the same weights row-major,
// which only the reference kernel takes).
template <class P, class X, class Y>
bool layer_agrees(const ConvAttributes& a) {
  const WeightLayout layout = weight_layout(a, true);
  lay_out_weights(layout, w_values, weight_count(a), w_fast);
  lay_out_weights(row_major_layout, w_values, weight_count(a), w_row_major);
  typename P::channel_params* ch = channel_buffer<P>();
  for (int c = 0; c < a.filters; ++c) ch[c] = random_channel<P>();
  const LayerData<P> d{bias, ch, random_output<P>(std::is_signed_v<Y>), x_zero_point, w_zero_point};
  const std::size_t n = std::size_t(output_shape(a).size());
  std::fill_n(y_fast, n, 0x55);
  std::fill_n(y_reference, n, 0x2a);
  compute<P>(a, input<X>(), weight_view<qint<8, true>>{w_fast, layout}, d, reinterpret_cast<Y*>(y_fast), scratch_fast);
  compute<P>(a, input<X>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d,
             reinterpret_cast<Y*>(y_reference), scratch_reference);
  return std::equal(y_fast, y_fast + n, y_reference);
}

template <class P>
int compare_profile(int iterations) {
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    ConvAttributes a = random_conv(coin(0.3));
    if (coin(0.3)) {
      // Fused pools: 2x2/2, 3x3/3, ResNet's overlapping 3x3/2 with a pixel of padding, global average.
      const Shape s = conv_output_shape(a);
      const int choice = uniform(0, 2);
      if (choice == 0 && s.h >= 2 && s.w >= 2) a.pool = max_pool(2, 2);
      if (choice == 1 && s.h >= 3 && s.w >= 3) a.pool = max_pool(3, 3);
      if (choice == 2 && s.h >= 2 && s.w >= 2) a.pool = max_pool(Kernel{3, 3}, Stride{2, 2}, Pads{1, 1, 1, 1});
      if (choice == 2 && coin(0.3) && s.h >= 2 && s.w >= 2) a.pool = global_average_pool;
    }
    const bool signed_input = coin();
    a.signed_input = signed_input;
    if (scratch_words(a, weight_layout(a, true)) > max_scratch || scratch_words(a, row_major_layout) > max_scratch) continue;
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const bool signed_output = std::is_same_v<P, arith::gemmini> || (!std::is_same_v<P, arith::akida_v1> && coin());
    bool ok;
    if (signed_input && signed_output) ok = layer_agrees<P, std::int8_t, std::int8_t>(a);
    else if (signed_input) ok = layer_agrees<P, std::int8_t, std::uint8_t>(a);
    else if (signed_output) ok = layer_agrees<P, std::uint8_t, std::int8_t>(a);
    else ok = layer_agrees<P, std::uint8_t, std::uint8_t>(a);
    if (!ok) {
      describe(P::name, a, signed_input);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

template <class P>
int compare_dense(int iterations) {
  for (int iter = 0; iter < iterations; ++iter) {
    DenseAttributes a;
    a.input = {1, 1, pick({1, 3, 4, 15, 16, 63, 64, 65, 256, 257, 1000, 2048})};
    if (coin(0.3)) a.input = {uniform(1, 6), uniform(1, 6), uniform(1, 40)};
    a.units = pick({1, 2, 10, 15, 16, 17, 64, 100, 128});
    if (weight_count(a) > max_weights) a.units = int(max_weights / std::size_t(a.input.size()));
    const bool signed_input = coin();
    a.signed_input = signed_input;
    random_operands(std::size_t(a.input.size()), weight_count(a), a.units, signed_input);
    const WeightLayout layout = weight_layout(a, true);
    if (dense_kernel(a, layout) != kernels::ConvKernel::conv2d_neon) {
      std::printf("MISMATCH dense %d -> %d: not run by the NEON kernel\n", a.input.size(), a.units);
      ++failures;
      continue;
    }
    lay_out_weights(layout, w_values, weight_count(a), w_fast);
    lay_out_weights(row_major_layout, w_values, weight_count(a), w_row_major);
    typename P::channel_params* ch = channel_buffer<P>();
    for (int c = 0; c < a.units; ++c) ch[c] = random_channel<P>();
    const LayerData<P> d{bias, ch, random_output<P>(false), x_zero_point, w_zero_point};
    std::fill_n(y_fast, a.units, 1);
    std::fill_n(y_reference, a.units, 2);
    if (signed_input) {
      compute<P>(a, input<std::int8_t>(), weight_view<qint<8, true>>{w_fast, layout}, d, y_fast, scratch_fast);
      compute<P>(a, input<std::int8_t>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d, y_reference,
                 scratch_reference);
    } else {
      compute<P>(a, input<std::uint8_t>(), weight_view<qint<8, true>>{w_fast, layout}, d, y_fast, scratch_fast);
      compute<P>(a, input<std::uint8_t>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d, y_reference,
                 scratch_reference);
    }
    if (!std::equal(y_fast, y_fast + a.units, y_reference)) {
      std::printf("MISMATCH dense %d -> %d %s profile %s x_zp %d w_zp %d\n", a.input.size(), a.units,
                  signed_input ? "int8" : "uint8", P::name, x_zero_point, w_zero_point);
      ++failures;
    }
  }
  return iterations;
}

// Packed Bits-wide weights (oc16_k4, widened by TBL/USHL/SSHR) in the group-1 kernel: accumulators
// against the reference kernel, weights over the whole Bits range or pinned to its extremes.
template <int Bits>
int compare_packed(int iterations) {
  constexpr int wlo = -(1 << (Bits - 1)), whi = (1 << (Bits - 1)) - 1;
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    ConvAttributes a = random_conv(false);
    if (coin(0.2)) a = ConvAttributes{.input = {1, 1, pick({1, 5, 16, 64, 100, 257})}, .filters = pick({1, 10, 16, 17, 33})};
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const int mode = uniform(0, 2);
    for (std::size_t i = 0; i < weight_count(a); ++i) w_values[i] = mode == 0 ? wlo : mode == 1 ? whi : uniform(wlo, whi);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, false));
    if (k != kernels::ConvKernel::conv2d_neon) {
      describe("packed weights not run by the NEON kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<Bits, std::int8_t>(a, k) : accumulators_agree<Bits, std::uint8_t>(a, k);
    if (!ok) {
      std::printf("(%d-bit weights) ", Bits);
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

// An accumulator over the int32 range, its extremes, small values and ties' neighbourhoods.
std::int32_t random_accumulator() {
  const int kind = uniform(0, 7);
  return kind == 0   ? std::numeric_limits<std::int32_t>::min()
         : kind == 1 ? std::numeric_limits<std::int32_t>::max()
         : kind == 2 ? uniform(-3, 3)
         : kind == 3 ? uniform(-(1 << 16), 1 << 16)
                     : static_cast<std::int32_t>(rng()());
}

// One profile's NEON output stage against its scalar definition (arith::requantize_gemm where the
// layer is a GEMM), element by element, both output types; `channel` draws a channel's parameters.
// accumulator(ch) draws an accumulator for a channel; by default random_accumulator().
template <class P, class Channel, class Run, class Accumulator = std::int32_t (*)(const typename P::channel_params&)>
int compare_requantize(const char* what, int iterations, Channel&& channel, Run&& run, bool gemm = false,
                       Accumulator accumulator = [](const typename P::channel_params&) { return random_accumulator(); }) {
  constexpr int pixels = 3, channels = 37;
  std::int32_t acc[pixels * channels];
  typename P::channel_params ch[channels];
  std::int8_t y_signed[pixels * channels];
  std::uint8_t y_unsigned[pixels * channels];
  int compared = 0, shown = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    for (int c = 0; c < channels; ++c) ch[c] = channel();
    for (int i = 0; i < pixels * channels; ++i) acc[i] = accumulator(ch[i % channels]);
    const bool s = std::is_same_v<P, arith::gemmini> || (!std::is_same_v<P, arith::akida_v1> && coin());
    const typename P::output_params out = random_output<P>(s);
    if (s) run(acc, std::size_t(channels), pixels, channels, ch, out, y_signed);
    else run(acc, std::size_t(channels), pixels, channels, ch, out, y_unsigned);
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) {
        const int i = p * channels + c;
        std::int32_t want;
        if constexpr (arith::HasGemmRequantize<P>) want = gemm ? P::requantize_gemm(acc[i], ch[c], out) : P::requantize(acc[i], ch[c], out);
        else want = P::requantize(acc[i], ch[c], out);
        const std::int32_t got = s ? std::int32_t(y_signed[i]) : std::int32_t(y_unsigned[i]);
        ++compared;
        if (got != want) {
          if (shown++ < 10) std::printf("MISMATCH requantize %s: acc %ld channel %d: %ld, want %ld\n", what, long(acc[i]), c, long(got), long(want));
          ++failures;
        }
      }
  }
  return compared;
}

// TFLite multipliers from QuantizeMultiplier's range and its edges; shifts from -31 to 1, and left
// shifts past 31 (which wrap to 0) for the double-rounding stages.
template <class P>
typename P::channel_params tflite_channel(bool wide_left) {
  const int kind = uniform(0, 9);
  const std::int32_t m = kind == 0 ? 0 : kind == 1 ? 0x7fffffff : kind == 2 ? (1 << 30) : uniform(1 << 30, 0x7fffffff);
  const int shift = wide_left && coin(0.1) ? uniform(1, 33) : coin(0.1) ? uniform(-31, -25) : uniform(-20, 1);
  return {m, shift};
}

int compare_requantizations() {
  namespace neon = kernels::arm::neon;
  int n = 0;
  n += compare_requantize<arith::qlinear>(
      "qlinear", 200,
      [] {
        // Powers of two (ties in reach), ordinary scales, and large ones (saturation).
        const int kind = uniform(0, 2);
        return arith::qlinear::channel_params{kind == 0 ? 1.0f / float(1 << uniform(0, 20))
                                              : kind == 1 ? std::uniform_real_distribution<float>(1e-9f, 0.02f)(rng())
                                                          : std::uniform_real_distribution<float>(0.5f, 300.0f)(rng())};
      },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::qlinear::channel_params* ch,
         const arith::qlinear::output_params& out, auto* y) {
        neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(ch), out.zero_point, out.lo,
                                 out.hi, y);
      });
  n += compare_requantize<arith::gemmini>(
      "gemmini", 100,
      [] { return arith::gemmini::channel_params{coin() ? 1.0f / float(1 << uniform(0, 20)) : std::uniform_real_distribution<float>(1e-9f, 2.0f)(rng())}; },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::gemmini::channel_params* ch,
         const arith::gemmini::output_params& out, auto* y) {
        neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(ch), 0,
                                 std::max(out.lo, arith::gemmini::int8_min), std::min(out.hi, arith::gemmini::int8_max), y);
      });
  const auto tflite_run = [](neon::tflite_output_stage stage) {
    return [stage](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const auto* ch, const auto& out,
                   auto* y) {
      neon::requantize_tflite(stage, acc, ld, pixels, channels, reinterpret_cast<const std::int32_t*>(ch),
                              out.zero_point, out.lo, out.hi, y);
    };
  };
  n += compare_requantize<arith::tflite>("tflite (double rounding)", 300, [] { return tflite_channel<arith::tflite>(true); },
                                         tflite_run(neon::tflite_output_stage::gemmlowp));
  n += compare_requantize<arith::tflite_single_rounding>(
      "tflite_single_rounding", 200, [] { return tflite_channel<arith::tflite_single_rounding>(false); },
      tflite_run(neon::tflite_output_stage::single_rounding));
  n += compare_requantize<arith::tflite_x86>("tflite_x86 (ruy)", 200, [] { return tflite_channel<arith::tflite_x86>(true); },
                                             tflite_run(neon::tflite_output_stage::ruy), true);
  n += compare_requantize<arith::pow2>(
      "pow2", 200,
      [] { return arith::pow2::channel_params{static_cast<std::uint8_t>(uniform(0, 255)), coin(0.1) ? uniform(-8, 0) : uniform(1, 40)}; },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::pow2::channel_params* ch,
         const arith::pow2::output_params& out, auto* y) {
        arith::pow2::output_params o = out;
        const int kind = uniform(0, 2);  // no clip, a ReLU-style clip, one below every int32
        o.accumulator_clip = kind == 0 ? arith::pow2::no_accumulator_clip
                             : kind == 1 ? uniform(0, 1 << 20)
                                         : std::int64_t{std::numeric_limits<std::int32_t>::min()} - 5;
        neon::requantize_pow2(acc, ld, pixels, channels, ch, o, y);
        // The scalar definition compared with must see the same clip: re-run it into y for the check.
        for (int p = 0; p < pixels; ++p)
          for (int c = 0; c < channels; ++c) {
            const auto want = arith::pow2::requantize(acc[std::size_t(p) * ld + std::size_t(c)], ch[c], o);
            if (std::int32_t(y[std::size_t(p) * std::size_t(channels) + std::size_t(c)]) != want) {
              std::printf("MISMATCH requantize pow2 (clip %lld): acc %ld mantissa %d shift %d\n",
                          static_cast<long long>(o.accumulator_clip), long(acc[std::size_t(p) * ld + std::size_t(c)]),
                          int(ch[c].mantissa), ch[c].shift);
              ++failures;
            }
          }
        // Then as the unclipped rule, which compare_requantize checks.
        neon::requantize_pow2(acc, ld, pixels, channels, ch, out, y);
      });
  n += compare_requantize<arith::akida_v1>(
      "akida_v1", 200,
      // Steps whose reciprocal rounds below it in double (49 * (1/49) < 1), small and large ones.
      [] {
        const int step = coin(0.4) ? pick({1, 2, 3, 49, 98, 103, 196, 12345}) : uniform(1, 1 << 20);
        return arith::akida_v1::channel_params{uniform(-(1 << 24), 1 << 24), step};
      },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::akida_v1::channel_params* ch,
         const arith::akida_v1::output_params& out, auto* y) {
        neon::requantize_akida_v1(acc, ld, pixels, channels, ch, out, y);
      },
      false,
      // Mostly on and next to the levels' boundaries (threshold + k * step), where a quotient is an integer.
      [](const arith::akida_v1::channel_params& ch) {
        if (coin(0.2)) return random_accumulator();
        return static_cast<std::int32_t>(std::int64_t{ch.threshold} + std::int64_t{uniform(-1, 17)} * ch.step + uniform(-1, 1));
      });
  return n;
}

// kernels::max_pool / window_sum / global_sum (the NEON ones in this build) against the reference
// pooling, random windows, strides and pads, channel counts off the vector widths, extreme values.
template <class T>
int compare_pooling(int iterations) {
  static T x[max_inputs], y_neon[max_outputs], y_ref[max_outputs];
  static std::int32_t s_neon[max_outputs], s_ref[max_outputs];
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const Kernel k{uniform(1, 4), uniform(1, 4)};
    const Stride st{uniform(1, 3), uniform(1, 3)};
    const Pads pads{uniform(0, k.h - 1), uniform(0, k.w - 1), uniform(0, k.h - 1), uniform(0, k.w - 1)};
    const Shape in{uniform(k.h, 9), uniform(k.w, 9), pick({1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64})};
    const Shape out = window_output_shape(in, in.c, k, st, pads, Dilation{1, 1});
    if (out.h <= 0 || out.w <= 0 || std::size_t(in.size()) > max_inputs || std::size_t(out.size()) > max_outputs) continue;
    const bool extremes = coin(0.3);
    for (int i = 0; i < in.size(); ++i) {
      if constexpr (sizeof(T) == 4) x[i] = extremes ? (coin() ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int32_t>::max())
                                                    : static_cast<std::int32_t>(rng()());
      else x[i] = static_cast<T>(extremes ? (coin() ? std::numeric_limits<T>::min() : std::numeric_limits<T>::max()) : uniform(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    }
    kernels::max_pool(in, out, k, st, pads, static_cast<const T*>(x), y_neon);
    kernels::reference::max_pool(in, out, k, st, pads, static_cast<const T*>(x), y_ref);
    bool ok = std::equal(y_neon, y_neon + out.size(), y_ref);
    if constexpr (sizeof(T) == 1) {
      const int zp = uniform(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
      kernels::window_sum(in, out, k, st, pads, static_cast<const T*>(x), zp, s_neon);
      kernels::reference::window_sum(in, out, k, st, pads, static_cast<const T*>(x), zp, s_ref);
      ok = ok && std::equal(s_neon, s_neon + out.size(), s_ref);
      kernels::global_sum(in, static_cast<const T*>(x), zp, s_neon);
      kernels::reference::global_sum(in, static_cast<const T*>(x), zp, s_ref);
      ok = ok && std::equal(s_neon, s_neon + in.c, s_ref);
    }
    if (!ok) {
      std::printf("MISMATCH pooling (%zu-byte elements): in %dx%dx%d kernel %dx%d strides %dx%d pads %d,%d,%d,%d\n",
                  sizeof(T), in.h, in.w, in.c, k.h, k.w, st.h, st.w, pads.top, pads.left, pads.bottom, pads.right);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

}  // namespace

int main() {
  int conv = 0, depthwise = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want =
        a.group == 1 ? kernels::ConvKernel::conv2d_neon : kernels::ConvKernel::depthwise_conv2d_neon;
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    if (k != want) {
      describe("not run by the NEON kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<8, std::int8_t>(a, k) : accumulators_agree<8, std::uint8_t>(a, k);
    if (!ok) {
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    (dw ? depthwise : conv) += 1;
  }
  std::printf("neon kernels (%s, %s): %d convolutions, %d depthwise convolutions: accumulators compared\n",
              kernels::isa_name(kernels::isa), kernels::conv_kernel_name(kernels::ConvKernel::conv2d_neon), conv,
              depthwise);
  const int packed = compare_packed<4>(150) + compare_packed<2>(100) + compare_packed<1>(100);
  std::printf("neon kernels: %d convolutions with packed 4/2/1-bit weights: accumulators compared\n", packed);
  int layers = 0;
  layers += compare_profile<arith::qlinear>(250);
  layers += compare_profile<arith::tflite>(200);
  layers += compare_profile<arith::tflite_single_rounding>(100);
  layers += compare_profile<arith::tflite_x86>(100);
  layers += compare_profile<arith::pow2>(100);
  layers += compare_profile<arith::gemmini>(80);
  layers += compare_profile<arith::akida_v1>(80);
  std::printf("neon kernels: %d layers (kernel, fused pool, requantization) compared\n", layers);
  const int dense = compare_dense<arith::qlinear>(120) + compare_dense<arith::tflite>(80) + compare_dense<arith::tflite_x86>(40);
  std::printf("neon kernels: %d dense layers compared\n", dense);
  const int pools = compare_pooling<std::int8_t>(150) + compare_pooling<std::uint8_t>(150) + compare_pooling<std::int32_t>(150);
  std::printf("neon kernels: %d poolings (max, window and global sums; int8, uint8, int32) compared\n", pools);
  const int requantized = compare_requantizations();
  std::printf("neon kernels: %d requantizations (qlinear, gemmini, tflite x3, pow2, akida_v1) compared\n", requantized);
  if (failures > 0 || conv < 1000 || depthwise < 500 || layers < 850 || packed < 350 || pools < 300) {
    std::printf("neon kernels: %d mismatches\n", failures);
    return 1;
  }
  std::printf("neon kernels: bit-exact against the reference kernels\n");
  return 0;
}
#endif  // STATIQ_KERNELS_ARM_NEON
