// The gemmini profile: ACC_SCALE (float32 multiply, RNE, int8 saturation), ReLU / ReLU6, the
// float32 accumulator conversion, resadd with its per-operand MVIN_SCALE saturation.
#include "statiq/arith/gemmini.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

using statiq::arith::gemmini;

namespace {

constexpr gemmini::output_params int8_out{-128, 127};

}  // namespace

TEST_CASE("gemmini requantize: RNE(float(acc) * m), saturated to int8") {
  constexpr gemmini::channel_params half{0.5f};
  STATIC_REQUIRE(gemmini::requantize(3, half, int8_out) == 2);    // 1.5
  STATIC_REQUIRE(gemmini::requantize(5, half, int8_out) == 2);    // 2.5
  STATIC_REQUIRE(gemmini::requantize(-3, half, int8_out) == -2);  // -1.5
  STATIC_REQUIRE(gemmini::requantize(-5, half, int8_out) == -2);  // -2.5
  STATIC_REQUIRE(gemmini::requantize(7, half, int8_out) == 4);    // 3.5
  STATIC_REQUIRE(gemmini::requantize(1000, half, int8_out) == 127);
  STATIC_REQUIRE(gemmini::requantize(-1000, half, int8_out) == -128);
  STATIC_REQUIRE(gemmini::requantize(2147483647, half, int8_out) == 127);
  STATIC_REQUIRE(gemmini::requantize(-2147483647 - 1, half, int8_out) == -128);
  STATIC_REQUIRE(gemmini::multiplier(0.5f, 0.25f, 0.125f) == 1.0f);
}

TEST_CASE("gemmini ReLU and ReLU6 are clamps after the saturation") {
  constexpr gemmini::channel_params one{1.0f};
  constexpr gemmini::output_params relu{0, 127};
  STATIC_REQUIRE(gemmini::requantize(-5, one, relu) == 0);
  STATIC_REQUIRE(gemmini::requantize(5, one, relu) == 5);
  STATIC_REQUIRE(gemmini::relu6_max(0) == 6);
  STATIC_REQUIRE(gemmini::relu6_max(4) == 96);
  STATIC_REQUIRE(gemmini::relu6_max(5) == 127);  // 192 does not fit int8
  constexpr gemmini::output_params relu6{0, gemmini::relu6_max(4)};
  STATIC_REQUIRE(gemmini::requantize(100, one, relu6) == 96);
  STATIC_REQUIRE(gemmini::requantize(50, one, relu6) == 50);
}

TEST_CASE("gemmini converts the accumulator to float32 before scaling") {
  const std::int64_t acc = (std::int64_t{1} << 24) + 1;  // float32: 2^24
  REQUIRE(std::nearbyint(static_cast<double>(acc) * 0x1p-25) == 1.0);
  CHECK(gemmini::requantize(acc, {0x1p-25f}, int8_out) == 0);
  CHECK(gemmini::requantize(-acc, {0x1p-25f}, int8_out) == 0);

  // A scale that is not a power of two: 17399999 becomes 17400000 in float32 and the float
  // product lands on 43.5 (-> 44); the exact product is 43.4999965 (-> 43), also after
  // rounding it to float.
  const std::int64_t acc_b = 17399999;
  const float m_b = 2.5e-6f;
  const double exact_b = static_cast<double>(acc_b) * static_cast<double>(m_b);
  REQUIRE(std::nearbyint(exact_b) == 43.0);
  REQUIRE(std::nearbyint(static_cast<float>(exact_b)) == 43.0f);
  CHECK(gemmini::requantize(acc_b, {m_b}, int8_out) == 44);
  CHECK(gemmini::requantize(-acc_b, {m_b}, int8_out) == -44);
}

TEST_CASE("gemmini resadd: MVIN_SCALE each input (RNE, int8), add, ACC_SCALE, clamp") {
  constexpr auto p = gemmini::make_add(1.0f, 0.5f, 1.0f, false);
  STATIC_REQUIRE(p.a_scale == 1.0f);
  STATIC_REQUIRE(p.b_scale == 0.5f);
  STATIC_REQUIRE(p.c_scale == 1.0f);
  STATIC_REQUIRE(gemmini::add(3, 5, p) == 5);    // 3 + RNE(2.5) = 3 + 2
  STATIC_REQUIRE(gemmini::add(3, 7, p) == 7);    // 3 + RNE(3.5) = 3 + 4
  STATIC_REQUIRE(gemmini::add(3, -5, p) == 1);   // 3 + RNE(-2.5) = 3 - 2
  STATIC_REQUIRE(gemmini::add(120, 40, p) == 127);
  STATIC_REQUIRE(gemmini::add(-120, -40, p) == -128);

  // Each operand saturates to int8 on its way in: 2 * 100 -> 127, 2 * -100 -> -128, sum -1
  // where exact arithmetic gives 0.
  constexpr auto doubled = gemmini::make_add(1.0f, 1.0f, 0.5f, false);
  STATIC_REQUIRE(gemmini::add(100, -100, doubled) == -1);

  // ReLU: the lower bound becomes 0.
  constexpr auto relu = gemmini::make_add(1.0f, 1.0f, 1.0f, true);
  STATIC_REQUIRE(gemmini::add(-5, 2, relu) == 0);
  STATIC_REQUIRE(gemmini::add(5, 2, relu) == 7);

  // An accumulator scale other than 1 rounds the sum once more.
  constexpr gemmini::add_params c_half{1.0f, 1.0f, 0.5f, -128, 127};
  STATIC_REQUIRE(gemmini::add(2, 3, c_half) == 2);    // 2.5
  STATIC_REQUIRE(gemmini::add(-2, -3, c_half) == -2);  // -2.5
  STATIC_REQUIRE(gemmini::add(4, 3, c_half) == 4);    // 3.5
}

TEST_CASE("gemmini rescale is one MVIN_SCALE") {
  STATIC_REQUIRE(gemmini::rescale(5, {0.5f, -128, 127}) == 2);
  STATIC_REQUIRE(gemmini::rescale(7, {0.5f, -128, 127}) == 4);
  STATIC_REQUIRE(gemmini::rescale(-7, {0.5f, -128, 127}) == -4);
  STATIC_REQUIRE(gemmini::rescale(100, {2.0f, -128, 127}) == 127);
  STATIC_REQUIRE(gemmini::rescale(-3, {1.0f, 0, 127}) == 0);
}
