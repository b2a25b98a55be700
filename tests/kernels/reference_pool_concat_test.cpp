// max_pool, window_sum / average_pool_divisor, global_sum and concat against hand values and
// naive NCHW loops over an explicitly padded input (pads hold a sentinel the naive code skips).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "statiq/kernels/reference/reference.hpp"

namespace ref = statiq::kernels::reference;
using statiq::Kernel;
using statiq::Pads;
using statiq::Shape;
using statiq::Stride;

namespace {

constexpr std::int64_t pad_mark = std::numeric_limits<std::int64_t>::min();

struct PoolCase {
  Shape in;
  Kernel k;
  Stride s;
  Pads p;
  Shape out;
};

// Floor-mode ONNX pooling output, written out here rather than taken from statiq.
PoolCase random_pool_case(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    PoolCase c{};
    c.in = Shape{pick(1, 8), pick(1, 8), pick(1, 5)};
    c.k = Kernel{pick(1, 4), pick(1, 4)};
    c.s = Stride{pick(1, 3), pick(1, 3)};
    // ONNX pooling needs pads < kernel.
    c.p = Pads{pick(0, c.k.h - 1), pick(0, c.k.w - 1), pick(0, c.k.h - 1), pick(0, c.k.w - 1)};
    const int nh = c.in.h + c.p.top + c.p.bottom - c.k.h;
    const int nw = c.in.w + c.p.left + c.p.right - c.k.w;
    if (nh < 0 || nw < 0) continue;
    c.out = Shape{nh / c.s.h + 1, nw / c.s.w + 1, c.in.c};
    return c;
  }
}

// NCHW copy of an NHWC tensor with pad_mark around it.
template <class T>
std::vector<std::int64_t> padded_nchw(const PoolCase& c, const std::vector<T>& x) {
  const int ph = c.in.h + c.p.top + c.p.bottom, pw = c.in.w + c.p.left + c.p.right;
  std::vector<std::int64_t> xp(static_cast<std::size_t>(c.in.c) * ph * pw, pad_mark);
  for (int ch = 0; ch < c.in.c; ++ch)
    for (int h = 0; h < c.in.h; ++h)
      for (int w = 0; w < c.in.w; ++w)
        xp[(static_cast<std::size_t>(ch) * ph + h + c.p.top) * pw + w + c.p.left] = x[(h * c.in.w + w) * c.in.c + ch];
  return xp;
}

enum class Reduce { max, sum, count };

// Per output (NHWC order): the max, the sum of (x - zp), or the count of real positions.
template <class T>
std::vector<std::int64_t> naive_pool(const PoolCase& c, const std::vector<T>& x, Reduce r, std::int64_t zp = 0) {
  const auto xp = padded_nchw(c, x);
  const int ph = c.in.h + c.p.top + c.p.bottom, pw = c.in.w + c.p.left + c.p.right;
  std::vector<std::int64_t> out(static_cast<std::size_t>(c.out.size()));
  for (int ch = 0; ch < c.in.c; ++ch)
    for (int y = 0; y < c.out.h; ++y)
      for (int z = 0; z < c.out.w; ++z) {
        std::int64_t acc = r == Reduce::max ? pad_mark : 0;
        for (int a = 0; a < c.k.h; ++a)
          for (int b = 0; b < c.k.w; ++b) {
            const std::int64_t v = xp[(static_cast<std::size_t>(ch) * ph + y * c.s.h + a) * pw + z * c.s.w + b];
            if (v == pad_mark) continue;
            if (r == Reduce::max) acc = v > acc ? v : acc;
            if (r == Reduce::sum) acc += v - zp;
            if (r == Reduce::count) acc += 1;
          }
        out[(static_cast<std::size_t>(y) * c.out.w + z) * c.in.c + ch] = acc;
      }
  return out;
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, std::size_t n, std::int64_t lo, std::int64_t hi) {
  std::uniform_int_distribution<std::int64_t> d(lo, hi);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

template <class T>
bool same(const std::vector<T>& got, const std::vector<std::int64_t>& want) {
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (static_cast<std::int64_t>(got[i]) != want[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("max_pool: padded positions never win, by hand", "[kernels][pooling]") {
  // All-negative 2x2 input, 2x2 window, stride 1, pads 1 all round: 3x3 output. Were the pads
  // read as 0, every output would be 0.
  const std::int8_t x[] = {-5, -3, -7, -9};  // [[-5, -3], [-7, -9]]
  std::int8_t y[9];
  ref::max_pool(Shape{2, 2, 1}, Shape{3, 3, 1}, Kernel{2, 2}, Stride{1, 1}, Pads{1, 1, 1, 1}, x, y);
  const std::int8_t want[9] = {-5, -3, -3, -5, -3, -3, -7, -7, -9};
  for (int i = 0; i < 9; ++i) CHECK(y[i] == want[i]);
}

TEST_CASE("max_pool: random shapes with pads, int8, uint8 and int32 accumulators", "[kernels][pooling]") {
  std::mt19937 rng(31337);
  for (int t = 0; t < 300; ++t) {
    const PoolCase c = random_pool_case(rng);
    INFO("case " << t);
    if (t % 3 == 0) {
      const auto x = random_values<std::int8_t>(rng, c.in.size(), -128, 127);
      std::vector<std::int8_t> y(c.out.size());
      ref::max_pool(c.in, c.out, c.k, c.s, c.p, x.data(), y.data());
      REQUIRE(same(y, naive_pool(c, x, Reduce::max)));
    } else if (t % 3 == 1) {
      const auto x = random_values<std::uint8_t>(rng, c.in.size(), 0, 255);
      std::vector<std::uint8_t> y(c.out.size());
      ref::max_pool(c.in, c.out, c.k, c.s, c.p, x.data(), y.data());
      REQUIRE(same(y, naive_pool(c, x, Reduce::max)));
    } else {
      // Accumulators span the whole int32 range, INT32_MIN included.
      auto x = random_values<std::int32_t>(rng, c.in.size(), std::numeric_limits<std::int32_t>::min(),
                                           std::numeric_limits<std::int32_t>::max());
      x[0] = std::numeric_limits<std::int32_t>::min();
      std::vector<std::int32_t> y(c.out.size());
      ref::max_pool(c.in, c.out, c.k, c.s, c.p, x.data(), y.data());
      REQUIRE(same(y, naive_pool(c, x, Reduce::max)));
    }
  }
}

TEST_CASE("window_sum and average_pool_divisor on a 3x3 example, by hand", "[kernels][pooling]") {
  // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], one channel.
  const std::uint8_t x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Shape in{3, 3, 1};

  SECTION("3x3 window, stride 1, pads 1 all round") {
    const Kernel k{3, 3};
    const Stride s{1, 1};
    const Pads p{1, 1, 1, 1};
    std::int32_t sum[9];
    ref::window_sum(in, Shape{3, 3, 1}, k, s, p, x, 0, sum);
    const std::int32_t want_sum[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    for (int i = 0; i < 9; ++i) CHECK(sum[i] == want_sum[i]);
    // With zero point 2 every real position gives 2 less; the pads still give nothing.
    ref::window_sum(in, Shape{3, 3, 1}, k, s, p, x, 2, sum);
    const std::int32_t want_zp[9] = {4, 9, 8, 15, 27, 21, 16, 27, 20};
    for (int i = 0; i < 9; ++i) CHECK(sum[i] == want_zp[i]);
    // count_include_pad = 0: corners see 4 pixels, edges 6, the centre 9.
    const int exclude[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
    for (int oh = 0; oh < 3; ++oh)
      for (int ow = 0; ow < 3; ++ow) {
        CHECK(ref::average_pool_divisor(in, k, s, p, oh, ow, false) == exclude[oh * 3 + ow]);
        CHECK(ref::average_pool_divisor(in, k, s, p, oh, ow, true) == 9);
      }
  }

  SECTION("2x2 window, stride 2, pads only bottom and right") {
    const Kernel k{2, 2};
    const Stride s{2, 2};
    const Pads p{0, 0, 1, 1};
    std::int32_t sum[4];
    ref::window_sum(in, Shape{2, 2, 1}, k, s, p, x, 0, sum);
    CHECK(sum[0] == 1 + 2 + 4 + 5);
    CHECK(sum[1] == 3 + 6);
    CHECK(sum[2] == 7 + 8);
    CHECK(sum[3] == 9);
    const int exclude[4] = {4, 2, 2, 1};
    for (int i = 0; i < 4; ++i) {
      CHECK(ref::average_pool_divisor(in, k, s, p, i / 2, i % 2, false) == exclude[i]);
      CHECK(ref::average_pool_divisor(in, k, s, p, i / 2, i % 2, true) == 4);
    }
  }

  SECTION("ceil mode: a window past the pads counts only up to the pads (onnxruntime)") {
    // 3x3, 2x2 window, stride 2, no pads, ceil_mode = 1 -> 2x2 output; the last row and column
    // of windows stick out of the input by one with no pad there.
    const Kernel k{2, 2};
    const Stride s{2, 2};
    const Pads p{};
    CHECK(ref::average_pool_divisor(in, k, s, p, 0, 1, true) == 2);
    CHECK(ref::average_pool_divisor(in, k, s, p, 1, 1, true) == 1);
    CHECK(ref::average_pool_divisor(in, k, s, p, 1, 1, false) == 1);
    // One pad at the bottom: the window's second row is a pad, counted when including pads.
    CHECK(ref::average_pool_divisor(in, k, s, Pads{0, 0, 1, 0}, 1, 0, true) == 4);
    CHECK(ref::average_pool_divisor(in, k, s, Pads{0, 0, 1, 0}, 1, 1, true) == 2);
  }
}

TEST_CASE("window_sum and divisors: random shapes with pads and zero points", "[kernels][pooling]") {
  std::mt19937 rng(4242);
  for (int t = 0; t < 300; ++t) {
    const PoolCase c = random_pool_case(rng);
    INFO("case " << t);
    const int zp = std::uniform_int_distribution<int>(-128, 127)(rng);
    const auto x = random_values<std::int8_t>(rng, c.in.size(), -128, 127);
    std::vector<std::int32_t> sum(c.out.size());
    ref::window_sum(c.in, c.out, c.k, c.s, c.p, x.data(), zp, sum.data());
    REQUIRE(same(sum, naive_pool(c, x, Reduce::sum, zp)));
    const auto counts = naive_pool(c, x, Reduce::count);
    for (int oh = 0; oh < c.out.h; ++oh)
      for (int ow = 0; ow < c.out.w; ++ow) {
        REQUIRE(ref::average_pool_divisor(c.in, c.k, c.s, c.p, oh, ow, false) ==
                counts[(static_cast<std::size_t>(oh) * c.out.w + ow) * c.in.c]);
        // Floor mode never leaves the padded input: the whole kernel counts.
        REQUIRE(ref::average_pool_divisor(c.in, c.k, c.s, c.p, oh, ow, true) == c.k.h * c.k.w);
      }
  }
}

TEST_CASE("global_sum: per channel, by hand and random", "[kernels][pooling]") {
  // 2x2x2: channel 0 = {1, 3, 5, 7}, channel 1 = {-2, -4, 6, 8}; zero point -1.
  const std::int8_t x[] = {1, -2, 3, -4, 5, 6, 7, 8};
  std::int32_t sum[2];
  ref::global_sum(Shape{2, 2, 2}, x, -1, sum);
  CHECK(sum[0] == 16 + 4);
  CHECK(sum[1] == 8 + 4);

  std::mt19937 rng(8);
  for (int t = 0; t < 50; ++t) {
    const Shape in{std::uniform_int_distribution<int>(1, 12)(rng), std::uniform_int_distribution<int>(1, 12)(rng),
                   std::uniform_int_distribution<int>(1, 16)(rng)};
    const int zp = std::uniform_int_distribution<int>(0, 255)(rng);
    const auto xv = random_values<std::uint8_t>(rng, in.size(), 0, 255);
    std::vector<std::int64_t> want(static_cast<std::size_t>(in.c), 0);
    for (int c = 0; c < in.c; ++c)
      for (int h = 0; h < in.h; ++h)
        for (int w = 0; w < in.w; ++w) want[c] += std::int64_t{xv[(h * in.w + w) * in.c + c]} - zp;
    std::vector<std::int64_t> got(static_cast<std::size_t>(in.c));
    ref::global_sum(in, xv.data(), zp, got.data());
    REQUIRE(got == want);
  }
}

TEST_CASE("concat along channels with a per-input transform, and as a copy", "[kernels][concat]") {
  // Two pixels; input 0 has 1 channel, input 1 has 2.
  const std::int8_t a[] = {1, 2};
  const std::int8_t b[] = {10, 20, 30, 40};
  const std::int8_t* inputs[] = {a, b};
  const int channels[] = {1, 2};

  std::int8_t y[6];
  ref::concat(2, 2, inputs, channels, y);
  const std::int8_t copy[6] = {1, 10, 20, 2, 30, 40};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == copy[i]);

  // The transform sees which input a value comes from: input 0 doubled, input 1 minus 5.
  std::int32_t z[6];
  ref::concat(2, 2, inputs, channels, z, [](int input, std::int32_t q) { return input == 0 ? 2 * q : q - 5; });
  const std::int32_t transformed[6] = {2, 5, 15, 4, 25, 35};
  for (int i = 0; i < 6; ++i) CHECK(z[i] == transformed[i]);

  SECTION("random: three uint8 inputs, checked channel by channel in NCHW terms") {
    std::mt19937 rng(77);
    for (int t = 0; t < 30; ++t) {
      const int pixels = std::uniform_int_distribution<int>(1, 30)(rng);
      std::vector<std::vector<std::uint8_t>> data(3);
      int ch[3];
      const std::uint8_t* ptr[3];
      for (int i = 0; i < 3; ++i) {
        ch[i] = std::uniform_int_distribution<int>(1, 7)(rng);
        data[i] = random_values<std::uint8_t>(rng, static_cast<std::size_t>(pixels) * ch[i], 0, 255);
        ptr[i] = data[i].data();
      }
      const int total = ch[0] + ch[1] + ch[2];
      std::vector<std::uint8_t> out(static_cast<std::size_t>(pixels) * total);
      ref::concat(pixels, 3, ptr, ch, out.data());
      // Output channel k of pixel p belongs to the input whose channel range holds k.
      for (int k = 0, i = 0, base = 0; k < total; ++k) {
        while (k - base >= ch[i]) base += ch[i++];
        for (int p = 0; p < pixels; ++p)
          REQUIRE(out[static_cast<std::size_t>(p) * total + k] == data[i][static_cast<std::size_t>(p) * ch[i] + k - base]);
      }
    }
  }
}
