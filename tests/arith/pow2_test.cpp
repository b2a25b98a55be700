// The pow2 profile (Akida 2.0 / QuantizeML): round-half-up shifts, (mantissa, shift) requant,
// accumulator clip, FixedPoint conversion, scale -> 8-bit mantissa, shift-aligned Add/Concat.
#include "statiq/arith/pow2.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

using statiq::arith::pow2;

namespace {

constexpr pow2::output_params int8_out{-128, 127};

}  // namespace

TEST_CASE("pow2 shifts round half up (toward +inf), left shifts are exact") {
  STATIC_REQUIRE(pow2::shift_round_half_up(5, 1) == 3);    // 2.5
  STATIC_REQUIRE(pow2::shift_round_half_up(-5, 1) == -2);  // -2.5
  STATIC_REQUIRE(pow2::shift_round_half_up(3, 1) == 2);    // 1.5
  STATIC_REQUIRE(pow2::shift_round_half_up(-3, 1) == -1);  // -1.5
  STATIC_REQUIRE(pow2::shift_round_half_up(6, 2) == 2);    // 1.5
  STATIC_REQUIRE(pow2::shift_round_half_up(-6, 2) == -1);  // -1.5
  STATIC_REQUIRE(pow2::shift_round_half_up(7, 2) == 2);    // 1.75
  STATIC_REQUIRE(pow2::shift_round_half_up(-7, 2) == -2);  // -1.75
  STATIC_REQUIRE(pow2::shift_round_half_up(5, 2) == 1);    // 1.25
  STATIC_REQUIRE(pow2::shift_round_half_up(-5, 2) == -1);  // -1.25
  STATIC_REQUIRE(pow2::shift_round_half_up(5, 0) == 5);
  STATIC_REQUIRE(pow2::shift_round_half_up(5, -3) == 40);
  STATIC_REQUIRE(pow2::shift_round_half_up(-5, -3) == -40);

  // Against floor(x / 2^s + 0.5) in double, the QuantizeML formula, on a sweep.
  for (int s = 1; s <= 12; ++s) {
    for (std::int64_t x = -5000; x <= 5000; ++x) {
      const double expected = std::floor(static_cast<double>(x) / std::ldexp(1.0, s) + 0.5);
      REQUIRE(pow2::shift_round_half_up(x, s) == static_cast<std::int64_t>(expected));
    }
  }
}

TEST_CASE("pow2 requantize: (acc * M + 2^(S-1)) >> S, saturated") {
  STATIC_REQUIRE(pow2::requantize(5, {1, 1}, int8_out) == 3);     // 2.5
  STATIC_REQUIRE(pow2::requantize(-5, {1, 1}, int8_out) == -2);   // -2.5
  STATIC_REQUIRE(pow2::requantize(5, {3, 1}, int8_out) == 8);     // 7.5
  STATIC_REQUIRE(pow2::requantize(-5, {3, 1}, int8_out) == -7);   // -7.5
  STATIC_REQUIRE(pow2::requantize(100, {205, 11}, int8_out) == 10);  // 10.009765625
  STATIC_REQUIRE(pow2::requantize(1000, {255, 0}, int8_out) == 127);
  STATIC_REQUIRE(pow2::requantize(-1000, {255, 0}, int8_out) == -128);
  STATIC_REQUIRE(pow2::requantize(3, {1, -2}, int8_out) == 12);
  STATIC_REQUIRE(pow2::requantize(-3, {1, 0}, {0, 127}) == 0);  // ReLU as lo = 0
  STATIC_REQUIRE(pow2::requantize(std::int64_t{1} << 31, {255, 38}, int8_out) == 2);  // 1.99
}

TEST_CASE("pow2 accumulator clip acts before the rescale") {
  constexpr pow2::output_params clipped{-128, 127, 100};
  STATIC_REQUIRE(pow2::requantize(1000, {1, 2}, clipped) == 25);  // min(1000, 100) / 4
  STATIC_REQUIRE(pow2::requantize(1000, {1, 2}, int8_out) == 127);  // 250 saturates instead
  // acc 10 clipped to 6: 6 / 4 = 1.5 -> 2, where the unclipped 10 / 4 = 2.5 gives 3.
  constexpr pow2::output_params clip6{-128, 127, 6};
  STATIC_REQUIRE(pow2::requantize(10, {1, 2}, clip6) == 2);
  STATIC_REQUIRE(pow2::requantize(10, {1, 2}, int8_out) == 3);  // 2.5 -> 3 without the clip
  STATIC_REQUIRE(pow2::requantize(-10, {1, 2}, clip6) == -2);   // the clip is an upper bound only
}

TEST_CASE("pow2 to_fixed_point is RNE(x * 2^F) in float32") {
  STATIC_REQUIRE(pow2::to_fixed_point(0.15625f, 4) == 2);    // 2.5
  STATIC_REQUIRE(pow2::to_fixed_point(0.21875f, 4) == 4);    // 3.5
  STATIC_REQUIRE(pow2::to_fixed_point(-0.15625f, 4) == -2);  // -2.5
  STATIC_REQUIRE(pow2::to_fixed_point(-0.21875f, 4) == -4);  // -3.5
  STATIC_REQUIRE(pow2::to_fixed_point(1.0f, -1) == 0);       // 0.5
  STATIC_REQUIRE(pow2::to_fixed_point(3.0f, -1) == 2);       // 1.5
  STATIC_REQUIRE(pow2::to_fixed_point(0.3f, 7) == 38);       // 38.4
  STATIC_REQUIRE(pow2::to_fixed_point(200.0f, 0) == 200);
  STATIC_REQUIRE(pow2::saturate_value_bits(200, 7) == 127);
  STATIC_REQUIRE(pow2::saturate_value_bits(-200, 7) == -128);
  STATIC_REQUIRE(pow2::saturate_value_bits(300, 8) == 255);
}

TEST_CASE("pow2 default frac bits: vb - ceil(log2(max|x|)), capped at vb") {
  CHECK(pow2::default_frac_bits(1.0f, 7) == 7);
  CHECK(pow2::default_frac_bits(1.5f, 7) == 6);
  CHECK(pow2::default_frac_bits(2.0f, 7) == 6);
  CHECK(pow2::default_frac_bits(0.3f, 7) == 7);   // 7 + 1 capped at 7
  CHECK(pow2::default_frac_bits(128.0f, 7) == 0);
  CHECK(pow2::default_frac_bits(129.0f, 7) == -1);
  CHECK(pow2::default_frac_bits(200.0f, 7) == -1);
  CHECK(pow2::default_frac_bits(0.0f, 7) == 7);
  CHECK(pow2::default_frac_bits(0.75f, 3) == 3);
}

TEST_CASE("pow2 from_scale: 8-bit mantissa M and shift S with scale ~ M 2^-S") {
  auto same = [](pow2::channel_params a, int m, int s) { return a.mantissa == m && a.shift == s; };
  CHECK(same(pow2::from_scale(0.75), 192, 8));
  CHECK(same(pow2::from_scale(0.1), 205, 11));   // 204.8 -> 205
  CHECK(same(pow2::from_scale(3.0), 192, 6));
  CHECK(same(pow2::from_scale(1000.0), 250, -2));  // left shift by 2: 250 * 4
  // Ties round half to even (tf.math.round): 128.5 -> 128, 129.5 -> 130.
  CHECK(same(pow2::from_scale(128.5 / 256.0), 128, 8));
  CHECK(same(pow2::from_scale(129.5 / 256.0), 130, 8));
  // An exact power of two gives 256 > 255 and is clipped to 255 (QuantizeML's saturation).
  CHECK(same(pow2::from_scale(0.5), 255, 9));
  CHECK(same(pow2::from_scale(1.0), 255, 8));
  CHECK(same(pow2::from_scale(255.75 / 256.0), 255, 8));   // rounds to 256, clipped

  // On random float32 scales over 12 decades, M lies in [128, 255] and M 2^-S is within 2^-8
  // (relative) of the scale.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> exponent(-30.0, 10.0);
  for (int i = 0; i < 20000; ++i) {
    const double scale = static_cast<float>(std::exp2(exponent(rng)));
    const auto p = pow2::from_scale(scale);
    REQUIRE(p.mantissa >= 128);
    const double back = std::ldexp(static_cast<double>(p.mantissa), -p.shift);
    REQUIRE(std::abs(back - scale) <= scale * 0x1p-8);
  }
}

TEST_CASE("pow2 Add aligns both inputs to the larger frac_bits, then rescales") {
  constexpr auto p = pow2::make_add(4, 2, {1, 0}, -128, 127);
  STATIC_REQUIRE(p.a_shift == 0);
  STATIC_REQUIRE(p.b_shift == 2);
  STATIC_REQUIRE(pow2::add(10, 3, p) == 22);  // 10 + (3 << 2)
  STATIC_REQUIRE(pow2::add(127, 127, p) == 127);
  STATIC_REQUIRE(pow2::add(-128, -128, p) == -128);

  constexpr auto q = pow2::make_add(4, 2, {1, 2}, -128, 127);
  STATIC_REQUIRE(pow2::add(10, 3, q) == 6);     // 22 / 4 = 5.5
  STATIC_REQUIRE(pow2::add(-10, 0, q) == -2);   // -2.5
  STATIC_REQUIRE(pow2::add(-10, 1, q) == -1);   // (-10 + 4) / 4 = -1.5
  // "average": one more bit of shift.
  constexpr auto avg = pow2::make_add(3, 3, {1, 1}, -128, 127);
  STATIC_REQUIRE(pow2::add(3, 4, avg) == 4);    // 3.5
  STATIC_REQUIRE(pow2::add(-3, -4, avg) == -3);  // -3.5
}

TEST_CASE("pow2 rescale: left-shift alignment and optional (M, S)") {
  STATIC_REQUIRE(pow2::rescale(-5, {3, {1, 0}, -128, 127}) == -40);
  STATIC_REQUIRE(pow2::rescale(20, {3, {1, 0}, -128, 127}) == 127);
  STATIC_REQUIRE(pow2::rescale(2, {1, {3, 4}, -128, 127}) == 1);   // 12 / 16 = 0.75
  STATIC_REQUIRE(pow2::rescale(2, {0, {1, 2}, -128, 127}) == 1);   // 0.5 -> 1 (half up)
  STATIC_REQUIRE(pow2::rescale(-2, {0, {1, 2}, -128, 127}) == 0);  // -0.5 -> 0
}
