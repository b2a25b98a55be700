// What each profile owns besides its arithmetic: its parameters derived from real scales and zero
// points (the generator and hand-written models share these), and their C++ spelling (designated
// initializers with the fields' names, floats exact to the last bit).
#include <catch2/catch.hpp>

#include <bit>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "statiq/arith/akida_v1_cpp.hpp"
#include "statiq/arith/dequantize.hpp"
#include "statiq/arith/gemmini_cpp.hpp"
#include "statiq/arith/pow2_cpp.hpp"
#include "statiq/arith/qlinear_cpp.hpp"
#include "statiq/arith/tflite_cpp.hpp"

using namespace statiq;
using namespace statiq::arith;

TEST_CASE("a bias in int32 at x_scale * w_scale, rounded as the profile's converter rounds") {
  // 0.625 / (0.5 * 0.5) = 2.5 exactly: half to even for ONNX Runtime, half away for TFLite.
  CHECK(quantize_bias<qlinear>(0.625f, 0.5f, 0.5f) == 2);
  CHECK(quantize_bias<tflite>(0.625f, 0.5f, 0.5f) == 3);
  CHECK(quantize_bias<qlinear>(-0.625f, 0.5f, 0.5f) == -2);
  CHECK(quantize_bias<tflite_single_rounding>(-0.625f, 0.5f, 0.5f) == -3);
  CHECK(quantize_bias<pow2>(0.875f, 0.5f, 0.5f) == 4);  // 3.5 -> 4 (even)
  CHECK(quantize_bias<gemmini>(0.0f, 0.0f, 0.5f) == 0);
  // a bias 2^31 units large does not fit: the weights are tiny next to it
  CHECK_THROWS_AS(quantize_bias<qlinear>(3.0e9f, 1.0f, 1.0f), std::out_of_range);
  CHECK(quantize_bias<qlinear>(2.0e9f, 1.0f, 1.0f) == 2000000000);
}

TEST_CASE("output bounds: the type's range, a ReLU at the zero point, a clipped ReLU's bound") {
  const output_bounds relu_u8 = bounds_of<qlinear>(0.02f, 117, 8, false, relu);
  CHECK(relu_u8.lo == 117);
  CHECK(relu_u8.hi == 255);
  const output_bounds none_i8 = bounds_of<qlinear>(0.02f, -3, 8, true, no_activation);
  CHECK(none_i8.lo == -128);
  CHECK(none_i8.hi == 127);
  // clip 1.25 at scale 0.5 is 2.5 steps above the zero point -10: even -> -8, away -> -7
  CHECK(bounds_of<qlinear>(0.5f, -10, 8, true, clipped_relu, 1.25f).hi == -8);
  CHECK(bounds_of<tflite>(0.5f, -10, 8, true, clipped_relu, 1.25f).hi == -7);
  CHECK(bounds_of<tflite>(0.5f, -10, 8, true, clipped_relu, 1.25f).lo == -10);
  // pow2 clips on the accumulator before a fused average: the output keeps the type's top
  CHECK(bounds_of<pow2>(0.5f, 0, 4, false, clipped_relu, 1.25f, true).hi == 15);
  // a clip beyond the type's range is the type's top
  CHECK(bounds_of<gemmini>(0.01f, 0, 8, true, clipped_relu, 6.0f).hi == 127);
}

TEST_CASE("channel parameters from x, w and y scales, `count` accumulators averaged") {
  CHECK(qlinear::channel(0.5f, 0.25f, 0.125f).multiplier == 1.0f);
  CHECK(qlinear::channel(0.5f, 0.25f, 0.125f, 4).multiplier == 0.25f);
  CHECK(qlinear::average_channel(0.5f, 0.125f, 4).multiplier == 1.0f);
  CHECK(tflite::average_channel(0.75f, 1.0f, 2).shift == -1);
  CHECK(qlinear::output({0.1f, 117}, {117, 255}).zero_point == 117);
  CHECK(gemmini::output({0.1f}, {0, 127}).hi == 127);
  CHECK(gemmini::channel(0.5f, 0.25f, 0.125f, 8).multiplier == 0.125f);
  // tflite: QuantizeMultiplier(0.75) = 0.75 * 2^31 with shift 0
  CHECK(tflite::channel(0.75f, 1.0f, 1.0f).multiplier == 1610612736);
  CHECK(tflite::channel(0.75f, 1.0f, 1.0f).shift == 0);
  CHECK(tflite::channel(0.75f, 1.0f, 1.0f, 2).shift == -1);  // 0.375 = 0.75 * 2^-1
  // pow2: 3/4 = 192 * 2^-8
  CHECK(int(pow2::channel(0.75f, 1.0f, 1.0f).mantissa) == 192);
  CHECK(pow2::channel(0.75f, 1.0f, 1.0f).shift == 8);
  CHECK(pow2::channel(0.75f, 1.0f, 1.0f, 2).shift == 9);
  // akida_v1: step 4 units, zero point 2: threshold floor(4 / 2) - 2 * 4
  const akida_v1::channel_params ch = akida_v1::channel(1.0, 4.0f, 2, 0.0);
  CHECK(ch.threshold == -6);
  CHECK(ch.step == 4);
  CHECK_THROWS_AS(akida_v1::channel(1.0, 1073741824.0f, 5, 0.0), std::out_of_range);
}

TEST_CASE("Add and Concat parameters from the inputs' and the output's scales") {
  // pow2: scales 2^-5 and 2^-3 align at frac bits 5 (b shifts 2), the sum shifts right 1 to 2^-4
  CHECK(pow2::frac_bits_of(0.03125f) == 5);
  CHECK(pow2::frac_bits_of(4.0f) == -2);
  const pow2::add_params a = pow2::add_from({0.03125f}, {0.125f}, {0.0625f}, {-128, 127});
  CHECK(a.a_shift == 0);
  CHECK(a.b_shift == 2);
  CHECK(int(a.output.mantissa) == 1);
  CHECK(a.output.shift == 1);
  CHECK(pow2::rescale_from({0.125f}, {0.03125f}, {0, 255}).shift == 2);          // 2^-3 -> 2^-5: exact
  CHECK(pow2::rescale_from({0.03125f}, {0.125f}, {0, 255}).output.shift == 2);   // 2^-5 -> 2^-3: rounds
  CHECK(pow2::rescale_from({0.03125f}, {0.125f}, {0, 255}).shift == 0);
  // akida_v1: steps 0.5 and 0.125 differ by 2^2: the coarser input shifts left 2
  const akida_v1::add_params v1 = akida_v1::make_add(0.5f, 0.125f, {3, 4}, {0, 15});
  CHECK(v1.a_shift == 2);
  CHECK(v1.b_shift == 0);
  CHECK(v1.activation.threshold == 3);
  CHECK(akida_v1::make_add(0.125f, 0.5f, {}, {0, 15}).b_shift == 2);
  CHECK_THROWS_AS(akida_v1::make_add(0.3f, 0.1f, {}, {0, 15}), std::invalid_argument);
  // gemmini: the mvin scales are the ratios to the output scale; the bounds as given
  const gemmini::add_params g = gemmini::add_from({0.5f}, {0.25f}, {0.125f}, {0, 100});
  CHECK(g.a_scale == 4.0f);
  CHECK(g.b_scale == 2.0f);
  CHECK(g.hi == 100);
  CHECK(gemmini::rescale_from({0.5f}, {0.125f}, {-128, 127}).scale == 4.0f);
  // qlinear and tflite from their converters' own make_add / make_rescale
  CHECK(qlinear::add_from({0.5f, 10}, {0.5f, -4}, {0.25f, 3}, {-128, 127}).fixed_part ==
        qlinear::make_add(0.5f, 10, 0.5f, -4, 0.25f, 3, -128, 127).fixed_part);
  CHECK(tflite::rescale_from({0.25f, 10}, {1.0f, 0}, {-128, 127}).multiplier.multiplier ==
        tflite::make_rescale(0.25f, 10, 1.0f, 0, -128, 127).multiplier.multiplier);
  const qlinear::rescale_params r = qlinear::rescale_from({0.5f, 3}, {0.25f, 7}, {0, 255});
  CHECK(qlinear::rescale(5, r) == 11);  // (5 - 3) * 0.5 / 0.25 + 7
}

TEST_CASE("dequantize: one definition, (q - zero_point) * scale in float32") {
  STATIC_REQUIRE(dequantize(130, 0.5f, 128) == 1.0f);
  STATIC_REQUIRE(qlinear::dequantize(-3, 0.25f, 1) == -1.0f);
}

TEST_CASE("each profile writes its parameters as designated initializers with the fields' names") {
  using Q = cpp_initializers<qlinear>;
  CHECK(Q::of(qlinear::channel_params{0.002126645f}) == "{.multiplier = 0.002126645f}");
  CHECK(Q::of(qlinear::output_params{117, 0, 255}) == "{.zero_point = 117, .lo = 0, .hi = 255}");
  CHECK(Q::of(qlinear::rescale_from({0.5f, 3}, {0.25f, 7}, {0, 255})) ==
        "{.in_scale = 0.5f, .in_zero_point = 3, .out_scale = 0.25f, .out_zero_point = 7, .lo = 0, .hi = 255}");
  CHECK(Q::of(qlinear::make_add(0.5f, 0, 0.25f, 0, 1.0f, 0, -128, 127)) ==
        "{.a_scale = 0.5f, .a_zero_point = 0, .b_scale = 0.25f, .b_zero_point = 0, .y_scale = 1.0f, "
        ".y_zero_point = 0, .lo = -128, .hi = 127, .kernel = statiq::arith::qlinear::add_kernel::x86_fma, "
        ".a_ratio = 0.5f, .b_ratio = 0.25f, .fixed_part = 0.0f}");
  CHECK(cpp_initializers<tflite>::of(tflite::channel_params{1610612736, -3}) == "{.multiplier = 1610612736, .shift = -3}");
  CHECK(cpp_initializers<tflite_single_rounding>::of(tflite_single_rounding::rescale_params{1, {2, 3}, 4, -128, 127}) ==
        "{.in_zero_point = 1, .multiplier = {.multiplier = 2, .shift = 3}, .out_zero_point = 4, .lo = -128, .hi = 127}");
  CHECK(cpp_initializers<tflite>::of(tflite::add_params{-1, -2, 20, {3, 4}, {5, 6}, {7, 8}, 9, -128, 127}) ==
        "{.a_offset = -1, .b_offset = -2, .left_shift = 20, .a = {.multiplier = 3, .shift = 4}, "
        ".b = {.multiplier = 5, .shift = 6}, .output = {.multiplier = 7, .shift = 8}, .output_offset = 9, "
        ".lo = -128, .hi = 127}");
  CHECK(cpp_initializers<gemmini>::of(gemmini::output_params{0, 127}) == "{.lo = 0, .hi = 127}");
  CHECK(cpp_initializers<gemmini>::of(gemmini::rescale_params{0.1f, -128, 127}) == "{.scale = 0.1f, .lo = -128, .hi = 127}");
  CHECK(cpp_initializers<pow2>::of(pow2::channel_params{180, 10}) == "{.mantissa = 180, .shift = 10}");
  CHECK(cpp_initializers<pow2>::of(pow2::output_params{0, 15}) ==
        "{.lo = 0, .hi = 15, .accumulator_clip = statiq::arith::pow2::no_accumulator_clip}");
  CHECK(cpp_initializers<pow2>::of(pow2::output_params{0, 15, 300}) == "{.lo = 0, .hi = 15, .accumulator_clip = 300}");
  CHECK(cpp_initializers<pow2>::of(pow2::add_from({0.03125f}, {0.125f}, {0.0625f}, {-128, 127})) ==
        "{.a_shift = 0, .b_shift = 2, .output = {.mantissa = 1, .shift = 1}, .lo = -128, .hi = 127}");
  CHECK(cpp_initializers<akida_v1>::of(akida_v1::rescale_params{8, {-6, 4}, 0, 15}) ==
        "{.shift = 8, .activation = {.threshold = -6, .step = 4}, .lo = 0, .hi = 15}");
  // the most negative int32 is an expression: its digits alone overflow before the minus applies
  CHECK(cpp_initializers<akida_v1>::of(akida_v1::channel_params{std::numeric_limits<std::int32_t>::min(), 1}) ==
        "{.threshold = (-2147483647 - 1), .step = 1}");
}

TEST_CASE("float literals read back as the same float, bit for bit") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7fffffu);  // finite, positive
  for (int i = 0; i < 2000; ++i) {
    const float v = std::bit_cast<float>(bits(rng));
    std::string s = io::cpp_literal(v);
    REQUIRE(s.back() == 'f');
    s.pop_back();
    CHECK(std::bit_cast<std::uint32_t>(std::strtof(s.c_str(), nullptr)) == std::bit_cast<std::uint32_t>(v));
  }
  CHECK(io::cpp_literal(3.0f) == "3.0f");
  CHECK(io::cpp_literal(-0.0f) == "-0.0f");
}
