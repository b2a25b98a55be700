// The qlinear profile (ONNX Runtime CPU arithmetic): hand-worked requantization, ties, saturation,
// float32(acc) rounding beyond 2^24, QuantizeLinear's float division, the QLinearAdd kernels.
#include "statiq/arith/qlinear.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

using statiq::arith::qlinear;

namespace {

constexpr qlinear::output_params int8_out{0, -128, 127};

}  // namespace

TEST_CASE("qlinear multiplier is float32 (x * w) / y, the product first") {
  STATIC_REQUIRE(qlinear::multiplier(0.5f, 0.25f, 0.125f) == 1.0f);
  // These scales round differently in the two orders; ORT's order is the product first.
  const float x = 0.00784313772f, w = 0.00310000009f, y = 0.100000001f;
  volatile float product = x * w;
  volatile float product_first = product / y;
  volatile float ratio = w / y;
  volatile float ratio_first = x * ratio;
  REQUIRE(product_first != ratio_first);
  CHECK(qlinear::multiplier(x, w, y) == product_first);
}

TEST_CASE("qlinear requantize rounds half to even, both signs") {
  constexpr qlinear::channel_params half{0.5f};
  STATIC_REQUIRE(qlinear::requantize(3, half, int8_out) == 2);    // 1.5
  STATIC_REQUIRE(qlinear::requantize(5, half, int8_out) == 2);    // 2.5
  STATIC_REQUIRE(qlinear::requantize(7, half, int8_out) == 4);    // 3.5
  STATIC_REQUIRE(qlinear::requantize(-3, half, int8_out) == -2);  // -1.5
  STATIC_REQUIRE(qlinear::requantize(-5, half, int8_out) == -2);  // -2.5
  STATIC_REQUIRE(qlinear::requantize(1, half, int8_out) == 0);    // 0.5
  STATIC_REQUIRE(qlinear::requantize(-1, half, int8_out) == 0);   // -0.5
  STATIC_REQUIRE(qlinear::requantize(9, {0.25f}, int8_out) == 2);  // 2.25
  STATIC_REQUIRE(qlinear::requantize(11, {0.25f}, int8_out) == 3);  // 2.75
}

TEST_CASE("qlinear requantize saturates to lo/hi and adds the zero point after rounding") {
  constexpr qlinear::channel_params half{0.5f};
  CHECK(qlinear::requantize(1000, half, int8_out) == 127);
  CHECK(qlinear::requantize(-1000, half, int8_out) == -128);
  CHECK(qlinear::requantize(2147483647, half, int8_out) == 127);
  CHECK(qlinear::requantize(-2147483647 - 1, half, int8_out) == -128);

  constexpr qlinear::output_params uint8_out{128, 0, 255};
  CHECK(qlinear::requantize(3, half, uint8_out) == 130);     // 1.5 -> 2, + 128
  CHECK(qlinear::requantize(5, half, uint8_out) == 130);     // 2.5 -> 2, + 128
  CHECK(qlinear::requantize(300, half, uint8_out) == 255);   // 150 > 127
  CHECK(qlinear::requantize(-300, half, uint8_out) == 0);    // -150 < -128
  CHECK(qlinear::requantize(254, half, uint8_out) == 255);   // 127 exactly fits
  CHECK(qlinear::requantize(-256, half, uint8_out) == 0);    // -128 exactly fits

  // A fused ReLU is lo = zero point.
  constexpr qlinear::output_params relu_out{128, 128, 255};
  CHECK(qlinear::requantize(-3, half, relu_out) == 128);
  CHECK(qlinear::requantize(3, half, relu_out) == 130);
}

TEST_CASE("qlinear requantize rounds the accumulator to float32 beyond 2^24") {
  // 2^24 + 1 is not a float: float32 gives 2^24 (tie, even mantissa). With m = 2^-25 the
  // float path sees exactly 0.5 -> 0, while exact (double) math sees 0.50000003 -> 1.
  const std::int64_t acc = (std::int64_t{1} << 24) + 1;
  const float m = 0x1p-25f;
  REQUIRE(static_cast<float>(acc) == 16777216.0f);
  REQUIRE(std::nearbyint(static_cast<double>(acc) * static_cast<double>(m)) == 1.0);
  CHECK(qlinear::requantize(acc, {m}, int8_out) == 0);
  CHECK(qlinear::requantize(-acc, {m}, int8_out) == 0);
  REQUIRE(std::nearbyint(static_cast<double>(-acc) * static_cast<double>(m)) == -1.0);

  // A scale that is not a power of two: 17399999 becomes 17400000 in float32 and the float
  // product lands on 43.5 (-> 44); the exact product is 43.4999965 (-> 43), also after
  // rounding it to float.
  const std::int64_t acc_b = 17399999;
  const float m_b = 2.5e-6f;
  const double exact_b = static_cast<double>(acc_b) * static_cast<double>(m_b);
  REQUIRE(std::nearbyint(exact_b) == 43.0);
  REQUIRE(std::nearbyint(static_cast<float>(exact_b)) == 43.0f);
  CHECK(qlinear::requantize(acc_b, {m_b}, int8_out) == 44);
  CHECK(qlinear::requantize(-acc_b, {m_b}, int8_out) == -44);

  // Between 2^25 and 2^26 the float spacing is 4: 2^25 + 10 is a tie between + 8 and + 12
  // and goes to + 8 (even mantissa). Times 2^-4: float gives 2^21 + 0.5 -> 2^21 (even),
  // exact math 2^21 + 0.625 -> 2^21 + 1.
  const std::int64_t big = (std::int64_t{1} << 25) + 10;
  REQUIRE(static_cast<float>(big) == static_cast<float>((std::int64_t{1} << 25) + 8));
  REQUIRE(std::nearbyint(static_cast<double>(big) / 16.0) == (1 << 21) + 1);
  constexpr qlinear::output_params wide{0, -(1 << 22), 1 << 22};
  CHECK(qlinear::requantize(big, {0x1p-4f}, wide) == (1 << 21));
  CHECK(qlinear::requantize(-big, {0x1p-4f}, wide) == -(1 << 21));
}

TEST_CASE("qlinear QuantizeLinear divides in float32 and rounds half to even") {
  STATIC_REQUIRE(qlinear::quantize(1.0f, 0.5f, 0, -128, 127) == 2);
  STATIC_REQUIRE(qlinear::quantize(0.75f, 0.5f, 0, -128, 127) == 2);    // 1.5
  STATIC_REQUIRE(qlinear::quantize(1.25f, 0.5f, 0, -128, 127) == 2);    // 2.5
  STATIC_REQUIRE(qlinear::quantize(-1.25f, 0.5f, 0, -128, 127) == -2);  // -2.5
  STATIC_REQUIRE(qlinear::quantize(-0.75f, 0.5f, 0, -128, 127) == -2);  // -1.5
  STATIC_REQUIRE(qlinear::quantize(1000.0f, 0.5f, 0, -128, 127) == 127);
  STATIC_REQUIRE(qlinear::quantize(-1000.0f, 0.5f, 0, -128, 127) == -128);
  STATIC_REQUIRE(qlinear::quantize(-100.0f, 1.0f, 10, 0, 255) == 0);
  STATIC_REQUIRE(qlinear::quantize(1.0f, 1.0f, 10, 0, 255) == 11);
  STATIC_REQUIRE(qlinear::quantize(300.0f, 1.0f, 10, 0, 255) == 255);

  // -74.25 / 0.3f is -247.499985 in float32 (-> -247) but -247.5 through the reciprocal (-> -248).
  const float x = -74.25f, s = 0.300000012f;
  volatile float inv = 1.0f / s;
  volatile float via_reciprocal = x * inv;
  volatile float via_division = x / s;
  REQUIRE(std::nearbyint(via_reciprocal) == -248.0f);
  REQUIRE(std::nearbyint(via_division) == -247.0f);
  CHECK(qlinear::quantize(x, s, 0, -32768, 32767) == -247);
}

TEST_CASE("qlinear DequantizeLinear is float(q - zp) * scale") {
  STATIC_REQUIRE(qlinear::dequantize(130, 0.5f, 128) == 1.0f);
  STATIC_REQUIRE(qlinear::dequantize(-128, 0.25f, 0) == -32.0f);
}

TEST_CASE("qlinear Add: exact cases agree across the three MLAS kernels") {
  using K = qlinear::add_kernel;
  for (K k : {K::x86_fma, K::x86_sse2, K::portable}) {
    // 0.5 a + 0.25 b, y_scale 1: ties round to even.
    const auto p = qlinear::make_add(0.5f, 0, 0.25f, 0, 1.0f, 0, -128, 127, k);
    CHECK(qlinear::add(3, 2, p) == 2);    // 1.5 + 0.5
    CHECK(qlinear::add(3, 0, p) == 2);    // 1.5
    CHECK(qlinear::add(5, 0, p) == 2);    // 2.5
    CHECK(qlinear::add(-5, 0, p) == -2);  // -2.5
    CHECK(qlinear::add(0, 6, p) == 2);    // 1.5
    CHECK(qlinear::add(0, -6, p) == -2);  // -1.5

    const auto sat = qlinear::make_add(1.0f, 0, 1.0f, 0, 1.0f, 0, -128, 127, k);
    CHECK(qlinear::add(127, 127, sat) == 127);
    CHECK(qlinear::add(-128, -128, sat) == -128);

    // With zero points: y = 2 (a - 10) + 2 (b + 4) + 3.
    const auto zp = qlinear::make_add(0.5f, 10, 0.5f, -4, 0.25f, 3, -128, 127, k);
    CHECK(qlinear::add(12, -3, zp) == 9);
    CHECK(qlinear::add(10, -4, zp) == 3);
    CHECK(qlinear::add(127, 127, zp) == 127);

    // uint8: zero point 128, range [0, 255].
    const auto u8 = qlinear::make_add(1.0f, 128, 1.0f, 128, 1.0f, 128, 0, 255, k);
    CHECK(qlinear::add(200, 200, u8) == 255);
    CHECK(qlinear::add(10, 10, u8) == 0);
    CHECK(qlinear::add(130, 131, u8) == 133);
  }
}

TEST_CASE("qlinear Add kernels differ in the last float bit near a tie") {
  using K = qlinear::add_kernel;
  const float sa = 0.0355475992f, sb = 0.0462587625f, sc = 0.014523265f;
  const int za = 6, a = -115, b = 90;
  // The exact value is about -9.49: -9 is right, the unfused SSE2 sum lands on -10.
  const double exact = (static_cast<double>(sa) * (a - za) + static_cast<double>(sb) * b) / sc;
  REQUIRE(std::nearbyint(exact) == -9.0);

  volatile float ra = sa / sc;
  volatile float rb = sb / sc;
  // AVX2: fixed = -(fma(ra, za, rb * 0)), then fma(a, ra, fma(b, rb, fixed)).
  const float fixed_fma = 0.0f - std::fma(static_cast<float>(ra), static_cast<float>(za), rb * 0.0f);
  const float r_fma = std::fma(static_cast<float>(a), ra, std::fma(static_cast<float>(b), rb, fixed_fma));
  // SSE2: (fixed + a ra) + b rb, each operation rounded.
  volatile float za_part = ra * static_cast<float>(za);
  volatile float fixed_sse = 0.0f - za_part;
  volatile float partial = fixed_sse + static_cast<float>(a) * ra;
  volatile float r_sse = partial + static_cast<float>(b) * rb;
  // Portable: (sa (a - za) + sb b) / sc, then + zc before rounding.
  volatile float va = sa * static_cast<float>(a - za);
  volatile float vb = sb * static_cast<float>(b);
  volatile float r_portable = (va + vb) / sc;
  REQUIRE(std::nearbyint(r_fma) == -9.0f);
  REQUIRE(std::nearbyint(r_sse) == -10.0f);
  REQUIRE(std::nearbyint(r_portable) == -9.0f);

  CHECK(qlinear::add(a, b, qlinear::make_add(sa, za, sb, 0, sc, 0, -128, 127, K::x86_fma)) == -9);
  CHECK(qlinear::add(a, b, qlinear::make_add(sa, za, sb, 0, sc, 0, -128, 127, K::x86_sse2)) == -10);
  CHECK(qlinear::add(a, b, qlinear::make_add(sa, za, sb, 0, sc, 0, -128, 127, K::portable)) == -9);
}

TEST_CASE("qlinear Add portable kernel adds the output zero point in float before rounding") {
  // 0.5 (a) / 1 with zc = 100: a = 3 gives 101.5 -> 102 (even); a = 1 gives 100.5 -> 100.
  const auto p = qlinear::make_add(0.5f, 0, 0.5f, 0, 1.0f, 100, -128, 127, qlinear::add_kernel::portable);
  CHECK(qlinear::add(3, 0, p) == 102);
  CHECK(qlinear::add(1, 0, p) == 100);
  CHECK(qlinear::add(100, 100, p) == 127);
}

TEST_CASE("qlinear rescale is QuantizeLinear(DequantizeLinear(q))") {
  constexpr qlinear::rescale_params p{0.5f, 0, 0.25f, 1, -128, 127};
  STATIC_REQUIRE(qlinear::rescale(3, p) == 7);      // 1.5 / 0.25 = 6, + 1
  STATIC_REQUIRE(qlinear::rescale(-3, p) == -5);    // -6 + 1
  STATIC_REQUIRE(qlinear::rescale(127, p) == 127);  // 254 + 1 saturates
  STATIC_REQUIRE(qlinear::rescale(-128, p) == -128);

  constexpr qlinear::rescale_params halve{0.5f, 0, 1.0f, 0, -128, 127};
  STATIC_REQUIRE(qlinear::rescale(3, halve) == 2);    // 1.5
  STATIC_REQUIRE(qlinear::rescale(5, halve) == 2);    // 2.5
  STATIC_REQUIRE(qlinear::rescale(-5, halve) == -2);  // -2.5

  // Same scale and zero point: ORT copies; the formula must be the identity.
  const float scales[] = {0.0235f, 0.1f, 0.3f, 0.00392156886f, 7.5f};
  for (float s : scales) {
    for (int zp : {0, 3, -7}) {
      const qlinear::rescale_params same{s, zp, s, zp, -128, 127};
      for (int q = -128; q <= 127; ++q) CHECK(qlinear::rescale(q, same) == q);
    }
  }
}
