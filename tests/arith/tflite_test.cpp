// The tflite profiles: QuantizeMultiplier edge cases, the gemmlowp primitives against Debian's
// gemmlowp (fixedpoint.h) on edge values and a large random set, double vs single rounding,
// requantize, int8 Add and Requantize; TFLite's x86 builtin kernels (tflite_x86): ruy's GEMM output
// stage and the Quantize that divides in double.
#include "statiq/arith/tflite.hpp"
#include "statiq/layers/quantize.hpp"

#include <gemmlowp/fixedpoint/fixedpoint.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

using statiq::arith::tflite;
using statiq::arith::tflite_single_rounding;
using statiq::arith::tflite_x86;

namespace {

constexpr std::int32_t int_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t int_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t two_30 = std::int32_t{1} << 30;

bool same(tflite::channel_params p, std::int64_t multiplier, int shift) {
  return p.multiplier == multiplier && p.shift == shift;
}
bool same(tflite_single_rounding::channel_params p, std::int64_t multiplier, int shift) {
  return p.multiplier == multiplier && p.shift == shift;
}

std::vector<std::int32_t> edge_values() {
  return {int_min,    int_min + 1, -two_30 - 1, -two_30,  -two_30 + 1, -65536, -65535, -256,
          -255,       -129,        -128,        -7,       -6,          -5,     -4,     -3,
          -2,         -1,          0,           1,        2,           3,      4,      5,
          6,          7,           127,         128,      255,         256,    65535,  65536,
          two_30 - 1, two_30,      two_30 + 1,  int_max - 1, int_max};
}

}  // namespace

TEST_CASE("tflite QuantizeMultiplier: frexp, RHAZ, the 2^31 case, flush below 2^-32") {
  CHECK(same(tflite::quantize_multiplier(0.0), 0, 0));
  CHECK(same(tflite::quantize_multiplier(0.5), two_30, 0));
  CHECK(same(tflite::quantize_multiplier(1.0), two_30, 1));
  CHECK(same(tflite::quantize_multiplier(0.75), 1610612736, 0));  // 0.75 * 2^31
  CHECK(same(tflite::quantize_multiplier(3.0), 1610612736, 2));
  CHECK(same(tflite::quantize_multiplier(0.1), 1717986918, -3));  // 0.8 * 2^31 = 1717986918.4

  // q * 2^31 = 1610612736.5 exactly: half away from zero gives ...737 (RNE would give ...736).
  CHECK(same(tflite::quantize_multiplier(0.75 + 0x1p-32), 1610612737, 0));

  // q = 1 - 2^-33 (so q * 2^31 = 2^31 - 0.25 rounds to 2^31): halved, shift + 1.
  const double almost_one = (1.0 - 0x1p-33) * 0x1p-3;
  CHECK(same(tflite::quantize_multiplier(almost_one), two_30, -2));

  // shift < -31 flushes to zero: 2^-33 has frexp exponent -32; 2^-32 (exponent -31) survives.
  CHECK(same(tflite::quantize_multiplier(0x1p-33), 0, 0));
  CHECK(same(tflite::quantize_multiplier(0x1p-40), 0, 0));
  CHECK(same(tflite::quantize_multiplier(0x1p-32), two_30, -31));

  // shift > 30 is kept by the double-rounding build and saturated by the single-rounding one.
  CHECK(same(tflite::quantize_multiplier(0x1p31), two_30, 32));
  CHECK(same(tflite_single_rounding::quantize_multiplier(0x1p31), int_max, 30));
  CHECK(same(tflite_single_rounding::quantize_multiplier(0x1p29), two_30, 30));
  CHECK(same(tflite_single_rounding::quantize_multiplier(0x1p-33), 0, 0));
}

TEST_CASE("tflite effective multiplier is computed in double from float scales") {
  const float s_in = 0.0235f, s_w = 0.0031f, s_out = 0.047f;
  CHECK(tflite::effective_multiplier(s_in, s_w, s_out) ==
        static_cast<double>(s_in) * static_cast<double>(s_w) / static_cast<double>(s_out));
  CHECK(tflite::effective_multiplier(0.5f, 0.25f, 0.125f) == 1.0);
}

TEST_CASE("tflite SaturatingRoundingDoublingHighMul: hand values and INT_MIN * INT_MIN") {
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(int_min, int_min) == int_max);
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(two_30, two_30) == (1 << 29));
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(3, two_30) == 2);    // 1.5
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(-3, two_30) == -1);  // -1.5
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(5, two_30) == 3);    // 2.5
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(-5, two_30) == -2);  // -2.5
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(int_min, int_max) == -int_max);
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(int_max, int_max) == int_max - 1);
  STATIC_REQUIRE(tflite::saturating_rounding_doubling_high_mul(0, int_min) == 0);
}

TEST_CASE("tflite RoundingDivideByPOT rounds half away from zero, negative values included") {
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(5, 1) == 3);    // 2.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-5, 1) == -3);  // -2.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(3, 1) == 2);    // 1.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-3, 1) == -2);  // -1.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-4, 1) == -2);
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-6, 2) == -2);  // -1.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-5, 2) == -1);  // -1.25
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-7, 2) == -2);  // -1.75
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(7, 0) == 7);
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-7, 0) == -7);
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(int_min, 31) == -1);
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(int_max, 31) == 1);
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(-two_30, 31) == -1);  // -0.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(two_30, 31) == 1);    // 0.5
  STATIC_REQUIRE(tflite::rounding_divide_by_pot(two_30 - 1, 31) == 0);
}

TEST_CASE("tflite primitives equal gemmlowp's on edge values and a large random set") {
  const auto edges = edge_values();
  for (std::int32_t a : edges) {
    for (std::int32_t b : edges) {
      REQUIRE(tflite::saturating_rounding_doubling_high_mul(a, b) ==
              gemmlowp::SaturatingRoundingDoublingHighMul(a, b));
    }
    for (int e = 0; e <= 31; ++e) {
      REQUIRE(tflite::rounding_divide_by_pot(a, e) == gemmlowp::RoundingDivideByPOT(a, e));
    }
  }

  std::mt19937 rng(2024);
  std::uniform_int_distribution<std::int32_t> any(int_min, int_max);
  std::uniform_int_distribution<std::int32_t> small(-70000, 70000);
  std::uniform_int_distribution<int> exponent(0, 31);
  for (int i = 0; i < 1000000; ++i) {
    const std::int32_t a = (i & 1) ? any(rng) : small(rng);
    const std::int32_t b = any(rng);
    REQUIRE(tflite::saturating_rounding_doubling_high_mul(a, b) ==
            gemmlowp::SaturatingRoundingDoublingHighMul(a, b));
    const int e = exponent(rng);
    REQUIRE(tflite::rounding_divide_by_pot(a, e) == gemmlowp::RoundingDivideByPOT(a, e));
  }
}

TEST_CASE("tflite MultiplyByQuantizedMultiplier: double rounding is the gemmlowp composition") {
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_int_distribution<std::int32_t> multiplier(two_30, int_max);
  std::uniform_int_distribution<int> shift(-31, 0);
  for (int i = 0; i < 200000; ++i) {
    const std::int32_t x = acc(rng), m = multiplier(rng);
    const int s = shift(rng);
    REQUIRE(tflite::multiply_by_quantized_multiplier(x, m, s) ==
            gemmlowp::RoundingDivideByPOT(gemmlowp::SaturatingRoundingDoublingHighMul(x, m), -s));
  }
  // Left shifts (shift > 0) multiply first.
  for (int s = 1; s <= 8; ++s) {
    for (std::int32_t x : {-1000, -3, -1, 0, 1, 3, 1000}) {
      REQUIRE(tflite::multiply_by_quantized_multiplier(x, 1610612736, s) ==
              gemmlowp::SaturatingRoundingDoublingHighMul(x * (1 << s), 1610612736));
    }
  }
}

TEST_CASE("tflite double vs single rounding") {
  // x * 0.75 * 2^-1 = 0.375: double rounding first rounds 0.75 up to 1, then 0.5 away to 1.
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(1, 1610612736, -1) == 1);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(1, 1610612736, -1) == 0);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(-1, 1610612736, -1) == -1);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(-1, 1610612736, -1) == 0);
  // Ties: double rounding goes away from zero in the final divide, single rounding half up.
  // 5 * 0.5 * 0.5 = 1.25: double rounding rounds 2.5 up to 3 first, then 1.5 away to 2.
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(5, two_30, -1) == 2);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(5, two_30, -1) == 1);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(6, two_30, -1) == 2);  // 1.5
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(-6, two_30, -1) == -2);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(6, two_30, -1) == 2);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(-6, two_30, -1) == -1);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(3, two_30, 0) == 2);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(-3, two_30, 0) == -1);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(3, two_30, 2) == 6);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(3, two_30, 2) == 6);

  // Single rounding is floor(x m / 2^(31 - shift) + 1/2), checked in long double.
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_int_distribution<std::int32_t> multiplier(two_30, int_max);
  std::uniform_int_distribution<int> shift(-31, 6);
  for (int i = 0; i < 100000; ++i) {
    const std::int32_t x = acc(rng), m = multiplier(rng);
    const int s = shift(rng);
    const std::int64_t product = static_cast<std::int64_t>(x) * m;
    // floor division by 2^(31 - s) of product + 2^(30 - s), written with / and a sign fix.
    const std::int64_t d = std::int64_t{1} << (31 - s);
    const std::int64_t n = product + d / 2;
    const std::int64_t expected = n >= 0 ? n / d : -((-n + d - 1) / d);
    REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(x, m, s) == expected);
  }
}

TEST_CASE("tflite requantize: + zero point, clamp to the activation range") {
  constexpr tflite::output_params out{-3, -128, 127};
  STATIC_REQUIRE(tflite::requantize(100, {two_30, 0}, out) == 47);   // 50 - 3
  STATIC_REQUIRE(tflite::requantize(5, {two_30, 0}, out) == 0);      // 2.5 -> 3, - 3
  STATIC_REQUIRE(tflite::requantize(-5, {two_30, 0}, out) == -5);    // -2.5 -> -2, - 3
  STATIC_REQUIRE(tflite::requantize(1000, {two_30, 0}, out) == 127);
  STATIC_REQUIRE(tflite::requantize(-1000, {two_30, 0}, out) == -128);
  STATIC_REQUIRE(tflite::requantize(-100, {two_30, 0}, {-3, -3, 127}) == -3);  // ReLU
  STATIC_REQUIRE(tflite_single_rounding::requantize(-5, {two_30, 0}, {-3, -128, 127}) == -5);
  STATIC_REQUIRE(tflite_single_rounding::requantize(-7, {two_30, 0}, {0, -128, 127}) == -3);  // -3.5
  STATIC_REQUIRE(tflite::requantize(-7, {two_30, 0}, {0, -128, 127}) == -3);  // SRDHM half up
}

TEST_CASE("tflite int8 Add: left shift 20, per-input and output multipliers") {
  // Scales 0.5, 0.5 -> 0.5: twice_max = 1, input multipliers 0.5, output 2^-19.
  const auto p = tflite::make_add(0.5f, 0, 0.5f, 0, 0.5f, 0, -128, 127);
  CHECK(p.left_shift == 20);
  CHECK(same(p.a, two_30, 0));
  CHECK(same(p.output, two_30, -18));
  CHECK(tflite::add(3, 4, p) == 7);
  CHECK(tflite::add(-3, -4, p) == -7);
  CHECK(tflite::add(100, 100, p) == 127);
  CHECK(tflite::add(-100, -100, p) == -128);

  // Output scale 1: 0.5 (3 + 2) = 2.5, a tie.
  const auto tie = tflite::make_add(0.5f, 0, 0.5f, 0, 1.0f, 0, -128, 127);
  CHECK(tflite::add(3, 2, tie) == 3);     // away from zero
  CHECK(tflite::add(-3, -2, tie) == -3);  // away from zero
  const auto tie1 = tflite_single_rounding::make_add(0.5f, 0, 0.5f, 0, 1.0f, 0, -128, 127);
  CHECK(tflite_single_rounding::add(3, 2, tie1) == 3);
  CHECK(tflite_single_rounding::add(-3, -2, tie1) == -2);  // half up

  // Zero points: 0.25 (a + 128) + 0.5 (b - 10) over 0.5, + 5.
  const auto zp = tflite::make_add(0.25f, -128, 0.5f, 10, 0.5f, 5, -128, 127);
  CHECK(tflite::add(-120, 14, zp) == 13);  // (0.25 * 8 + 0.5 * 4) / 0.5 = 8, + 5
  CHECK(tflite::add(-128, 10, zp) == 5);
}

TEST_CASE("tflite int8 Add equals the reference composition with gemmlowp") {
  const float sa = 0.0235f, sb = 0.0171f, sy = 0.0313f;
  const int za = -7, zb = 12, zy = 3;
  const auto p = tflite::make_add(sa, za, sb, zb, sy, zy, -128, 127);
  // Multipliers re-derived here from the add.cc formulas with std::frexp / std::round.
  auto qm = [](double m) {
    int e = 0;
    const double q = std::frexp(m, &e);
    auto f = static_cast<std::int64_t>(std::round(q * 2147483648.0));
    if (f == (std::int64_t{1} << 31)) { f /= 2; ++e; }
    return std::pair<std::int32_t, int>{static_cast<std::int32_t>(f), e};
  };
  const double twice_max = 2.0 * static_cast<double>(std::max(sa, sb));
  const auto [ma, ea] = qm(sa / twice_max);
  const auto [mb, eb] = qm(sb / twice_max);
  const auto [mo, eo] = qm(twice_max / (1048576.0 * sy));
  CHECK(same(p.a, ma, ea));
  CHECK(same(p.b, mb, eb));
  CHECK(same(p.output, mo, eo));
  auto scale = [](std::int32_t x, std::int32_t m, int e) {
    return gemmlowp::RoundingDivideByPOT(gemmlowp::SaturatingRoundingDoublingHighMul(x, m), -e);
  };
  for (int a = -128; a <= 127; ++a) {
    for (int b = -128; b <= 127; b += 3) {
      const std::int32_t sum = scale((a - za) * (1 << 20), ma, ea) + scale((b - zb) * (1 << 20), mb, eb);
      const std::int32_t raw = scale(sum, mo, eo) + zy;
      const std::int32_t expected = raw < -128 ? -128 : (raw > 127 ? 127 : raw);
      REQUIRE(tflite::add(a, b, p) == expected);
    }
  }
}

TEST_CASE("tflite rescale is the Requantize op") {
  const auto p = tflite::make_rescale(0.5f, 0, 0.25f, 1, -128, 127);
  CHECK(same(p.multiplier, two_30, 2));  // 2.0
  CHECK(tflite::rescale(3, p) == 7);
  CHECK(tflite::rescale(-3, p) == -5);
  CHECK(tflite::rescale(100, p) == 127);
  CHECK(tflite::rescale(-100, p) == -128);
  // Multiplier 0.25 = (2^30, -1): the tie is decided by RoundingDivideByPOT (away from zero)
  // in the double-rounding build, by the single shift (half up) in the other.
  const auto quarter = tflite::make_rescale(0.25f, 10, 1.0f, 0, -128, 127);
  CHECK(same(quarter.multiplier, two_30, -1));
  CHECK(tflite::rescale(20, quarter) == 3);   // 2.5
  CHECK(tflite::rescale(0, quarter) == -3);   // -2.5
  const auto quarter1 = tflite_single_rounding::make_rescale(0.25f, 10, 1.0f, 0, -128, 127);
  CHECK(tflite_single_rounding::rescale(20, quarter1) == 3);
  CHECK(tflite_single_rounding::rescale(0, quarter1) == -2);
  // Multiplier 0.5 = (2^30, 0): the tie is decided by SRDHM alone, which rounds half up.
  const auto halve = tflite::make_rescale(0.5f, 10, 1.0f, 0, -128, 127);
  CHECK(tflite::rescale(15, halve) == 3);   // 2.5
  CHECK(tflite::rescale(5, halve) == -2);   // -2.5
}

// TFLite's int8 MEAN over H, W (reference_integer_ops::Mean): requantize the sum of (x - zp) by
// s_in / s_out, then divide by the count rounding half away from zero; not one multiplier with
// 1/count folded in (tests/tflite checks it against TFLite 2.9 on the shared models).
TEST_CASE("tflite mean requantizes the sum, then divides by the count") {
  const tflite::output_params out{-3, -128, 127};
  const auto one = tflite::mean_channel(0.5f, 0.5f);
  CHECK(same(one, two_30, 1));                      // 1.0
  CHECK(tflite::mean(10, one, 4, out) == 3 - 3);    // 2.5 rounds away from zero: 3
  CHECK(tflite::mean(-10, one, 4, out) == -3 - 3);  // -2.5: -3
  CHECK(tflite::mean(9, one, 4, out) == 2 - 3);     // 2.25
  CHECK(tflite::mean(1000, one, 4, out) == 127);    // saturated after the zero point
  // s_in / s_out = 1.5: 7 * 1.5 = 10.5 -> 11 (RoundingDivideByPOT, away from zero), / 2 = 5.5 -> 6,
  // where one rounding of 7 * 1.5 / 2 = 5.25 gives 5.
  const auto m = tflite::mean_channel(0.75f, 0.5f);
  CHECK(same(m, 3 * (two_30 / 2), 1));
  CHECK(tflite::mean(7, m, 2, {0, -128, 127}) == 6);
  CHECK(tflite::requantize(7, tflite::channel(0.75f, 1.0f, 0.5f, 2), {0, -128, 127}) == 5);
}

// TFLite's int8 AVERAGE_POOL_2D then QUANTIZE: the integers (not x - zp) divided by the count
// rounding half away, then requantized from the input's scale to the output's.
TEST_CASE("tflite average_pool divides the integers first, then requantizes") {
  const auto one = tflite::mean_channel(0.5f, 0.5f);
  // sum of (x - zp) = -2 over 4 values with zp = -100: the integers sum to -402, / 4 = -100.5 -> -101;
  // then (-101 - -100) * 1 + zp_out 5 = 4.
  CHECK(tflite::average_pool(-2, one, 4, -100, {5, -128, 127}) == 4);
  // zp 0, sum 6 over 4: 1.5 -> 2; sum -6: -1.5 -> -2.
  CHECK(tflite::average_pool(6, one, 4, 0, {0, -128, 127}) == 2);
  CHECK(tflite::average_pool(-6, one, 4, 0, {0, -128, 127}) == -2);
  // requantized by 2.0 after the division: 2 * 2 = 4
  CHECK(tflite::average_pool(6, tflite::mean_channel(1.0f, 0.5f), 4, 0, {0, -128, 127}) == 4);
}

// tflite_x86: ruy's x86 output stage for CONV_2D / FULLY_CONNECTED, hi = (x m + 2^30) >> 31 and then
// (hi + 2^(k-1)) >> k, both floor shifts: half up twice. Values worked by hand below.
TEST_CASE("tflite_x86 GEMM output stage: ruy's double rounding, both halves up") {
  constexpr auto ruy = [](std::int32_t x, std::int32_t m, int shift) {
    return tflite_x86::ruy_multiply_by_quantized_multiplier(x, m, shift);
  };
  // -6 * 0.5 * 2^-1 = -1.5: hi = floor(-2.5) = -3, (-3 + 1) >> 1 = -1; gemmlowp: -3, then -1.5 away: -2.
  STATIC_REQUIRE(ruy(-6, two_30, -1) == -1);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(-6, two_30, -1) == -2);
  // 6 * 0.25 = 1.5: hi = floor(3.5) = 3, (3 + 1) >> 1 = 2, as gemmlowp.
  STATIC_REQUIRE(ruy(6, two_30, -1) == 2);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(6, two_30, -1) == 2);
  // Two roundings, not one: 1 * 0.75 / 2 = 0.375: hi = floor(1.25) = 1, (1 + 1) >> 1 = 1 (single: 0).
  STATIC_REQUIRE(ruy(1, 1610612736, -1) == 1);
  STATIC_REQUIRE(tflite_single_rounding::multiply_by_quantized_multiplier(1, 1610612736, -1) == 0);
  // -0.375: hi = floor(-0.25) = -1, (-1 + 1) >> 1 = 0; gemmlowp: SRDHM -1, then -0.5 away: -1.
  STATIC_REQUIRE(ruy(-1, 1610612736, -1) == 0);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(-1, 1610612736, -1) == -1);
  // The first half alone (shift 0) rounds half up as SRDHM does: -2.5 -> -2, 2.5 -> 3.
  STATIC_REQUIRE(ruy(-5, two_30, 0) == -2);
  STATIC_REQUIRE(ruy(5, two_30, 0) == 3);
  // Left shifts multiply first: 3 * 4 * 0.5 = 6; -3 * 2 * 0.75 = -4.5 -> -4 (floor(-4.5 + 0.5)).
  STATIC_REQUIRE(ruy(3, two_30, 2) == 6);
  STATIC_REQUIRE(ruy(-3, 1610612736, 1) == -4);
  // The left shift wraps in 32 bits (vpsllvd): 2^30 << 2 = 0; (2^30 + 1) << 1 = -2^31 + 2, times
  // 0.5 = -1073741823 exactly.
  STATIC_REQUIRE(ruy(two_30, two_30, 2) == 0);
  STATIC_REQUIRE(ruy(two_30 + 1, two_30, 1) == -1073741823);
  // INT32 extremes: INT_MIN * (1 - 2^-31) = -2147483647 + 0.5 -> -2147483647 (half up);
  // INT_MAX * (1 - 2^-31) = 2147483646 + (2^30 + 1) / 2^31 -> 2147483646.
  STATIC_REQUIRE(ruy(int_min, int_max, 0) == -2147483647);
  STATIC_REQUIRE(ruy(int_max, int_max, 0) == 2147483646);
  // INT_MIN * 0.5 * 2^-31 = -0.5 exactly: hi = -2^30, (-2^30 + 2^30) >> 31 = 0; gemmlowp -1.
  STATIC_REQUIRE(ruy(int_min, two_30, -31) == 0);
  STATIC_REQUIRE(tflite::multiply_by_quantized_multiplier(int_min, two_30, -31) == -1);
  STATIC_REQUIRE(ruy(int_max, int_max, -31) == 1);  // (2147483646 + 2^30) >> 31
  STATIC_REQUIRE(ruy(int_min, 0, -31) == 0);        // a flushed multiplier

  // Half up is floor(x m 2^left / 2^31 + 1/2), then floor(hi / 2^k + 1/2): checked in exact
  // integer division on random values (the second step with its own tie rule written out).
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int32_t> acc(int_min, int_max);
  std::uniform_int_distribution<std::int32_t> multiplier(two_30, int_max);
  std::uniform_int_distribution<int> shift(-31, 0);
  const auto floor_div = [](std::int64_t n, std::int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); };
  for (int i = 0; i < 100000; ++i) {
    const std::int32_t x = acc(rng), m = multiplier(rng);
    const int s = shift(rng);
    const std::int64_t hi = floor_div(std::int64_t{x} * m + (std::int64_t{1} << 30), std::int64_t{1} << 31);
    const std::int64_t d = std::int64_t{1} << -s;
    const std::int64_t expected = s == 0 ? hi : floor_div(2 * hi + d, 2 * d);
    REQUIRE(ruy(x, m, s) == expected);
  }
}

TEST_CASE("tflite_x86 requantize_gemm: ruy's stage, + zero point in 32 bits, clamp; other layers keep gemmlowp's") {
  constexpr tflite_x86::output_params out{3, -128, 127};
  STATIC_REQUIRE(tflite_x86::requantize_gemm(-6, {two_30, -1}, out) == 2);  // -1.5 -> -1, + 3
  STATIC_REQUIRE(tflite_x86::requantize(-6, {two_30, -1}, out) == 1);       // -1.5 -> -2, + 3
  STATIC_REQUIRE(statiq::arith::requantize_gemm<tflite_x86>(-6, {two_30, -1}, out) == 2);
  STATIC_REQUIRE(statiq::arith::requantize_gemm<tflite>(-6, {two_30, -1}, {3, -128, 127}) == 1);
  STATIC_REQUIRE(tflite_x86::requantize_gemm(1000, {two_30, 0}, out) == 127);
  STATIC_REQUIRE(tflite_x86::requantize_gemm(-1000, {two_30, 0}, out) == -128);
  STATIC_REQUIRE(tflite_x86::requantize_gemm(-100, {two_30, 0}, {3, 3, 127}) == 3);  // ReLU
  // ruy adds the zero point with vpaddd: 2147483646 + 5 wraps to -2147483645, clamped to -128
  // (the reference kernels' int64 sum saturates to 127 instead).
  STATIC_REQUIRE(tflite_x86::requantize_gemm(int_max, {int_max, 0}, {5, -128, 127}) == -128);
  STATIC_REQUIRE(tflite::requantize(int_max, {int_max, 0}, {5, -128, 127}) == 127);
  // Everything but the GEMM operators is tflite's: Add, Requantize, MEAN.
  const auto tie = tflite_x86::make_add(0.5f, 0, 0.5f, 0, 1.0f, 0, -128, 127);
  CHECK(tflite_x86::add(-3, -2, tie) == -3);  // away from zero, as tflite
  const auto quarter = tflite_x86::make_rescale(0.25f, 10, 1.0f, 0, -128, 127);
  CHECK(tflite_x86::rescale(0, quarter) == -3);  // -2.5 away from zero
  CHECK(tflite_x86::mean(-10, tflite_x86::mean_channel(0.5f, 0.5f), 4, {0, -128, 127}) == -3);
  STATIC_REQUIRE(std::string_view(tflite_x86::name) == "tflite_x86");
}

TEST_CASE("tflite_x86 Quantize divides by the scale in double, then rounds half away from zero") {
  using statiq::detail::quantize_value;
  // 0.1f = 0.100000001490116...: 0.25 / 0.1f = 2.4999999627 exactly, which is 2.5 in float (its
  // ulp there is 2^-22): float division rounds it up to 3, double division down to 2.
  CHECK(quantize_value<tflite_x86>(0.25f, 0.1f, 10, -128, 127) == 12);
  CHECK(quantize_value<tflite>(0.25f, 0.1f, 10, -128, 127) == 13);
  CHECK(quantize_value<tflite_x86>(-0.25f, 0.1f, 10, -128, 127) == 8);  // -2.49999996 -> -2
  CHECK(quantize_value<tflite>(-0.25f, 0.1f, 10, -128, 127) == 7);      // -2.5 -> -3
  // An exact tie rounds half away from zero before the zero point in both: -0.5 -> -1, + 3.
  CHECK(quantize_value<tflite_x86>(-0.25f, 0.5f, 3, -128, 127) == 2);
  CHECK(quantize_value<tflite_x86>(0.75f, 0.5f, -4, -128, 127) == -2);  // 1.5 -> 2, - 4
  // Saturation, and NaN to the zero point.
  CHECK(quantize_value<tflite_x86>(100.0f, 0.5f, 3, -128, 127) == 127);
  CHECK(quantize_value<tflite_x86>(-100.0f, 0.5f, 3, -128, 127) == -128);
  CHECK(quantize_value<tflite_x86>(std::numeric_limits<float>::infinity(), 0.5f, 3, -128, 127) == 127);
  CHECK(quantize_value<tflite_x86>(std::numeric_limits<float>::quiet_NaN(), 0.5f, 3, -128, 127) == 3);
}
