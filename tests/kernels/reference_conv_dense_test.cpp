// conv2d and dense against a naive NCHW / OIHW implementation written here the other way round:
// the input is padded explicitly with its zero point, loops run over every window position,
// and the sums are taken in int64 from the raw integers.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/reference/dense.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/pads.hpp"

namespace ref = statiq::kernels::reference;
using statiq::Dilation;
using statiq::Kernel;
using statiq::Pads;
using statiq::Shape;
using statiq::Stride;

namespace {

struct ConvCase {
  int in_h, in_w, in_c, out_c;
  int k_h, k_w, s_h, s_w, d_h, d_w;
  int top, left, bottom, right;
  int groups;
};

// Output extent from the ONNX Conv formula, independent of statiq's window_output.
int onnx_out(int in, int pad_sum, int k, int s, int d) {
  const int num = in + pad_sum - d * (k - 1) - 1;
  return num < 0 ? 0 : num / s + 1;
}

// x_nhwc [h][w][c], w_ohwi [oc][kh][kw][ic/groups]; returns acc as NHWC [oh][ow][oc].
template <class XT, class WT>
std::vector<std::int64_t> naive_conv(const ConvCase& k, const std::vector<XT>& x_nhwc, int x_zp,
                                     const std::vector<WT>& w_ohwi, int w_zp, const std::int32_t* bias) {
  const int icg = k.in_c / k.groups, ocg = k.out_c / k.groups;
  const int ph = k.in_h + k.top + k.bottom, pw = k.in_w + k.left + k.right;
  // NCHW padded with the input zero point.
  std::vector<std::int64_t> xp(static_cast<std::size_t>(k.in_c) * ph * pw, x_zp);
  for (int c = 0; c < k.in_c; ++c)
    for (int h = 0; h < k.in_h; ++h)
      for (int w = 0; w < k.in_w; ++w)
        xp[(static_cast<std::size_t>(c) * ph + h + k.top) * pw + w + k.left] = x_nhwc[(h * k.in_w + w) * k.in_c + c];
  // OIHW weights.
  std::vector<std::int64_t> wo(w_ohwi.size());
  for (int o = 0; o < k.out_c; ++o)
    for (int i = 0; i < icg; ++i)
      for (int a = 0; a < k.k_h; ++a)
        for (int b = 0; b < k.k_w; ++b)
          wo[((o * icg + i) * k.k_h + a) * k.k_w + b] = w_ohwi[((o * k.k_h + a) * k.k_w + b) * icg + i];
  const int oh_n = onnx_out(k.in_h, k.top + k.bottom, k.k_h, k.s_h, k.d_h);
  const int ow_n = onnx_out(k.in_w, k.left + k.right, k.k_w, k.s_w, k.d_w);
  std::vector<std::int64_t> out(static_cast<std::size_t>(oh_n) * ow_n * k.out_c);
  for (int o = 0; o < k.out_c; ++o) {
    const int g = o / ocg;
    for (int y = 0; y < oh_n; ++y) {
      for (int z = 0; z < ow_n; ++z) {
        std::int64_t s = bias ? bias[o] : 0;
        for (int i = 0; i < icg; ++i)
          for (int a = 0; a < k.k_h; ++a)
            for (int b = 0; b < k.k_w; ++b) {
              const std::int64_t xv =
                  xp[(static_cast<std::size_t>(g * icg + i) * ph + y * k.s_h + a * k.d_h) * pw + z * k.s_w + b * k.d_w];
              s += (xv - x_zp) * (wo[((o * icg + i) * k.k_h + a) * k.k_w + b] - w_zp);
            }
        out[(static_cast<std::size_t>(y) * ow_n + z) * k.out_c + o] = s;
      }
    }
  }
  return out;
}

ref::Conv2DGeometry geometry_of(const ConvCase& k) {
  return ref::Conv2DGeometry{Shape{k.in_h, k.in_w, k.in_c},
                             Shape{onnx_out(k.in_h, k.top + k.bottom, k.k_h, k.s_h, k.d_h),
                                   onnx_out(k.in_w, k.left + k.right, k.k_w, k.s_w, k.d_w), k.out_c},
                             Kernel{k.k_h, k.k_w},
                             Stride{k.s_h, k.s_w},
                             Pads{k.top, k.left, k.bottom, k.right},
                             Dilation{k.d_h, k.d_w},
                             k.groups};
}

// A random case with a non-empty output. Groups: 1, 2, depthwise (multiplier 1 or 2).
ConvCase random_case(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    ConvCase k{};
    k.in_h = pick(1, 9);
    k.in_w = pick(1, 9);
    k.k_h = pick(1, 5);
    k.k_w = pick(1, 5);
    k.s_h = pick(1, 3);
    k.s_w = pick(1, 3);
    k.d_h = pick(1, 2);
    k.d_w = pick(1, 2);
    k.top = pick(0, 3);
    k.left = pick(0, 3);
    k.bottom = pick(0, 3);
    k.right = pick(0, 3);
    switch (pick(0, 3)) {
      case 0: k.groups = 1; k.in_c = pick(1, 6); k.out_c = pick(1, 6); break;
      case 1: k.groups = 2; k.in_c = 2 * pick(1, 3); k.out_c = 2 * pick(1, 3); break;
      case 2: k.in_c = pick(1, 6); k.groups = k.in_c; k.out_c = k.in_c; break;
      default: k.in_c = pick(1, 6); k.groups = k.in_c; k.out_c = 2 * k.in_c; break;
    }
    if (onnx_out(k.in_h, k.top + k.bottom, k.k_h, k.s_h, k.d_h) > 0 &&
        onnx_out(k.in_w, k.left + k.right, k.k_w, k.s_w, k.d_w) > 0)
      return k;
  }
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

template <class Acc>
bool same(const std::vector<Acc>& got, const std::vector<std::int64_t>& want) {
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (static_cast<std::int64_t>(got[i]) != want[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("conv2d: 1x1 with zero points and bias, by hand", "[kernels][conv2d]") {
  // x = [3, 5], x_zp = 1 -> [2, 4]; w = [[1, 2], [3, -1]], w_zp = -1 -> [[2, 3], [4, 0]].
  const std::int8_t x[] = {3, 5};
  const std::int8_t w[] = {1, 2, 3, -1};
  const std::int32_t bias[] = {10, -10};
  const auto g = ref::conv2d_geometry(Shape{1, 1, 2}, 2, Kernel{1, 1}, Stride{1, 1}, Pads::valid);
  std::int32_t acc[2] = {};
  ref::conv2d(g, x, 1, w, -1, bias, acc);
  CHECK(acc[0] == 10 + 2 * 2 + 4 * 3);   // 26
  CHECK(acc[1] == -10 + 2 * 4 + 4 * 0);  // -2
  ref::conv2d(g, x, 1, w, -1, nullptr, acc);
  CHECK(acc[0] == 16);
  CHECK(acc[1] == 8);
}

TEST_CASE("conv2d: 3x3 same padding contributes nothing (pads stand for the zero point)", "[kernels][conv2d]") {
  // x = 1..9 (3x3x1), x_zp = 1, w all 2 with w_zp = 1 (i.e. 1): acc = window sums of (x - 1).
  const std::uint8_t x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::int8_t w[9] = {2, 2, 2, 2, 2, 2, 2, 2, 2};
  const auto g = ref::conv2d_geometry(Shape{3, 3, 1}, 1, Kernel{3, 3}, Stride{1, 1}, Pads::same);
  REQUIRE(g.pads == Pads{1, 1, 1, 1});
  REQUIRE(g.out == Shape{3, 3, 1});
  std::int32_t acc[9] = {};
  ref::conv2d(g, x, 1, w, 1, nullptr, acc);
  // Window sums of x - 1 = {0..8}: corners 0+1+3+4=8, 1+2+4+5=12, 3+4+6+7=20, 4+5+7+8=24;
  // edges 0+..+5=15, 0+1+3+4+6+7=21, 1+2+4+5+7+8=27, 3+..+8=33; centre 0+..+8=36.
  // Padding with raw 0 instead of the zero point would give 8 - 5 = 3 at the first corner.
  const std::int32_t want[9] = {8, 15, 12, 21, 36, 27, 20, 33, 24};
  for (int i = 0; i < 9; ++i) CHECK(acc[i] == want[i]);
}

TEST_CASE("conv2d: stride 2 'same' resolves like TensorFlow and matches the naive loops", "[kernels][conv2d]") {
  // 5x5 input, 3x3 kernel, stride 2: total padding 2 -> 1 before, 1 after; output 3x3.
  const Shape in{5, 5, 3};
  const Pads p = statiq::resolve_pads(Pads::same, in, Kernel{3, 3}, Stride{2, 2});
  REQUIRE(p == Pads{1, 1, 1, 1});
  // 6x6 input: total padding 1 -> 0 before, 1 after (the odd pixel at the end).
  REQUIRE(statiq::resolve_pads(Pads::same, Shape{6, 6, 1}, Kernel{3, 3}, Stride{2, 2}) == Pads{0, 0, 1, 1});
  std::mt19937 rng(7);
  const ConvCase k{5, 5, 3, 4, 3, 3, 2, 2, 1, 1, p.top, p.left, p.bottom, p.right, 1};
  const auto x = random_values<std::int8_t>(rng, 5 * 5 * 3, -128, 127);
  const auto w = random_values<std::int8_t>(rng, 4 * 3 * 3 * 3, -127, 127);
  const auto g = ref::conv2d_geometry(in, 4, Kernel{3, 3}, Stride{2, 2}, Pads::same);
  REQUIRE(g.out == Shape{3, 3, 4});
  std::vector<std::int32_t> acc(g.out.size());
  ref::conv2d(g, x.data(), -5, w.data(), 3, nullptr, acc.data());
  CHECK(same(acc, naive_conv(k, x, -5, w, 3, nullptr)));
}

TEST_CASE("conv2d: kernel larger than the input, reached only through padding", "[kernels][conv2d]") {
  // 2x2 input, 5x5 kernel, pads 2: 2x2 output; each window sees the whole input, at a different
  // kernel offset.
  const ConvCase k{2, 2, 1, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1};
  const std::int8_t x[] = {1, 2, 3, 4};
  std::vector<std::int8_t> w(25);
  for (int i = 0; i < 25; ++i) w[i] = static_cast<std::int8_t>(i);  // w[kh][kw] = 5 kh + kw
  const auto g = geometry_of(k);
  REQUIRE(g.out == Shape{2, 2, 1});
  std::int32_t acc[4] = {};
  ref::conv2d(g, x, 0, w.data(), 0, nullptr, acc);
  // Output (0,0): input (i,j) meets kernel (i+2, j+2): 1*12 + 2*13 + 3*17 + 4*18 = 161.
  CHECK(acc[0] == 161);
  // Output (1,1): input (i,j) meets kernel (i+1, j+1): 1*6 + 2*7 + 3*11 + 4*12 = 101.
  CHECK(acc[3] == 101);
  const std::vector<std::int8_t> xv(x, x + 4);
  CHECK(same(std::vector<std::int32_t>(acc, acc + 4), naive_conv(k, xv, 0, w, 0, nullptr)));
}

TEST_CASE("conv2d: random shapes, strides, dilations, asymmetric pads and groups", "[kernels][conv2d]") {
  std::mt19937 rng(20240611);
  int depthwise_x2 = 0, grouped = 0, null_bias = 0;
  for (int t = 0; t < 400; ++t) {
    const ConvCase k = random_case(rng);
    const auto g = geometry_of(k);
    INFO("case " << t << ": in " << k.in_h << "x" << k.in_w << "x" << k.in_c << " out_c " << k.out_c << " k "
                 << k.k_h << "x" << k.k_w << " s " << k.s_h << "," << k.s_w << " d " << k.d_h << "," << k.d_w
                 << " pads " << k.top << "," << k.left << "," << k.bottom << "," << k.right << " groups " << k.groups);
    const auto bias = random_values<std::int32_t>(rng, static_cast<std::size_t>(k.out_c), -100000, 100000);
    const std::int32_t* b = (t % 3 == 0) ? nullptr : bias.data();
    null_bias += b == nullptr;
    grouped += k.groups == 2;
    depthwise_x2 += k.groups == k.in_c && k.out_c == 2 * k.in_c && k.in_c > 1;
    const int w_zp = std::uniform_int_distribution<int>(-20, 20)(rng);
    const auto w = random_values<std::int8_t>(rng, static_cast<std::size_t>(g.weight_size()), -128, 127);
    std::vector<std::int32_t> acc(g.out.size());
    if (t % 2 == 0) {
      // Asymmetric uint8 activations.
      const int x_zp = std::uniform_int_distribution<int>(0, 255)(rng);
      const auto x = random_values<std::uint8_t>(rng, g.in.size(), 0, 255);
      ref::conv2d(g, x.data(), x_zp, w.data(), w_zp, b, acc.data());
      REQUIRE(same(acc, naive_conv(k, x, x_zp, w, w_zp, b)));
    } else {
      const int x_zp = std::uniform_int_distribution<int>(-128, 127)(rng);
      const auto x = random_values<std::int8_t>(rng, g.in.size(), -128, 127);
      ref::conv2d(g, x.data(), x_zp, w.data(), w_zp, b, acc.data());
      REQUIRE(same(acc, naive_conv(k, x, x_zp, w, w_zp, b)));
    }
  }
  // The random draw did exercise the interesting variants.
  CHECK(depthwise_x2 > 20);
  CHECK(grouped > 20);
  CHECK(null_bias > 20);
}

TEST_CASE("conv2d: int64 accumulator and int32 inputs beyond int32 sums", "[kernels][conv2d]") {
  // 3x3 window of 2^20 * 2^12 products: 9 * 2^32 overflows int32, not int64.
  const ConvCase k{3, 3, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1};
  const std::vector<std::int32_t> x(9, 1 << 20);
  const std::vector<std::int32_t> w(9, 1 << 12);
  std::int64_t acc = 0;
  ref::conv2d(geometry_of(k), x.data(), 0, w.data(), 0, nullptr, &acc);
  CHECK(acc == 9 * (std::int64_t{1} << 32));
  ref::conv2d(geometry_of(k), x.data(), -(1 << 20), w.data(), 0, nullptr, &acc);
  CHECK(acc == 18 * (std::int64_t{1} << 32));
}

TEST_CASE("conv2d: packed 4-bit and 2-bit weights give the unpacked result", "[kernels][conv2d][packed]") {
  std::mt19937 rng(99);
  constexpr std::size_t cap = 1024;
  for (int t = 0; t < 100; ++t) {
    ConvCase k = random_case(rng);
    auto g = geometry_of(k);
    if (static_cast<std::size_t>(g.weight_size()) > cap) continue;
    const auto x = random_values<std::int8_t>(rng, g.in.size(), -128, 127);
    const std::int32_t x_zp = 3;
    std::vector<std::int32_t> want(g.out.size()), got(g.out.size());
    // Signed 4-bit, symmetric (zp 0) and shifted (zp -2).
    {
      const auto w = random_values<std::int8_t>(rng, static_cast<std::size_t>(g.weight_size()), -8, 7);
      statiq::qarray<statiq::int4, cap> packed;
      STATIC_REQUIRE(statiq::qarray<statiq::int4, cap>::packed());
      for (std::size_t i = 0; i < w.size(); ++i) packed.set(i, w[i]);
      for (int zp : {0, -2}) {
        ref::conv2d(g, x.data(), x_zp, w.data(), zp, nullptr, want.data());
        ref::conv2d(g, x.data(), x_zp, packed, zp, nullptr, got.data());
        REQUIRE(got == want);
        REQUIRE(same(got, naive_conv(k, x, x_zp, w, zp, nullptr)));
      }
    }
    // Unsigned 4-bit with zero point 8, and signed 2-bit.
    {
      const auto w = random_values<std::uint8_t>(rng, static_cast<std::size_t>(g.weight_size()), 0, 15);
      statiq::qarray<statiq::uint4, cap> packed;
      for (std::size_t i = 0; i < w.size(); ++i) packed.set(i, w[i]);
      ref::conv2d(g, x.data(), x_zp, packed, 8, nullptr, got.data());
      REQUIRE(same(got, naive_conv(k, x, x_zp, w, 8, nullptr)));
    }
    {
      const auto w = random_values<std::int8_t>(rng, static_cast<std::size_t>(g.weight_size()), -2, 1);
      statiq::qarray<statiq::int2, cap> packed;
      for (std::size_t i = 0; i < w.size(); ++i) packed.set(i, w[i]);
      ref::conv2d(g, x.data(), x_zp, packed, 0, nullptr, got.data());
      REQUIRE(same(got, naive_conv(k, x, x_zp, w, 0, nullptr)));
    }
  }
}

TEST_CASE("conv2d_geometry derives the ONNX output shape", "[kernels][conv2d]") {
  // in 7, pads 1+2, kernel 3 dilated by 2 (span 5), stride 3: floor((7 + 3 - 5) / 3) + 1 = 2.
  const auto g = ref::conv2d_geometry(Shape{7, 7, 4}, 8, Kernel{3, 3}, Stride{3, 3}, Pads{1, 1, 2, 2},
                                      Dilation{2, 2}, 4);
  CHECK(g.out == Shape{2, 2, 8});
  CHECK(g.in_channels_per_group() == 1);
  CHECK(g.out_channels_per_group() == 2);
  CHECK(g.weight_size() == 8 * 3 * 3 * 1);
}

TEST_CASE("dense: by hand and against a column-order sum", "[kernels][dense]") {
  SECTION("hand values") {
    // x = [10, 20, 30], x_zp = 10 -> [0, 10, 20]; w rows [1, 2, 3], [-1, 0, 4]; w_zp = 1.
    const std::uint8_t x[] = {10, 20, 30};
    const std::int8_t w[] = {1, 2, 3, -1, 0, 4};
    const std::int32_t bias[] = {5, 7};
    std::int32_t acc[2];
    ref::dense(3, 2, x, 10, w, 1, bias, acc);
    CHECK(acc[0] == 5 + 0 * 0 + 10 * 1 + 20 * 2);     // 55
    CHECK(acc[1] == 7 + 0 * -2 + 10 * -1 + 20 * 3);   // 57
    ref::dense(3, 2, x, 10, w, 1, nullptr, acc);
    CHECK(acc[0] == 50);
    CHECK(acc[1] == 50);
  }
  SECTION("random") {
    std::mt19937 rng(5);
    for (int t = 0; t < 50; ++t) {
      const int in = std::uniform_int_distribution<int>(1, 300)(rng);
      const int out = std::uniform_int_distribution<int>(1, 20)(rng);
      const int x_zp = std::uniform_int_distribution<int>(-128, 127)(rng);
      const int w_zp = std::uniform_int_distribution<int>(-10, 10)(rng);
      const auto x = random_values<std::int8_t>(rng, static_cast<std::size_t>(in), -128, 127);
      const auto w = random_values<std::int8_t>(rng, static_cast<std::size_t>(in) * out, -128, 127);
      const auto bias = random_values<std::int32_t>(rng, static_cast<std::size_t>(out), -1000, 1000);
      // Naive: walk the inputs outermost, adding each column's contribution to every output.
      std::vector<std::int64_t> want(bias.begin(), bias.end());
      for (int i = 0; i < in; ++i)
        for (int o = 0; o < out; ++o)
          want[o] += (std::int64_t{x[i]} - x_zp) * (std::int64_t{w[static_cast<std::size_t>(o) * in + i]} - w_zp);
      std::vector<std::int64_t> acc(static_cast<std::size_t>(out));
      ref::dense(in, out, x.data(), x_zp, w.data(), w_zp, bias.data(), acc.data());
      REQUIRE(acc == want);
    }
  }
}
