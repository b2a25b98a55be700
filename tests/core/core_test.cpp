// The core vocabulary: element types, packing (byte layout worked by hand), pads and shapes.
#include <catch2/catch.hpp>

#include <cstdint>

#include "statiq/core/packed.hpp"
#include "statiq/core/pads.hpp"
#include "statiq/core/pool.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/accumulator.hpp"
#include "statiq/targets/rules.hpp"

using namespace statiq;

TEST_CASE("qint ranges for 1, 2, 4 and 8 bits") {
  STATIC_REQUIRE(int8::min == -128);
  STATIC_REQUIRE(int8::max == 127);
  STATIC_REQUIRE(uint8::max == 255);
  STATIC_REQUIRE(int4::min == -8);
  STATIC_REQUIRE(int4::max == 7);
  STATIC_REQUIRE(uint4::max == 15);
  STATIC_REQUIRE(int2::min == -2);
  STATIC_REQUIRE(uint2::max == 3);
  STATIC_REQUIRE(int1::min == -1);
  STATIC_REQUIRE(int1::max == 0);
  STATIC_REQUIRE(uint1::max == 1);
  STATIC_REQUIRE(int4::value_bits == 3);
  STATIC_REQUIRE(uint4::value_bits == 4);
}

TEST_CASE("qarray packs sub-byte elements low bits first") {
  qarray<int4, 5, true> a;
  STATIC_REQUIRE(decltype(a)::byte_size == 3);
  const int v[5] = {-8, 7, -1, 3, 5};
  for (int i = 0; i < 5; ++i) a.set(std::size_t(i), v[i]);
  // byte 0: low nibble -8 = 0x8, high 7 = 0x7 -> 0x78; byte 1: -1 = 0xF, 3 -> 0x3F; byte 2: 5 -> 0x05
  CHECK(a.bytes()[0] == 0x78);
  CHECK(a.bytes()[1] == 0x3F);
  CHECK(a.bytes()[2] == 0x05);
  for (int i = 0; i < 5; ++i) CHECK(a[std::size_t(i)] == v[i]);

  qarray<uint2, 4, true> b;
  STATIC_REQUIRE(decltype(b)::byte_size == 1);
  b.set(0, 3); b.set(1, 0); b.set(2, 2); b.set(3, 1);
  CHECK(b.bytes()[0] == 0b01100011);
  CHECK(b[0] == 3);
  CHECK(b[2] == 2);
  b.set(0, 1);  // overwriting keeps the neighbours
  CHECK(b.bytes()[0] == 0b01100001);

  qarray<int1, 9, true> c;
  STATIC_REQUIRE(decltype(c)::byte_size == 2);
  c.set(8, -1);
  CHECK(c.bytes()[1] == 1);
  CHECK(c[8] == -1);
  CHECK(c[7] == 0);

  qarray<int4, 3, false> unpacked;  // a target that does not pack keeps a byte each
  STATIC_REQUIRE(decltype(unpacked)::byte_size == 3);
  unpacked.set(1, -3);
  CHECK(unpacked[1] == -3);
}

TEST_CASE("qview reads weights stored elsewhere, also from a string literal") {
  static const std::uint8_t bytes[2] = {0x9F, 0x01};  // int4: 0xF = -1, 0x9 = -7, 0x1 = 1, 0
  const qview<int4, 4, true> v(bytes);
  CHECK(v[0] == -1);
  CHECK(v[1] == -7);
  CHECK(v[2] == 1);
  CHECK(v[3] == 0);
  static const char literal[] = "\x80\x7f\xff";  // int8 -128, 127, -1
  const qview<int8, 3> s(literal);
  CHECK(s[0] == -128);
  CHECK(s[1] == 127);
  CHECK(s[2] == -1);
}

TEST_CASE("\"same\" pads put the odd pixel at the end (TensorFlow / Akida convention)") {
  // 7x7 stride 2 on 224: out 112, total (112-1)*2 + 7 - 224 = 5 -> [2, 2, 3, 3]
  STATIC_REQUIRE(resolve_pads(Pads::same, {224, 224, 3}, {7, 7}, {2, 2}) == Pads{2, 2, 3, 3});
  // 1x1 stride 2 on 32: total = (16-1)*2 + 1 - 32 = -1 -> no padding
  STATIC_REQUIRE(resolve_pads(Pads::same, {32, 32, 8}, {1, 1}, {2, 2}) == Pads{0, 0, 0, 0});
  // 3x3 stride 2 on even 32: total 1 -> (0, 1); on odd 33: total 2 -> (1, 1)
  STATIC_REQUIRE(resolve_pads(Pads::same, {32, 32, 8}, {3, 3}, {2, 2}) == Pads{0, 0, 1, 1});
  STATIC_REQUIRE(resolve_pads(Pads::same, {33, 33, 8}, {3, 3}, {2, 2}) == Pads{1, 1, 1, 1});
  STATIC_REQUIRE(resolve_pads(Pads::valid, {33, 33, 8}, {3, 3}, {2, 2}) == Pads{});
  STATIC_REQUIRE(window_output_shape({224, 224, 3}, 64, {7, 7}, {2, 2}, Pads{3, 3, 3, 3}) == Shape{112, 112, 64});
  STATIC_REQUIRE(window_output_shape({10, 10, 3}, 4, {3, 3}, {1, 1}, Pads{}, {2, 2}) == Shape{6, 6, 4});
  STATIC_REQUIRE(max_pool(3, 3).output_shape({14, 14, 16}) == Shape{4, 4, 16});
  STATIC_REQUIRE(global_average_pool.output_shape({7, 7, 32}) == Shape{1, 1, 32});
}

TEST_CASE("accumulator bounds from bits and from weight statistics") {
  // 5x5x8 taps, uint8 input (|x - zp| <= 255), int8 weights (|w| <= 128)
  STATIC_REQUIRE(accumulator_bound(200, 8, false, 8, {}) == 200LL * 255 * 128);
  // signed int4 input: |x| <= 8
  STATIC_REQUIRE(accumulator_bound(9, 4, true, 4, {}) == 9LL * 8 * 8);
  // statistics: sum|w| = 1000 and |bias| <= 77, over a 4x4 global pool
  STATIC_REQUIRE(accumulator_bound(200, 8, false, 8, {1000, 77}, 16) == (1000LL * 255 + 77) * 16);
  STATIC_REQUIRE(accumulator_limit(32) == 2147483647LL);
}

TEST_CASE("diagnostic texts") {
  CHECK(pads_text(Pads{2, 2, 3, 3}).view() == "[2, 2, 3, 3]");
  CHECK(pads_text(Pads{-1, 0, 10, 123}).view() == "[-1, 0, 10, 123]");
  CHECK(pattern_text(fused_pattern("Conv", relu, max_pool(2, 2))).view() == "Conv -> Relu -> MaxPool");
}
