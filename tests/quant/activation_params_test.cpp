// Activation quantization parameters from a calibrated range: qlinear (onnxruntime quant_utils
// compute_scale_zp), tflite (GetAsymmetricQuantizationParams) and pow2 (frac_bits). Expected
// values are worked by hand; the onnxruntime ones also appear in its own test_quant_util.py.
#include "statiq/quant/activation_params.hpp"

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <limits>

using namespace statiq::quant;
using Catch::Matchers::Contains;

static_assert(qlinear_range(QuantType::uint8) == QuantRange{0, 255});
static_assert(qlinear_range(QuantType::int8) == QuantRange{-128, 127});
static_assert(qlinear_range(QuantType::int8, false, true) == QuantRange{-127, 127});
static_assert(qlinear_range(QuantType::uint8, false, true) == QuantRange{0, 255});
static_assert(qlinear_range(QuantType::uint8, true) == QuantRange{0, 127});
static_assert(qlinear_range(QuantType::int8, true) == QuantRange{-64, 64});
static_assert(qlinear_range(QuantType::int8, true, true) == QuantRange{-64, 64});

TEST_CASE("qlinear: [-1, 3] as uint8 gives scale 4/255 and zero point 64", "[quant][qlinear]") {
  const QuantParams p = qlinear_params(-1.0f, 3.0f, QuantType::uint8);
  CHECK(p.scale == static_cast<float>(4.0 / 255.0));
  CHECK(p.zero_point == 64);  // RNE(0 + 1 / (4/255)) = RNE(63.75)
  CHECK(p.qmin == 0);
  CHECK(p.qmax == 255);
}

TEST_CASE("qlinear: int8, symmetric and reduce_range", "[quant][qlinear]") {
  SECTION("[-1, 3] as int8: zero point RNE(-128 + 63.75) = -64") {
    const QuantParams p = qlinear_params(-1.0f, 3.0f, QuantType::int8);
    CHECK(p.scale == static_cast<float>(4.0 / 255.0));
    CHECK(p.zero_point == -64);
    CHECK(p.qmin == -128);
  }
  SECTION("symmetric int8 [-1, 2]: +-2 over [-127, 127], scale 2/127, zero point 0") {
    const QuantParams p = qlinear_params(-1.0f, 2.0f, QuantType::int8, {.symmetric = true});
    CHECK(p == QuantParams{static_cast<float>(2.0 / 127.0), 0, -127, 127});
  }
  SECTION("symmetric uint8 [-1, 2]: scale 4/255, zero point RNE(127.5) = 128") {
    const QuantParams p = qlinear_params(-1.0f, 2.0f, QuantType::uint8, {.symmetric = true});
    CHECK(p == QuantParams{static_cast<float>(4.0 / 255.0), 128, 0, 255});
  }
  SECTION("reduce_range uint8 [-1, 3]: [0, 127], scale 4/127, zero point RNE(31.75) = 32") {
    const QuantParams p = qlinear_params(-1.0f, 3.0f, QuantType::uint8, {.reduce_range = true});
    CHECK(p == QuantParams{static_cast<float>(4.0 / 127.0), 32, 0, 127});
  }
  SECTION("reduce_range int8 [-1, 3]: [-64, 64], scale 4/128, zero point -64 + 32 = -32") {
    const QuantParams p = qlinear_params(-1.0f, 3.0f, QuantType::int8, {.reduce_range = true});
    CHECK(p == QuantParams{1.0f / 32.0f, -32, -64, 64});
  }
  SECTION("reduce_range + symmetric int8 [-1, 3]: +-3 over [-64, 64], zero point 0") {
    const QuantParams p =
        qlinear_params(-1.0f, 3.0f, QuantType::int8, {.symmetric = true, .reduce_range = true});
    CHECK(p == QuantParams{static_cast<float>(6.0 / 128.0), 0, -64, 64});
  }
}

TEST_CASE("qlinear: the range is widened to include 0", "[quant][qlinear]") {
  // [0.5, 2] -> [0, 2]: zero point 0. [-4, -1] -> [-4, 0]: zero point 255.
  CHECK(qlinear_params(0.5f, 2.0f, QuantType::uint8) ==
        QuantParams{static_cast<float>(2.0 / 255.0), 0, 0, 255});
  CHECK(qlinear_params(-4.0f, -1.0f, QuantType::uint8) ==
        QuantParams{static_cast<float>(4.0 / 255.0), 255, 0, 255});
}

TEST_CASE("qlinear: the zero point rounds half to even", "[quant][qlinear]") {
  // rmax - rmin = 255/64 makes the scale exactly 1/64; -rmin / scale = 62.5 exactly -> 62.
  const QuantParams p = qlinear_params(-62.5f / 64.0f, 192.5f / 64.0f, QuantType::uint8);
  CHECK(p.scale == 1.0f / 64.0f);
  CHECK(p.zero_point == 62);  // half away from zero would give 63
  // ... and 63.5 -> 64.
  CHECK(qlinear_params(-63.5f / 64.0f, 191.5f / 64.0f, QuantType::uint8).zero_point == 64);
}

TEST_CASE("compute_scale_zp: onnxruntime's own cases", "[quant][qlinear]") {
  CHECK(compute_scale_zp(0.0f, 0.0f, -127, 127, true) == QuantParams{1.0f, 0, -127, 127});
  CHECK(compute_scale_zp(1.0f, -1.0f, -127, 127, true) == QuantParams{1.0f, 0, -127, 127});
  CHECK(compute_scale_zp(0.0f, 0.0f, 0, 255, true) == QuantParams{1.0f, 0, 0, 255});
  CHECK(compute_scale_zp(1.0f, -1.0f, 0, 255, true) == QuantParams{1.0f, 0, 0, 255});
  CHECK(compute_scale_zp(-1.0f, 2.0f, -127, 127, true) ==
        QuantParams{static_cast<float>(2.0 / 127.0), 0, -127, 127});
  // RNE(-127 + 1 / (3/254)) = RNE(-42.33) = -42
  CHECK(compute_scale_zp(-1.0f, 2.0f, -127, 127, false) ==
        QuantParams{static_cast<float>(3.0 / 254.0), -42, -127, 127});
  CHECK(compute_scale_zp(-1.0f, 2.0f, 0, 255, true) ==
        QuantParams{static_cast<float>(4.0 / 255.0), 128, 0, 255});
  CHECK(compute_scale_zp(-1.0f, 2.0f, 0, 255, false) ==
        QuantParams{static_cast<float>(3.0 / 255.0), 85, 0, 255});
  // A subnormal range: the scale is below FLT_MIN, so scale 1, zero point 0.
  const float tiny = FLT_MIN * 0.1f;
  REQUIRE(tiny > 0.0f);
  CHECK(compute_scale_zp(-tiny, tiny, 0, 255, true) == QuantParams{1.0f, 0, 0, 255});
  CHECK(compute_scale_zp(-tiny, 0.0f, 0, 255, false) == QuantParams{1.0f, 0, 0, 255});
}

TEST_CASE("compute_scale_zp: min_real_range", "[quant][qlinear]") {
  // [0, 0] widened to [0, 1e-4]: scale 1e-4 / 255, zero point 0.
  const QuantParams a = compute_scale_zp(0.0f, 0.0f, 0, 255, false, 1e-4f);
  CHECK(a.scale == static_cast<float>(static_cast<double>(1e-4f) / 255.0));
  CHECK(a.zero_point == 0);
  // Symmetric over [-128, 127]: scale 2e-4 / 255, zero point RNE(-128 + 127.5) = RNE(-0.5) = 0.
  const QuantParams b = compute_scale_zp(0.0f, 0.0f, -128, 127, true, 1e-4f);
  CHECK(b.scale == static_cast<float>(2.0 * static_cast<double>(1e-4f) / 255.0));
  CHECK(b.zero_point == 0);
  // A range already wider than min_real_range is unchanged.
  CHECK(compute_scale_zp(-1.0f, 3.0f, 0, 255, false, 1e-4f) ==
        qlinear_params(-1.0f, 3.0f, QuantType::uint8));
}

TEST_CASE("compute_scale_zp rejects what quant_utils rejects", "[quant][qlinear]") {
  CHECK_THROWS_WITH(compute_scale_zp(-1.0f, 1.0f, 1, 255), Contains("qmin <= 0 <= qmax"));
  CHECK_THROWS_AS(compute_scale_zp(-1.0f, 1.0f, -10, -1), std::invalid_argument);
  CHECK_THROWS_WITH(qlinear_params(std::numeric_limits<float>::quiet_NaN(), 1.0f, QuantType::uint8),
                    Contains("not finite") && Contains("recalibrate"));
  CHECK_THROWS_AS(qlinear_params(-std::numeric_limits<float>::max(),
                                 std::numeric_limits<float>::max(), QuantType::uint8),
                  std::invalid_argument);
}

TEST_CASE("tflite: asymmetric int8 with the zero point nudged into range", "[quant][tflite]") {
  SECTION("[-1, 3]: scale 4/255, zero point round(-128 + 63.75) = -64") {
    const QuantParams p = tflite_params(-1.0f, 3.0f);
    CHECK(p.scale == 4.0f / 255.0f);
    CHECK(p.zero_point == -64);
    CHECK(p.qmin == -128);
    CHECK(p.qmax == 127);
  }
  SECTION("ties round half away from zero: -128 + 63.5 = -64.5 -> -65") {
    const QuantParams p = tflite_params(-63.5f / 64.0f, 191.5f / 64.0f);
    CHECK(p.scale == 1.0f / 64.0f);
    CHECK(p.zero_point == -65);  // qlinear's RNE would give -64
  }
  SECTION("ranges on one side of 0 are widened; the zero point lands on qmin or qmax") {
    CHECK(tflite_params(0.5f, 2.0f) == QuantParams{2.0f / 255.0f, -128, -128, 127});
    CHECK(tflite_params(-4.0f, -1.0f) == QuantParams{4.0f / 255.0f, 127, -128, 127});
  }
  SECTION("a range of {0} gives scale 0 and zero point qmin, as TFLite writes it") {
    CHECK(tflite_params(0.0f, 0.0f) == QuantParams{0.0f, -128, -128, 127});
  }
  SECTION("uint8 bounds") {
    // scale 4/255, zero point round(0 + 63.75) = 64
    CHECK(tflite_params(-1.0f, 3.0f, 0, 255) == QuantParams{4.0f / 255.0f, 64, 0, 255});
  }
  CHECK_THROWS_AS(tflite_params(std::numeric_limits<float>::infinity(), 1.0f),
                  std::invalid_argument);
}

TEST_CASE("pow2: frac_bits = value_bits - ceil(log2(max|x|)), capped at value_bits",
          "[quant][pow2]") {
  // 7 value bits (int8).
  CHECK(pow2_frac_bits(1.0f, 7) == 7);     // ceil(log2 1) = 0
  CHECK(pow2_frac_bits(3.0f, 7) == 5);     // ceil(1.58) = 2
  CHECK(pow2_frac_bits(4.0f, 7) == 5);     // log2 4 = 2 exactly
  CHECK(pow2_frac_bits(4.5f, 7) == 4);     // ceil(2.17) = 3
  CHECK(pow2_frac_bits(200.0f, 7) == -1);  // ceil(7.64) = 8: negative frac_bits
  CHECK(pow2_frac_bits(256.0f, 7) == -1);  // log2 256 = 8 exactly
  CHECK(pow2_frac_bits(257.0f, 7) == -2);
  CHECK(pow2_frac_bits(0.3f, 7) == 7);  // ceil(-1.74) = -1 -> 8, capped at 7
  CHECK(pow2_frac_bits(0.3f, 7, false) == 8);
  CHECK(pow2_frac_bits(0.5f, 7, false) == 8);  // log2 0.5 = -1 exactly
  CHECK(pow2_frac_bits(0.0f, 7) == 7);         // log2 0 = -inf, capped
  CHECK(pow2_frac_bits(6.0f, 3) == 0);         // 4-bit signed: vb = 3, ceil(2.58) = 3
  CHECK(pow2_frac_bits(6.0f, 8) == 5);         // uint8: vb = 8
  // The largest value then fits: max|x| * 2^frac_bits <= 2^vb.
  for (float x : {0.7f, 1.3f, 3.0f, 9.99f, 100.0f, 1000.0f}) {
    const int f = pow2_frac_bits(x, 7, false);
    CHECK(std::ldexp(x, f) <= 128.0f);
    CHECK(std::ldexp(x, f) > 64.0f);  // and frac_bits is the largest such
  }
  CHECK_THROWS_AS(pow2_frac_bits(-1.0f, 7), std::invalid_argument);
  CHECK_THROWS_AS(pow2_frac_bits(std::numeric_limits<float>::quiet_NaN(), 7),
                  std::invalid_argument);
  CHECK_THROWS_AS(pow2_frac_bits(1.0f, -1), std::invalid_argument);
}
