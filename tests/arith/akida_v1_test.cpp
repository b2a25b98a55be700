// The akida_v1 profile: the float ceiling activation, its integer threshold/step form (equal on a
// sweep), register construction from float scales, the 20-bit register limit, Add / rescale.
#include "statiq/arith/akida_v1.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

using statiq::arith::akida_v1;

TEST_CASE("akida_v1 float ceiling activation by hand") {
  CHECK(akida_v1::ceil_activation_level(0.5f, 1.0f, 4) == 0);   // ceil(0)
  CHECK(akida_v1::ceil_activation_level(0.51f, 1.0f, 4) == 1);
  CHECK(akida_v1::ceil_activation_level(1.5f, 1.0f, 4) == 1);   // ceil(1)
  CHECK(akida_v1::ceil_activation_level(1.6f, 1.0f, 4) == 2);
  CHECK(akida_v1::ceil_activation_level(100.0f, 1.0f, 4) == 15);
  CHECK(akida_v1::ceil_activation_level(-3.0f, 1.0f, 4) == 0);
  CHECK(akida_v1::ceil_activation_level(0.3f, 0.4f, 2) == 1);   // ceil(0.25)
  CHECK(akida_v1::ceil_activation_level(6.0f, 0.4f, 2) == 3);
  CHECK(akida_v1::ceil_activation_level(0.9f, 1.0f, 1) == 1);
  CHECK(akida_v1::ceil_activation_level(2.0f, 1.0f, 1) == 1);
}

TEST_CASE("akida_v1 integer form by hand") {
  constexpr akida_v1::output_params four_bits{0, 15};
  constexpr akida_v1::channel_params even{2, 4};  // step 4 units, threshold 4 / 2
  STATIC_REQUIRE(akida_v1::requantize(2, even, four_bits) == 0);
  STATIC_REQUIRE(akida_v1::requantize(3, even, four_bits) == 1);
  STATIC_REQUIRE(akida_v1::requantize(6, even, four_bits) == 1);
  STATIC_REQUIRE(akida_v1::requantize(7, even, four_bits) == 2);
  STATIC_REQUIRE(akida_v1::requantize(-100, even, four_bits) == 0);
  STATIC_REQUIRE(akida_v1::requantize(1000000, even, four_bits) == 15);
  constexpr akida_v1::channel_params odd{1, 3};
  STATIC_REQUIRE(akida_v1::requantize(1, odd, four_bits) == 0);
  STATIC_REQUIRE(akida_v1::requantize(2, odd, four_bits) == 1);
  STATIC_REQUIRE(akida_v1::requantize(4, odd, four_bits) == 1);
  STATIC_REQUIRE(akida_v1::requantize(5, odd, four_bits) == 2);
}

TEST_CASE("akida_v1 registers from float scales") {
  auto same = [](akida_v1::channel_params c, int t, int d) { return c.threshold == t && c.step == d; };
  CHECK(same(akida_v1::from_scales(0.25, 1.0), 2, 4));
  CHECK(same(akida_v1::from_scales(0.5, 1.5), 1, 3));
  CHECK(same(akida_v1::from_scales(0.25, 1.0, 0.5), 0, 4));    // bias 2 units
  CHECK(same(akida_v1::from_scales(0.25, 1.0, -0.75), 5, 4));  // bias -3 units
  CHECK(same(akida_v1::from_scales(1.0, 0.2), 0, 1));          // the step is at least 1 unit
}

TEST_CASE("akida_v1 integer form equals the float definition on a sweep") {
  // One accumulator unit u = 2^-4, so every float below is exact and the comparison is
  // between the two definitions, not between roundings.
  const double u = 0x1p-4;
  for (int bits : {1, 2, 4}) {
    const akida_v1::output_params out{0, (1 << bits) - 1};
    for (int d = 1; d <= 24; ++d) {
      for (int b = -12; b <= 12; ++b) {
        const auto ch = akida_v1::from_scales(u, d * u, b * u);
        REQUIRE(ch.step == d);
        REQUIRE(ch.threshold == d / 2 - b);
        for (int acc = -200; acc <= 600; ++acc) {
          const float x = static_cast<float>((acc + b) * u);
          const float step = static_cast<float>(d * u);
          REQUIRE(akida_v1::requantize(acc, ch, out) == akida_v1::ceil_activation_level(x, step, bits));
        }
      }
    }
  }
}

TEST_CASE("akida_v1 thresholds and steps must fit 20-bit unsigned registers") {
  constexpr std::int32_t limit = 1 << 20;
  STATIC_REQUIRE(akida_v1::fits_20_bits({limit - 1, 5}));
  STATIC_REQUIRE(akida_v1::fits_20_bits({0, limit - 1}));
  STATIC_REQUIRE(!akida_v1::fits_20_bits({limit, 5}));
  STATIC_REQUIRE(!akida_v1::fits_20_bits({-1, 5}));
  STATIC_REQUIRE(!akida_v1::fits_20_bits({0, limit}));
  STATIC_REQUIRE(!akida_v1::fits_20_bits({0, 0}));
  // A tiny accumulator unit (a tiny BatchNorm gamma) blows the step up to 10^7 units.
  CHECK(!akida_v1::fits_20_bits(akida_v1::from_scales(1e-7, 1.0)));
  CHECK(akida_v1::fits_20_bits(akida_v1::from_scales(1e-5, 1.0)));
}

TEST_CASE("akida_v1 Add and rescale: shift-aligned levels through the ceiling activation") {
  constexpr akida_v1::add_params p{1, 0, {0, 1}, 0, 15};
  STATIC_REQUIRE(akida_v1::add(3, 2, p) == 8);   // (3 << 1) + 2
  STATIC_REQUIRE(akida_v1::add(7, 7, p) == 15);  // 21 saturates
  constexpr akida_v1::add_params coarse{0, 0, {1, 3}, 0, 15};
  STATIC_REQUIRE(akida_v1::add(2, 3, coarse) == 2);  // ceil((5 - 1) / 3)
  STATIC_REQUIRE(akida_v1::add(1, 0, coarse) == 0);

  constexpr akida_v1::rescale_params identity{0, {0, 1}, 0, 15};
  for (int q = 0; q <= 15; ++q) CHECK(akida_v1::rescale(q, identity) == q);
  STATIC_REQUIRE(akida_v1::rescale(3, {2, {0, 1}, 0, 15}) == 12);
  STATIC_REQUIRE(akida_v1::rescale(5, {2, {0, 1}, 0, 15}) == 15);
}
