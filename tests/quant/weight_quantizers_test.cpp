// akida_v1 weight quantizers (ARITHMETIC.md section 3): w_int = sat(RNE(w * sf), -kmax, kmax),
// scale = 1 / sf. Every expected integer below was worked out by hand from the formula; the
// comments show the products w * sf.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "statiq/quant/max_per_axis_quantizer.hpp"
#include "statiq/quant/max_quantizer.hpp"
#include "statiq/quant/quantized_weights.hpp"
#include "statiq/quant/std_per_axis_quantizer.hpp"
#include "statiq/quant/std_quantizer.hpp"
#include "statiq/quant/weight_quantizer.hpp"

using namespace statiq::quant;
using Catch::Matchers::Contains;

namespace {

std::vector<std::int8_t> ints(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

// Two output channels of four weights each (OIHW with I*H*W = 4).
const std::vector<float> two_channels = {0.5f, -1.0f, 0.25f, 0.0f,   // channel 0: max|w| = 1
                                         4.0f, -2.0f, 1.0f,  3.0f};  // channel 1: max|w| = 4

}  // namespace

static_assert(WeightQuantizer<MaxQuantizer>);
static_assert(WeightQuantizer<MaxPerAxisQuantizer>);
static_assert(WeightQuantizer<StdQuantizer>);
static_assert(WeightQuantizer<StdPerAxisQuantizer>);
static_assert(!MaxQuantizer::per_axis && MaxPerAxisQuantizer::per_axis);
static_assert(!StdQuantizer::per_axis && StdPerAxisQuantizer::per_axis);
static_assert(kmax(8) == 127 && kmax(4) == 7 && kmax(2) == 1);

TEST_CASE("MaxPerAxisQuantizer: one scale factor per output channel, by hand",
          "[quant][akida_v1]") {
  const auto q = quantize_weights(MaxPerAxisQuantizer{}, two_channels, 2, 8);
  // channel 0: sf = 127 / 1 = 127:    63.5 -> 64 (tie, even), -127, 31.75 -> 32, 0
  // channel 1: sf = 127 / 4 = 31.75:  127, -63.5 -> -64 (tie, even), 31.75 -> 32, 95.25 -> 95
  CHECK(q.values == ints({64, -127, 32, 0, 127, -64, 32, 95}));
  REQUIRE(q.scales.size() == 2);
  CHECK(q.scales[0] == 1.0f / 127.0f);
  CHECK(q.scales[1] == 4.0f / 127.0f);
  CHECK(q.per_axis);
  CHECK(q.bits == 8);
  CHECK(q.scale(1) == q.scales[1]);
  // Dequantized weights are within half a step of the float weights.
  for (std::size_t i = 0; i < two_channels.size(); ++i)
    CHECK(std::fabs(q.values[i] * q.scale(i / 4) - two_channels[i]) <=
          0.5f * q.scale(i / 4) + 1e-7f);
}

TEST_CASE("MaxQuantizer: one scale factor for the tensor, so channel 0 loses precision",
          "[quant][akida_v1]") {
  const auto q = quantize_weights(MaxQuantizer{}, two_channels, 2, 8);
  // sf = 127 / 4 = 31.75 for both channels. Channel 0: 15.875 -> 16, -31.75 -> -32, 7.9375 -> 8, 0.
  CHECK(q.values == ints({16, -32, 8, 0, 127, -64, 32, 95}));
  REQUIRE(q.scales.size() == 1);
  CHECK(q.scales[0] == 4.0f / 127.0f);
  CHECK_FALSE(q.per_axis);
  CHECK(q.scale(0) == q.scale(1));
  // Where the channels' ranges differ, per-tensor and per-axis differ (channel 0 only).
  const auto per_axis = quantize_weights(MaxPerAxisQuantizer{}, two_channels, 2, 8);
  CHECK(std::vector<std::int8_t>(q.values.begin(), q.values.begin() + 4) !=
        std::vector<std::int8_t>(per_axis.values.begin(), per_axis.values.begin() + 4));
  CHECK(std::vector<std::int8_t>(q.values.begin() + 4, q.values.end()) ==
        std::vector<std::int8_t>(per_axis.values.begin() + 4, per_axis.values.end()));
}

TEST_CASE("Weight rounding is half to even", "[quant][akida_v1]") {
  // max|w| = 127 makes sf exactly 1, so w * sf = w and the ties are exact.
  const std::vector<float> w = {127.0f, 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, 1.5f, -0.5f, -1.5f};
  const auto q = quantize_weights(MaxQuantizer{}, w, 1, 8);
  CHECK(q.values == ints({127, 2, 4, -2, -4, 0, 2, 0, -2}));
  CHECK(q.scales[0] == 1.0f);
}

TEST_CASE("4-bit and 2-bit weights", "[quant][akida_v1]") {
  const std::vector<float> w = {1.0f, -0.5f, 0.25f, 0.75f};
  SECTION("4 bits: kmax = 7, sf = 7") {
    const auto q = quantize_weights(MaxQuantizer{}, w, 1, 4);
    // 7, -3.5 -> -4 (tie, even), 1.75 -> 2, 5.25 -> 5
    CHECK(q.values == ints({7, -4, 2, 5}));
    CHECK(q.scales[0] == 1.0f / 7.0f);
    CHECK(q.bits == 4);
  }
  SECTION("2 bits: kmax = 1, sf = 1") {
    const auto q = quantize_weights(MaxQuantizer{}, w, 1, 2);
    // 1, -0.5 -> 0 (tie, even: half away from zero would give -1), 0.25 -> 0, 0.75 -> 1
    CHECK(q.values == ints({1, 0, 0, 1}));
    CHECK(q.scales[0] == 1.0f);
  }
}

TEST_CASE("StdQuantizer: sf = kmax / (threshold * std), saturating at kmax", "[quant][akida_v1]") {
  // The textbook set: mean 5, population standard deviation exactly 2.
  const std::vector<float> w = {2, 4, 4, 4, 5, 5, 7, 9};
  CHECK(detail::std_dev(w) == 2.0f);
  SECTION("threshold 3, 4 bits: sf = 7 / 6") {
    const auto q = quantize_weights(StdQuantizer{}, w, 1, 4);
    // 2.33 -> 2, 4.67 -> 5, 5.83 -> 6, 8.17 -> 7 (saturated), 10.5 -> 7 (saturated)
    CHECK(q.values == ints({2, 5, 5, 5, 6, 6, 7, 7}));
    CHECK(q.scales[0] == Approx(6.0 / 7.0).epsilon(1e-6));
  }
  SECTION("negated weights saturate at -kmax") {
    std::vector<float> neg;
    for (float v : w) neg.push_back(-v);
    const auto q = quantize_weights(StdQuantizer{}, neg, 1, 4);
    CHECK(q.values == ints({-2, -5, -5, -5, -6, -6, -7, -7}));
  }
  SECTION("threshold 1: sf = 7 / 2, everything beyond 2 saturates") {
    const auto q = quantize_weights(StdQuantizer{1.0f}, w, 1, 4);
    // 7, 14, ..., all >= 7
    CHECK(q.values == ints({7, 7, 7, 7, 7, 7, 7, 7}));
    CHECK(q.scales[0] == 2.0f / 7.0f);
  }
  SECTION("8 bits keep the tail: sf = 127 / 6") {
    const auto q = quantize_weights(StdQuantizer{}, w, 1, 8);
    // 42.33 -> 42, 84.67 -> 85, 105.83 -> 106, 148.17 -> 127, 190.5 -> 127
    CHECK(q.values == ints({42, 85, 85, 85, 106, 106, 127, 127}));
  }
}

TEST_CASE("StdPerAxisQuantizer vs StdQuantizer on channels of different spread",
          "[quant][akida_v1]") {
  // Channel 1 is channel 0 times 10: per axis both give the same integers.
  const std::vector<float> w = {2, 4, 4, 4, 5, 5, 7, 9, 20, 40, 40, 40, 50, 50, 70, 90};
  const auto per_axis = quantize_weights(StdPerAxisQuantizer{}, w, 2, 4);
  CHECK(per_axis.values == ints({2, 5, 5, 5, 6, 6, 7, 7, 2, 5, 5, 5, 6, 6, 7, 7}));
  REQUIRE(per_axis.scales.size() == 2);
  CHECK(per_axis.scales[1] == Approx(10.0 * per_axis.scales[0]).epsilon(1e-6));

  // Per tensor: mean 27.5, variance = (4 + 22.5^2 + 400 + 22.5^2) / 2 = 708.25,
  // sf = 7 / (3 * sqrt(708.25)) = 0.08768. Channel 0: 0.18, 0.35, 0.44, 0.61, 0.79 -> 0 0 0 1 1.
  // Channel 1: 1.75 -> 2, 3.51 -> 4, 4.38 -> 4, 6.14 -> 6, 7.89 -> 7 (saturated).
  const auto per_tensor = quantize_weights(StdQuantizer{}, w, 2, 4);
  CHECK(per_tensor.values == ints({0, 0, 0, 0, 0, 0, 1, 1, 2, 4, 4, 4, 4, 4, 6, 7}));
  REQUIRE(per_tensor.scales.size() == 1);
  CHECK(per_tensor.scales[0] == Approx(3.0 * std::sqrt(708.25) / 7.0).epsilon(1e-6));
}

TEST_CASE("StdQuantizer on a constant channel falls back to the max rule", "[quant][akida_v1]") {
  const std::vector<float> w = {0.5f, 0.5f, 0.5f, 0.5f, 1.0f, -1.0f, 1.0f, -1.0f};
  const auto q = quantize_weights(StdPerAxisQuantizer{}, w, 2, 8);
  // Channel 0: std 0 -> sf = 127 / 0.5 = 254, every weight -> 127. Channel 1: std 1, sf = 127/3:
  // +-42.33 -> +-42.
  CHECK(q.values == ints({127, 127, 127, 127, 42, -42, 42, -42}));
  CHECK(q.scales[0] == 1.0f / 254.0f);
}

TEST_CASE("StdQuantizer threshold", "[quant][akida_v1]") {
  CHECK(StdQuantizer{}.threshold == 3.0f);
  CHECK(StdPerAxisQuantizer{2.0f}.threshold == 2.0f);
  CHECK_THROWS_WITH(StdQuantizer{0.0f}, Contains("threshold"));
  CHECK_THROWS_AS(StdPerAxisQuantizer{-1.0f}, std::invalid_argument);
}

namespace {

// A user quantizer: a fixed scale factor of 4 (so every product below is exact).
struct FixedScaleFactor {
  static constexpr bool per_axis = false;
  float scale_factor(std::span<const float>, int) const { return 4.0f; }
};

// A user quantizer overriding only the scale factor of a built-in one: twice MaxPerAxis's sf,
// so the upper half of each channel's range saturates.
struct HalfRangeMax : MaxPerAxisQuantizer {
  float scale_factor(std::span<const float> w, int bits) const {
    return 2.0f * MaxPerAxisQuantizer::scale_factor(w, bits);
  }
};

// A broken user quantizer.
struct NegativeScaleFactor {
  static constexpr bool per_axis = true;
  float scale_factor(std::span<const float>, int) const { return -1.0f; }
};

// Divides by max|w|: would return inf on an all-zero channel if it were asked.
struct NaiveMax {
  static constexpr bool per_axis = true;
  float scale_factor(std::span<const float> w, int bits) const {
    return static_cast<float>(kmax(bits)) / detail::max_abs(w);
  }
};

// Not quantizers.
struct NoPerAxis {
  float scale_factor(std::span<const float>, int) const { return 1.0f; }
};
struct RuntimePerAxis {
  static inline bool per_axis = false;
  float scale_factor(std::span<const float>, int) const { return 1.0f; }
};
struct DoubleScaleFactor {
  static constexpr bool per_axis = false;
  double scale_factor(std::span<const float>, int) const { return 1.0; }
};
struct IntPerAxis {
  static constexpr int per_axis = 0;
  float scale_factor(std::span<const float>, int) const { return 1.0f; }
};

}  // namespace

static_assert(WeightQuantizer<FixedScaleFactor>);
static_assert(WeightQuantizer<HalfRangeMax> && HalfRangeMax::per_axis);
static_assert(!WeightQuantizer<NoPerAxis>);
static_assert(!WeightQuantizer<RuntimePerAxis>);
static_assert(!WeightQuantizer<DoubleScaleFactor>);
static_assert(!WeightQuantizer<IntPerAxis>);

TEST_CASE("A user-defined quantizer plugs in through WeightQuantizer", "[quant][akida_v1]") {
  SECTION("a fixed scale factor") {
    const std::vector<float> w = {0.125f, 0.375f, 0.625f, 100.0f, -100.0f, -0.375f};
    const auto q = quantize_weights(FixedScaleFactor{}, w, 2, 8);
    // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 400 -> 127, -400 -> -127, -1.5 -> -2
    CHECK(q.values == ints({0, 2, 2, 127, -127, -2}));
    REQUIRE(q.scales.size() == 1);
    CHECK(q.scales[0] == 0.25f);
  }
  SECTION("overriding only the scale factor of a built-in quantizer") {
    const std::vector<float> w = {1.0f, 0.5f, 0.25f, -1.0f, 2.0f, 0.0f, -0.5f, 1.0f};
    const auto q = quantize_weights(HalfRangeMax{}, w, 2, 4);
    // Channel 0: sf = 2 * 7 / 1 = 14: 14 -> 7, 7, 3.5 -> 4, -14 -> -7.
    // Channel 1: sf = 2 * 7 / 2 = 7: 14 -> 7, 0, -3.5 -> -4, 7.
    CHECK(q.values == ints({7, 7, 4, -7, 7, 0, -4, 7}));
    REQUIRE(q.scales.size() == 2);  // per_axis inherited from MaxPerAxisQuantizer
    CHECK(q.scales[0] == 1.0f / 14.0f);
    CHECK(q.scales[1] == 1.0f / 7.0f);
  }
  SECTION("a scale factor that is not finite and positive is rejected, naming the channel") {
    const std::vector<float> w = {1.0f, 2.0f};
    CHECK_THROWS_WITH(quantize_weights(NegativeScaleFactor{}, w, 2, 8),
                      Contains("scale factor -1") && Contains("output channel 0"));
  }
}

TEST_CASE("An all-zero channel gets zero integers and the 1e-6 scale", "[quant][akida_v1]") {
  const std::vector<float> w = {0.0f, 0.0f, 0.0f, 1.0f, -2.0f, 0.5f};
  SECTION("per axis, built-in") {
    const auto q = quantize_weights(MaxPerAxisQuantizer{}, w, 2, 8);
    // Channel 1: sf = 127 / 2 = 63.5: 63.5 -> 64 (tie, even), -127, 31.75 -> 32.
    CHECK(q.values == ints({0, 0, 0, 64, -127, 32}));
    CHECK(q.scales[0] == 1e-6f);
    CHECK(q.scales[1] == 2.0f / 127.0f);
  }
  SECTION("a user quantizer is not asked about the zero channel (no division by zero)") {
    const auto q = quantize_weights(NaiveMax{}, w, 2, 8);
    CHECK(q.values == ints({0, 0, 0, 64, -127, 32}));
    CHECK(q.scales[0] == 1e-6f);
  }
  SECTION("std per axis") {
    const auto q = quantize_weights(StdPerAxisQuantizer{}, w, 2, 8);
    CHECK(q.scales[0] == 1e-6f);
    CHECK(q.values[0] == 0);
  }
  SECTION("an all-zero tensor, per tensor") {
    const std::vector<float> zeros(6, 0.0f);
    const auto q = quantize_weights(MaxQuantizer{}, zeros, 2, 4);
    CHECK(q.values == ints({0, 0, 0, 0, 0, 0}));
    REQUIRE(q.scales.size() == 1);
    CHECK(q.scales[0] == 1e-6f);
  }
  SECTION("a subnormal channel, where kmax / max|w| overflows, quantizes to zeros") {
    const std::vector<float> tiny = {std::numeric_limits<float>::denorm_min(), 0.0f, 1.0f, 0.5f};
    for (const auto& q : {quantize_weights(MaxPerAxisQuantizer{}, tiny, 2, 8),
                          quantize_weights(StdPerAxisQuantizer{}, tiny, 2, 8)}) {
      CHECK(q.values[0] == 0);
      CHECK(q.values[1] == 0);
      CHECK(std::isfinite(q.scales[0]));
      CHECK(q.scales[0] > 0.0f);
      CHECK(q.values[2] != 0);
    }
  }
  SECTION("asked directly, the built-ins give sf = 1 / 1e-6 rather than kmax / 0") {
    const std::vector<float> zeros(3, 0.0f);
    CHECK(MaxQuantizer{}.scale_factor(zeros, 8) == 1.0f / 1e-6f);
    CHECK(StdQuantizer{}.scale_factor(zeros, 8) == 1.0f / 1e-6f);
  }
}

TEST_CASE("NaN and Inf weights are rejected with the channel and what to do", "[quant][akida_v1]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> with_nan = {0.1f, 0.2f, 0.3f, 0.4f, nan, 0.6f};
  CHECK_THROWS_AS(quantize_weights(MaxPerAxisQuantizer{}, with_nan, 3, 8), std::invalid_argument);
  CHECK_THROWS_WITH(quantize_weights(MaxPerAxisQuantizer{}, with_nan, 3, 8),
                    Contains("output channel 2") && Contains("NaN") && Contains("flat index 4") &&
                        Contains("retrain"));
  // Per tensor the message still names the channel.
  CHECK_THROWS_WITH(quantize_weights(StdQuantizer{}, with_nan, 3, 8), Contains("output channel 2"));
  const std::vector<float> with_inf = {-inf, 0.2f};
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, with_inf, 1, 8),
                    Contains("output channel 0") && Contains("infinite"));
}

TEST_CASE("quantize_weights argument checks", "[quant][akida_v1]") {
  const std::vector<float> w = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, w, 4, 8), Contains("output channel first"));
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, w, 0, 8), Contains("out_channels"));
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, w, 2, 1), Contains("kmax"));
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, w, 2, 9), Contains("2 to 8 bits"));
  CHECK_THROWS_WITH(quantize_weights(MaxQuantizer{}, std::span<const float>{}, 1, 8),
                    Contains("empty"));
}
