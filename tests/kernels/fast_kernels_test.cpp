// The fast kernels against the reference kernels, bit for bit, over thousands of random geometries:
// first the accumulators (the kernel alone), then whole layers (kernel + fused requantization, every
// arithmetic profile). Built once per ISA variant (tests/kernels/CMakeLists.txt); a variant the CPU
// cannot execute skips at run time with a message.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/quantize.hpp"
#include "cpu_variant.hpp"

using namespace statiq;

namespace {

bool cpu_runs_this_variant() { return statiq::test::cpu_runs_this_variant("fast_kernels_test"); }

// The group-1 convolution kernel of this build's ISA (the reference build never asks).
constexpr kernels::ConvKernel fast_conv2d =
    kernels::isa == kernels::Isa::avx2 ? kernels::ConvKernel::conv2d_avx2 : kernels::ConvKernel::conv2d_avx512_vnni;
constexpr kernels::ConvKernel fast_depthwise = kernels::isa == kernels::Isa::avx2
                                                   ? kernels::ConvKernel::depthwise_conv2d_avx2
                                                   : kernels::ConvKernel::depthwise_conv2d_avx512;

std::mt19937& rng() {
  static std::mt19937 g(20261206);
  return g;
}
int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng()); }
bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng()); }

int pick(std::initializer_list<int> v) { return *(v.begin() + uniform(0, int(v.size()) - 1)); }

// A random convolution: kernel 1..7 (not square), strides 1-2, dilation, asymmetric pads, channel
// counts around the vector widths, 1x1 spatial sizes; group 1 or depthwise (multipliers 1-7).
ConvAttributes random_conv(bool depthwise) {
  ConvAttributes a;
  a.kernel = {uniform(1, 7), uniform(1, 7)};
  if (coin(0.2)) a.kernel = {1, 1};
  a.strides = {uniform(1, 2), uniform(1, 2)};
  a.dilations = coin(0.2) ? Dilation{uniform(1, 2), uniform(1, 2)} : Dilation{1, 1};
  const int eh = (a.kernel.h - 1) * a.dilations.h + 1, ew = (a.kernel.w - 1) * a.dilations.w + 1;
  a.pads = Pads{uniform(0, eh - 1), uniform(0, ew - 1), uniform(0, eh - 1), uniform(0, ew - 1)};
  const int h = std::max(1, uniform(1, 12) + (coin(0.3) ? 0 : eh - a.pads.top - a.pads.bottom));
  const int w = std::max(1, uniform(1, 12) + (coin(0.3) ? 0 : ew - a.pads.left - a.pads.right));
  const int c = pick({1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 65});
  a.input = {h, w, c};
  // Depthwise with a channel multiplier now and then (output channel oc reads input channel oc / m).
  a.filters = depthwise ? c * (coin(0.3) ? pick({2, 3, 4, 7}) : 1)
                        : pick({1, 3, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 80, 96});
  a.group = depthwise ? c : 1;
  // The output must not be empty.
  if (conv_output_shape(a).h <= 0 || conv_output_shape(a).w <= 0) a.pads = Pads{eh - 1, ew - 1, eh - 1, ew - 1};
  return a;
}

// A random grouped convolution (1 < group < input channels: not depthwise), the rest as random_conv:
// channels per group around 4 (the dot product's width) and 16 (a vector of output channels).
ConvAttributes random_grouped() {
  ConvAttributes a = random_conv(false);
  const int groups = pick({2, 3, 4, 8});
  const int in_per_group = pick({2, 3, 4, 5, 8, 12, 16, 17});
  const int out_per_group = pick({1, 3, 8, 15, 16, 17, 24, 32, 33});
  a.input.c = groups * in_per_group;
  a.filters = groups * out_per_group;
  a.group = groups;
  if (coin(0.1)) {  // a single output pixel: the input is one window, unpadded
    a.pads = Pads{0, 0, 0, 0};
    a.input.h = (a.kernel.h - 1) * a.dilations.h + 1;
    a.input.w = (a.kernel.w - 1) * a.dilations.w + 1;
  }
  return a;
}

// The grouped convolution kernel of this build's ISA, or the reference where there is none.
constexpr kernels::ConvKernel fast_grouped = kernels::isa == kernels::Isa::avx512_vnni
                                                 ? kernels::ConvKernel::grouped_conv2d_avx512_vnni
                                             : kernels::isa == kernels::Isa::avx2 ? kernels::ConvKernel::grouped_conv2d_avx2
                                                                                  : kernels::ConvKernel::reference;

struct Operands {
  std::vector<std::int32_t> x;  // in the input's range
  std::vector<std::int32_t> w;  // logical OHWI
  std::vector<std::int32_t> bias;
  int x_zero_point = 0;
  int w_zero_point = 0;
};

// Values over the whole range, or pinned to the extremes (the largest accumulators).
Operands random_operands(std::size_t inputs, std::size_t weights, int channels, bool signed_input) {
  Operands o;
  const int lo = signed_input ? -128 : 0, hi = signed_input ? 127 : 255;
  const int mode = uniform(0, 3);
  o.x_zero_point = mode == 1 ? (signed_input ? 127 : 255) : mode == 2 ? lo : uniform(lo, hi);
  for (std::size_t i = 0; i < inputs; ++i) o.x.push_back(mode == 1 ? lo : mode == 2 ? hi : uniform(lo, hi));
  for (std::size_t i = 0; i < weights; ++i)
    o.w.push_back(mode == 1 ? 127 : mode == 2 ? -128 : mode == 3 && coin(0.3) ? 0 : uniform(-128, 127));
  for (int c = 0; c < channels; ++c) o.bias.push_back(uniform(-(1 << 20), 1 << 20));
  if (coin(0.1)) o.w_zero_point = uniform(-5, 5);
  return o;
}

template <class X>
std::vector<X> as_bytes(const std::vector<std::int32_t>& v) {
  return std::vector<X>(v.begin(), v.end());
}

// Per output channel, the sum of its weights, computed here in int64 from the logical weights (not
// with statiq::weight_sums, the function under test), then wrapped to int32 as the accumulators wrap.
std::vector<std::int32_t> independent_weight_sums(const std::vector<std::int32_t>& w, int channels) {
  std::vector<std::int32_t> sums;
  const std::size_t per_channel = w.size() / std::size_t(channels);
  for (int c = 0; c < channels; ++c) {
    std::int64_t s = 0;
    for (std::size_t i = 0; i < per_channel; ++i) s += w[std::size_t(c) * per_channel + i];
    sums.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(s)));
  }
  return sums;
}

// The layers' weight sums: supplied (the generator's case), or null (a LayerData built by hand:
// the layer computes them at each call), chosen at random so both paths meet every geometry.
const std::int32_t* sums_or_null(const std::vector<std::int32_t>& sums) { return coin() ? sums.data() : nullptr; }

std::string describe(const ConvAttributes& a) {
  char s[256];
  std::snprintf(s, sizeof s, "in %dx%dx%d filters %d kernel %dx%d strides %dx%d dilations %dx%d pads %d,%d,%d,%d group %d",
                a.input.h, a.input.w, a.input.c, a.filters, a.kernel.h, a.kernel.w, a.strides.h, a.strides.w,
                a.dilations.h, a.dilations.w, a.pads.top, a.pads.left, a.pads.bottom, a.pads.right, a.group);
  return s;
}

// The fast kernel's accumulators for every output pixel, as the epilogue receives them. sums: the
// weight sums handed to the kernel, or null for the layers' fallback (computed into scratch).
template <class X>
std::vector<std::int32_t> fast_accumulators(const ConvAttributes& a, const Operands& o, kernels::ConvKernel k,
                                            const std::int32_t* sums) {
  const auto g = conv_geometry(a);
  const WeightLayout layout = weight_layout(a, true);
  std::vector<std::uint8_t> w(layout.stored(o.w.size()));
  lay_out_weights(layout, o.w, o.w.size(), w.data());
  const auto x = as_bytes<X>(o.x);
  std::vector<std::int32_t> scratch(kernels::conv_kernel_scratch_words(k, g, layout, std::is_signed_v<X>) + 1, 0x5a5a5a5a);
  std::vector<std::int32_t> acc(std::size_t(g.out.size()), 0x7e7e7e7e);
  const std::int32_t* kernel_sums = detail::weight_sums_for(k, sums, weight_view<qint<8, true>>{w.data(), layout},
                                                            a.filters, weight_count(a) / std::size_t(a.filters),
                                                            scratch.data());
  detail::run_conv_kernel(k, g, x.data(), o.x_zero_point, layout, w.data(), o.w_zero_point, o.bias.data(),
                          kernel_sums, scratch.data(),
                          [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                            for (int p = 0; p < count; ++p)
                              std::copy_n(rows + std::size_t(p) * ld, g.out.c,
                                          acc.begin() + std::ptrdiff_t(first + p) * g.out.c);
                          });
  return acc;
}

std::vector<std::int32_t> reference_accumulators(const ConvAttributes& a, const Operands& o) {
  const auto g = conv_geometry(a);
  std::vector<std::int32_t> acc(std::size_t(g.out.size()));
  kernels::reference::conv2d(g, o.x.data(), o.x_zero_point, o.w.data(), o.w_zero_point, o.bias.data(), acc.data());
  return acc;
}

}  // namespace

TEST_CASE("fast convolution kernels equal the reference accumulators over random geometries") {
  if (!cpu_runs_this_variant()) return;
  if constexpr (kernels::isa == kernels::Isa::reference) {
    SUCCEED("reference build: no fast kernel to compare");
    return;
  }
  int compared = 0, conv = 0, depthwise = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    REQUIRE(k != kernels::ConvKernel::reference);  // every such geometry has a fast kernel
    const bool signed_input = coin();
    const Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const auto want = reference_accumulators(a, o);
    const auto sums = independent_weight_sums(o.w, a.filters);
    const std::int32_t* supplied = sums_or_null(sums);
    const auto got = signed_input ? fast_accumulators<std::int8_t>(a, o, k, supplied)
                                  : fast_accumulators<std::uint8_t>(a, o, k, supplied);
    INFO(describe(a) << (signed_input ? " int8" : " uint8") << " x_zp " << o.x_zero_point << " w_zp "
                     << o.w_zero_point << " kernel " << kernels::conv_kernel_name(k)
                     << (supplied ? " sums supplied" : " sums computed per call"));
    REQUIRE(got == want);
    ++compared;
    (k == kernels::ConvKernel::depthwise_conv2d_avx512 || k == kernels::ConvKernel::depthwise_conv2d_avx2 ? depthwise : conv) += 1;
  }
  CHECK(compared == 3000);
  CHECK(conv > 1500);
  CHECK(depthwise > 700);
}

TEST_CASE("a fast convolution that reads weight sums starts each channel from the supplied ones") {
  if (!cpu_runs_this_variant()) return;
  if (kernels::isa == kernels::Isa::reference || !kernels::conv_kernel_reads_weight_sums(fast_conv2d)) {
    SUCCEED("this build's convolution kernel reads no weight sums");
    return;
  }
  // 17 channels: the last one alone in its block of 16. Its sum off by one must move exactly its
  // accumulators, all by the same non-zero constant (the kernel's x_zero_point + flip).
  const ConvAttributes a{.input = {4, 5, 8}, .filters = 17, .kernel = {3, 3}};
  Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, false);
  o.x_zero_point = 10;
  const auto k = conv_kernel(a, weight_layout(a, true));
  REQUIRE(kernels::conv_kernel_reads_weight_sums(k));
  auto sums = independent_weight_sums(o.w, a.filters);
  const auto want = reference_accumulators(a, o);
  REQUIRE(fast_accumulators<std::uint8_t>(a, o, k, sums.data()) == want);
  REQUIRE(fast_accumulators<std::uint8_t>(a, o, k, nullptr) == want);
  sums[16] += 1;
  const auto off = fast_accumulators<std::uint8_t>(a, o, k, sums.data());
  const std::int32_t step = off[16] - want[16];
  CHECK(step != 0);
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("accumulator " << i);
    CHECK(off[i] - want[i] == (i % 17 == 16 ? step : 0));
  }
}

namespace {

// Random per-channel parameters of each profile, with ties and saturation in reach.
template <class P>
typename P::channel_params random_channel();
template <>
arith::qlinear::channel_params random_channel<arith::qlinear>() {
  // Powers of two make exact halves (ties) frequent; the others exercise float rounding.
  return {coin(0.3) ? 1.0f / float(1 << uniform(1, 12)) : std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
}
template <>
arith::tflite::channel_params random_channel<arith::tflite>() {
  return {uniform(1 << 30, 0x7fffffff), uniform(-20, 1)};
}
template <>
arith::tflite_single_rounding::channel_params random_channel<arith::tflite_single_rounding>() {
  return {uniform(1 << 30, 0x7fffffff), uniform(-20, 1)};
}
template <>
arith::tflite_x86::channel_params random_channel<arith::tflite_x86>() {
  return {uniform(1 << 30, 0x7fffffff), uniform(-20, 1)};
}
template <>
arith::pow2::channel_params random_channel<arith::pow2>() {
  return {static_cast<std::uint8_t>(uniform(1, 255)), uniform(8, 24)};
}
template <>
arith::gemmini::channel_params random_channel<arith::gemmini>() {
  return {std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
}
template <>
arith::akida_v1::channel_params random_channel<arith::akida_v1>() {
  return {uniform(-1000, 1000), uniform(1, 50000)};
}

template <class P>
typename P::output_params random_output(bool signed_output);
template <>
arith::qlinear::output_params random_output<arith::qlinear>(bool s) {
  const int zp = s ? uniform(-20, 20) : uniform(0, 40);
  return {zp, coin() ? zp : (s ? -128 : 0), s ? 127 : 255};
}
template <>
arith::tflite::output_params random_output<arith::tflite>(bool s) {
  const int zp = s ? uniform(-128, 20) : uniform(0, 40);
  return {zp, s ? (coin() ? zp : -128) : 0, s ? 127 : 255};
}
template <>
arith::tflite_single_rounding::output_params random_output<arith::tflite_single_rounding>(bool s) {
  const int zp = s ? uniform(-128, 20) : uniform(0, 40);
  return {zp, s ? (coin() ? zp : -128) : 0, s ? 127 : 255};
}
template <>
arith::tflite_x86::output_params random_output<arith::tflite_x86>(bool s) {
  const int zp = s ? uniform(-128, 20) : uniform(0, 40);
  return {zp, s ? (coin() ? zp : -128) : 0, s ? 127 : 255};
}
template <>
arith::pow2::output_params random_output<arith::pow2>(bool s) {
  return {s ? -128 : 0, s ? 127 : 255};
}
template <>
arith::gemmini::output_params random_output<arith::gemmini>(bool) {
  return {coin() ? 0 : -128, 127};
}
template <>
arith::akida_v1::output_params random_output<arith::akida_v1>(bool) {
  return {0, 15};
}

// The whole layer (kernel, fused pool, requantization) through the fast path and through the
// reference path (the same weights, row-major, which only the reference kernel takes).
template <class P, class X, class Y>
void compare_layer(const ConvAttributes& a, const Operands& o) {
  const WeightLayout fast_layout = weight_layout(a, true);
  std::vector<std::uint8_t> wf(fast_layout.stored(o.w.size())), wr(o.w.size());
  lay_out_weights(fast_layout, o.w, o.w.size(), wf.data());
  lay_out_weights(row_major_layout, o.w, o.w.size(), wr.data());
  std::vector<typename P::channel_params> ch;
  for (int c = 0; c < a.filters; ++c) ch.push_back(random_channel<P>());
  const auto out = random_output<P>(std::is_signed_v<Y>);
  const auto sums = independent_weight_sums(o.w, a.filters);
  const LayerData<P> d{o.bias.data(), ch.data(), out, o.x_zero_point, o.w_zero_point, sums_or_null(sums)};
  const auto x = as_bytes<X>(o.x);
  const std::size_t n = std::size_t(output_shape(a).size());
  std::vector<Y> yf(n, Y(0x55)), yr(n, Y(0x2a));
  std::vector<std::int32_t> sf(scratch_words(a, fast_layout)), sr(scratch_words(a, row_major_layout));
  compute<P>(a, x.data(), weight_view<qint<8, true>>{wf.data(), fast_layout}, d, yf.data(), sf.data());
  compute<P>(a, x.data(), weight_view<qint<8, true>>{wr.data(), row_major_layout}, d, yr.data(), sr.data());
  INFO(describe(a) << " profile " << P::name << " pool " << int(a.pool.kind)
                   << (d.weight_sums ? " sums supplied" : " sums computed per call"));
  REQUIRE(yf == yr);
}

template <class P>
void compare_profile(int iterations, bool grouped = false) {
  for (int iter = 0; iter < iterations; ++iter) {
    ConvAttributes a = grouped ? random_grouped() : random_conv(coin(0.3));
    if (coin(0.3)) {
      // Fused pools: 2x2/2, 3x3/3, and ResNet's overlapping 3x3/2 with a pixel of padding.
      const Shape s = conv_output_shape(a);
      const int choice = uniform(0, 2);
      if (choice == 0 && s.h >= 2 && s.w >= 2) a.pool = max_pool(2, 2);
      if (choice == 1 && s.h >= 3 && s.w >= 3) a.pool = max_pool(3, 3);
      if (choice == 2 && s.h >= 2 && s.w >= 2) a.pool = max_pool(Kernel{3, 3}, Stride{2, 2}, Pads{1, 1, 1, 1});
      if (choice == 2 && coin(0.3) && s.h >= 2 && s.w >= 2) a.pool = global_average_pool;
    }
    const bool signed_input = coin();
    a.signed_input = signed_input;
    const Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const bool signed_output = std::is_same_v<P, arith::gemmini> || (!std::is_same_v<P, arith::akida_v1> && coin());
    if (signed_input && signed_output) compare_layer<P, std::int8_t, std::int8_t>(a, o);
    else if (signed_input) compare_layer<P, std::int8_t, std::uint8_t>(a, o);
    else if (signed_output) compare_layer<P, std::uint8_t, std::int8_t>(a, o);
    else compare_layer<P, std::uint8_t, std::uint8_t>(a, o);
  }
}

}  // namespace

TEST_CASE("fast grouped convolutions equal the reference: accumulators, and layers of every profile") {
  if (!cpu_runs_this_variant()) return;
  int fast = 0;
  // The cases the kernel's paths hinge on, counted so the test shows it met them all.
  int weight_zero_point = 0, extremes = 0, signed_inputs = 0, dilated = 0, one_pixel = 0, padded_copy = 0,
      odd_inputs = 0, gathered = 0;
  for (int iter = 0; iter < 600; ++iter) {
    const ConvAttributes a = random_grouped();
    const WeightLayout layout = weight_layout(a, true);
    INFO(describe(a));
    // Per group an oc16_k4 block set, segments of one tap of the group's channels.
    REQUIRE(layout == WeightLayout{WeightOrder::oc16_k4, a.filters, a.kernel.h * a.kernel.w * (a.input.c / a.group),
                                   a.input.c / a.group, a.group});
    const kernels::ConvKernel k = conv_kernel(a, layout);
    REQUIRE(k == fast_grouped);
    if (k == kernels::ConvKernel::reference) continue;
    const bool signed_input = coin();
    const Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    INFO((signed_input ? "int8" : "uint8") << " x_zp " << o.x_zero_point << " w_zp " << o.w_zero_point);
    const auto sums = independent_weight_sums(o.w, a.filters);
    const std::int32_t* supplied = sums_or_null(sums);
    const auto got = signed_input ? fast_accumulators<std::int8_t>(a, o, k, supplied)
                                  : fast_accumulators<std::uint8_t>(a, o, k, supplied);
    REQUIRE(got == reference_accumulators(a, o));
    ++fast;
    const int in_per_group = a.input.c / a.group, out_per_group = a.filters / a.group;
    weight_zero_point += o.w_zero_point != 0;
    extremes += std::all_of(o.x.begin(), o.x.end(), [&](int v) { return v == o.x.front(); }) &&
                (o.x.front() == -128 || o.x.front() == 127 || o.x.front() == 0 || o.x.front() == 255);
    signed_inputs += signed_input;
    dilated += a.dilations.h > 1 || a.dilations.w > 1;
    one_pixel += conv_output_shape(a).h * conv_output_shape(a).w == 1;
    padded_copy += signed_input || in_per_group % 4 != 0 || a.pads.top + a.pads.left + a.pads.bottom + a.pads.right > 0;
    odd_inputs += in_per_group % 4 != 0;
    gathered += out_per_group % 16 != 0;
  }
  CHECK(fast == (fast_grouped == kernels::ConvKernel::reference ? 0 : 600));
  if (fast > 0) {
    INFO("w_zp " << weight_zero_point << " extremes " << extremes << " int8 " << signed_inputs << " dilated " << dilated
                 << " 1x1 out " << one_pixel << " padded copy " << padded_copy << " in/group % 4 " << odd_inputs
                 << " out/group % 16 " << gathered);
    CHECK(weight_zero_point > 20);
    CHECK(extremes > 100);
    CHECK(signed_inputs > 200);
    CHECK(dilated > 50);
    CHECK(one_pixel > 20);
    CHECK(padded_copy > 300);
    CHECK(600 - padded_copy > 20);  // read in place
    CHECK(odd_inputs > 150);
    CHECK(gathered > 300);
  }
  // Whole layers (kernel, fused pool, requantization) against the row-major reference path; in a build
  // without the grouped kernel, the reference kernel reading the grouped oc16_k4 order.
  compare_profile<arith::qlinear>(100, true);
  compare_profile<arith::tflite>(60, true);
  compare_profile<arith::tflite_single_rounding>(40, true);
  compare_profile<arith::tflite_x86>(40, true);
  compare_profile<arith::pow2>(60, true);
  compare_profile<arith::gemmini>(40, true);
  compare_profile<arith::akida_v1>(40, true);
}

TEST_CASE("grouped oc16_k4: each group's rows padded to 16 and stored as a block set of its own") {
  // 2 groups of 20 rows (padded to 32), 6 columns (segments of 3, padded to 4): 32 x 8 per group.
  constexpr WeightLayout l{WeightOrder::oc16_k4, 40, 6, 3, 2};
  CHECK(l.padded_rows() == 64);
  CHECK(l.stored(240) == 64 * 8);
  CHECK(l.index(0) == 0);
  CHECK(l.index(3) == 16 * 4);               // row 0, second segment: the next 4-column group
  CHECK(l.index(19 * 6) == 16 * 8 + 3 * 4);  // row 19: group 0's second block of 16 rows
  CHECK(l.index(20 * 6) == 32 * 8);          // row 20 starts group 1's block set
  CHECK(l.index(21 * 6 + 4) == 32 * 8 + 64 + 4 + 1);
  std::vector<int> hits(l.stored(240), 0);
  for (std::size_t i = 0; i < 240; ++i) ++hits[l.index(i)];
  CHECK(std::count(hits.begin(), hits.end(), 1) == 240);
}

TEST_CASE("fast convolution layers equal the reference layers for every profile") {
  if (!cpu_runs_this_variant()) return;
  compare_profile<arith::qlinear>(600);
  compare_profile<arith::tflite>(400);
  compare_profile<arith::tflite_single_rounding>(300);
  compare_profile<arith::tflite_x86>(300);
  compare_profile<arith::pow2>(300);
  compare_profile<arith::gemmini>(200);
  compare_profile<arith::akida_v1>(200);
}

namespace {
template <class P>
void compare_dense(int iterations) {
  for (int iter = 0; iter < iterations; ++iter) {
    DenseAttributes a;
    a.input = {1, 1, pick({1, 3, 4, 15, 16, 63, 64, 65, 256, 257, 1000, 2048})};
    if (coin(0.3)) a.input = {uniform(1, 6), uniform(1, 6), uniform(1, 40)};
    a.units = pick({1, 2, 10, 15, 16, 17, 64, 100, 128});
    const bool signed_input = coin();
    a.signed_input = signed_input;
    const Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.units, signed_input);
    const WeightLayout fast_layout = weight_layout(a, true);
    if constexpr (kernels::isa != kernels::Isa::reference)
      REQUIRE(dense_kernel(a, fast_layout) != kernels::ConvKernel::reference);
    std::vector<std::uint8_t> wf(fast_layout.stored(o.w.size())), wr(o.w.size());
    lay_out_weights(fast_layout, o.w, o.w.size(), wf.data());
    lay_out_weights(row_major_layout, o.w, o.w.size(), wr.data());
    std::vector<typename P::channel_params> ch;
    for (int c = 0; c < a.units; ++c) ch.push_back(random_channel<P>());
    const auto sums = independent_weight_sums(o.w, a.units);
    const LayerData<P> d{o.bias.data(), ch.data(), random_output<P>(false), o.x_zero_point, o.w_zero_point,
                         sums_or_null(sums)};
    std::vector<std::uint8_t> yf(std::size_t(a.units), 1), yr(std::size_t(a.units), 2);
    std::vector<std::int32_t> sf(scratch_words(a, fast_layout)), sr(scratch_words(a, row_major_layout));
    if (signed_input) {
      const auto x = as_bytes<std::int8_t>(o.x);
      compute<P>(a, x.data(), weight_view<qint<8, true>>{wf.data(), fast_layout}, d, yf.data(), sf.data());
      compute<P>(a, x.data(), weight_view<qint<8, true>>{wr.data(), row_major_layout}, d, yr.data(), sr.data());
    } else {
      const auto x = as_bytes<std::uint8_t>(o.x);
      compute<P>(a, x.data(), weight_view<qint<8, true>>{wf.data(), fast_layout}, d, yf.data(), sf.data());
      compute<P>(a, x.data(), weight_view<qint<8, true>>{wr.data(), row_major_layout}, d, yr.data(), sr.data());
    }
    INFO("dense " << a.input.size() << " -> " << a.units << (signed_input ? " int8" : " uint8") << " profile "
                  << P::name << (d.weight_sums ? " sums supplied" : " sums computed per call"));
    REQUIRE(yf == yr);
  }
}
}  // namespace

TEST_CASE("fast dense equals the reference dense") {
  if (!cpu_runs_this_variant()) return;
  compare_dense<arith::qlinear>(400);
  compare_dense<arith::tflite_x86>(200);  // ruy's GEMM output stage
}

namespace {

// A dynamic layer (float in, run-time uint8 quantization, int8 weights, float out) run through the
// fast kernels (weights in the layout they read) and through the reference kernels (row-major).
template <class A>
void compare_dynamic(const A& a, std::size_t weights, int channels, std::vector<float>& x, bool grouped = false) {
  std::vector<std::int32_t> w;
  for (std::size_t i = 0; i < weights; ++i) w.push_back(uniform(-127, 127));
  std::vector<float> bias, scale;
  for (int c = 0; c < channels; ++c) {
    bias.push_back(float(uniform(-1000, 1000)) / 256.0f);
    scale.push_back(float(uniform(1, 1000)) / 65536.0f);
  }
  const bool per_channel = coin();
  const DynamicData d{bias.data(), scale.data(), per_channel, float(uniform(1, 8))};
  const WeightLayout fast_layout = dynamic_weight_layout(a);
  if constexpr (kernels::isa != kernels::Isa::reference) {
    if (!grouped) REQUIRE(dynamic_kernel(a) != kernels::ConvKernel::reference);  // (grouped: fast_grouped, checked by the caller)
  }
  std::vector<std::uint8_t> wf(fast_layout.stored(w.size())), wr(w.size());
  lay_out_weights(fast_layout, w, w.size(), wf.data());
  lay_out_weights(row_major_layout, w, w.size(), wr.data());
  const std::size_t n = std::size_t(output_shape(a).size());
  std::vector<float> yf(n, 1.5f), yr(n, -2.5f);
  std::vector<std::int32_t> sf(dynamic_scratch_words(a)), sr(scratch_words(detail::dynamic_integer_part(a), row_major_layout) +
                                                               (x.size() + 3) / 4);
  compute_dynamic(a, x.data(), weight_view<qint<8, true>>{wf.data(), fast_layout}, d, yf.data(), sf.data());
  compute_dynamic(a, x.data(), weight_view<qint<8, true>>{wr.data(), row_major_layout}, d, yr.data(), sr.data());
  // Bit for bit, -0.0 and NaN included: compare the representations.
  std::vector<std::uint32_t> bf(n), br(n);
  std::memcpy(bf.data(), yf.data(), n * 4);
  std::memcpy(br.data(), yr.data(), n * 4);
  REQUIRE(bf == br);
}

std::vector<float> random_floats(std::size_t n) {
  std::vector<float> x;
  const float spread = float(pick({1, 10, 1000}));
  const bool nonnegative = coin(0.3);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = float(uniform(-100000, 100000)) / 100000.0f * spread;
    x.push_back(nonnegative ? std::fabs(v) : v);
  }
  if (coin(0.05)) std::fill(x.begin(), x.end(), 0.0f);  // the empty range: scale 1, zero point 0
  return x;
}

}  // namespace

TEST_CASE("fast dynamic layers equal the reference dynamic layers (float out, bit for bit)") {
  if (!cpu_runs_this_variant()) return;
  for (int iter = 0; iter < 300; ++iter) {
    ConvAttributes a = random_conv(coin(0.3));
    const Shape s = conv_output_shape(a);
    if (coin(0.3) && s.h >= 2 && s.w >= 2)
      a.pool = coin() ? max_pool(2, 2) : max_pool(Kernel{3, 3}, Stride{2, 2}, Pads{1, 1, 1, 1});
    a.activation = pick({0, 1, 2}) == 0 ? no_activation : coin() ? relu : clipped_relu;
    std::vector<float> x = random_floats(std::size_t(a.input.size()));
    INFO("dynamic " << describe(a) << " pool " << int(a.pool.kind));
    compare_dynamic(a, weight_count(a), a.filters, x);
  }
  for (int iter = 0; iter < 60; ++iter) {  // grouped
    ConvAttributes a = random_grouped();
    a.activation = coin() ? no_activation : relu;
    std::vector<float> x = random_floats(std::size_t(a.input.size()));
    INFO("dynamic " << describe(a));
    REQUIRE(dynamic_kernel(a) == fast_grouped);
    compare_dynamic(a, weight_count(a), a.filters, x, true);
  }
  for (int iter = 0; iter < 200; ++iter) {
    DenseAttributes a;
    a.input = {1, 1, pick({1, 3, 4, 15, 16, 63, 64, 65, 256, 257, 1000})};
    a.units = pick({1, 2, 10, 15, 16, 17, 64, 100});
    a.activation = coin() ? no_activation : relu;
    std::vector<float> x = random_floats(std::size_t(a.input.size()));
    INFO("dynamic dense " << a.input.size() << " -> " << a.units);
    compare_dynamic(a, weight_count(a), a.units, x);
  }
}
TEST_CASE("weight layouts map every logical index to a distinct stored byte") {
  for (WeightOrder order : {WeightOrder::row_major, WeightOrder::oc16_k4, WeightOrder::tap_major}) {
    for (int rows : {1, 15, 16, 17, 40})
      for (int cols : {1, 3, 4, 9, 25, 64}) {
        const WeightLayout l{order, rows, cols};
        const std::size_t n = std::size_t(rows) * std::size_t(cols);
        std::vector<int> hits(l.stored(n), 0);
        for (std::size_t i = 0; i < n; ++i) {
          REQUIRE(l.index(i) < hits.size());
          ++hits[l.index(i)];
        }
        REQUIRE(std::count(hits.begin(), hits.end(), 1) == std::ptrdiff_t(n));
        REQUIRE(std::count(hits.begin(), hits.end(), 0) == std::ptrdiff_t(hits.size() - n));
      }
  }
  // oc16_k4: the 4 reduction elements of one output channel are adjacent, 16 channels a 64-byte block.
  const WeightLayout l{WeightOrder::oc16_k4, 20, 10};
  CHECK(l.stored(200) == 32 * 12);
  CHECK(l.index(0) == 0);
  CHECK(l.index(1) == 1);
  CHECK(l.index(4) == 64);
  CHECK(l.index(10) == 4);              // row 1, col 0
  CHECK(l.index(16 * 10) == 16 * 12);   // row 16 starts the second block
}

TEST_CASE("packed tap_major weights: a vector of 16 channels per tap, 4 bits each, low bits first") {
  // 20 channels (padded to 32), 3 taps: logical weight (c, t) = c * 3 + t.
  constexpr WeightLayout l{WeightOrder::tap_major, 20, 3};
  qarray<qint<4, true>, 60, true, l> a;
  static_assert(decltype(a)::byte_size == 32 * 3 / 2);
  for (int c = 0; c < 20; ++c)
    for (int t = 0; t < 3; ++t) a.set(std::size_t(c * 3 + t), (c + t) % 16 - 8);
  for (int c = 0; c < 20; ++c)
    for (int t = 0; t < 3; ++t) REQUIRE(a[std::size_t(c * 3 + t)] == (c + t) % 16 - 8);
  // Tap 1, channels 0 and 1: -7 and -6, nibbles 0x9 (low) and 0xa (high).
  CHECK(a.bytes()[16] == 0xa9);
  // Tap 0, channels 18 and 19 (in the second vector of 16): 10 - 16 and 11 - 16, then padding zero.
  CHECK(a.bytes()[9] == 0xba);
  CHECK(a.bytes()[10] == 0);
  const qview<qint<4, true>, 60, true, l> v(a);
  CHECK(v[19 * 3 + 2] == -3);
}

namespace {

template <class T>
void compare_max_pool(Shape in, Kernel k, Stride s, Pads p, Shape out) {
  const int lo = std::is_same_v<T, std::int32_t> ? -(1 << 30) : std::is_signed_v<T> ? -128 : 0;
  const int hi = std::is_same_v<T, std::int32_t> ? (1 << 30) : std::is_signed_v<T> ? 127 : 255;
  std::vector<T> x(std::size_t(in.size()));
  for (auto& v : x) v = static_cast<T>(uniform(lo, hi));
  std::vector<T> fast(std::size_t(out.size()), T(1)), ref(std::size_t(out.size()), T(2));
  kernels::max_pool(in, out, k, s, p, x.data(), fast.data());
  kernels::reference::max_pool(in, out, k, s, p, x.data(), ref.data());
  REQUIRE(fast == ref);
}

template <class X>
void compare_sums(Shape in, Kernel k, Stride s, Pads p, Shape out) {
  std::vector<X> x(std::size_t(in.size()));
  for (auto& v : x) v = static_cast<X>(uniform(std::is_signed_v<X> ? -128 : 0, std::is_signed_v<X> ? 127 : 255));
  const int zp = uniform(-128, 255);
  std::vector<std::int32_t> fast(std::size_t(out.size()), 1), ref(std::size_t(out.size()), 2);
  kernels::window_sum(in, out, k, s, p, x.data(), zp, fast.data());
  kernels::reference::window_sum(in, out, k, s, p, x.data(), zp, ref.data());
  REQUIRE(fast == ref);
  std::vector<std::int32_t> gf(std::size_t(in.c), 1), gr(std::size_t(in.c), 2);
  kernels::global_sum(in, x.data(), zp, gf.data());
  kernels::reference::global_sum(in, x.data(), zp, gr.data());
  REQUIRE(gf == gr);
}

}  // namespace

TEST_CASE("fast pooling equals the reference pooling") {
  if (!cpu_runs_this_variant()) return;
  for (int iter = 0; iter < 500; ++iter) {
    const Kernel k{uniform(1, 4), uniform(1, 4)};
    const Stride s{uniform(1, 3), uniform(1, 3)};
    const Pads p{uniform(0, k.h - 1), uniform(0, k.w - 1), uniform(0, k.h - 1), uniform(0, k.w - 1)};
    const Shape in{uniform(k.h, 14), uniform(k.w, 14), pick({1, 3, 8, 15, 16, 17, 33, 64, 65, 100, 130})};
    const Shape out{window_output(in.h, p.top, p.bottom, k.h, s.h, 1), window_output(in.w, p.left, p.right, k.w, s.w, 1),
                    in.c};
    INFO("in " << in.h << "x" << in.w << "x" << in.c << " kernel " << k.h << "x" << k.w << " stride " << s.h << "x"
               << s.w);
    compare_max_pool<std::int32_t>(in, k, s, p, out);
    compare_max_pool<std::int8_t>(in, k, s, p, out);
    compare_max_pool<std::uint8_t>(in, k, s, p, out);
    compare_sums<std::int8_t>(in, k, s, p, out);
    compare_sums<std::uint8_t>(in, k, s, p, out);
  }
}

TEST_CASE("fast QLinearAdd equals the scalar definition") {
  if (!cpu_runs_this_variant()) return;
  for (int iter = 0; iter < 300; ++iter) {
    const Shape shape{uniform(1, 9), uniform(1, 9), pick({1, 3, 15, 16, 17, 64, 70})};
    const AddAttributes a{.shape = shape};
    const bool sa = coin(), sb = coin(), sy = coin();
    const int za = uniform(sa ? -128 : 0, sa ? 127 : 255), zb = uniform(sb ? -128 : 0, sb ? 127 : 255);
    const int zy = uniform(sy ? -128 : 0, sy ? 127 : 255);
    const int lo = sy ? -128 : 0, hi = sy ? 127 : 255;
    // Ratios from ordinary to huge (values far outside the output range saturate).
    const float scale = coin(0.1) ? 1e-7f : std::uniform_real_distribution<float>(0.005f, 0.2f)(rng());
    const auto p = arith::qlinear::make_add(std::uniform_real_distribution<float>(0.005f, 0.2f)(rng()), za,
                                            std::uniform_real_distribution<float>(0.005f, 0.2f)(rng()), zb, scale, zy,
                                            coin() ? zy : lo, hi);
    const auto run = [&]<class A, class B, class Y>(A*, B*, Y*) {
      std::vector<A> xa(std::size_t(shape.size()));
      std::vector<B> xb(xa.size());
      for (auto& v : xa) v = static_cast<A>(uniform(std::is_signed_v<A> ? -128 : 0, std::is_signed_v<A> ? 127 : 255));
      for (auto& v : xb) v = static_cast<B>(uniform(std::is_signed_v<B> ? -128 : 0, std::is_signed_v<B> ? 127 : 255));
      std::vector<Y> fast(xa.size()), ref(xa.size());
      compute<arith::qlinear>(a, xa.data(), xb.data(), p, fast.data());
      for (std::size_t i = 0; i < xa.size(); ++i) ref[i] = static_cast<Y>(arith::qlinear::add(xa[i], xb[i], p));
      REQUIRE(fast == ref);
    };
    using s8 = std::int8_t;
    using u8 = std::uint8_t;
    if (sa && sb) sy ? run((s8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (s8*)nullptr, (u8*)nullptr);
    else if (sa) sy ? run((s8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (u8*)nullptr, (u8*)nullptr);
    else if (sb) sy ? run((u8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (s8*)nullptr, (u8*)nullptr);
    else sy ? run((u8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (u8*)nullptr, (u8*)nullptr);
  }
}

TEST_CASE("fast convolution kernels equal the reference on long reductions (chunked, many segments)") {
  if (!cpu_runs_this_variant()) return;
  if constexpr (kernels::isa == kernels::Isa::reference) return;
  for (int iter = 0; iter < 40; ++iter) {
    ConvAttributes a;
    a.kernel = {uniform(1, 3), uniform(1, 3)};
    a.pads = Pads{uniform(0, a.kernel.h - 1), uniform(0, a.kernel.w - 1), uniform(0, a.kernel.h - 1),
                  uniform(0, a.kernel.w - 1)};
    a.strides = {uniform(1, 2), uniform(1, 2)};
    a.input = {uniform(a.kernel.h, 9), uniform(a.kernel.w, 9), pick({129, 255, 256, 300, 512})};
    a.filters = pick({16, 48, 64, 80, 130});
    const bool signed_input = coin();
    a.signed_input = signed_input;
    const Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    REQUIRE(k == fast_conv2d);
    const auto sums = independent_weight_sums(o.w, a.filters);
    const std::int32_t* supplied = sums_or_null(sums);
    const auto got = signed_input ? fast_accumulators<std::int8_t>(a, o, k, supplied)
                                  : fast_accumulators<std::uint8_t>(a, o, k, supplied);
    INFO(describe(a) << (supplied ? " sums supplied" : " sums computed per call"));
    REQUIRE(got == reference_accumulators(a, o));
  }
}

TEST_CASE("fast Quantize equals the scalar rule (ties, saturation, infinities, NaN)") {
  if (!cpu_runs_this_variant()) return;
  for (int iter = 0; iter < 200; ++iter) {
    const QuantizeAttributes a{.shape = {1, uniform(1, 7), pick({1, 3, 15, 16, 17, 40})}, .bits = 8,
                               .signed_output = coin()};
    const float scale = coin(0.3) ? 1.0f / float(1 << uniform(0, 8)) : std::uniform_real_distribution<float>(1e-4f, 1.0f)(rng());
    const int zp = a.signed_output ? uniform(-128, 127) : uniform(0, 255);
    std::vector<float> x(std::size_t(a.shape.size()));
    for (auto& v : x) {
      switch (uniform(0, 5)) {
        case 0: v = scale * (float(uniform(-300, 300)) + 0.5f); break;  // exact ties
        case 1: v = std::numeric_limits<float>::infinity() * (coin() ? 1.0f : -1.0f); break;
        case 2: v = coin(0.2) ? std::numeric_limits<float>::quiet_NaN() : 1e30f * (coin() ? 1.0f : -1.0f); break;
        default: v = std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng()) * scale * 100.0f;
      }
    }
    const auto run = [&]<class Y>(Y*) {
      std::vector<Y> fast(x.size()), ref(x.size());
      compute<arith::qlinear>(a, x.data(), scale, zp, fast.data());
      for (std::size_t i = 0; i < x.size(); ++i)
        ref[i] = static_cast<Y>(detail::quantize_value<arith::qlinear>(x[i], scale, zp, qmin(8, a.signed_output),
                                                                         qmax(8, a.signed_output)));
      REQUIRE(fast == ref);
    };
    if (a.signed_output) run(static_cast<std::int8_t*>(nullptr));
    else run(static_cast<std::uint8_t*>(nullptr));
  }
}

TEST_CASE("fast Dequantize equals the scalar rule, bit for bit (every code, odd lengths, extreme scales)") {
  if (!cpu_runs_this_variant()) return;
  for (int iter = 0; iter < 300; ++iter) {
    const DequantizeAttributes a{.shape = {1, uniform(1, 5), pick({1, 3, 15, 16, 17, 40, 256})}, .bits = 8,
                                 .signed_input = coin()};
    float scale = std::uniform_real_distribution<float>(1e-6f, 4.0f)(rng());
    if (coin(0.2)) scale = 1.0f / float(1 << uniform(0, 20));                   // a power of two (Akida)
    if (coin(0.1)) scale = coin() ? std::numeric_limits<float>::denorm_min() : 3e38f;  // under/overflow
    const int zp = a.signed_input ? uniform(-128, 127) : uniform(0, 255);
    const auto run = [&]<class X>(X*) {
      std::vector<X> x(std::size_t(a.shape.size()));
      for (std::size_t i = 0; i < x.size(); ++i)  // every code in turn, then random ones
        x[i] = static_cast<X>(i < 256 ? int(i) + (std::is_signed_v<X> ? -128 : 0)
                                      : uniform(std::is_signed_v<X> ? -128 : 0, std::is_signed_v<X> ? 127 : 255));
      std::vector<float> fast(x.size(), -1.0f), ref(x.size());
      compute(a, x.data(), scale, zp, fast.data());
      for (std::size_t i = 0; i < x.size(); ++i) ref[i] = arith::dequantize(x[i], scale, zp);
      REQUIRE(std::memcmp(fast.data(), ref.data(), fast.size() * sizeof(float)) == 0);
    };
    if (a.signed_input) run(static_cast<std::int8_t*>(nullptr));
    else run(static_cast<std::uint8_t*>(nullptr));
  }
}

namespace {

// Accumulators a requantization must get right: ties, the int32 extremes, small odd values.
std::int32_t hard_accumulator() {
  switch (uniform(0, 5)) {
    case 0: return std::numeric_limits<std::int32_t>::min() + uniform(0, 3);
    case 1: return std::numeric_limits<std::int32_t>::max() - uniform(0, 3);
    case 2: return uniform(-9, 9);
    case 3: return uniform(-1 << 20, 1 << 20) | 1;
    default: return static_cast<std::int32_t>(rng()());
  }
}

// `gemm`: the output stage of a GEMM layer (arith::requantize_gemm: ruy's in tflite_x86).
template <class P>
void compare_requantize_rows(typename P::channel_params (*channel)(), int iterations, bool gemm = false,
                             typename P::output_params (*output)(bool) = random_output<P>) {
  for (int iter = 0; iter < iterations; ++iter) {
    const int pixels = uniform(1, 5), n = pick({1, 7, 16, 17, 33});
    const std::size_t ld = std::size_t(n) + std::size_t(uniform(0, 20));
    std::vector<std::int32_t> acc(ld * std::size_t(pixels));
    for (auto& v : acc) v = hard_accumulator();
    std::vector<typename P::channel_params> ch;
    for (int c = 0; c < n; ++c) ch.push_back(channel());
    const bool s = coin();
    const auto out = output(s);
    const LayerData<P> d{nullptr, ch.data(), out, 0, 0};
    const auto run = [&]<class Y>(Y*) {
      std::vector<Y> fast(std::size_t(pixels * n)), ref(fast.size());
      detail::requantize_rows(acc.data(), ld, pixels, n, d, fast.data(), gemm);
      for (int p = 0; p < pixels; ++p)
        for (int c = 0; c < n; ++c) {
          const std::int32_t a = acc[std::size_t(p) * ld + std::size_t(c)];
          ref[std::size_t(p * n + c)] = static_cast<Y>(gemm ? arith::requantize_gemm<P>(a, ch[std::size_t(c)], out)
                                                            : P::requantize(a, ch[std::size_t(c)], out));
        }
      REQUIRE(fast == ref);
    };
    if (s) run(static_cast<std::int8_t*>(nullptr));
    else run(static_cast<std::uint8_t*>(nullptr));
  }
}

template <class P>
typename P::channel_params tflite_hard_channel() {
  // 2^30 makes x * m an exact half for odd x: the nudge's rounding decides.
  return {coin(0.4) ? (1 << 30) : coin(0.2) ? 0x7fffffff : uniform(1 << 30, 0x7fffffff), uniform(-31, 1)};
}

// pow2: every mantissa, right shifts (ties at 1 and beyond the product's bits), exact left shifts.
arith::pow2::channel_params pow2_hard_channel() {
  return {static_cast<std::uint8_t>(coin(0.2) ? pick({0, 1, 128, 255}) : uniform(0, 255)),
          coin(0.2) ? uniform(-8, 0) : coin(0.1) ? uniform(41, 64) : uniform(1, 40)};
}
// Bounds of 8 and 4 bits, accumulator clips inside and outside int32 (the latter: the scalar rule).
arith::pow2::output_params pow2_hard_output(bool s) {
  arith::pow2::output_params out{s ? -128 : 0, s ? 127 : 255};
  if (coin(0.2)) out = {s ? -8 : 0, s ? 7 : 15};
  switch (uniform(0, 5)) {
    case 0: out.accumulator_clip = uniform(0, 1 << 20); break;
    case 1: out.accumulator_clip = std::numeric_limits<std::int32_t>::min() + uniform(0, 2); break;
    case 2: out.accumulator_clip = std::int64_t{std::numeric_limits<std::int32_t>::max()} + uniform(-2, 2); break;
    case 3: out.accumulator_clip = std::int64_t{std::numeric_limits<std::int32_t>::min()} - 1 - uniform(0, 5); break;
    default: break;  // no clip
  }
  return out;
}
// akida_v1: thresholds over int32, steps from 1 to past the vector path's bound ((hi + 1) * step < 2^31).
arith::akida_v1::channel_params akida_v1_hard_channel() {
  const std::int32_t threshold = coin(0.3) ? static_cast<std::int32_t>(rng()()) : uniform(-1000, 1000);
  const std::int32_t step = coin(0.2) ? 1 : coin(0.1) ? uniform(1 << 26, std::numeric_limits<std::int32_t>::max())
                                                      : uniform(1, coin() ? 7 : 1 << 20);
  return {threshold, step};
}
arith::akida_v1::output_params akida_v1_hard_output(bool) {
  switch (uniform(0, 4)) {
    case 0: return {0, 1};
    case 1: return {0, 3};
    case 2: return {0, 255};
    case 3: return {2, 9};
    default: return {0, 15};
  }
}
arith::gemmini::channel_params gemmini_hard_channel() {
  return {coin(0.5) ? 1.0f / float(1 << uniform(0, 30)) : std::uniform_real_distribution<float>(1e-9f, 2.0f)(rng())};
}
arith::gemmini::output_params gemmini_hard_output(bool) {
  return {pick({-128, 0}), coin(0.2) ? arith::gemmini::relu6_max(uniform(0, 4)) : 127};
}

arith::qlinear::channel_params qlinear_hard_channel() {
  return {coin(0.5) ? 1.0f / float(1 << uniform(1, 30)) : std::uniform_real_distribution<float>(1e-9f, 1.0f)(rng())};
}

}  // namespace

TEST_CASE("vectorized requantization equals each profile's scalar rule on ties and extremes") {
  if (!cpu_runs_this_variant()) return;
  compare_requantize_rows<arith::tflite>(tflite_hard_channel<arith::tflite>, 2000);
  compare_requantize_rows<arith::tflite_single_rounding>(tflite_hard_channel<arith::tflite_single_rounding>, 2000);
  compare_requantize_rows<arith::tflite_x86>(tflite_hard_channel<arith::tflite_x86>, 2000, true);   // ruy's stage
  compare_requantize_rows<arith::tflite_x86>(tflite_hard_channel<arith::tflite_x86>, 1000, false);  // gemmlowp's
  compare_requantize_rows<arith::tflite>(tflite_hard_channel<arith::tflite>, 500, true);  // no GEMM stage of its own
  compare_requantize_rows<arith::qlinear>(qlinear_hard_channel, 2000);
  compare_requantize_rows<arith::pow2>(pow2_hard_channel, 3000, false, pow2_hard_output);
  compare_requantize_rows<arith::akida_v1>(akida_v1_hard_channel, 3000, false, akida_v1_hard_output);
  compare_requantize_rows<arith::gemmini>(gemmini_hard_channel, 2000, false, gemmini_hard_output);
}

// akida_v1 at the edges of its exact division: every accumulator around each level's boundary
// threshold + k * step (k = 0 .. hi + 1, +-1), the largest steps the vector path takes, int32 extremes.
TEST_CASE("vectorized akida_v1 activation equals the scalar ceiling at every level boundary") {
  if (!cpu_runs_this_variant()) return;
  using P = arith::akida_v1;
  for (const std::int32_t hi : {1, 15, 255})
    for (const std::int32_t step : {1, 2, 3, 7, 1000, 65537, (1 << 23) - 1, std::numeric_limits<std::int32_t>::max() / (hi + 1)})
      for (const std::int32_t threshold : {std::numeric_limits<std::int32_t>::min() + 5, -12345, 0, 777, 1 << 29}) {
        std::vector<std::int32_t> xs = {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
        for (std::int64_t k = 0; k <= hi + 1; ++k)
          for (int e = -1; e <= 1; ++e) {
            const std::int64_t v = threshold + k * step + e;
            if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max())
              xs.push_back(static_cast<std::int32_t>(v));
          }
        const std::vector<P::channel_params> ch(xs.size(), P::channel_params{threshold, step});
        const P::output_params out{0, hi};
        const LayerData<P> d{nullptr, ch.data(), out, 0, 0};
        std::vector<std::uint8_t> fast(xs.size());
        detail::requantize_rows(xs.data(), xs.size(), 1, int(xs.size()), d, fast.data(), false);
        for (std::size_t i = 0; i < xs.size(); ++i) {
          INFO("acc " << xs[i] << " threshold " << threshold << " step " << step << " hi " << hi);
          REQUIRE(fast[i] == P::requantize(xs[i], ch[i], out));
        }
      }
}

// ruy's stage at the edges, every lane: the 32-bit left shift that wraps, a multiplier of 1 - 2^-31
// on INT32 extremes (the zero point's 32-bit sum wraps past them), negative ties at every right shift.
TEST_CASE("vectorized ruy output stage equals tflite_x86::requantize_gemm at INT32 extremes and ties") {
  if (!cpu_runs_this_variant()) return;
  using P = arith::tflite_x86;
  constexpr std::int32_t lo32 = std::numeric_limits<std::int32_t>::min(), hi32 = std::numeric_limits<std::int32_t>::max();
  const std::vector<std::int32_t> xs = {lo32, lo32 + 1, -(1 << 30) - 1, -6, -5, -3, -1, 0, 1, 3, 5, 6, (1 << 30) + 1,
                                        hi32 - 1, hi32};
  std::size_t wrapped = 0;
  for (const std::int32_t zp : {-128, -5, 0, 5, 127})
    for (int shift = -31; shift <= 3; ++shift)
      for (const std::int32_t m : {0, 1 << 30, 1610612736, hi32}) {
        const int n = int(xs.size());
        const std::vector<P::channel_params> ch(xs.size(), P::channel_params{m, shift});
        const P::output_params out{zp, -128, 127};
        const LayerData<P> d{nullptr, ch.data(), out, 0, 0};
        std::vector<std::int8_t> fast(xs.size());
        detail::requantize_rows(xs.data(), xs.size(), 1, n, d, fast.data(), true);
        for (std::size_t i = 0; i < xs.size(); ++i) {
          INFO("x " << xs[i] << " m " << m << " shift " << shift << " zp " << zp);
          REQUIRE(fast[i] == P::requantize_gemm(xs[i], ch[i], out));
          const std::int64_t r = P::ruy_multiply_by_quantized_multiplier(xs[i], m, shift);
          wrapped += r + zp > hi32 || r + zp < lo32;
        }
      }
  CHECK(wrapped > 0);  // the zero point's wrap was exercised
}

namespace {
// A 4x4x16 int8 map of -6, through a 1x1 group-1 convolution with identity weights, a 1x1 depthwise
// convolution of weight 1, or a Dense with identity weights (a 16-pixel map's first pixel is 16
// inputs): every accumulator is -6; with the multiplier 0.25 = (2^30, -1) the output is -1.5.
template <class P>
std::vector<std::int8_t> minus_one_and_a_half(bool depthwise, bool dense, bool fast_layout) {
  const std::vector<std::int32_t> bias(16, 0);
  const std::vector<typename P::channel_params> ch(16, typename P::channel_params{1 << 30, -1});
  const LayerData<P> d{bias.data(), ch.data(), typename P::output_params{5, -128, 127}, 0, 0};
  std::vector<std::int32_t> w;
  for (int o = 0; o < 16; ++o)
    for (int c = 0; c < (depthwise ? 1 : 16); ++c) w.push_back(depthwise || o == c ? 1 : 0);
  const std::vector<std::int8_t> x(4 * 4 * 16, std::int8_t(-6));
  if (dense) {
    DenseAttributes a;
    a.input = {1, 1, 16};
    a.units = 16;
    a.signed_input = a.signed_output = true;
    const WeightLayout layout = fast_layout ? weight_layout(a, true) : row_major_layout;
    std::vector<std::uint8_t> wb(layout.stored(w.size()));
    lay_out_weights(layout, w, w.size(), wb.data());
    std::vector<std::int8_t> y(16);
    std::vector<std::int32_t> scratch(scratch_words(a, layout));
    compute<P>(a, x.data(), weight_view<qint<8, true>>{wb.data(), layout}, d, y.data(), scratch.data());
    return y;
  }
  ConvAttributes a;
  a.input = {4, 4, 16};
  a.filters = 16;
  a.group = depthwise ? 16 : 1;
  a.signed_input = a.signed_output = true;
  const WeightLayout layout = fast_layout ? weight_layout(a, true) : row_major_layout;
  std::vector<std::uint8_t> wb(layout.stored(w.size()));
  lay_out_weights(layout, w, w.size(), wb.data());
  std::vector<std::int8_t> y(std::size_t(output_shape(a).size()));
  std::vector<std::int32_t> scratch(scratch_words(a, layout));
  compute<P>(a, x.data(), weight_view<qint<8, true>>{wb.data(), layout}, d, y.data(), scratch.data());
  return y;
}
}  // namespace

// tflite_x86: the layers TFLite runs as a GEMM (CONV_2D of group 1, a Dense exported as one) take
// ruy's stage, -1.5 -> -1 (half up); DEPTHWISE_CONV_2D keeps gemmlowp's, -1.5 -> -2 (away from zero);
// both layouts (fast kernel and reference). tflite: -2 everywhere.
TEST_CASE("tflite_x86 requantizes group-1 convolutions and Dense with ruy's stage, depthwise with gemmlowp's") {
  if (!cpu_runs_this_variant()) return;
  for (const bool fast : {true, false}) {
    INFO((fast ? "fast layout" : "row-major layout"));
    const auto all = [](const std::vector<std::int8_t>& y, int v) {
      return std::all_of(y.begin(), y.end(), [v](std::int8_t e) { return e == v; });
    };
    CHECK(all(minus_one_and_a_half<arith::tflite_x86>(false, false, fast), -1 + 5));
    CHECK(all(minus_one_and_a_half<arith::tflite_x86>(false, true, fast), -1 + 5));
    CHECK(all(minus_one_and_a_half<arith::tflite_x86>(true, false, fast), -2 + 5));
    CHECK(all(minus_one_and_a_half<arith::tflite>(false, false, fast), -2 + 5));
    CHECK(all(minus_one_and_a_half<arith::tflite>(false, true, fast), -2 + 5));
    CHECK(all(minus_one_and_a_half<arith::tflite>(true, false, fast), -2 + 5));
  }
}

TEST_CASE("fast LookupTable (AVX-512 VBMI vpermi2b, AVX2 vpshufb rows) equals the reference lookup on every byte and length") {
  if (!cpu_runs_this_variant()) return;
#if defined(STATIQ_KERNELS_AVX512_VBMI)
  if (!__builtin_cpu_supports("avx512vbmi")) {
    std::puts("fast_kernels_test: this CPU lacks AVX-512 VBMI; the lookup-table kernel is not run");
    return;
  }
#endif
  std::mt19937 gen(41);
  std::uniform_int_distribution<int> byte(0, 255);
  auto check = [&]<class X, class Y>(X*, Y*) {
    std::vector<Y> table(256);
    for (Y& t : table) t = static_cast<Y>(byte(gen));
    for (int n : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 256, 300, 1000}) {
      std::vector<X> x(std::size_t(n) + 64);
      // every byte value first (so index bits 6 and 7 both vary), then random ones
      for (int i = 0; i < n; ++i) x[std::size_t(i)] = static_cast<X>(i < 256 ? i : byte(gen));
      std::vector<Y> fast(std::size_t(n) + 64, Y(0x5a)), ref(std::size_t(n) + 64, Y(0x5a));
      compute(LookupTableAttributes{.shape = {1, 1, n}}, x.data(), table.data(), fast.data());
      kernels::reference::lookup_table(x.data(), n, table.data(), ref.data());
      INFO("n = " << n);
      CHECK(fast == ref);  // the 64 bytes past the end untouched too (masked stores)
    }
  };
  check(static_cast<std::uint8_t*>(nullptr), static_cast<std::uint8_t*>(nullptr));
  check(static_cast<std::int8_t*>(nullptr), static_cast<std::int8_t*>(nullptr));
  check(static_cast<std::int8_t*>(nullptr), static_cast<std::uint8_t*>(nullptr));
}

namespace {
// Add through the layer's compute (fast where the build has it) against Profile::add element by
// element: random lengths around the 16-lane rows and the 256-element blocks, or all 65,536 code
// pairs; every signedness of the two inputs and the output.
template <class P>
void compare_add(typename P::add_params (*params)(bool signed_output), int iterations) {
  for (int iter = 0; iter < iterations; ++iter) {
    const bool all_pairs = coin(0.1);
    const int n = all_pairs ? 65536 : pick({1, 15, 16, 17, 63, 64, 65, 255, 256, 257, 300, 1000});
    const AddAttributes a{.shape = {1, 1, n}};
    const bool sa = coin(), sb = coin(), sy = coin();
    const auto p = params(sy);
    const auto run = [&]<class A, class B, class Y>(A*, B*, Y*) {
      std::vector<A> xa(std::size_t(n), 0);
      std::vector<B> xb(xa.size(), 0);
      for (int i = 0; i < n; ++i) {
        xa[std::size_t(i)] = static_cast<A>(all_pairs ? i % 256 : uniform(0, 255));
        xb[std::size_t(i)] = static_cast<B>(all_pairs ? i / 256 : uniform(0, 255));
      }
      std::vector<Y> fast(xa.size()), ref(xa.size());
      compute<P>(a, xa.data(), xb.data(), p, fast.data());
      for (std::size_t i = 0; i < xa.size(); ++i) ref[i] = static_cast<Y>(P::add(xa[i], xb[i], p));
      INFO(P::name << " n " << n << " signed " << sa << sb << sy);
      REQUIRE(fast == ref);
    };
    using s8 = std::int8_t;
    using u8 = std::uint8_t;
    if (sa && sb) sy ? run((s8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (s8*)nullptr, (u8*)nullptr);
    else if (sa) sy ? run((s8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (u8*)nullptr, (u8*)nullptr);
    else if (sb) sy ? run((u8*)nullptr, (s8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (s8*)nullptr, (u8*)nullptr);
    else sy ? run((u8*)nullptr, (u8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (u8*)nullptr, (u8*)nullptr);
  }
}

float some_scale() { return coin(0.3) ? 1.0f / float(1 << uniform(0, 10)) : std::uniform_real_distribution<float>(0.002f, 0.3f)(rng()); }

// Alignment shifts from none to past int32 (the scalar rule then), every output rescale.
arith::pow2::add_params pow2_add(bool s) {
  const auto out = pow2_hard_output(s);
  const int fa = uniform(0, 8), fb = coin(0.1) ? uniform(23, 30) : uniform(0, 8);
  return arith::pow2::make_add(fa, fb, pow2_hard_channel(), out.lo, out.hi);
}
arith::akida_v1::add_params akida_v1_add(bool) {
  const auto out = akida_v1_hard_output(false);
  return {uniform(0, 4), coin(0.1) ? uniform(23, 26) : uniform(0, 4), akida_v1_hard_channel(), out.lo, out.hi};
}
arith::gemmini::add_params gemmini_add(bool) {
  auto p = arith::gemmini::make_add(some_scale(), some_scale(), some_scale(), coin());
  if (coin(0.3)) p.c_scale = gemmini_hard_channel().multiplier;
  if (coin(0.2)) p.hi = arith::gemmini::relu6_max(uniform(0, 4));
  return p;
}
template <class P>
typename P::add_params tflite_add(bool s) {
  const int lo = s ? -128 : 0, hi = s ? 127 : 255;
  const int zy = uniform(lo, hi);
  return P::make_add(some_scale(), uniform(-128, 255), some_scale(), uniform(-128, 255), some_scale(), zy,
                     coin() ? zy : lo, hi);
}
}  // namespace

TEST_CASE("fast Add equals each profile's scalar Add (pow2, akida_v1, gemmini, tflite)") {
  if (!cpu_runs_this_variant()) return;
  compare_add<arith::pow2>(pow2_add, 300);
  compare_add<arith::akida_v1>(akida_v1_add, 300);
  compare_add<arith::gemmini>(gemmini_add, 300);
  compare_add<arith::tflite>(tflite_add<arith::tflite>, 300);
  compare_add<arith::tflite_single_rounding>(tflite_add<arith::tflite_single_rounding>, 300);
  compare_add<arith::tflite_x86>(tflite_add<arith::tflite_x86>, 300);
}

namespace {
// A Concat input's rescale: the output's own quantization (a copy) or another one.
template <class P>
typename P::rescale_params random_rescale(bool signed_input, bool signed_output) {
  const arith::output_bounds b{signed_output ? -128 : 0, signed_output ? 127 : 255};
  const auto quantization = [&](bool s) {
    if constexpr (std::is_same_v<P, arith::pow2> || std::is_same_v<P, arith::gemmini>)
      return arith::scale_zero_point{1.0f / float(1 << uniform(0, 10)), 0};
    else
      return arith::scale_zero_point{some_scale(), s ? uniform(-128, 127) : uniform(0, 255)};
  };
  if constexpr (std::is_same_v<P, arith::akida_v1>) {
    return coin(0.3) ? P::identity_rescale(b) : P::make_rescale(akida_v1_hard_channel(), b);
  } else {
    const auto y = quantization(signed_output);
    return P::rescale_from(coin(0.3) && signed_input == signed_output ? y : quantization(signed_input), y, b);
  }
}

template <class P>
void compare_concat(int iterations) {
  for (int iter = 0; iter < iterations; ++iter) {
    ConcatAttributes a;
    a.count = uniform(2, 4);
    const int h = uniform(1, 9), w = uniform(1, 9);
    for (int i = 0; i < a.count; ++i) a.inputs[i] = {h, w, pick({1, 3, 16, 17, 32, 64, 65, 100})};
    const bool sx = coin(), sy = coin();
    std::vector<typename P::rescale_params> rescale;
    for (int i = 0; i < a.count; ++i) rescale.push_back(random_rescale<P>(sx, sy));
    const auto run = [&]<class X, class Y>(X*, Y*) {
      std::vector<std::vector<X>> inputs(std::size_t(a.count));
      std::vector<const X*> xs;
      for (int i = 0; i < a.count; ++i) {
        for (int k = 0; k < a.inputs[i].size(); ++k) inputs[std::size_t(i)].push_back(static_cast<X>(uniform(0, 255)));
        xs.push_back(inputs[std::size_t(i)].data());
      }
      std::vector<Y> fast(std::size_t(output_shape(a).size())), ref(fast.size());
      compute<P>(a, xs.data(), rescale.data(), fast.data());
      int channels[4]{};
      for (int i = 0; i < a.count; ++i) channels[i] = a.inputs[i].c;
      kernels::reference::concat(h * w, a.count, xs.data(), channels, ref.data(),
                                 [&](int i, std::int32_t q) { return P::rescale(q, rescale[std::size_t(i)]); });
      INFO(P::name << " inputs " << a.count << " pixels " << h * w << " signed " << sx << sy);
      REQUIRE(fast == ref);
    };
    if (sx) sy ? run((std::int8_t*)nullptr, (std::int8_t*)nullptr) : run((std::int8_t*)nullptr, (std::uint8_t*)nullptr);
    else sy ? run((std::uint8_t*)nullptr, (std::int8_t*)nullptr) : run((std::uint8_t*)nullptr, (std::uint8_t*)nullptr);
  }
}
}  // namespace

TEST_CASE("fast Concat equals the reference concat with each profile's rescale") {
  if (!cpu_runs_this_variant()) return;
  compare_concat<arith::qlinear>(200);
  compare_concat<arith::pow2>(200);
  compare_concat<arith::akida_v1>(200);
  compare_concat<arith::gemmini>(200);
  compare_concat<arith::tflite>(200);
  compare_concat<arith::tflite_x86>(100);
}

namespace {
// Weights of B bits packed 8/B to a byte (low bits first) in a layout known at run time: what a
// qview of a packing target holds, with the layout as a value.
template <int B>
struct packed_view {
  using element = qint<B, true>;
  static constexpr std::size_t per_byte = 8 / B;
  const std::uint8_t* data = nullptr;
  WeightLayout layout{};
  int operator[](std::size_t i) const { return statiq::detail::unpack<element, per_byte>(data, layout.index(i)); }
  const std::uint8_t* bytes() const { return data; }
};

// Packs logical weights as the generator does: placed in `layout` (padding 0), then 8/B to a byte.
template <int B>
std::vector<std::uint8_t> pack(const WeightLayout& layout, const std::vector<std::int32_t>& w) {
  std::vector<std::int32_t> stored(layout.stored(w.size()), 0);
  for (std::size_t i = 0; i < w.size(); ++i) stored[layout.index(i)] = w[i];
  constexpr std::size_t per_byte = 8 / B;
  std::vector<std::uint8_t> bytes((stored.size() + per_byte - 1) / per_byte, 0);
  for (std::size_t i = 0; i < stored.size(); ++i)
    bytes[i / per_byte] |= static_cast<std::uint8_t>((unsigned(stored[i]) & ((1u << B) - 1u)) << (i % per_byte * B));
  return bytes;
}

// A layer with B-bit packed weights through the fast kernel (group 1: oc16_k4; depthwise, channel
// multipliers too: tap_major; widened in registers) against the reference path (the same weights
// packed row-major): random geometries, weights over the whole B-bit range or pinned to its
// extremes, every profile's requantization.
int packed_depthwise_layers = 0, packed_grouped_layers = 0;

template <int B, class P>
void compare_packed(int iterations) {
  constexpr int wlo = -(1 << (B - 1)), whi = (1 << (B - 1)) - 1;
  for (int iter = 0; iter < iterations; ++iter) {
    const bool depthwise = coin(0.4);
    const bool dense = !depthwise && coin(0.2);
    const bool grouped = !depthwise && !dense && coin(0.3);
    packed_depthwise_layers += depthwise;
    packed_grouped_layers += grouped;
    ConvAttributes a = grouped ? random_grouped() : random_conv(depthwise);
    if (dense) a = ConvAttributes{.input = {1, 1, pick({1, 5, 16, 64, 100, 257})}, .filters = pick({1, 10, 16, 17, 33})};
    a.signed_input = coin();
    a.signed_output = coin();
    Operands o = random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, a.signed_input);
    const int mode = uniform(0, 2);
    for (auto& v : o.w) v = mode == 0 ? wlo : mode == 1 ? whi : uniform(wlo, whi);
    const WeightLayout fast_layout = weight_layout(a, false);
    const bool group1 = a.group == 1;  // a depthwise layer of 1 channel is one too
    REQUIRE(fast_layout.order == (group1 || grouped ? WeightOrder::oc16_k4 : WeightOrder::tap_major));
    if constexpr (kernels::isa != kernels::Isa::reference)
      REQUIRE(conv_kernel(a, fast_layout) == (grouped ? fast_grouped : group1 ? fast_conv2d : fast_depthwise));
    const std::vector<std::uint8_t> wf = pack<B>(fast_layout, o.w), wr = pack<B>(row_major_layout, o.w);
    if (conv_kernel(a, fast_layout) != kernels::ConvKernel::reference) {
      // The kernel alone: its accumulators, before requantization can hide a difference.
      const auto accumulators = [&]<class X>(X*) {
        const auto g = conv_geometry(a);
        const auto k = conv_kernel(a, fast_layout);
        const auto x = as_bytes<X>(o.x);
        std::vector<std::int32_t> scratch(kernels::conv_kernel_scratch_words(k, g, fast_layout, std::is_signed_v<X>) + 1);
        std::vector<std::int32_t> acc(std::size_t(g.out.size()), 0x7e7e7e7e);
        const auto sums = independent_weight_sums(o.w, a.filters);
        detail::run_conv_kernel<B>(k, g, x.data(), o.x_zero_point, fast_layout, wf.data(), o.w_zero_point,
                                   o.bias.data(), kernels::conv_kernel_reads_weight_sums(k) ? sums.data() : nullptr,
                                   scratch.data(),
                                   [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                     for (int p = 0; p < count; ++p)
                                       std::copy_n(rows + std::size_t(p) * ld, g.out.c,
                                                   acc.begin() + std::ptrdiff_t(first + p) * g.out.c);
                                   });
        return acc;
      };
      INFO(describe(a) << " weights " << B << " bits, accumulators");
      REQUIRE((a.signed_input ? accumulators((std::int8_t*)nullptr) : accumulators((std::uint8_t*)nullptr)) ==
              reference_accumulators(a, o));
    }
    std::vector<typename P::channel_params> ch;
    for (int c = 0; c < a.filters; ++c) ch.push_back(random_channel<P>());
    const auto run = [&]<class X, class Y>(X*, Y*) {
      const auto sums = independent_weight_sums(o.w, a.filters);
      const LayerData<P> d{o.bias.data(), ch.data(), random_output<P>(std::is_signed_v<Y>), o.x_zero_point,
                           o.w_zero_point, sums_or_null(sums)};
      const auto x = as_bytes<X>(o.x);
      const std::size_t n = std::size_t(output_shape(a).size());
      std::vector<Y> yf(n, 1), yr(n, 2);
      std::vector<std::int32_t> sf(scratch_words(a, fast_layout)), sr(scratch_words(a, row_major_layout));
      compute<P>(a, x.data(), packed_view<B>{wf.data(), fast_layout}, d, yf.data(), sf.data());
      compute<P>(a, x.data(), packed_view<B>{wr.data(), row_major_layout}, d, yr.data(), sr.data());
      INFO(describe(a) << " weights " << B << " bits, profile " << P::name);
      REQUIRE(yf == yr);
    };
    using s8 = std::int8_t;
    using u8 = std::uint8_t;
    if (a.signed_input) a.signed_output ? run((s8*)nullptr, (s8*)nullptr) : run((s8*)nullptr, (u8*)nullptr);
    else a.signed_output ? run((u8*)nullptr, (s8*)nullptr) : run((u8*)nullptr, (u8*)nullptr);
  }
}
}  // namespace

TEST_CASE("fast convolution with packed 1/2/4-bit weights equals the reference") {
  if (!cpu_runs_this_variant()) return;
  compare_packed<4, arith::akida_v1>(40);  // the akida targets' depthwise layers: 4-bit, packed
  compare_packed<4, arith::tflite_single_rounding>(40);
  compare_packed<2, arith::tflite_x86>(40);
  compare_packed<4, arith::pow2>(150);
  compare_packed<2, arith::pow2>(100);
  compare_packed<1, arith::pow2>(100);
  compare_packed<4, arith::akida_v1>(80);
  compare_packed<4, arith::qlinear>(80);
  compare_packed<2, arith::tflite>(50);
  compare_packed<1, arith::gemmini>(50);
  CHECK(packed_depthwise_layers > 200);
  CHECK(packed_grouped_layers > 50);
}
