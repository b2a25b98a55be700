// statiq/arith/rounding.hpp — the rounding and saturation primitives the arithmetic profiles
// share: round half to even / half away from zero, rounding shifts, clamps, exact log2.
#pragma once

#include <cmath>
#include <cstdint>

namespace statiq::arith {

// Round half to even of a float, as the x86 cvtps2dq / ARM fcvtns instructions and
// std::nearbyint in the default rounding mode do. Written out (not std::nearbyint) so it is
// constexpr and independent of the current FP environment. Precondition: |x| < 2^62.
constexpr std::int64_t round_half_even(float x) {
  // Truncation, then the fraction: x - trunc(x) is exact in float (no bits beyond x's own).
  const auto i = static_cast<std::int64_t>(x);
  const float frac = x - static_cast<float>(i);
  if (frac > 0.5f) return i + 1;
  if (frac < -0.5f) return i - 1;
  if (frac == 0.5f) return i + (i & 1);
  if (frac == -0.5f) return i - (i & 1);
  return i;
}

constexpr std::int64_t round_half_even(double x) {
  const auto i = static_cast<std::int64_t>(x);
  const double frac = x - static_cast<double>(i);
  if (frac > 0.5) return i + 1;
  if (frac < -0.5) return i - 1;
  if (frac == 0.5) return i + (i & 1);
  if (frac == -0.5) return i - (i & 1);
  return i;
}

// Round half away from zero (std::round), TFLite's TfLiteRound. Precondition: |x| < 2^62.
constexpr std::int64_t round_half_away(double x) {
  const auto i = static_cast<std::int64_t>(x);
  const double frac = x - static_cast<double>(i);
  if (frac >= 0.5) return i + 1;
  if (frac <= -0.5) return i - 1;
  return i;
}

constexpr std::int64_t saturate(std::int64_t x, std::int64_t lo, std::int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// Clamp the way MLAS does it (max then min), so a value outside [lo, hi] becomes the bound.
constexpr float clamp_f32(float x, float lo, float hi) {
  const float a = x < lo ? lo : x;
  return a > hi ? hi : a;
}

// x * 2^s for s >= 0 without the undefined behaviour of shifting a negative number in
// older standards; exact as long as the result fits.
constexpr std::int64_t shift_left(std::int64_t x, int s) { return x * (std::int64_t{1} << s); }

// floor(x / 2^s + 1/2) for s >= 1: a right shift that rounds half up (toward +inf);
// s <= 0 is the exact left shift by -s. C++20 defines >> on negative values as floor. Written as
// floor((floor(x / 2^(s-1)) + 1) / 2), the same number, so that no shift reaches 64 bits and no
// sum overflows (x + 2^(s-1) did for s = 64); beyond 64 every int64 rounds to 0.
constexpr std::int64_t shift_round_half_up(std::int64_t x, int s) {
  if (s <= 0) return shift_left(x, -s);
  if (s > 64) return 0;
  return ((x >> (s - 1)) + 1) >> 1;
}

// 2^e as a float / double, exact for the normal range; constexpr unlike std::ldexp.
constexpr float pow2_f32(int e) {
  float r = 1.0f;
  for (; e > 0; --e) r *= 2.0f;
  for (; e < 0; ++e) r *= 0.5f;
  return r;
}

constexpr double pow2_f64(int e) {
  double r = 1.0;
  for (; e > 0; --e) r *= 2.0;
  for (; e < 0; ++e) r *= 0.5;
  return r;
}

// ceil(log2(x)) computed exactly for x > 0 (no float log2, so 2^k gives k, 2^k + ulp gives
// k + 1).
inline int ceil_log2(double x) {
  int e = 0;
  const double f = std::frexp(x, &e);  // x = f * 2^e, f in [0.5, 1)
  return f == 0.5 ? e - 1 : e;
}

}  // namespace statiq::arith
