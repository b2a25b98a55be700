// tests/device/neon_kernels_test.cpp — the AArch64 NEON kernels (kernels/arm/neon) against the reference
// kernels and the scalar arithmetic, bit for bit, under qemu-aarch64 (device/ builds it twice for the
// aarch64-linux toolchain: -march=armv8-a, plain NEON, and -march=armv8.2-a+dotprod, SDOT; label
// device). Random geometries (kernels 1..7, strides, dilations, asymmetric pads, channel counts that
// are not multiples of 4 or 16, 1x1 outputs), operands over the whole range or pinned to the extremes
// (the largest accumulators), both input signs, w_zero_point 0 or not: first the accumulators (8-bit
// weights, and 1/2/4-bit weights packed in oc16_k4 and, depthwise, tap_major; grouped convolutions of
// 2-8 groups, 8-bit and packed weights), then whole layers (kernel + fused pool + requantization) for
// every profile, group 1, depthwise and grouped (the kernel a grouped layer enters checked against its
// kernel_name), Dense, and each profile's NEON requantization element by element
// against statiq/arith over the int32 range and the parameters' edges. The same kind of suite as
// tests/device/arm_kernels_test.cpp (no Catch2 for aarch64 here): a printed description of the first
// differences, exit status 0 only if all agree.
#define STATIQ_TRACE_KERNELS 1  // the layers record the kernel they ran (statiq/kernels/trace.hpp)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string_view>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#if !defined(STATIQ_KERNELS_ARM_NEON)
int main() {
  std::printf("neon kernels: not built (STATIQ_REFERENCE_KERNELS, or not AArch64 NEON): nothing compared\n");
  return 1;
}
#else
#include "kernel_differential.hpp"

using namespace statiq::device_test;

namespace {

// Packed Bits-wide weights in the group-1 kernel (oc16_k4, widened by TBL/USHL/SSHR) and the
// depthwise one (tap_major, widened by USHL/SSHR): accumulators against the reference kernel,
// weights over the whole Bits range or pinned to its extremes. `depthwise` counts those.
template <int Bits>
int compare_packed(int iterations, int& depthwise) {
  constexpr int wlo = -(1 << (Bits - 1)), whi = (1 << (Bits - 1)) - 1;
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const bool dw = coin(0.4);
    ConvAttributes a = random_conv(dw, 5);
    if (!dw && coin(0.2))
      a = ConvAttributes{.input = {1, 1, pick({1, 5, 16, 64, 100, 257})}, .filters = pick({1, 10, 16, 17, 33})};
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const int mode = uniform(0, 2);
    for (std::size_t i = 0; i < weight_count(a); ++i) w_values[i] = mode == 0 ? wlo : mode == 1 ? whi : uniform(wlo, whi);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, false));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want =
        a.group == 1 ? kernels::ConvKernel::conv2d_neon : kernels::ConvKernel::depthwise_conv2d_neon;
    depthwise += a.group != 1;
    if (k != want) {
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

// Grouped convolutions (random_grouped: 2-8 groups, 1 < group < in.c) in arm::neon::grouped_conv2d,
// Bits-wide weights (8, or 4/2/1 packed in the per-group oc16_k4 order): accumulators against the
// reference kernel, the weight sums supplied or computed per call (accumulators_agree), the weights
// over the whole Bits range or pinned to its extremes (8 bits: random_operands' own modes).
template <int Bits>
int compare_grouped(int iterations) {
  constexpr int wlo = -(1 << (Bits - 1)), whi = (1 << (Bits - 1)) - 1;
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const ConvAttributes a = random_grouped();
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    if constexpr (Bits < 8) {
      const int mode = uniform(0, 2);
      for (std::size_t i = 0; i < weight_count(a); ++i) w_values[i] = mode == 0 ? wlo : mode == 1 ? whi : uniform(wlo, whi);
    }
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, Bits == 8));
    if (k != kernels::ConvKernel::grouped_conv2d_neon) {
      describe("grouped convolution not run by arm::neon::grouped_conv2d", a, signed_input);
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

// Whether the last layer compute() entered `want`, the name its layer type's kernel_name gives.
bool ran(std::string_view want, const char* what) {
  const std::string_view got = kernels::last_kernel_ran ? kernels::last_kernel_ran : "(nothing)";
  if (got == want) return true;
  std::printf("MISMATCH %s: ran %.*s, the layer names %.*s\n", what, int(got.size()), got.data(), int(want.size()),
              want.data());
  ++failures;
  return false;
}

// Whole grouped layers of every profile (compare_profile's grouped geometries), then the kernel a
// grouped layer enters, traced (STATIQ_KERNEL_RAN), against the name its layer type gives.
int compare_grouped_layers() {
  int layers = 0;
  layers += compare_profile<arith::qlinear>(80, true);
  layers += compare_profile<arith::tflite>(60, true);
  layers += compare_profile<arith::tflite_single_rounding>(30, true);
  layers += compare_profile<arith::tflite_x86>(30, true);
  layers += compare_profile<arith::pow2>(40, true);
  layers += compare_profile<arith::gemmini>(30, true);
  layers += compare_profile<arith::akida_v1>(30, true);
  constexpr ConvAttributes g8{.input = {6, 6, 32}, .filters = 32, .kernel = {3, 3}, .pads = Pads::same, .group = 8};
  using L = Conv2D<"grouped", g8, targets::cpu_int8>;
  static_assert(L::kernel == kernels::ConvKernel::grouped_conv2d_neon);
  random_operands(std::size_t(g8.input.size()), weight_count(g8), g8.filters, false);
  lay_out_weights(L::weight_layout, w_values, weight_count(g8), w_fast);
  arith::qlinear::channel_params* ch = channel_buffer<arith::qlinear>();
  for (int c = 0; c < g8.filters; ++c) ch[c] = random_channel<arith::qlinear>();
  const LayerData<arith::qlinear> d{bias, ch, random_output<arith::qlinear>(false), x_zero_point, w_zero_point, nullptr};
  kernels::last_kernel_ran = nullptr;
  compute<arith::qlinear>(g8, input<std::uint8_t>(), weight_view<qint<8, true>>{w_fast, L::weight_layout}, d, y_fast,
                          scratch_fast);
  ran(L::kernel_name, "grouped convolution");
  return layers;
}

// Dynamic grouped convolutions (float in and out, the input quantized per call, no weight sums in
// DynamicData: the kernel's are computed per call) through arm::neon::grouped_conv2d against the same
// layer on row-major weights (the reference kernel), the float outputs' bits compared.
int compare_grouped_dynamic(int iterations) {
  static float xf[max_inputs], yf_fast[max_outputs], yf_reference[max_outputs], bias_f[256], scale_f[256];
  int compared = 0;
  while (compared < iterations) {
    ConvAttributes a = random_grouped();
    a.activation = coin() ? no_activation : relu;
    if (dynamic_scratch_words(a) > max_scratch ||
        scratch_words(detail::dynamic_integer_part(a), row_major_layout) + (std::size_t(a.input.size()) + 3) / 4 > max_scratch)
      continue;
    if (dynamic_kernel(a) != kernels::ConvKernel::grouped_conv2d_neon) {
      describe("dynamic grouped convolution not run by arm::neon::grouped_conv2d", a, false);
      ++failures;
      return compared;
    }
    const float spread = float(pick({1, 10, 1000}));
    for (int i = 0; i < a.input.size(); ++i) xf[i] = float(uniform(-100000, 100000)) / 100000.0f * spread;
    for (std::size_t i = 0; i < weight_count(a); ++i) w_values[i] = uniform(-127, 127);
    for (int c = 0; c < a.filters; ++c) {
      bias_f[c] = float(uniform(-1000, 1000)) / 256.0f;
      scale_f[c] = float(uniform(1, 1000)) / 65536.0f;
    }
    const DynamicData d{bias_f, scale_f, coin(), 6.0f};
    const WeightLayout layout = dynamic_weight_layout(a);
    lay_out_weights(layout, w_values, weight_count(a), w_fast);
    lay_out_weights(row_major_layout, w_values, weight_count(a), w_row_major);
    const std::size_t n = std::size_t(output_shape(a).size());
    std::fill_n(yf_fast, n, 1.5f);
    std::fill_n(yf_reference, n, -2.5f);
    compute_dynamic(a, xf, weight_view<qint<8, true>>{w_fast, layout}, d, yf_fast, scratch_fast);
    compute_dynamic(a, xf, weight_view<qint<8, true>>{w_row_major, row_major_layout}, d, yf_reference, scratch_reference);
    if (std::memcmp(yf_fast, yf_reference, n * sizeof(float)) != 0) {
      describe("dynamic grouped convolution", a, false);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

// LookupTable (TBL/TBX) against the reference lookup: every byte value, then random ones, lengths
// around the 16-byte vector, nothing written past the end.
int compare_lookup_tables() {
  using L = LookupTable<"lut", LookupTableAttributes{.shape = {4, 4, 16}, .bits = {8, 8, 8}}, targets::cpu_int8>;
  int compared = 0;
  const auto run = [&]<class X, class Y>(X*, Y*) {
    Y table[256];
    for (Y& t : table) t = static_cast<Y>(uniform(0, 255));
    for (const int n : {1, 15, 16, 17, 31, 32, 33, 64, 255, 256, 257, 1000}) {
      for (int i = 0; i < n; ++i) x_bytes[i] = static_cast<std::uint8_t>(i < 256 ? i : uniform(0, 255));
      std::fill_n(y_fast, n + 32, std::uint8_t{0x5a});
      std::fill_n(y_reference, n + 32, std::uint8_t{0x5a});
      const auto* x = reinterpret_cast<const X*>(x_bytes);
      kernels::last_kernel_ran = nullptr;
      compute(LookupTableAttributes{.shape = {1, 1, n}}, x, table, reinterpret_cast<Y*>(y_fast));
      ran(L::kernel_name, "lookup table");
      kernels::reference::lookup_table(x, n, table, reinterpret_cast<Y*>(y_reference));
      if (!std::equal(y_fast, y_fast + n + 32, y_reference)) {
        std::printf("MISMATCH lookup table: n %d\n", n);
        ++failures;
      }
      ++compared;
    }
  };
  run((std::uint8_t*)nullptr, (std::uint8_t*)nullptr);
  run((std::int8_t*)nullptr, (std::int8_t*)nullptr);
  run((std::int8_t*)nullptr, (std::uint8_t*)nullptr);
  return compared;
}

// Concat through the layer's compute against the reference concat with the profile's rescale:
// 2..4 inputs, channel counts around the vector width, copies (the output's quantization) and rescales.
inline int concats_on_the_byte_kernel = 0;

template <class P>
int compare_concat(int iterations) {
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    ConcatAttributes a;
    a.count = uniform(2, 4);
    const int h = uniform(1, 4), w = uniform(1, 3);  // at most 4 x 12 x 100 bytes: within x_bytes and y_fast
    for (int i = 0; i < a.count; ++i) a.inputs[i] = {h, w, pick({1, 3, 15, 16, 17, 32, 33, 64, 100})};
    const bool sx = coin(), sy = coin();
    const arith::output_bounds b{sy ? -128 : 0, sy ? 127 : 255};
    typename P::rescale_params rescale[4];
    // pow2 and gemmini: power-of-two scales, zero point 0 (their quantization).
    constexpr bool pow2_like = std::is_same_v<P, arith::pow2> || std::is_same_v<P, arith::gemmini>;
    const auto quantization = [&](bool s) {
      if constexpr (pow2_like) return arith::scale_zero_point{1.0f / float(1 << uniform(0, 10)), 0};
      else return arith::scale_zero_point{0.002f * float(uniform(1, 100)), s ? uniform(-128, 127) : uniform(0, 255)};
    };
    for (int i = 0; i < a.count; ++i) {
      const arith::scale_zero_point y = quantization(sy);
      rescale[i] = P::rescale_from(coin(0.3) && sx == sy ? y : quantization(sx), y, b);
    }
    const auto run = [&]<class X, class Y>(X*, Y*) {
      const X* xs[4]{};
      std::size_t offset = 0;
      for (int i = 0; i < a.count; ++i) {
        xs[i] = reinterpret_cast<const X*>(x_bytes + offset);
        offset += std::size_t(a.inputs[i].size());
      }
      for (std::size_t k = 0; k < offset; ++k) x_bytes[k] = static_cast<std::uint8_t>(uniform(0, 255));
      const int n = output_shape(a).size();
      kernels::last_kernel_ran = nullptr;
      compute<P>(a, xs, rescale, reinterpret_cast<Y*>(y_fast));
      ran(concat_kernel_name(concat_runs_byte_kernel<X, Y>(a)), "concat");
      concats_on_the_byte_kernel += concat_runs_byte_kernel<X, Y>(a);
      int channels[4]{};
      for (int i = 0; i < a.count; ++i) channels[i] = a.inputs[i].c;
      kernels::reference::concat(h * w, a.count, xs, channels, reinterpret_cast<Y*>(y_reference),
                                 [&](int i, std::int32_t q) { return P::rescale(q, rescale[i]); });
      if (!std::equal(y_fast, y_fast + n, y_reference)) {
        std::printf("MISMATCH concat %s: %d inputs, %d pixels, signed %d%d\n", P::name, a.count, h * w, sx, sy);
        ++failures;
      }
    };
    if (sx) sy ? run((std::int8_t*)nullptr, (std::int8_t*)nullptr) : run((std::int8_t*)nullptr, (std::uint8_t*)nullptr);
    else sy ? run((std::uint8_t*)nullptr, (std::int8_t*)nullptr) : run((std::uint8_t*)nullptr, (std::uint8_t*)nullptr);
    ++compared;
  }
  return compared;
}

// Elementwise Mul / Max / Min / Sub through the layer's compute against the scalar definitions
// (arith::qlinear_mul, arith::qdq_elementwise): every pair of codes, uint8 and int8, quantizations
// with ties (ratio 1/2) and results beyond the int32 range; then one value per channel.
template <class X>
int compare_elementwise() {
  using arith::qdq_binary;
  constexpr bool is_signed = std::is_signed_v<X>;
  constexpr std::int32_t shift = is_signed ? -128 : 0, lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  struct Q {
    float as, bs, ys;
    std::int32_t az, bz, yz;
  };
  const Q quantizations[] = {{0.0213f, 0.0071f, 0.0157f, 131, 7, 119}, {0.5f, 1.0f, 1.0f, 128, 128, 128},
                             {1.0f, 1.0f, 2.0f, 0, 255, 128}, {3.0e4f, 2.0e4f, 1.0e-3f, 255, 0, 3},
                             {3.0e4f, 2.0e4f, 1.0e-3f, 0, 0, 3}};  // products >= 0: beyond +2^31 (FCVTNS saturates)
  static X a[65536], b[65536], y[65536 + 16];
  int compared = 0;
  for (const ElementwiseOp op : {ElementwiseOp::mul, ElementwiseOp::max, ElementwiseOp::min, ElementwiseOp::sub}) {
    for (const Q& q : quantizations) {
      ElementwiseParams p;
      const arith::scale_zero_point sa{q.as, q.az + shift}, sb{q.bs, q.bz + shift}, sy{q.ys, q.yz + shift};
      p.mul = arith::make_qlinear_mul(sa, sb, sy, {lo, hi});
      p.qdq = arith::make_qdq_elementwise(sa, sb, sy, {lo, hi});
      const auto scalar = [&](std::int32_t u, std::int32_t v) {
        switch (op) {
          case ElementwiseOp::mul: return arith::qlinear_mul(u, v, p.mul);
          case ElementwiseOp::max: return arith::qdq_elementwise<qdq_binary::max>(u, v, p.qdq);
          case ElementwiseOp::min: return arith::qdq_elementwise<qdq_binary::min>(u, v, p.qdq);
          case ElementwiseOp::sub: return arith::qdq_elementwise<qdq_binary::sub>(u, v, p.qdq);
        }
        return 0;
      };
      for (const bool per_channel : {false, true}) {
        const int c = per_channel ? pick({1, 3, 7, 8, 9, 17, 40}) : 256;
        const Shape shape = per_channel ? Shape{3, 5, c} : Shape{1, 256, 256};
        const int n = shape.size();
        for (int i = 0; i < n; ++i) {
          a[i] = static_cast<X>(per_channel ? uniform(lo, hi) : i % 256 + shift);
          b[i] = static_cast<X>(per_channel ? uniform(lo, hi) : i / 256 + shift);
        }
        std::fill_n(y, n + 16, X{42});
        kernels::last_kernel_ran = nullptr;
        compute(ElementwiseAttributes{op, shape, per_channel, Bits{8, 8, 8}, is_signed, is_signed}, a, b, p, y);
        ran(elementwise_kernel_name(op), "elementwise");
        int wrong = 0;
        for (int i = 0; i < n; ++i) wrong += y[i] != scalar(a[i], b[per_channel ? i % c : i]);
        for (int i = n; i < n + 16; ++i) wrong += y[i] != X{42};
        if (wrong) {
          std::printf("MISMATCH elementwise %.*s: %d of %d wrong, signed %d, per channel %d (c %d), scales %g %g -> %g\n",
                      int(elementwise_op_name(op).size()), elementwise_op_name(op).data(), wrong, n, is_signed,
                      per_channel, c, double(q.as), double(q.bs), double(q.ys));
          ++failures;
        }
        ++compared;
      }
    }
  }
  return compared;
}

std::string_view QL_name() { return Quantize<"q", QuantizeAttributes{.shape = {1, 1, 4}}, targets::cpu_int8>::kernel_name; }
std::string_view DL_name() { return Dequantize<"d", DequantizeAttributes{.shape = {1, 1, 4}}, targets::cpu_int8>::kernel_name; }

// Quantize (qlinear: half to even) and Dequantize through their layers' compute against the scalar
// rules: ties, infinities, NaN, values far beyond the range; every code, tails off the vector widths.
int compare_quantize_dequantize(int iterations) {
  using QL = Quantize<"q", QuantizeAttributes{.shape = {1, 1, 4}}, targets::cpu_int8>;
  using DL = Dequantize<"d", DequantizeAttributes{.shape = {1, 1, 4}}, targets::cpu_int8>;
  static float xf[2048], yf[2048 + 8], rf[2048 + 8];
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const int n = pick({1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 40, 256, 300, 2048});
    const bool s = coin();
    const float scale = coin(0.3) ? 1.0f / float(1 << uniform(0, 8)) : 0.0001f * float(uniform(1, 10000));
    const int zp = s ? uniform(-128, 127) : uniform(0, 255), lo = s ? -128 : 0, hi = s ? 127 : 255;
    for (int i = 0; i < n; ++i) {
      switch (uniform(0, 5)) {
        case 0: xf[i] = scale * (float(uniform(-300, 300)) + 0.5f); break;  // exact ties
        case 1: xf[i] = std::numeric_limits<float>::infinity() * (coin() ? 1.0f : -1.0f); break;
        case 2: xf[i] = coin(0.2) ? std::numeric_limits<float>::quiet_NaN() : 1e30f * (coin() ? 1.0f : -1.0f); break;
        default: xf[i] = float(uniform(-3000, 3000)) * 0.1f * scale;
      }
    }
    std::fill_n(y_fast, n + 8, std::uint8_t{0x5a});
    kernels::last_kernel_ran = nullptr;
    if (s) compute<arith::qlinear>(QuantizeAttributes{.shape = {1, 1, n}, .signed_output = true}, xf, scale, zp,
                                   reinterpret_cast<std::int8_t*>(y_fast));
    else compute<arith::qlinear>(QuantizeAttributes{.shape = {1, 1, n}}, xf, scale, zp, y_fast);
    ran(QL::kernel_name, "quantize");
    int wrong = 0;
    for (int i = 0; i < n; ++i)
      wrong += y_fast[i] != static_cast<std::uint8_t>(detail::quantize_value<arith::qlinear>(xf[i], scale, zp, lo, hi));
    for (int i = n; i < n + 8; ++i) wrong += y_fast[i] != 0x5a;
    // Dequantize: every code first, then random ones.
    for (int i = 0; i < n; ++i) x_bytes[i] = static_cast<std::uint8_t>(i < 256 ? i : uniform(0, 255));
    std::fill_n(yf, n + 8, -1.0f);
    kernels::last_kernel_ran = nullptr;
    if (s) compute(DequantizeAttributes{.shape = {1, 1, n}, .signed_input = true}, reinterpret_cast<const std::int8_t*>(x_bytes),
                   scale, zp, yf);
    else compute(DequantizeAttributes{.shape = {1, 1, n}}, x_bytes, scale, zp, yf);
    ran(DL::kernel_name, "dequantize");
    for (int i = 0; i < n; ++i)
      rf[i] = arith::dequantize(s ? std::int32_t(std::int8_t(x_bytes[i])) : std::int32_t(x_bytes[i]), scale, zp);
    for (int i = n; i < n + 8; ++i) rf[i] = -1.0f;
    wrong += std::memcmp(yf, rf, sizeof(float) * std::size_t(n + 8)) != 0;
    if (wrong) {
      std::printf("MISMATCH quantize/dequantize: n %d signed %d scale %g zp %d\n", n, s, double(scale), zp);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

// Add layers through compute<P> against the scalar P::add loop, bit for bit: every profile (qlinear
// with each of its three formulas), sizes below the vectorized threshold, around the 8/16-lane blocks
// and the 256-element sum blocks, int8/uint8 inputs of either signedness each, fused ReLU bounds,
// ties (ratios of 1/2), extreme ratios, and parameters that send the kernel to its scalar fallback
// (pow2/akida_v1 shifts beyond 22, tflite terms reaching 2^30). The kernel that ran must be the one
// add_kernel_name names, with the fallback predicted from the parameters here.
inline int adds_on_the_kernel = 0, adds_fallen_back = 0;

template <class P>
struct add_case {
  typename P::add_params p;
  bool fallback = false;  // the parameters leave the vector kernel's range
};

float random_scale() {
  return coin(0.3) ? 1.0f / float(1 << uniform(0, 8)) : std::uniform_real_distribution<float>(1e-3f, 0.5f)(rng());
}

template <class P>
add_case<P> random_add(bool sa, bool sb, bool sy) {
  const std::int32_t lo = sy ? -128 : 0, hi = sy ? 127 : 255;
  const auto zp = [](bool s) { return s ? uniform(-128, 127) : uniform(0, 255); };
  add_case<P> c{};
  if constexpr (std::is_same_v<P, arith::qlinear>) {
    using kind = arith::qlinear::add_kernel;
    const kind k = pick({0, 1, 2}) == 0 ? kind::x86_fma : coin() ? kind::x86_sse2 : kind::portable;
    float as = random_scale(), bs = random_scale(), ys = random_scale();
    if (coin(0.15)) as = 0.5f, bs = 1.0f, ys = 1.0f;              // ratios 1/2: ties
    if (coin(0.25)) as = ys * 0.5f, bs = ys * (coin() ? 0.5f : 1.5f);  // about 1/2, rounded: near ties
    if (coin(0.1)) ys = 1e-6f;                                     // results far beyond the bounds
    const std::int32_t yz = zp(sy);
    const std::int32_t rlo = coin(0.3) ? std::max(lo, yz) : lo;   // a fused ReLU: from the zero point
    c.p = arith::qlinear::make_add(as, coin(0.2) ? 0 : zp(sa), bs, coin(0.2) ? 0 : zp(sb), ys, yz, rlo, hi, k);
  } else if constexpr (std::is_same_v<P, arith::pow2> || std::is_same_v<P, arith::akida_v1>) {
    const bool wide = coin(0.1);
    const int sa_ = wide ? uniform(23, 30) : uniform(0, 22), sb_ = coin(0.3) ? 0 : uniform(0, 22);
    c.p.a_shift = coin() ? sa_ : sb_;
    c.p.b_shift = c.p.a_shift == sa_ ? sb_ : sa_;
    c.fallback = wide;
    if constexpr (std::is_same_v<P, arith::pow2>) {
      c.p.output = {static_cast<std::uint8_t>(coin(0.5) ? 1 : uniform(1, 255)),
                    coin(0.05) ? pick({63, 64, 70}) : uniform(-8, 40)};
      c.p.lo = coin(0.3) ? 0 : lo;
      c.p.hi = hi;
    } else {
      const int top = pick({1, 3, 15, 255});
      c.p.activation = {uniform(-1000, 1 << uniform(0, 24)), coin(0.2) ? 1 : uniform(1, 1 << uniform(1, 22))};
      c.p.lo = 0;
      c.p.hi = std::min(top, hi);
    }
  } else if constexpr (std::is_same_v<P, arith::gemmini>) {
    const float big = coin(0.1) ? 1000.0f : 1.0f;  // MVIN_SCALE saturating
    c.p = {random_scale() * 4.0f * big, random_scale() * 4.0f, coin(0.5) ? 1.0f : random_scale() * 2.0f,
           coin(0.3) ? 0 : -128, coin(0.2) ? 6 : 127};
  } else {
    c.p = P::make_add(random_scale(), zp(sa), random_scale(), zp(sb), random_scale(), zp(sy), coin(0.3) ? 0 : lo, hi);
    if (coin(0.1)) {
      // a's term from 2^30 up to just below 2^31 (left shift 21, then 2 more, multiplier >= 2^30)
      // beside a small b term, so the scalar sum still fits int32: the kernel must fall back.
      c.p.left_shift = 21;
      c.p.a = {uniform(1 << 30, (1 << 30) + (1 << 29)), 2};
      c.p.b = {1 << 30, -3};
    } else if (coin(0.1)) {
      c.p.a = {std::numeric_limits<std::int32_t>::max(), 0};  // the largest in-range terms
      c.p.b = {std::numeric_limits<std::int32_t>::max(), 0};
    }
    // The fallback condition, computed here from the scalar rule: a term of some code beyond 2^30.
    const auto reaches = [&](bool s, std::int32_t offset, const typename P::channel_params& ch) {
      for (int q = s ? -128 : 0; q < (s ? 128 : 256); ++q) {
        const std::int32_t t = P::multiply_by_quantized_multiplier((q + offset) * (1 << c.p.left_shift), ch.multiplier, ch.shift);
        if (t <= -(1 << 30) || t >= (1 << 30)) return true;
      }
      return false;
    };
    c.fallback = reaches(sa, c.p.a_offset, c.p.a) || reaches(sb, c.p.b_offset, c.p.b);
  }
  return c;
}

// qlinear's inputs where a formula's float rounding can show: the n code pairs (all 65536 when n
// allows) whose exact result (in double) lies nearest a rounding tie within the bounds, in random order.
template <class X, class X2>
void fill_near_ties(const arith::qlinear::add_params& p, int n, X* a, X2* b) {
  struct near {
    double distance;
    int codes;
  };
  static near pairs[65536];
  const int alo = std::is_signed_v<X> ? -128 : 0, blo = std::is_signed_v<X2> ? -128 : 0;
  for (int i = 0; i < 65536; ++i) {
    const double qa = alo + (i & 255), qb = blo + (i >> 8);
    const double r = p.kernel == arith::qlinear::add_kernel::portable
                         ? (double(p.a_scale) * (qa - p.a_zero_point) + double(p.b_scale) * (qb - p.b_zero_point)) /
                                   double(p.y_scale) + p.y_zero_point
                         : qa * double(p.a_ratio) + qb * double(p.b_ratio) + double(p.fixed_part);
    const bool clamped = r < p.lo - 1 || r > p.hi + 1;  // far outside the bounds: the rounding does not show
    pairs[i] = {clamped ? 1.0 : std::abs(r - std::floor(r) - 0.5), i};
  }
  std::nth_element(pairs, pairs + std::min(n, 65535), pairs + 65536,
                   [](const near& u, const near& v) { return u.distance < v.distance; });
  std::shuffle(pairs, pairs + std::min(n, 65536), rng());
  for (int i = 0; i < n; ++i) {
    a[i] = static_cast<X>(alo + (pairs[i].codes & 255));
    b[i] = static_cast<X2>(blo + (pairs[i].codes >> 8));
  }
}

template <class P>
int compare_add(int iterations) {
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const int n = coin(0.5) ? pick({1, 7, 8, 15, 16, 17, 63, 64, 65, 100, 255, 256, 257, 511, 1000, 3000})
                            : uniform(1, 3000);  // 2n codes in x_bytes
    constexpr bool akida = std::is_same_v<P, arith::akida_v1>, gemmini = std::is_same_v<P, arith::gemmini>;
    const bool sa = akida ? coin(0.3) : coin(), sb = coin(0.3) ? !sa : sa, sy = gemmini || (!akida && coin());
    const add_case<P> c = random_add<P>(sa, sb, sy);
    const AddAttributes attributes{.shape = {1, 1, n}, .signed_input = sa, .signed_output = sy,
                                   .signed_second_input = sb == sa ? -1 : int(sb)};
    for (int i = 0; i < 2 * n; ++i) {
      const int mode = uniform(0, 9);  // some runs of the extreme codes
      x_bytes[i] = static_cast<std::uint8_t>(mode == 0 ? 0x80 : mode == 1 ? 0x7f : mode == 2 ? 0xff : mode == 3 ? 0 : uniform(0, 255));
    }
    const auto run = [&]<class X, class X2, class Y>(X*, X2*, Y*) {
      const X* a = reinterpret_cast<const X*>(x_bytes);
      const X2* b = reinterpret_cast<const X2*>(x_bytes + n);
      if constexpr (std::is_same_v<P, arith::qlinear>)
        if (coin(0.6)) fill_near_ties(c.p, n, reinterpret_cast<X*>(x_bytes), reinterpret_cast<X2*>(x_bytes + n));
      std::fill_n(y_fast, n + 32, std::uint8_t{0x5a});
      kernels::last_kernel_ran = nullptr;
      compute<P>(attributes, a, b, c.p, reinterpret_cast<Y*>(y_fast));
      const AddKernel k = add_kernel<P, X, X2, Y>(attributes);
      const std::string_view name = add_kernel_name<P>(k);
      const std::size_t cut = name.find(" or reference::add when");
      const bool falls_back = cut != std::string_view::npos && c.fallback;
      ran(falls_back ? std::string_view("reference::add") : name.substr(0, cut), "add");
      if (k != AddKernel::reference) (falls_back ? adds_fallen_back : adds_on_the_kernel) += 1;
      Y* want = reinterpret_cast<Y*>(y_reference);
      for (int i = 0; i < n; ++i) want[i] = static_cast<Y>(P::add(a[i], b[i], c.p));
      std::fill_n(y_reference + n, 32, std::uint8_t{0x5a});
      if (!std::equal(y_fast, y_fast + n + 32, y_reference)) {
        int wrong = 0, first = -1;
        for (int i = 0; i < n + 32; ++i)
          if (y_fast[i] != y_reference[i]) wrong += 1, first = first < 0 ? i : first;
        std::printf("MISMATCH add %s: %d of %d wrong (first %d: %d, want %d), signed %d%d%d, kernel %.*s\n", P::name, wrong,
                    n, first, int(reinterpret_cast<Y*>(y_fast)[first]), int(want[first]), sa, sb, sy,
                    int(name.size()), name.data());
        ++failures;
      }
    };
    using s8 = std::int8_t;
    using u8 = std::uint8_t;
    if (sa) {
      if (sb) sy ? run((s8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (s8*)nullptr, (u8*)nullptr);
      else sy ? run((s8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (u8*)nullptr, (u8*)nullptr);
    } else {
      if (sb) sy ? run((u8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (s8*)nullptr, (u8*)nullptr);
      else sy ? run((u8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (u8*)nullptr, (u8*)nullptr);
    }
    ++compared;
  }
  return compared;
}

// The Add layer type names the NEON kernels (qlinear: always; the others from 64 elements on).
bool add_layers_name_neon() {
  using QA = Add<"add", AddAttributes{.shape = {4, 4, 16}}, targets::cpu_int8>;
  return QA::kernel_name == "arm::neon::add_qlinear (neon)" &&
         add_kernel_name<arith::tflite>(add_kernel<arith::tflite, std::int8_t, std::int8_t, std::int8_t>(
                                            AddAttributes{.shape = {1, 1, 64}}))
             .starts_with("arm::neon::add_by_terms (neon)");
}

// Every profile's Add; the counts printed, too few on the kernel or in the fallback a failure.
void compare_adds() {
  const int adds = compare_add<arith::qlinear>(400) + compare_add<arith::pow2>(200) + compare_add<arith::akida_v1>(200) +
                   compare_add<arith::gemmini>(150) + compare_add<arith::tflite>(200) +
                   compare_add<arith::tflite_single_rounding>(150) + compare_add<arith::tflite_x86>(100);
  std::printf("neon kernels: %d adds (qlinear's 3 formulas, pow2, akida_v1, gemmini, tflite x3) compared: %d on the NEON "
              "kernel, %d fallbacks to reference::add, %d below its size\n",
              adds, adds_on_the_kernel, adds_fallen_back, adds - adds_on_the_kernel - adds_fallen_back);
  if (!add_layers_name_neon() || adds < 1400 || adds_on_the_kernel < 800 || adds_fallen_back < 20) {
    std::printf("neon kernels: the Add layers do not name or run the NEON kernels enough\n");
    ++failures;
  }
}

}  // namespace

int main() {
  int conv = 0, depthwise = 0, multiplied = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw, 5);  // depthwise: channel multipliers 1..5
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
    multiplied += dw && a.filters > a.input.c;
  }
  std::printf("neon kernels (%s, %s): %d convolutions, %d depthwise convolutions (%d with a channel multiplier > 1): "
              "accumulators compared\n",
              kernels::isa_name(kernels::isa), kernels::conv_kernel_name(kernels::ConvKernel::conv2d_neon), conv,
              depthwise, multiplied);
  int packed_depthwise = 0;
  const int packed = compare_packed<4>(200, packed_depthwise) + compare_packed<2>(130, packed_depthwise) +
                     compare_packed<1>(130, packed_depthwise);
  std::printf("neon kernels: %d convolutions (%d depthwise) with packed 4/2/1-bit weights: accumulators compared\n",
              packed, packed_depthwise);
  int layers = 0;
  layers += compare_profile<arith::qlinear>(250);
  layers += compare_profile<arith::tflite>(200);
  layers += compare_profile<arith::tflite_single_rounding>(100);
  layers += compare_profile<arith::tflite_x86>(100);
  layers += compare_profile<arith::pow2>(100);
  layers += compare_profile<arith::gemmini>(80);
  layers += compare_profile<arith::akida_v1>(80);
  std::printf("neon kernels: %d layers (kernel, fused pool, requantization) compared\n", layers);
  constexpr kernels::ConvKernel neon = kernels::ConvKernel::conv2d_neon;
  const int dense = compare_dense<arith::qlinear>(120, neon) + compare_dense<arith::tflite>(80, neon) +
                    compare_dense<arith::tflite_x86>(40, neon);
  std::printf("neon kernels: %d dense layers compared\n", dense);
  const int grouped = compare_grouped<8>(400), grouped_packed = compare_grouped<4>(80) + compare_grouped<2>(60) +
                                                            compare_grouped<1>(60);
  const int grouped_layers = compare_grouped_layers() + compare_grouped_dynamic(60);
  std::printf("neon kernels (%s): %d grouped convolutions (%d more with packed 4/2/1-bit weights): accumulators "
              "compared; %d grouped layers (every profile, and dynamic float layers) compared\n",
              kernels::conv_kernel_name(kernels::ConvKernel::grouped_conv2d_neon), grouped, grouped_packed,
              grouped_layers);
  const int pools = compare_pooling<std::int8_t>(150) + compare_pooling<std::uint8_t>(150) + compare_pooling<std::int32_t>(150);
  std::printf("neon kernels: %d poolings (max, window and global sums; int8, uint8, int32) compared\n", pools);
  const int requantized = compare_requantizations();
  std::printf("neon kernels: %d requantizations (qlinear, gemmini, tflite x3, pow2, akida_v1) compared\n", requantized);
  // The element-wise layers' NEON kernels, each also checked to be the one its layer type names.
  const int tables = compare_lookup_tables();
  const int concats = compare_concat<arith::qlinear>(120) + compare_concat<arith::tflite>(80) +
                      compare_concat<arith::pow2>(60) + compare_concat<arith::gemmini>(40);
  const int elementwise = compare_elementwise<std::uint8_t>() + compare_elementwise<std::int8_t>();
  std::printf("neon kernels: %d lookup tables (%s), %d concats (%d on %s), %d elementwise maps (%s, %s) compared\n", tables,
              lookup_table_kernel_name().data(), concats, concats_on_the_byte_kernel, concat_kernel_name(true).data(), elementwise, elementwise_kernel_name(ElementwiseOp::mul).data(),
              elementwise_kernel_name(ElementwiseOp::sub).data());
  const int boundaries = compare_quantize_dequantize(300);
  std::printf("neon kernels: %d quantize + dequantize runs (%s, %s) compared\n", boundaries, QL_name().data(),
              DL_name().data());
  compare_adds();  // prints its counts; a shortfall counts as a failure
  if (!lookup_table_kernel_name().starts_with("arm::neon::") ||
      !elementwise_kernel_name(ElementwiseOp::mul).starts_with("arm::neon::")) {
    std::printf("neon kernels: the element-wise layers do not name the NEON kernels\n");
    ++failures;
  }
  if (failures > 0 || conv < 1000 || depthwise < 500 || multiplied < 100 || layers < 850 || packed < 450 || packed_depthwise < 150 ||
      pools < 300 || tables < 36 || concats < 300 || concats_on_the_byte_kernel < 100 || elementwise < 80 ||
      boundaries < 300 || grouped < 400 || grouped_packed < 200 || grouped_layers < 340) {
    std::printf("neon kernels: %d mismatches\n", failures);
    return 1;
  }
  std::printf("neon kernels: bit-exact against the reference kernels\n");
  return 0;
}
#endif  // STATIQ_KERNELS_ARM_NEON
