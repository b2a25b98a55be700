// Dynamic layers (statiq/layers/dynamic.hpp): DynamicConv2D / DynamicDense on hand-computed values,
// per-tensor and per-channel weight scales, ReLU, Clip, MaxPool, and a float-to-float Graph of them.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

#include "statiq/statiq.hpp"

using namespace statiq;
using T = targets::cpu_int8;

namespace {

// 2x2x1 input, one 2x2 filter, valid: one output.
struct conv1 : DynamicConv2D<"conv1", ConvAttributes{.input = {2, 2, 1}, .filters = 2, .kernel = {2, 2}}, T> {
  using DynamicConv2D::DynamicConv2D;
};

}  // namespace

TEST_CASE("DynamicConv2D: run-time quantization, int32 sums, float rescale, bias, per-channel scale", "[dynamic]") {
  // x = [0, 1, 2, 3]: range [0, 3], x_scale = 3/255, zero point 0, x_q = [0, 85, 170, 255].
  const std::array<float, 4> x{0.0f, 1.0f, 2.0f, 3.0f};
  // filter 0: [1, -2, 3, 4] -> acc = 0 - 170 + 510 + 1020 = 1360; filter 1: [-1, -1, -1, -1] -> -510.
  conv1::weights_array w;
  const int wv[8] = {1, -2, 3, 4, -1, -1, -1, -1};
  for (std::size_t i = 0; i < 8; ++i) w.set(i, wv[i]);
  const std::array<float, 2> bias{0.25f, -1.0f};
  const float x_scale = 3.0f / 255.0f;

  SECTION("per-tensor scale") {
    const std::array<float, 1> scale{0.5f};
    const conv1 layer({w, std::span<const float, 2>(bias), scale, 0.0f});
    std::array<float, 2> y{};
    std::array<std::int32_t, conv1::scratch_words> scratch{};
    layer(x.data(), y.data(), scratch.data());
    const volatile float m = x_scale * 0.5f;  // Mul(x_scale, w_scale), then Mul, then Add: three roundings
    const volatile float p0 = 1360.0f * m, p1 = -510.0f * m;
    CHECK(y[0] == p0 + 0.25f);
    CHECK(y[1] == p1 - 1.0f);
    CHECK(y[1] < 0.0f);  // no activation: negative values pass
  }
  SECTION("per-channel scale") {
    const std::array<float, 2> scale{0.5f, 0.125f};
    const conv1 layer({w, std::span<const float, 2>(bias), scale, 0.0f});
    std::array<float, 2> y{};
    std::array<std::int32_t, conv1::scratch_words> scratch{};
    layer(x.data(), y.data(), scratch.data());
    const volatile float m1 = x_scale * 0.125f;
    const volatile float p1 = -510.0f * m1;
    CHECK(y[1] == p1 - 1.0f);
  }
}

namespace {
// 4x4x1 -> 1x1 conv (weight 1) -> ReLU -> MaxPool 2x2/2: a 2x2 map of the per-window maxima.
struct conv_pool : DynamicConv2D<"conv_pool", ConvAttributes{.input = {4, 4, 1}, .filters = 1, .activation = relu,
                                                              .pool = max_pool({2, 2}, {2, 2})}, T> {
  using DynamicConv2D::DynamicConv2D;
};
struct conv_clip : DynamicConv2D<"conv_clip", ConvAttributes{.input = {1, 3, 1}, .filters = 1,
                                                              .activation = clipped_relu}, T> {
  using DynamicConv2D::DynamicConv2D;
};
}  // namespace

TEST_CASE("DynamicConv2D: ReLU, Clip and MaxPool in float", "[dynamic]") {
  conv_pool::weights_array one;  // conv_clip's weights have the same layout
  one.set(0, 127);
  const std::array<float, 1> bias{0.0f}, scale{1.0f / 127.0f};
  {
    // x in [-2, 2.5]: the maxima per 2x2 window are 1, 2.5, -0.5 (ReLU -> 0), 0.
    const std::array<float, 16> x{1.0f,  0.5f,  2.5f, 2.0f,   //
                                  -1.0f, 0.0f,  1.0f, -2.0f,  //
                                  -0.5f, -1.0f, 0.0f, -1.5f,  //
                                  -2.0f, -0.75f, -0.25f, -1.0f};
    const conv_pool layer({one, std::span<const float, 1>(bias), scale, 0.0f});
    std::array<float, 4> y{};
    std::array<std::int32_t, conv_pool::scratch_words> scratch{};
    layer(x.data(), y.data(), scratch.data());
    CHECK(conv_pool::output_shape == Shape{2, 2, 1});
    // The values come back through 8 bits: within one step (4.5 / 255) of the real maxima.
    CHECK(y[0] == Approx(1.0f).margin(4.5 / 255));
    CHECK(y[1] == Approx(2.5f).margin(4.5 / 255));
    CHECK(y[2] == 0.0f);  // max -0.5 before the ReLU
    CHECK(y[3] == 0.0f);  // the zero of the range is exact (zero point), and max(0, 0) = 0
  }
  {
    const std::array<float, 3> x{-1.0f, 2.0f, 9.0f};
    const conv_clip layer({one, std::span<const float, 1>(bias), scale, 6.0f});
    std::array<float, 3> y{};
    std::array<std::int32_t, conv_clip::scratch_words> scratch{};
    layer(x.data(), y.data(), scratch.data());
    CHECK(y[0] == 0.0f);
    CHECK(y[1] == Approx(2.0f).margin(10.0 / 255));
    CHECK(y[2] == 6.0f);
  }
}

namespace {
struct fc : DynamicDense<"fc", DenseAttributes{.input = {1, 1, 3}, .units = 2, .activation = relu}, T> {
  using DynamicDense::DynamicDense;
};
struct fc_in : DynamicDense<"fc_in", DenseAttributes{.input = {2, 2, 1}, .units = 3}, T> {
  using DynamicDense::DynamicDense;
};
}  // namespace

TEST_CASE("DynamicDense: hand values, and a float Graph of dynamic layers", "[dynamic]") {
  // x = [-1, 0, 4]: range [-1, 4], scale 5/255, zero point round(1 / (5/255)) = round(51) = 51,
  // x_q = [0, 51, 255]; w = [[2, 1, 1], [-1, 0, -1]]: acc0 = -102 + 0 + 204 = 102, acc1 = 51 - 204 = -153.
  fc::weights_array w;
  const int wv[6] = {2, 1, 1, -1, 0, -1};
  for (std::size_t i = 0; i < 6; ++i) w.set(i, wv[i]);
  const std::array<float, 2> bias{0.5f, 0.5f};
  const std::array<float, 1> scale{0.25f};
  const fc layer({w, std::span<const float, 2>(bias), scale, 0.0f});
  const std::array<float, 3> x{-1.0f, 0.0f, 4.0f};
  std::array<float, 2> y{};
  std::array<std::int32_t, fc::scratch_words> scratch{};
  layer(x.data(), y.data(), scratch.data());
  const volatile float m = (5.0f / 255.0f) * 0.25f;
  const volatile float p0 = 102.0f * m;
  CHECK(y[0] == p0 + 0.5f);
  CHECK(y[1] == 0.0f);  // -153 * m + 0.5 < 0: ReLU

  // conv (float) -> dense (float): the engine chains float tensors; the output equals the layers
  // called one after the other.
  conv1::weights_array wc;
  for (std::size_t i = 0; i < conv1::weight_count; ++i) wc.set(i, int(i) * 13 % 50 - 25);
  struct fc2 : DynamicDense<"fc2", DenseAttributes{.input = {1, 1, 2}, .units = 3}, T> {
    using DynamicDense::DynamicDense;
  };
  fc2::weights_array wd;
  for (std::size_t i = 0; i < 6; ++i) wd.set(i, int(i) * 7 % 20 - 10);
  const std::array<float, 2> cb{0.1f, -0.2f};
  const std::array<float, 1> cs{0.01f};
  const std::array<float, 3> db{0.0f, 1.0f, -1.0f};
  using engine = Sequential<conv1, fc2>;
  static_assert(std::is_same_v<engine::input_element, float> && std::is_same_v<engine::output_element, float>);
  engine e(conv1({wc, std::span<const float, 2>(cb), cs, 0.0f}), fc2({wd, std::span<const float, 3>(db), cs, 0.0f}));
  const std::array<float, 4> in{0.5f, -0.25f, 1.0f, 2.0f};
  std::copy(in.begin(), in.end(), e.input().begin());
  e.run();
  std::array<float, 2> mid{};
  std::array<float, 3> out{};
  std::array<std::int32_t, 8> s1{};
  conv1({wc, std::span<const float, 2>(cb), cs, 0.0f})(in.data(), mid.data(), s1.data());
  fc2({wd, std::span<const float, 3>(db), cs, 0.0f})(mid.data(), out.data(), s1.data());
  for (std::size_t i = 0; i < 3; ++i) CHECK(e.output()[i] == out[i]);
}

namespace {
struct res_add : DynamicAdd<"res_add", AddAttributes{.shape = {1, 1, 2}, .activation = relu}, T> {};
struct conv_a : DynamicConv2D<"conv_a", ConvAttributes{.input = {1, 1, 2}, .filters = 2}, T> {
  using DynamicConv2D::DynamicConv2D;
};
}  // namespace

TEST_CASE("DynamicAdd: float sum and ReLU, and a residual Graph of dynamic layers", "[dynamic]") {
  const std::array<float, 2> a{1.5f, -3.0f}, b{0.25f, 1.0f};
  std::array<float, 2> y{};
  res_add{}(a.data(), b.data(), y.data(), nullptr);
  CHECK(y[0] == 1.75f);
  CHECK(y[1] == 0.0f);  // -2 -> ReLU

  // x -> conv_a -> add(conv_a, x): the Add reads the graph input and the conv's output.
  conv_a::weights_array w;
  const int wv[4] = {127, 0, 0, -127};  // identity and negation, scale 1/127
  for (std::size_t i = 0; i < 4; ++i) w.set(i, wv[i]);
  const std::array<float, 2> bias{0.0f, 0.0f};
  const std::array<float, 1> scale{1.0f / 127.0f};
  using engine = Graph<node<conv_a, -1>, node<res_add, 0, -1>>;
  engine e(conv_a({w, std::span<const float, 2>(bias), scale, 0.0f}), res_add{});
  const std::array<float, 2> x{2.0f, 1.0f};
  std::copy(x.begin(), x.end(), e.input().begin());
  e.run();
  std::array<float, 2> c{};
  std::array<std::int32_t, conv_a::scratch_words> scratch{};
  conv_a({w, std::span<const float, 2>(bias), scale, 0.0f})(x.data(), c.data(), scratch.data());
  CHECK(e.output()[0] == std::max(c[0] + x[0], 0.0f));
  CHECK(e.output()[1] == std::max(c[1] + x[1], 0.0f));
  CHECK(e.output()[0] == Approx(4.0f).margin(0.02));  // 2 + 2
  CHECK(e.output()[1] == Approx(0.0f).margin(0.02));  // -1 + 1
}
