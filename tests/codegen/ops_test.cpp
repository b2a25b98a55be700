// Float executor operator semantics on hand-built ONNX graphs: hand-computed values for small
// cases, and naive double-precision loops written here for larger random ones.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "codegen/exec/float_executor.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "onnx_builder.hpp"

using statiq::codegen::import_onnx;
using statiq::codegen::exec::Array;
using statiq::codegen::exec::FloatExecutor;
using statiq::test::OnnxBuilder;
using Dims = std::vector<std::int64_t>;

namespace {

std::vector<Array> run(const OnnxBuilder& b, const std::vector<Array>& inputs) {
  const auto graph = import_onnx(b.model, ".", "test model");
  const FloatExecutor exec(graph);
  return exec.run(inputs).outputs;
}

std::vector<float> iota_f(std::size_t n, float start = 1.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

std::vector<float> random_f(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

void check_close(const std::vector<float>& got, const std::vector<double>& want, double tol = 1e-5) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol));
  }
}

// Naive NCHW convolution in double over an explicit window walk; W [M, C/group, kH, kW].
std::vector<double> naive_conv(const std::vector<float>& x, Dims xs, const std::vector<float>& w, Dims ws,
                               const std::vector<float>& bias, std::int64_t group, Dims strides, Dims dil, Dims pads,
                               Dims out) {
  const auto N = xs[0], C = xs[1], H = xs[2], W = xs[3], M = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  std::vector<double> y(static_cast<std::size_t>(N * M * out[0] * out[1]), 0.0);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t m = 0; m < M; ++m) {
      const std::int64_t g = m / (M / group);
      for (std::int64_t oh = 0; oh < out[0]; ++oh)
        for (std::int64_t ow = 0; ow < out[1]; ++ow) {
          double acc = bias.empty() ? 0.0 : bias[m];
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t i = 0; i < KH; ++i)
              for (std::int64_t j = 0; j < KW; ++j) {
                const std::int64_t h = oh * strides[0] - pads[0] + i * dil[0];
                const std::int64_t v = ow * strides[1] - pads[1] + j * dil[1];
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                acc += double(x[((n * C + g * Cg + c) * H + h) * W + v]) * w[((m * Cg + c) * KH + i) * KW + j];
              }
          y[((n * M + m) * out[0] + oh) * out[1] + ow] = acc;
        }
    }
  return y;
}

}  // namespace

TEST_CASE("Conv depthwise (group 2), pads 1, stride 2: hand-computed", "[codegen][exec][conv]") {
  OnnxBuilder b;
  b.input("x", {1, 2, 3, 3}).output("y", {1, 2, 2, 2});
  b.initializer("w", {2, 1, 2, 2}, {1, 0, 0, 1, /**/ 1, 2, 3, 4});
  b.initializer("b", {2}, {0.5f, -1.0f});
  auto& n = b.node("Conv", {"x", "w", "b"}, {"y"}, "dw");
  OnnxBuilder::attr(n, "group", std::int64_t{2});
  OnnxBuilder::attr(n, "pads", Dims{1, 1, 1, 1});
  OnnxBuilder::attr(n, "strides", Dims{2, 2});
  const auto y = run(b, {Array::floats({1, 2, 3, 3}, iota_f(18))})[0];
  CHECK(y.shape == Dims{1, 2, 2, 2});
  // Channel 0 (x = 1..9, w = identity diagonal): (0,0) sees only x00*w11 = 1, (0,1) x02 = 3,
  // (1,0) x20 = 7, (1,1) x11 + x22 = 14. Channel 1 (x = 10..18, w = 1 2 / 3 4): 4*10 = 40,
  // 3*11 + 4*12 = 81, 2*13 + 4*16 = 90, 14 + 2*15 + 3*17 + 4*18 = 167.
  check_close(y.f, {1.5, 3.5, 7.5, 14.5, 39, 80, 89, 166});
}

TEST_CASE("Conv groups/dilation/asymmetric pads/stride against a naive loop", "[codegen][exec][conv]") {
  const Dims xs{2, 4, 7, 6}, ws{6, 2, 3, 2};
  const auto x = random_f(2 * 4 * 7 * 6, 1), w = random_f(6 * 2 * 3 * 2, 2), bias = random_f(6, 3);
  OnnxBuilder b;
  b.input("x", xs).output("y", {2, 6, 4, 5});
  b.initializer("w", ws, w);
  b.initializer("b", {6}, bias);
  auto& n = b.node("Conv", {"x", "w", "b"}, {"y"});
  OnnxBuilder::attr(n, "group", std::int64_t{2});
  OnnxBuilder::attr(n, "pads", Dims{2, 0, 1, 1});
  OnnxBuilder::attr(n, "strides", Dims{2, 1});
  OnnxBuilder::attr(n, "dilations", Dims{1, 2});
  const auto y = run(b, {Array::floats(xs, x)})[0];
  // H: (7 + 2 + 1 - 3) / 2 + 1 = 4; W: (6 + 0 + 1 - 3) / 1 + 1 = 5.
  REQUIRE(y.shape == Dims{2, 6, 4, 5});
  check_close(y.f, naive_conv(x, xs, w, ws, bias, 2, {2, 1}, {1, 2}, {2, 0}, {4, 5}));
}

TEST_CASE("Conv auto_pad SAME_UPPER / SAME_LOWER / VALID place the padding as ONNX says", "[codegen][exec][conv]") {
  const Dims xs{1, 1, 5, 5}, ws{1, 1, 2, 2};
  const auto x = random_f(25, 4), w = random_f(4, 5);
  for (const std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    OnnxBuilder b;
    b.input("x", xs).output("y", {1, 1, -1, -1});
    b.initializer("w", ws, w);
    auto& n = b.node("Conv", {"x", "w"}, {"y"});
    OnnxBuilder::attr(n, "auto_pad", mode);
    OnnxBuilder::attr(n, "strides", Dims{2, 2});
    const auto y = run(b, {Array::floats(xs, x)})[0];
    INFO(mode);
    if (mode == "VALID") {
      REQUIRE(y.shape == Dims{1, 1, 2, 2});
      check_close(y.f, naive_conv(x, xs, w, ws, {}, 1, {2, 2}, {1, 1}, {0, 0}, {2, 2}));
    } else {
      // out = ceil(5 / 2) = 3; total pad = (3-1)*2 + 2 - 5 = 1: at the end for SAME_UPPER.
      REQUIRE(y.shape == Dims{1, 1, 3, 3});
      const std::int64_t begin = mode == "SAME_UPPER" ? 0 : 1;
      check_close(y.f, naive_conv(x, xs, w, ws, {}, 1, {2, 2}, {1, 1}, {begin, begin}, {3, 3}));
    }
  }
}

TEST_CASE("ConvTranspose stride 2: each input pixel scatters its kernel", "[codegen][exec][conv]") {
  OnnxBuilder b;
  b.input("x", {1, 1, 2, 2}).output("y", {1, 1, 4, 4});
  b.initializer("w", {1, 1, 2, 2}, {1, 2, 3, 4});
  b.node("ConvTranspose", {"x", "w"}, {"y"});
  auto& n = *b.graph->mutable_node(0);
  OnnxBuilder::attr(n, "strides", Dims{2, 2});
  const auto y = run(b, {Array::floats({1, 1, 2, 2}, {1, 10, 100, 1000})})[0];
  // Output 4x4: non-overlapping 2x2 blocks x[i][j] * w.
  REQUIRE(y.shape == Dims{1, 1, 4, 4});
  check_close(y.f, {1, 2, 10, 20, 3, 4, 30, 40, 100, 200, 1000, 2000, 300, 400, 3000, 4000});
}

TEST_CASE("AveragePool count_include_pad divides by the padded window", "[codegen][exec][pool]") {
  for (std::int64_t include : {0, 1}) {
    OnnxBuilder b;
    b.input("x", {1, 1, 3, 3}).output("y", {1, 1, 3, 3});
    auto& n = b.node("AveragePool", {"x"}, {"y"});
    OnnxBuilder::attr(n, "kernel_shape", Dims{3, 3});
    OnnxBuilder::attr(n, "pads", Dims{1, 1, 1, 1});
    OnnxBuilder::attr(n, "count_include_pad", include);
    const auto y = run(b, {Array::floats({1, 1, 3, 3}, iota_f(9))})[0];
    REQUIRE(y.shape == Dims{1, 1, 3, 3});
    INFO("count_include_pad " << include);
    // Corner windows hold 1+2+4+5 = 12 (4 real cells), edge windows 1+2+3+4+5+6 = 21 (6 cells),
    // the centre 45 (9 cells).
    if (include)
      check_close(y.f, {12 / 9.0, 21 / 9.0, 16 / 9.0, 27 / 9.0, 5, 33 / 9.0, 24 / 9.0, 39 / 9.0, 28 / 9.0});
    else
      check_close(y.f, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
  }
}

TEST_CASE("MaxPool with stride, pads and ceil_mode", "[codegen][exec][pool]") {
  OnnxBuilder b;
  b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 2, 2}).output("z", {1, 1, 2, 2});
  auto& n = b.node("MaxPool", {"x"}, {"y"});
  OnnxBuilder::attr(n, "kernel_shape", Dims{2, 2});
  OnnxBuilder::attr(n, "strides", Dims{2, 2});
  OnnxBuilder::attr(n, "pads", Dims{1, 1, 0, 0});
  auto& m = b.node("MaxPool", {"x"}, {"z"});
  OnnxBuilder::attr(m, "kernel_shape", Dims{3, 3});
  OnnxBuilder::attr(m, "strides", Dims{2, 2});
  OnnxBuilder::attr(m, "ceil_mode", std::int64_t{1});
  // x = -1 .. -16 so a padded cell (never a candidate) would win if counted as 0.
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = -1.0f - i;
  const auto out = run(b, {Array::floats({1, 1, 4, 4}, x)});
  // pads top/left 1: out = (4 + 1 - 2) / 2 + 1 = 2; window rows {-1,0} cols {-1,0} -> x00 = -1.
  REQUIRE(out[0].shape == Dims{1, 1, 2, 2});
  check_close(out[0].f, {-1, -2, -5, -6});
  // ceil((4 - 3) / 2) + 1 = 2 windows per axis; the second covers rows/cols 2..3 only.
  REQUIRE(out[1].shape == Dims{1, 1, 2, 2});
  check_close(out[1].f, {-1, -3, -9, -11});
}

TEST_CASE("Gemm transB with alpha, beta and a broadcast C", "[codegen][exec][gemm]") {
  OnnxBuilder b;
  b.input("a", {2, 3}).output("y", {2, 4});
  b.initializer("b", {4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
  b.initializer("c", {4}, {1, 2, 3, 4});
  auto& n = b.node("Gemm", {"a", "b", "c"}, {"y"});
  OnnxBuilder::attr(n, "transB", std::int64_t{1});
  OnnxBuilder::attr(n, "alpha", 0.5f);
  OnnxBuilder::attr(n, "beta", 2.0f);
  const auto y = run(b, {Array::floats({2, 3}, {1, 2, 3, 4, 5, 6})})[0];
  REQUIRE(y.shape == Dims{2, 4});
  // A * B^T picks columns 0, 1, 2 and the row sum: [1 2 3 6], [4 5 6 15]; * 0.5 + 2 * c.
  check_close(y.f, {2.5, 5, 7.5, 11, 4, 6.5, 9, 15.5});
}

TEST_CASE("MatMul broadcasts batch dimensions and promotes 1-D operands", "[codegen][exec][gemm]") {
  OnnxBuilder b;
  b.input("a", {2, 1, 2, 3}).input("v", {3}).output("y", {2, 3, 2, 2}).output("z", {2, 1, 2});
  b.initializer("m", {3, 3, 2}, iota_f(18));
  b.node("MatMul", {"a", "m"}, {"y"});
  b.node("MatMul", {"a", "v"}, {"z"});
  const auto a = random_f(12, 7), v = std::vector<float>{1, -2, 0.5f}, m = iota_f(18);
  const auto out = run(b, {Array::floats({2, 1, 2, 3}, a), Array::floats({3}, v)});
  REQUIRE(out[0].shape == Dims{2, 3, 2, 2});
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          double s = 0;
          for (int k = 0; k < 3; ++k) s += double(a[(i * 2 + r) * 3 + k]) * m[(j * 3 + k) * 2 + c];
          want.push_back(s);
        }
  check_close(out[0].f, want);
  REQUIRE(out[1].shape == Dims{2, 1, 2});
  std::vector<double> want_v;
  for (int r = 0; r < 4; ++r) want_v.push_back(a[r * 3] * 1.0 - 2.0 * a[r * 3 + 1] + 0.5 * a[r * 3 + 2]);
  check_close(out[1].f, want_v);
}

TEST_CASE("Add/Sub/Mul/Div broadcast multidirectionally", "[codegen][exec][elementwise]") {
  OnnxBuilder b;
  b.input("a", {2, 3, 1}).input("b", {1, 4}).output("add", {2, 3, 4}).output("sub", {2, 3, 4})
      .output("mul", {2, 3, 4}).output("div", {2, 3, 4}).output("s", {2, 3, 1});
  b.initializer("k", {}, {2.0f});
  b.node("Add", {"a", "b"}, {"add"});
  b.node("Sub", {"a", "b"}, {"sub"});
  b.node("Mul", {"a", "b"}, {"mul"});
  b.node("Div", {"a", "b"}, {"div"});
  b.node("Mul", {"k", "a"}, {"s"});
  const auto a = iota_f(6), bv = std::vector<float>{1, 2, 4, 8};
  const auto out = run(b, {Array::floats({2, 3, 1}, a), Array::floats({1, 4}, bv)});
  for (const auto& o : {out[0], out[1], out[2], out[3]}) REQUIRE(o.shape == Dims{2, 3, 4});
  std::vector<double> add, sub, mul, div;
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 4; ++k) {
      add.push_back(a[i] + bv[k]);
      sub.push_back(a[i] - bv[k]);
      mul.push_back(a[i] * bv[k]);
      div.push_back(double(a[i]) / bv[k]);
    }
  check_close(out[0].f, add);
  check_close(out[1].f, sub);
  check_close(out[2].f, mul);
  check_close(out[3].f, div);
  REQUIRE(out[4].shape == Dims{2, 3, 1});
  check_close(out[4].f, {2, 4, 6, 8, 10, 12});
}

TEST_CASE("activations, Clip, Max/Min, BatchNormalization, Softmax", "[codegen][exec][elementwise]") {
  const Dims xs{1, 2, 1, 3};
  OnnxBuilder b;
  b.input("x", xs).output("relu", xs).output("leaky", xs).output("hsig", xs)
      .output("clip", xs).output("max", xs).output("min", xs).output("bn", xs).output("soft", xs).output("sig", xs);
  b.initializer("lo", {}, {-1.0f});
  b.initializer("hi", {}, {2.0f});
  b.initializer("c", {3}, {0.0f, 10.0f, -10.0f});
  b.initializer("scale", {2}, {2.0f, 0.5f});
  b.initializer("bias", {2}, {1.0f, 0.0f});
  b.initializer("mean", {2}, {1.0f, -1.0f});
  b.initializer("var", {2}, {3.0f, 0.0f});
  b.node("Relu", {"x"}, {"relu"});
  OnnxBuilder::attr(b.node("LeakyRelu", {"x"}, {"leaky"}), "alpha", 0.1f);
  b.node("HardSigmoid", {"x"}, {"hsig"});
  b.node("Clip", {"x", "lo", "hi"}, {"clip"});
  b.node("Max", {"x", "c"}, {"max"});
  b.node("Min", {"x", "c"}, {"min"});
  OnnxBuilder::attr(b.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"bn"}), "epsilon", 1.0f);
  OnnxBuilder::attr(b.node("Softmax", {"x"}, {"soft"}), "axis", std::int64_t{1});
  b.node("Sigmoid", {"x"}, {"sig"});
  const std::vector<float> x{-4, -0.5f, 1, 2, 3, 10};
  const auto o = run(b, {Array::floats({1, 2, 1, 3}, x)});
  check_close(o[0].f, {0, 0, 1, 2, 3, 10});
  check_close(o[1].f, {-0.4, -0.05, 1, 2, 3, 10});
  // HardSigmoid = clamp(0.2 x + 0.5, 0, 1).
  check_close(o[2].f, {0, 0.4, 0.7, 0.9, 1, 1});
  check_close(o[3].f, {-1, -0.5, 1, 2, 2, 2});
  check_close(o[4].f, {0, 10, 1, 2, 10, 10});
  check_close(o[5].f, {-4, -0.5, -10, 0, 3, -10});
  // Channel 0: (x - 1) / sqrt(3 + 1) * 2 + 1 = x; channel 1: (x + 1) / sqrt(0 + 1) * 0.5.
  check_close(o[6].f, {-4, -0.5, 1, 1.5, 2, 5.5});
  // Softmax over the channel axis: pairs (-4, 2), (-0.5, 3), (1, 10).
  auto sm = [](double a, double b) { return std::exp(a) / (std::exp(a) + std::exp(b)); };
  check_close(o[7].f, {sm(-4, 2), sm(-0.5, 3), sm(1, 10), sm(2, -4), sm(3, -0.5), sm(10, 1)});
  std::vector<double> sig;
  for (float v : x) sig.push_back(1.0 / (1.0 + std::exp(-double(v))));
  check_close(o[8].f, sig);
}

TEST_CASE("pools over everything: GlobalAveragePool, Flatten, Transpose, Concat", "[codegen][exec][shape]") {
  OnnxBuilder b;
  b.input("x", {1, 2, 2, 3}).output("gap", {1, 2, 1, 1}).output("flat", {2, 6}).output("tr", {1, 3, 2, 2})
      .output("cat", {1, 2, 2, 6});
  b.node("GlobalAveragePool", {"x"}, {"gap"});
  OnnxBuilder::attr(b.node("Flatten", {"x"}, {"flat"}), "axis", std::int64_t{2});
  OnnxBuilder::attr(b.node("Transpose", {"x"}, {"tr"}), "perm", Dims{0, 3, 1, 2});
  OnnxBuilder::attr(b.node("Concat", {"x", "x"}, {"cat"}), "axis", std::int64_t{-1});
  const auto x = iota_f(12);
  const auto o = run(b, {Array::floats({1, 2, 2, 3}, x)});
  CHECK(o[0].shape == Dims{1, 2, 1, 1});
  check_close(o[0].f, {3.5, 9.5});
  CHECK(o[1].shape == Dims{2, 6});
  check_close(o[1].f, std::vector<double>(x.begin(), x.end()));
  CHECK(o[2].shape == Dims{1, 3, 2, 2});
  // tr[0][w][c][h] = x[0][c][h][w]
  check_close(o[2].f, {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12});
  CHECK(o[3].shape == Dims{1, 2, 2, 6});
  check_close(o[3].f, {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 7, 8, 9, 7, 8, 9, 10, 11, 12, 10, 11, 12});
}

TEST_CASE("a Shape->Cast->Slice->Concat->Reshape chain runs on int64 (ppocr_cls style)", "[codegen][exec][shape]") {
  OnnxBuilder b;
  b.input("x", {1, 6, 1, 1}).output("y", {-1, -1}).output("rev", {-1, -1});
  b.initializer_i64("starts", {1}, {0});
  b.initializer_i64("ends", {1}, {1});
  b.initializer_i64("minus1", {1}, {-1});
  b.initializer_i64("rs", {1}, {-1});
  b.initializer_i64("re", {1}, {-100});
  b.initializer_i64("ax", {1}, {1});
  b.initializer_i64("st", {1}, {-2});
  b.node("Shape", {"x"}, {"s"});
  OnnxBuilder::attr(b.node("Cast", {"s"}, {"sf"}), "to", std::int64_t{onnx::TensorProto::FLOAT});
  OnnxBuilder::attr(b.node("Cast", {"sf"}, {"si"}), "to", std::int64_t{onnx::TensorProto::INT64});
  b.node("Slice", {"si", "starts", "ends"}, {"batch"});
  OnnxBuilder::attr(b.node("Concat", {"batch", "minus1"}, {"shape"}), "axis", std::int64_t{0});
  b.node("Reshape", {"x", "shape"}, {"y"});
  // Negative step: from the last element backwards, every second one, axis 1 of y.
  b.node("Slice", {"y", "rs", "re", "ax", "st"}, {"rev"});
  const auto o = run(b, {Array::floats({1, 6, 1, 1}, iota_f(6))});
  CHECK(o[0].shape == Dims{1, 6});
  check_close(o[0].f, {1, 2, 3, 4, 5, 6});
  CHECK(o[1].shape == Dims{1, 3});
  check_close(o[1].f, {6, 4, 2});
}

TEST_CASE("Squeeze, Unsqueeze, Gather, Identity, Dropout", "[codegen][exec][shape]") {
  OnnxBuilder b;
  b.input("x", {1, 3, 1, 2}).output("sq", {1, 3, 2}).output("unsq", {1, 1, 3, 1, 2, 1}).output("g", {1, 2, 1, 2})
      .output("id", {1, 3, 1, 2}).output("dr", {1, 3, 1, 2});
  b.initializer_i64("axes", {1}, {2});
  b.initializer_i64("uaxes", {2}, {0, -1});
  b.initializer_i64("idx", {2}, {-1, 0});
  b.node("Squeeze", {"x", "axes"}, {"sq"});
  b.node("Unsqueeze", {"x", "uaxes"}, {"unsq"});
  OnnxBuilder::attr(b.node("Gather", {"x", "idx"}, {"g"}), "axis", std::int64_t{1});
  b.node("Identity", {"x"}, {"id"});
  b.node("Dropout", {"x"}, {"dr"});
  const auto x = iota_f(6);
  const auto o = run(b, {Array::floats({1, 3, 1, 2}, x)});
  CHECK(o[0].shape == Dims{1, 3, 2});
  CHECK(o[1].shape == Dims{1, 1, 3, 1, 2, 1});
  CHECK(o[2].shape == Dims{1, 2, 1, 2});
  check_close(o[2].f, {5, 6, 1, 2});
  check_close(o[3].f, std::vector<double>(x.begin(), x.end()));
  check_close(o[4].f, std::vector<double>(x.begin(), x.end()));
}

TEST_CASE("HardSwish (opset 14) = x * clamp(x / 6 + 0.5, 0, 1)", "[codegen][exec][elementwise]") {
  OnnxBuilder b(/*opset=*/14);
  b.input("x", {5}).output("y", {5});
  b.node("HardSwish", {"x"}, {"y"});
  const auto y = run(b, {Array::floats({5}, {-4, -0.5f, 1, 2, 3})})[0];
  check_close(y.f, {0, -0.5 * (2.5 / 6), 1 * (4.0 / 6), 2 * (5.0 / 6), 3});
}
