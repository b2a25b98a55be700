// Weight rules of the pow2 (QuantizeML) and tflite profiles, worked by hand.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "statiq/quant/pow2_weights.hpp"
#include "statiq/quant/tflite_weights.hpp"

using namespace statiq::quant;
using Catch::Matchers::Contains;

namespace {
std::vector<std::int8_t> ints(std::initializer_list<int> v) { return {v.begin(), v.end()}; }
}  // namespace

TEST_CASE("pow2_weights: s_c = max(max|w_c| / 127, 1e-6), w_int = RNE(w / s_c)", "[quant][pow2]") {
  const std::vector<float> w = {
      127.0f, 2.5f,   -3.5f, 1.0f,     // channel 0: s = 127 / 127 = 1
      254.0f, 5.0f,   7.0f,  -254.0f,  // channel 1: s = 2: 127, 2.5 -> 2, 3.5 -> 4, -127
      0.0f,   0.0f,   0.0f,  0.0f,     // channel 2: all zero, s = 1e-6 (the floor)
      1e-5f,  -1e-5f, 5e-6f, 0.0f,     // channel 3: 1e-5 / 127 < 1e-6, so s = 1e-6: 10, -10, 5, 0
  };
  const auto q = pow2_weights(w, 4, 8);
  CHECK(q.values == ints({127, 2, -4, 1, 127, 2, 4, -127, 0, 0, 0, 0, 10, -10, 5, 0}));
  REQUIRE(q.scales.size() == 4);
  CHECK(q.scales[0] == 1.0f);
  CHECK(q.scales[1] == 2.0f);
  CHECK(q.scales[2] == 1e-6f);
  CHECK(q.scales[3] == 1e-6f);
  CHECK(q.per_axis);
  CHECK(q.bits == 8);
}

TEST_CASE("pow2_weights per tensor and at 4 bits", "[quant][pow2]") {
  SECTION("per tensor: one scale from the tensor's max") {
    const std::vector<float> w = {127.0f, 2.5f, -3.5f, 1.0f, 254.0f, 5.0f, 7.0f, -254.0f};
    const auto q = pow2_weights(w, 2, 8, /*per_axis=*/false);
    // s = 2: 63.5 -> 64, 1.25 -> 1, -1.75 -> -2, 0.5 -> 0 (tie, even), then channel 1 as above
    CHECK(q.values == ints({64, 1, -2, 0, 127, 2, 4, -127}));
    REQUIRE(q.scales.size() == 1);
    CHECK(q.scales[0] == 2.0f);
    CHECK_FALSE(q.per_axis);
  }
  SECTION("4 bits: vb = 3, 2^vb - 1 = 7") {
    const std::vector<float> w = {7.0f, -3.5f, 0.5f, 1.5f, 14.0f, -14.0f, 3.0f, 1.0f};
    const auto q = pow2_weights(w, 2, 4);
    // channel 0: s = 1: 7, -4, 0, 2; channel 1: s = 2: 7, -7, 1.5 -> 2, 0.5 -> 0
    CHECK(q.values == ints({7, -4, 0, 2, 7, -7, 2, 0}));
    CHECK(q.scales[1] == 2.0f);
  }
}

TEST_CASE("pow2_weights rejects NaN and bad shapes", "[quant][pow2]") {
  const std::vector<float> w = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_WITH(pow2_weights(w, 2, 8),
                    Contains("pow2_weights") && Contains("output channel 1") && Contains("NaN"));
  const std::vector<float> three = {1.0f, 2.0f, 3.0f};
  CHECK_THROWS_AS(pow2_weights(three, 2, 8), std::invalid_argument);
}

TEST_CASE("tflite_weights: symmetric int8, scale max|w_c| / 127, half away from zero",
          "[quant][tflite]") {
  const std::vector<float> w = {
      127.0f, 62.5f,
      -62.5f, 0.5f,  // channel 0: inverse scale 1: 127, 63, -63, 1 (RNE would give 62, -62, 0)
      0.0f,   0.0f,
      0.0f,   0.0f,  // channel 1: TFLite writes scale 0 and integers 0
      2.0f,   -1.0f,
      0.5f,   0.0f,  // channel 2: inverse 127 / 2 = 63.5: 127, -63.5 -> -64, 31.75 -> 32, 0
  };
  const auto q = tflite_weights(w, 3);
  CHECK(q.values == ints({127, 63, -63, 1, 0, 0, 0, 0, 127, -64, 32, 0}));
  REQUIRE(q.scales.size() == 3);
  CHECK(q.scales[0] == 1.0f);
  CHECK(q.scales[1] == 0.0f);
  CHECK(q.scales[2] == 2.0f / 127.0f);
  CHECK(q.per_axis);
  CHECK(q.bits == 8);
  for (auto v : q.values) CHECK(v >= -127);  // never -128
}

TEST_CASE("tflite_weights: a subnormal channel does not turn 0 * inf into a NaN",
          "[quant][tflite]") {
  const std::vector<float> w = {std::numeric_limits<float>::denorm_min(), 0.0f};
  const auto q = tflite_weights(w, 1);  // inverse scale 127 / denorm_min = inf
  CHECK(q.values[1] == 0);
  CHECK(q.values[0] == 127);  // denorm_min * inf = inf, saturated
}

TEST_CASE("tflite_weights rejects Inf", "[quant][tflite]") {
  const std::vector<float> w = {1.0f, std::numeric_limits<float>::infinity()};
  CHECK_THROWS_WITH(tflite_weights(w, 1), Contains("infinite") && Contains("output channel 0"));
}
