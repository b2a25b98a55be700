// Each layer's call operator against the computation re-derived in the test from the ONNX /
// target definitions (naive loops in int64, the requantization written out), gemmlowp for tflite.
#include <catch2/catch.hpp>

#include <gemmlowp/fixedpoint/fixedpoint.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/depthwise_conv2d.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/global_average_pool.hpp"
#include "statiq/layers/max_pool.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

namespace {

std::mt19937 rng(1234);
int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// Naive NHWC convolution with explicit pads, weights OHWI, accumulating in int64.
std::vector<std::int64_t> naive_conv(const std::vector<int>& x, Shape in, const std::vector<int>& w, int filters,
                                     Kernel k, Stride s, Pads p, int group, int x_zp, int w_zp,
                                     const std::vector<std::int32_t>& bias, Shape& out) {
  out = Shape{(in.h + p.top + p.bottom - k.h) / s.h + 1, (in.w + p.left + p.right - k.w) / s.w + 1, filters};
  const int cin_g = in.c / group, cout_g = filters / group;
  std::vector<std::int64_t> acc(std::size_t(out.size()));
  for (int oh = 0; oh < out.h; ++oh)
    for (int ow = 0; ow < out.w; ++ow)
      for (int f = 0; f < filters; ++f) {
        std::int64_t a = bias[std::size_t(f)];
        const int g = f / cout_g;
        for (int kh = 0; kh < k.h; ++kh)
          for (int kw = 0; kw < k.w; ++kw) {
            const int ih = oh * s.h - p.top + kh, iw = ow * s.w - p.left + kw;
            if (ih < 0 || iw < 0 || ih >= in.h || iw >= in.w) continue;
            for (int ci = 0; ci < cin_g; ++ci) {
              const int xv = x[std::size_t((ih * in.w + iw) * in.c + g * cin_g + ci)];
              const int wv = w[std::size_t(((f * k.h + kh) * k.w + kw) * cin_g + ci)];
              a += std::int64_t(xv - x_zp) * (wv - w_zp);
            }
          }
        acc[std::size_t((oh * out.w + ow) * filters + f)] = a;
      }
  return acc;
}

// ONNX Runtime's requantization written out: float32 product, clamp, round half to even.
int ort_requantize(std::int64_t acc, float m, int zp, int lo, int hi) {
  float v = static_cast<float>(static_cast<std::int32_t>(acc)) * m;
  v = std::min(std::max(v, float(lo - zp)), float(hi - zp));
  return static_cast<int>(std::nearbyint(v)) + zp;
}

}  // namespace

TEST_CASE("Conv2D on cpu_int8: Conv -> Relu -> MaxPool equals ONNX order (requantize, relu, then pool)") {
  constexpr Shape in{7, 6, 3};
  using T = targets::cpu_int8;
  using L = Conv2D<"conv", ConvAttributes{.input = in, .filters = 4, .kernel = {3, 3}, .pads = Pads::same,
                                          .activation = relu, .pool = max_pool(2, 2)},
                   T>;
  static_assert(L::conv_shape == Shape{7, 6, 4});
  static_assert(L::output_shape == Shape{3, 3, 4});
  std::vector<int> x(std::size_t(in.size())), w(L::weight_count);
  for (auto& v : x) v = uniform(0, 255);
  for (auto& v : w) v = uniform(-127, 127);
  std::vector<std::uint8_t> xs(x.begin(), x.end());
  typename L::weights_array wq;
  for (std::size_t i = 0; i < w.size(); ++i) wq.set(i, w[i]);
  std::vector<std::int32_t> bias{-3000, 200, 0, 4567};
  std::vector<arith::qlinear::channel_params> ch{{0.0021f}, {0.0013f}, {0.00071f}, {0.0042f}};
  const int zp = 7, x_zp = 131;
  const arith::qlinear::output_params out{zp, zp, 255};  // ReLU: nothing below the zero point
  const auto sums = weight_sums<4>(typename L::weights_view(wq));  // as the generator emits them
  const L layer({wq, std::span<const std::int32_t, 4>(bias.data(), 4),
                 std::span<const arith::qlinear::channel_params, 4>(ch.data(), 4),
                 std::span<const std::int32_t, 4>(sums), out, x_zp, 0});
  std::vector<std::uint8_t> y(std::size_t(L::output_shape.size()));
  std::vector<std::int32_t> scratch(L::scratch_words);
  layer(xs.data(), y.data(), scratch.data());

  Shape conv_out;
  auto acc = naive_conv(x, in, w, 4, {3, 3}, {1, 1}, Pads{1, 1, 1, 1}, 1, x_zp, 0, bias, conv_out);
  std::vector<int> q(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) q[i] = ort_requantize(acc[i], ch[i % 4].multiplier, zp, zp, 255);
  int checked = 0, distinct = 0;
  for (int oh = 0; oh < 3; ++oh)
    for (int ow = 0; ow < 3; ++ow)
      for (int c = 0; c < 4; ++c) {
        int m = -1;
        for (int dh = 0; dh < 2; ++dh)
          for (int dw = 0; dw < 2; ++dw) m = std::max(m, q[std::size_t(((oh * 2 + dh) * 6 + ow * 2 + dw) * 4 + c)]);
        CHECK(int(y[std::size_t((oh * 3 + ow) * 4 + c)]) == m);
        distinct += m != zp;
        ++checked;
      }
  CHECK(checked == 36);
  CHECK(distinct > 10);  // the data exercise more than the ReLU floor
}

TEST_CASE("Conv2D with groups and stride 2 on cpu_int8 (no activation)") {
  constexpr Shape in{9, 9, 4};
  using L = Conv2D<"grouped", ConvAttributes{.input = in, .filters = 6, .kernel = {3, 3}, .strides = {2, 2},
                                             .pads = Pads{0, 1, 1, 0}, .signed_input = true, .signed_output = true,
                                             .group = 2},
                   targets::cpu_int8>;
  std::vector<int> x(std::size_t(in.size())), w(L::weight_count);
  for (auto& v : x) v = uniform(-128, 127);
  for (auto& v : w) v = uniform(-127, 127);
  std::vector<std::int8_t> xs(x.begin(), x.end());
  typename L::weights_array wq;
  for (std::size_t i = 0; i < w.size(); ++i) wq.set(i, w[i]);
  std::vector<std::int32_t> bias{1, -2, 3, -4, 5, -6};
  std::vector<arith::qlinear::channel_params> ch(6, {0.003f});
  const auto sums = weight_sums<6>(typename L::weights_view(wq));  // as the generator emits them
  const L layer({wq, std::span<const std::int32_t, 6>(bias.data(), 6),
                 std::span<const arith::qlinear::channel_params, 6>(ch.data(), 6),
                 std::span<const std::int32_t, 6>(sums), {-3, -128, 127}, 0, 0});
  std::vector<std::int8_t> y(std::size_t(L::output_shape.size()));
  std::vector<std::int32_t> scratch(L::scratch_words);
  layer(xs.data(), y.data(), scratch.data());
  Shape o;
  auto acc = naive_conv(x, in, w, 6, {3, 3}, {2, 2}, Pads{0, 1, 1, 0}, 2, 0, 0, bias, o);
  REQUIRE(o == L::output_shape);
  for (std::size_t i = 0; i < acc.size(); ++i) CHECK(int(y[i]) == ort_requantize(acc[i], 0.003f, -3, -128, 127));
}

TEST_CASE("DepthwiseConv2D on akida_v2: 4-bit packed weights, Conv -> Relu -> GAP, pow2 rescale after the sum") {
  constexpr Shape in{8, 8, 4};
  using L = DepthwiseConv2D<"dw", ConvAttributes{.input = in, .kernel = {3, 3}, .pads = Pads::same,
                                                 .activation = relu, .pool = global_average_pool,
                                                 .bits = {4, 4, 4}},
                            targets::akida_v2>;
  static_assert(L::weight_count == 4 * 9);
  // Stored tap_major (the fast depthwise kernels' order): 9 taps of 16 channels (4 and 12 of padding),
  // two 4-bit weights a byte.
  static_assert(L::weights_view::layout.order == WeightOrder::tap_major);
  static_assert(L::weights_view::byte_size == 9 * 16 / 2);
  static_assert(L::output_shape == Shape{1, 1, 4});
  std::vector<int> x(std::size_t(in.size())), w(L::weight_count);
  for (auto& v : x) v = uniform(0, 15);
  for (auto& v : w) v = uniform(-8, 7);
  std::vector<std::uint8_t> xs(x.begin(), x.end());
  typename L::weights_array wq;
  for (std::size_t i = 0; i < w.size(); ++i) wq.set(i, w[i]);
  std::vector<std::int32_t> bias{-40, 0, 25, 3};
  // 1/(64) folded in: mantissa 200, shift 14 -> 200 / 16384 per unit of the sum.
  std::vector<arith::pow2::channel_params> ch{{200, 14}, {129, 13}, {255, 15}, {1, 2}};
  const arith::pow2::output_params out{0, 15};
  const auto sums = weight_sums<4>(typename L::weights_view(wq));  // as the generator emits them
  const L layer({L::weights_view(wq), std::span<const std::int32_t, 4>(bias.data(), 4),
                 std::span<const arith::pow2::channel_params, 4>(ch.data(), 4), std::span<const std::int32_t, 4>(sums),
                 out, 0, 0});
  std::vector<std::uint8_t> y(4);
  std::vector<std::int32_t> scratch(L::scratch_words);
  layer(xs.data(), y.data(), scratch.data());
  Shape o;
  auto acc = naive_conv(x, in, w, 4, {3, 3}, {1, 1}, Pads{1, 1, 1, 1}, 4, 0, 0, bias, o);
  for (int c = 0; c < 4; ++c) {
    std::int64_t sum = 0;
    for (int i = 0; i < 64; ++i) sum += std::max<std::int64_t>(acc[std::size_t(i * 4 + c)], 0);
    // round half up: floor((sum * M + 2^(S-1)) / 2^S), then saturate to unsigned 4 bits
    const std::int64_t num = sum * ch[std::size_t(c)].mantissa + (std::int64_t{1} << (ch[std::size_t(c)].shift - 1));
    const std::int64_t r = num >= 0 ? num >> ch[std::size_t(c)].shift : -((-num + (1 << ch[std::size_t(c)].shift) - 1) >> ch[std::size_t(c)].shift);
    CHECK(int(y[std::size_t(c)]) == int(std::clamp<std::int64_t>(r, 0, 15)));
  }
}

TEST_CASE("Dense on tflite_int8 equals gemmlowp's fixed-point requantization") {
  constexpr Shape in{2, 2, 8};
  using L = Dense<"fc", DenseAttributes{.input = in, .units = 5, .signed_input = true, .signed_output = true},
                  targets::tflite_int8>;
  std::vector<int> x(32), w(L::weight_count);
  for (auto& v : x) v = uniform(-128, 127);
  for (auto& v : w) v = uniform(-127, 127);
  std::vector<std::int8_t> xs(x.begin(), x.end());
  typename L::weights_array wq;
  for (std::size_t i = 0; i < w.size(); ++i) wq.set(i, w[i]);
  std::vector<std::int32_t> bias{100, -100, 7, 0, 123456};
  std::vector<arith::tflite::channel_params> ch{
      {1395864371, -8}, {1073741824, -9}, {2147483647, -10}, {1518500250, -7}, {1879048192, -12}};
  const int x_zp = -5, y_zp = 3;
  const auto sums = weight_sums<5>(typename L::weights_view(wq));  // as the generator emits them
  const L layer({wq, std::span<const std::int32_t, 5>(bias.data(), 5),
                 std::span<const arith::tflite::channel_params, 5>(ch.data(), 5),
                 std::span<const std::int32_t, 5>(sums), {y_zp, -128, 127}, x_zp, 0});
  std::vector<std::int8_t> y(5);
  std::vector<std::int32_t> scratch(L::scratch_words);
  layer(xs.data(), y.data(), scratch.data());
  for (int u = 0; u < 5; ++u) {
    std::int32_t acc = bias[std::size_t(u)];
    for (int i = 0; i < 32; ++i) acc += (x[std::size_t(i)] - x_zp) * w[std::size_t(u * 32 + i)];
    const int shift = ch[std::size_t(u)].shift;
    const std::int32_t left = acc * (1 << std::max(shift, 0));
    const std::int32_t r = gemmlowp::RoundingDivideByPOT(
        gemmlowp::SaturatingRoundingDoublingHighMul(left, ch[std::size_t(u)].multiplier), std::max(-shift, 0));
    CHECK(int(y[std::size_t(u)]) == std::clamp(r + y_zp, -128, 127));
  }
}

// tests/tflite measured both against TFLite 2.9 (and TFLite Micro's reference kernels state them).
TEST_CASE("Quantize and GlobalAveragePool on tflite_int8 round as TFLite's reference kernels") {
  using T = targets::tflite_int8;
  SECTION("Quantize rounds x / scale half away from zero (TfLiteRound), then adds the zero point") {
    using Q = Quantize<"q", QuantizeAttributes{.shape = {1, 1, 4}, .signed_output = true}, T>;
    const Q q({0.5f, -3});
    const float x[4] = {0.25f, -0.25f, 1.25f, -1.25f};  // x / s = 0.5, -0.5, 2.5, -2.5
    std::int8_t y[4];
    q(x, y, nullptr);
    CHECK(std::vector<int>(y, y + 4) == std::vector<int>{1 - 3, -1 - 3, 3 - 3, -3 - 3});
  }
  SECTION("GlobalAveragePool is TFLite's MEAN: the sum requantized by s_in / s_out, then divided by the count") {
    using G = GlobalAveragePool<"gap", PoolAttributes{.input = {1, 2, 1}, .signed_input = true, .signed_output = true}, T>;
    const std::vector<arith::tflite::channel_params> ch{arith::tflite::mean_channel(0.75f, 0.5f)};  // 1.5
    const G gap({std::span<const arith::tflite::channel_params, 1>(ch.data(), 1), {0, -128, 127}, 1});
    const std::int8_t x[2] = {4, 5};  // minus the zero point 1: sum 7
    std::int8_t y[1];
    std::int32_t scratch[1];
    gap(x, y, scratch);
    // 7 * 1.5 = 10.5 -> 11, / 2 = 5.5 -> 6; one rounding of 7 * 0.75 = 5.25 would give 5
    CHECK(int(y[0]) == 6);
  }
}

TEST_CASE("Quantize, Add, Concat, MaxPool, GlobalAveragePool, Dequantize on cpu_int8") {
  using T = targets::cpu_int8;
  SECTION("Quantize rounds half to even after a float32 division and saturates; NaN gives the zero point") {
    using Q = Quantize<"q", QuantizeAttributes{.shape = {1, 1, 7}}, T>;
    const Q q({0.5f, 10});
    const float x[7] = {0.25f, 0.75f, -5.25f, 1000.0f, -1000.0f, 1.0f, std::nanf("")};
    std::uint8_t y[7];
    q(x, y, nullptr);
    // 0.25/0.5 = 0.5 -> 0; 1.5 -> 2; -10.5 -> -10; saturation at 255 and 0; 2 -> 2.
    CHECK(std::vector<int>(y, y + 7) == std::vector<int>{10, 12, 0, 255, 0, 12, 10});
  }
  SECTION("Add with exact scale ratios, fused ReLU as the lower bound") {
    using A = Add<"add", AddAttributes{.shape = {1, 2, 2}, .activation = relu}, T>;
    const auto params = arith::qlinear::make_add(0.5f, 100, 0.25f, 20, 1.0f, 50, 50, 255);
    const A add({params});
    const std::uint8_t a[4] = {100, 110, 90, 255}, b[4] = {20, 24, 0, 255};
    std::uint8_t y[4];
    add(a, b, y, nullptr);
    // (a-100)/2 + (b-20)/4 + 50: 50, 56, 50 (ReLU: -5 - 5 + 50 = 40 -> 50), 77.5 + 58.75 + 50 = 186.25 -> 186
    CHECK(std::vector<int>(y, y + 4) == std::vector<int>{50, 56, 50, 186});
  }
  SECTION("Concat joins channels per pixel") {
    using C = Concat<"cat", ConcatAttributes{.inputs = {{1, 2, 1}, {1, 2, 2}}, .count = 2}, T>;
    static_assert(C::output_shape == Shape{1, 2, 3});
    C::parameters p;
    p.rescale[0] = {1.0f, 0, 1.0f, 0, 0, 255};
    p.rescale[1] = {2.0f, 10, 1.0f, 0, 0, 255};  // (q - 10) * 2
    const C cat(p);
    const std::uint8_t a[2] = {1, 2}, b[4] = {11, 12, 13, 14};
    std::uint8_t y[6];
    cat(std::array<const std::uint8_t*, 2>{a, b}, y, nullptr);
    CHECK(std::vector<int>(y, y + 6) == std::vector<int>{1, 2, 4, 2, 6, 8});
  }
  SECTION("MaxPool and GlobalAveragePool") {
    using M = MaxPool<"mp", PoolAttributes{.input = {4, 4, 1}, .pool = max_pool(3, 3)}, T>;
    static_assert(M::output_shape == Shape{1, 1, 1});  // floor mode: one 3x3 window
    const M mp{};
    std::uint8_t x[16];
    for (int i = 0; i < 16; ++i) x[i] = std::uint8_t(i * 7 % 16);
    std::uint8_t y[1];
    mp(x, y, nullptr);
    int m = 0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) m = std::max(m, int(x[r * 4 + c]));
    CHECK(int(y[0]) == m);

    using G = GlobalAveragePool<"gap", PoolAttributes{.input = {2, 2, 2}}, T>;
    const std::vector<arith::qlinear::channel_params> ch{{0.25f}, {0.25f}};  // 1/4 for the mean
    const G gap({std::span<const arith::qlinear::channel_params, 2>(ch.data(), 2), {3, 0, 255}, 1});
    const std::uint8_t gx[8] = {1, 2, 3, 4, 5, 6, 8, 9};
    std::uint8_t gy[2];
    std::int32_t scratch[2];
    gap(gx, gy, scratch);
    // channel 0: (0 + 2 + 4 + 7) / 4 = 3.25 -> 3, + 3; channel 1: (1 + 3 + 5 + 8) / 4 = 4.25 -> 4, + 3
    CHECK(int(gy[0]) == 6);
    CHECK(int(gy[1]) == 7);
  }
  SECTION("Dequantize is (q - zero_point) * scale in float") {
    using D = Dequantize<"dq", DequantizeAttributes{.shape = {1, 1, 3}, .signed_input = true}, T>;
    const D dq({0.1f, -2});
    const std::int8_t x[3] = {-2, 8, -128};
    float y[3];
    dq(x, y, nullptr);
    CHECK(y[0] == 0.0f);
    CHECK(y[1] == 10 * 0.1f);
    CHECK(y[2] == -126 * 0.1f);
  }
}
