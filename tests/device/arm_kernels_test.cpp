// tests/device/arm_kernels_test.cpp — the Arm kernels (kernels/arm) against the reference kernels, bit
// for bit, on the emulated board (built by device/ for a Cortex-M toolchain, run under QEMU; label
// device; on the Cortex-M55 the MVE kernels, and the DSP kernels too): random geometries (kernels 1..7, strides, dilations, asymmetric pads, channel counts that
// are not multiples of 4, 1x1 outputs), extreme operands and zero points, both input signs; first the
// accumulators, then whole layers (kernel + fused pool + requantization) for every profile, and Dense,
// and the Arm requantization of the TFLite profile element by element against arith::tflite.
// The same kind of suite as tests/kernels/fast_kernels_test.cpp, without Catch2 or a heap: static
// buffers, and a printed description of the first difference. Exit status 0 only if all agree.
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
#include "statiq/core/qint.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"

using namespace statiq;

#if !defined(STATIQ_KERNELS_ARM_DSP)
// A build forced to the reference kernels (bench/device/run.sh builds one) or a core without the DSP
// extension: nothing to compare, and the test says so and fails rather than pass unnoticed.
int main() {
  std::printf("arm kernels: not built (STATIQ_REFERENCE_KERNELS, or no DSP extension): nothing compared\n");
  return 1;
}
#else
namespace {

// The buffers' sizes bound the random geometries (QEMU runs the reference loops too: keep each small).
constexpr std::size_t max_inputs = 6144, max_weights = 16384, max_outputs = 6144, max_scratch = 16384;
constexpr long max_macs = 400000;

std::int32_t x_values[max_inputs], w_values[max_weights], bias[256];
std::uint8_t x_bytes[max_inputs], w_fast[2 * max_weights + 4096], w_row_major[max_weights];
std::int32_t acc_fast[max_outputs], acc_reference[max_outputs];
std::int32_t scratch_fast[max_scratch], scratch_reference[max_scratch];
std::uint8_t y_fast[max_outputs], y_reference[max_outputs];
int x_zero_point = 0, w_zero_point = 0;

// The kernels this build selects: MVE on the Cortex-M55, DSP on the M4 and M7.
constexpr kernels::ConvKernel conv_kernel_of_isa = kernels::isa == kernels::Isa::arm_mve
                                                       ? kernels::ConvKernel::conv2d_arm_mve
                                                       : kernels::ConvKernel::conv2d_arm_dsp;
constexpr kernels::ConvKernel depthwise_kernel_of_isa = kernels::isa == kernels::Isa::arm_mve
                                                            ? kernels::ConvKernel::depthwise_conv2d_arm_mve
                                                            : kernels::ConvKernel::depthwise_conv2d_arm_dsp;
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

// The Arm kernel's accumulators for every output pixel, as its epilogue receives them, against
// the reference kernel's.
template <class X>
bool accumulators_agree(const ConvAttributes& a, kernels::ConvKernel k) {
  const auto g = conv_geometry(a);
  const WeightLayout layout = weight_layout(a, true);
  lay_out_weights(layout, w_values, weight_count(a), w_fast);
  const std::size_t n = std::size_t(g.out.size());
  std::fill_n(acc_fast, n, 0x7e7e7e7e);
  std::fill_n(scratch_fast, max_scratch, 0x5a5a5a5a);
  int delivered = 0;
  detail::run_conv_kernel(k, g, input<X>(), x_zero_point, layout, w_fast, w_zero_point, bias, scratch_fast,
                          [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                            for (int p = 0; p < count; ++p)
                              std::copy_n(rows + std::size_t(p) * ld, g.out.c, acc_fast + std::size_t(first + p) * std::size_t(g.out.c));
                            delivered += count;
                          });
  kernels::reference::conv2d(g, x_values, x_zero_point, w_values, w_zero_point, bias, acc_reference);
  return delivered == g.out.h * g.out.w && std::equal(acc_fast, acc_fast + n, acc_reference);
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

// The whole layer through the Arm kernel and through the reference path (the same weights row-major,
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
    if (dense_kernel(a, layout) != conv_kernel_of_isa) {
      std::printf("MISMATCH dense %d -> %d: not run by %s\n", a.input.size(), a.units,
                  kernels::conv_kernel_name(conv_kernel_of_isa));
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

// kernels/arm/requantize.hpp against arith::tflite's requantize, element by element: accumulators
// over the whole int32 range and its extremes, multipliers from QuantizeMultiplier's range and its
// edges, shifts from -31 to 33 (left shifts that wrap, and past 31), both output types.
int compare_requantize(int iterations) {
  using P = arith::tflite;
  constexpr int pixels = 3, channels = 37;
  std::int32_t acc[pixels * channels];
  P::channel_params ch[channels];
  std::int8_t y_signed[pixels * channels];
  std::uint8_t y_unsigned[pixels * channels];
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    for (int c = 0; c < channels; ++c) {
      const int kind = uniform(0, 9);
      ch[c].multiplier = kind == 0 ? 0 : kind == 1 ? 0x7fffffff : kind == 2 ? (1 << 30) : uniform(1 << 30, 0x7fffffff);
      ch[c].shift = coin(0.1) ? uniform(1, 33) : uniform(-31, 0);
    }
    for (int i = 0; i < pixels * channels; ++i) {
      const int kind = uniform(0, 7);
      acc[i] = kind == 0 ? std::numeric_limits<std::int32_t>::min()
               : kind == 1 ? std::numeric_limits<std::int32_t>::max()
               : kind == 2 ? uniform(-3, 3)
               : kind == 3 ? uniform(-(1 << 16), 1 << 16)
                           : static_cast<std::int32_t>(rng()());
    }
    const bool s = coin();
    const P::output_params out = random_output<P>(s);
    const std::size_t ld = channels;
    if (s) kernels::arm::requantize_tflite(acc, ld, pixels, channels, ch, out.zero_point, out.lo, out.hi, y_signed);
    else kernels::arm::requantize_tflite(acc, ld, pixels, channels, ch, out.zero_point, out.lo, out.hi, y_unsigned);
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) {
        const int i = p * channels + c;
        const std::int32_t want = P::requantize(acc[i], ch[c], out);
        const std::int32_t got = s ? std::int32_t(y_signed[i]) : std::int32_t(y_unsigned[i]);
        ++compared;
        if (got != want) {
          if (failures < 20)
            std::printf("MISMATCH requantize: acc %ld multiplier %ld shift %d zp %ld [%ld, %ld]: %ld, want %ld\n",
                        long(acc[i]), long(ch[c].multiplier), ch[c].shift, long(out.zero_point), long(out.lo),
                        long(out.hi), long(got), long(want));
          ++failures;
        }
      }
  }
  return compared;
}

// What the Cortex-M kernels cannot read goes to the reference kernel: weights packed below a byte
// (a packing target's 1/2/4-bit weights) and depthwise with a channel multiplier above 1 (the kernels
// take input channel = output channel). Counts the selections that were wrong.
int unsupported_run_reference() {
  int wrong = 0;
  for (int iter = 0; iter < 50; ++iter) {
    ConvAttributes a = random_conv(false);
    for (int bits : {1, 2, 4}) {
      a.bits.w = bits;
      if (conv_kernel(a, weight_layout(a, false)) != kernels::ConvKernel::reference) {
        describe("packed weights given to an Arm kernel", a, false);
        ++wrong;
      }
    }
    ConvAttributes d = random_conv(true);
    d.filters = d.input.c * pick({2, 3});
    if (conv_kernel(d, weight_layout(d, true)) != kernels::ConvKernel::reference) {
      describe("a channel multiplier given to the Arm depthwise kernel", d, false);
      ++wrong;
    }
  }
  return wrong;
}

}  // namespace

int main() {
  int conv = 0, depthwise = 0;
  failures += unsupported_run_reference();
  for (int iter = 0; iter < 2000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want = a.group == 1 ? conv_kernel_of_isa : depthwise_kernel_of_isa;
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    if (k != want) {
      describe("not run by the Arm kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<std::int8_t>(a, k) : accumulators_agree<std::uint8_t>(a, k);
    if (!ok) {
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    if constexpr (kernels::isa == kernels::Isa::arm_mve) {
      // The DSP kernels are built on the M55 too: compare them as well.
      const kernels::ConvKernel dsp =
          a.group == 1 ? kernels::ConvKernel::conv2d_arm_dsp : kernels::ConvKernel::depthwise_conv2d_arm_dsp;
      if (!(signed_input ? accumulators_agree<std::int8_t>(a, dsp) : accumulators_agree<std::uint8_t>(a, dsp))) {
        describe(kernels::conv_kernel_name(dsp), a, signed_input);
        ++failures;
      }
    }
    (dw ? depthwise : conv) += 1;
  }
  std::printf("arm kernels (%s): %d convolutions, %d depthwise convolutions: accumulators compared\n",
              kernels::isa_name(kernels::isa), conv, depthwise);
  int layers = 0;
  layers += compare_profile<arith::qlinear>(250);
  layers += compare_profile<arith::tflite>(200);
  layers += compare_profile<arith::tflite_single_rounding>(100);
  layers += compare_profile<arith::pow2>(100);
  layers += compare_profile<arith::gemmini>(80);
  layers += compare_profile<arith::akida_v1>(80);
  std::printf("arm kernels: %d layers (kernel, fused pool, requantization) compared\n", layers);
  int dense = compare_dense<arith::qlinear>(120) + compare_dense<arith::tflite>(80);
  std::printf("arm kernels: %d dense layers compared\n", dense);
  const int requantized = compare_requantize(300);
  std::printf("arm kernels: %d tflite requantizations compared\n", requantized);
  if (failures > 0 || conv < 1000 || depthwise < 500 || layers < 750) {
    std::printf("arm kernels: %d mismatches\n", failures);
    return 1;
  }
  std::printf("arm kernels: bit-exact against the reference kernels\n");
  return 0;
}
#endif  // STATIQ_KERNELS_ARM_DSP
