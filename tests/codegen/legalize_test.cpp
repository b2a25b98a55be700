// Hardware legalization (codegen/legalize): each rewrite on a small graph built here (where the
// weights land, the pads, the outputs against the float executor on the original graph), and
// mapping completeness of the shared models on akida-v2 / akida-v1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "codegen/exec/float_executor.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/legalize/float_check.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/lower/lower.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "onnx_builder.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

using namespace statiq;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
namespace fs = std::filesystem;

namespace {

const fs::path models = fs::path(STATIQ_SHARED_DIR) / "models";

std::vector<float> random_values(std::size_t n, unsigned seed, float scale = 1.0f, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A Conv with random weights and bias; kernel kh x kw, the given strides and pads [t, l, b, r].
void add_conv(OnnxBuilder& b, const std::string& name, const std::string& in, const std::string& out, int ci, int co,
              int kh, int kw, int stride, std::vector<std::int64_t> pads, unsigned seed, int group = 1) {
  b.initializer(name + "_w", {co, ci / group, kh, kw}, random_values(std::size_t(co * (ci / group) * kh * kw), seed, 0.5f));
  b.initializer(name + "_b", {co}, random_values(std::size_t(co), seed + 1, 0.5f));
  auto& n = b.node("Conv", {in, name + "_w", name + "_b"}, {out}, name);
  OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{kh, kw});
  OnnxBuilder::attr(n, "strides", std::vector<std::int64_t>{stride, stride});
  OnnxBuilder::attr(n, "pads", pads);
  if (group > 1) OnnxBuilder::attr(n, "group", std::int64_t{group});
}

ir::Graph finish(OnnxBuilder& b, const char* name) {
  ir::Graph g = import_onnx(b.model, ".", name);
  normalize::normalize(g);
  return g;
}

std::vector<exec::Array> samples_for(const ir::Graph& g, int count, unsigned seed, float mean = 0.0f) {
  std::vector<exec::Array> xs;
  const ir::Dims shape = *g.tensor(g.inputs[0]).shape;
  for (int i = 0; i < count; ++i)
    xs.push_back(exec::Array::floats(shape, random_values(std::size_t(ir::element_count(shape)), seed + unsigned(i), 1.0f, mean)));
  return xs;
}

// Non-negative samples (|x|): an image-like input, so that no input-normalisation fold applies.
std::vector<exec::Array> image_samples(const ir::Graph& g, int count, unsigned seed) {
  std::vector<exec::Array> xs = samples_for(g, count, seed);
  for (auto& x : xs)
    for (float& v : x.f) v = std::abs(v);
  return xs;
}

std::vector<float> run(const ir::Graph& g, const exec::Array& x) { return exec::FloatExecutor(g).run({x}).outputs[0].f; }

// max |a - b| <= 1e-5 * max |a| (float rounding of reordered sums), same sizes.
void require_same_outputs(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double peak = 0, diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    peak = std::max(peak, std::abs(double(a[i])));
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
  }
  CHECK(diff <= 1e-5 * peak);
}

const ir::Node& node(const ir::Graph& g, const std::string& name) {
  const ir::Node* n = g.find_node(name);
  REQUIRE(n);
  return *n;
}

const ir::Tensor& weights(const ir::Graph& g, const std::string& conv) { return g.tensor(node(g, conv).inputs[1]); }

// x [1,3,s,s] -> Conv3x3 s1 same (the input layer) -> t -> Relu -> r -> Conv 1x1 stride 2 "down" -> y
ir::Graph shortcut_graph(int size) {
  OnnxBuilder b;
  const int out = (size - 1) / 2 + 1;
  b.input("x", {1, 3, size, size}).output("y", {1, 5, out, out});
  add_conv(b, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 1);
  b.node("Relu", {"t"}, {"r"}, "relu");
  add_conv(b, "down", "r", "y", 4, 5, 1, 1, 2, {0, 0, 0, 0}, 7);
  return finish(b, "shortcut.onnx");
}

}  // namespace

TEST_CASE("1x1 stride-2 becomes 3x3 stride-2 at the tap reading the same pixel", "[legalize]") {
  const TargetInfo& v2 = find_target("akida-v2");
  for (const int size : {8, 7}) {
    INFO("input " << size << "x" << size);
    const ir::Graph original = shortcut_graph(size);
    ir::Graph g = original;
    const auto xs = image_samples(original, 2, 40);
    const legalize::LegalizeResult r = legalize::legalize(g, v2, xs);
    // Even size: "same" pads (0, 1), the leading corner reads pixel 2i; odd: (1, 1), the centre.
    const int tap = size % 2 == 0 ? 0 : 1;
    const std::vector<std::int64_t> pads = size % 2 == 0 ? std::vector<std::int64_t>{0, 0, 1, 1}
                                                         : std::vector<std::int64_t>{1, 1, 1, 1};
    const ir::Node& down = node(g, "down");
    CHECK(down.attr_ints("kernel_shape", {}) == std::vector<std::int64_t>{3, 3});
    CHECK(down.attr_ints("pads", {}) == pads);
    CHECK(down.attr_ints("strides", {}) == std::vector<std::int64_t>{2, 2});
    const ir::Tensor& w3 = weights(g, "down");
    const ir::Tensor& w1 = weights(original, "down");
    REQUIRE(*w3.shape == ir::Dims{5, 4, 3, 3});
    for (int o = 0; o < 5; ++o)
      for (int c = 0; c < 4; ++c)
        for (int y = 0; y < 3; ++y)
          for (int x = 0; x < 3; ++x) {
            const float expected = y == tap && x == tap ? w1.float_data[std::size_t(o * 4 + c)] : 0.0f;
            REQUIRE(w3.float_data[std::size_t(((o * 4 + c) * 3 + y) * 3 + x)] == expected);
          }
    REQUIRE(r.rewrites.size() == 1);
    CHECK(r.rewrites[0].nodes == std::vector<std::string>{"down"});
    CHECK(r.rewrites[0].rule == "stride_2_only_with_3x3_kernels");
    CHECK(r.rewrites[0].exact);
    REQUIRE(r.rewrites[0].max_abs_diff);
    CHECK(r.rewrites[0].within_tolerance);
    for (const exec::Array& x : xs) require_same_outputs(run(original, x), run(g, x));
    // The rule the lowering checks is satisfied: everything maps.
    LowerOptions lo;
    CHECK(lower(g, v2, lo).unmapped.empty());
    CHECK_THROWS_AS(lower(original, v2, lo), UnmappedError);
  }
}

TEST_CASE("a kernel no layer has is zero-padded with the taps where the pads read the same pixels", "[legalize]") {
  // Inner Conv 3x1, pads [1, 0, 1, 0] (same size): as 3x3 "same" [1, 1, 1, 1] the column sits in the centre.
  OnnxBuilder b;
  b.input("x", {1, 3, 6, 6}).output("y", {1, 2, 6, 6});
  add_conv(b, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 3);
  b.node("Relu", {"t"}, {"r"}, "relu");
  add_conv(b, "tall", "r", "y", 4, 2, 3, 1, 1, {1, 0, 1, 0}, 9);
  const ir::Graph original = finish(b, "tall.onnx");
  ir::Graph g = original;
  const auto xs = image_samples(original, 2, 50);
  const legalize::LegalizeResult r = legalize::legalize(g, find_target("akida-v2"), xs);
  REQUIRE(r.rewrites.size() == 1);
  CHECK(r.rewrites[0].rule == "kernel_size_not_supported");
  CHECK(node(g, "tall").attr_ints("pads", {}) == std::vector<std::int64_t>{1, 1, 1, 1});
  const ir::Tensor& w = weights(g, "tall");
  const ir::Tensor& w0 = weights(original, "tall");
  REQUIRE(*w.shape == ir::Dims{2, 4, 3, 3});
  for (int f = 0; f < 8; ++f)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        REQUIRE(w.float_data[std::size_t((f * 3 + y) * 3 + x)] == (x == 1 ? w0.float_data[std::size_t(f * 3 + y)] : 0.0f));
  for (const exec::Array& x : xs) require_same_outputs(run(original, x), run(g, x));

  // 2x2 with pads [0, 0, 1, 1]: in a 3x3 "same" kernel the taps sit at rows/columns 1..2.
  OnnxBuilder b2;
  b2.input("x", {1, 3, 6, 6}).output("y", {1, 2, 6, 6});
  add_conv(b2, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 3);
  b2.node("Relu", {"t"}, {"r"}, "relu");
  add_conv(b2, "small", "r", "y", 4, 2, 2, 2, 1, {0, 0, 1, 1}, 19);
  const ir::Graph original2 = finish(b2, "small.onnx");
  ir::Graph g2 = original2;
  legalize::legalize(g2, find_target("akida-v2"), xs);
  const ir::Tensor& s = weights(g2, "small");
  const ir::Tensor& s0 = weights(original2, "small");
  for (int f = 0; f < 8; ++f)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        REQUIRE(s.float_data[std::size_t((f * 3 + y) * 3 + x)] ==
                (y >= 1 && x >= 1 ? s0.float_data[std::size_t((f * 2 + y - 1) * 2 + x - 1)] : 0.0f));
  for (const exec::Array& x : xs) require_same_outputs(run(original2, x), run(g2, x));
}

TEST_CASE("an inner stride-2 conv with symmetric pads: stride 1 then identity subsampling (exact), or the shift",
          "[legalize]") {
  // 8x8: "same" for 3x3 stride 2 is [0, 0, 1, 1]; the model has [1, 1, 1, 1] (PyTorch's padding=1).
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 6, 4, 4});
  add_conv(b, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 5);
  b.node("Relu", {"t"}, {"r"}, "relu");
  add_conv(b, "s2", "r", "u", 4, 6, 3, 3, 2, {1, 1, 1, 1}, 6);
  b.node("Relu", {"u"}, {"y"}, "relu2");
  const ir::Graph original = finish(b, "s2.onnx");
  const auto xs = image_samples(original, 3, 60);
  const TargetInfo& v2 = find_target("akida-v2");

  ir::Graph g = original;
  const legalize::LegalizeResult r = legalize::legalize(g, v2, xs);
  CHECK(node(g, "s2").attr_ints("strides", {}) == std::vector<std::int64_t>{1, 1});
  CHECK(node(g, "s2").attr_ints("pads", {}) == std::vector<std::int64_t>{1, 1, 1, 1});
  // The subsampling conv reads the activation (the ReLU stays fused into s2) and keeps pixel 2i:
  // as a 3x3 "same" stride-2 kernel on an even map, the leading corner.
  const ir::Node& sub = node(g, "s2/subsample");
  CHECK(sub.inputs[0] == node(g, "relu2").outputs[0]);
  CHECK(sub.outputs[0] == "y");
  CHECK(sub.attr_ints("kernel_shape", {}) == std::vector<std::int64_t>{3, 3});
  CHECK(sub.attr_ints("pads", {}) == std::vector<std::int64_t>{0, 0, 1, 1});
  const ir::Tensor& e = weights(g, "s2/subsample");
  for (int o = 0; o < 6; ++o)
    for (int c = 0; c < 6; ++c)
      for (int k = 0; k < 9; ++k) REQUIRE(e.float_data[std::size_t((o * 6 + c) * 9 + k)] == (o == c && k == 0 ? 1.0f : 0.0f));
  REQUIRE(r.rewrites.size() == 2);
  CHECK(r.rewrites[0].nodes == std::vector<std::string>{"s2", "s2/subsample"});
  CHECK(r.rewrites[0].exact);
  CHECK(r.rewrites[1].nodes == std::vector<std::string>{"s2/subsample"});
  for (const exec::Array& x : xs) require_same_outputs(run(original, x), run(g, x));
  LowerOptions lo;
  CHECK(lower(g, v2, lo).unmapped.empty());

  // The documented approximation: "same" pads, the grid moves one pixel; reported, not exact.
  ir::Graph a = original;
  legalize::LegalizeOptions approx;
  approx.approximate_pads = true;
  const legalize::LegalizeResult ra = legalize::legalize(a, v2, xs, approx);
  CHECK(node(a, "s2").attr_ints("pads", {}) == std::vector<std::int64_t>{0, 0, 1, 1});
  REQUIRE(ra.rewrites.size() == 1);
  CHECK_FALSE(ra.rewrites[0].exact);
  REQUIRE(ra.rewrites[0].max_abs_diff);
  // Independently: the outputs really differ by what the report says.
  double diff = 0;
  for (const exec::Array& x : xs) {
    const auto y0 = run(original, x), y1 = run(a, x);
    for (std::size_t i = 0; i < y0.size(); ++i) diff = std::max(diff, std::abs(double(y0[i]) - double(y1[i])));
  }
  CHECK(diff > 0);
  // Bit for bit: the check's runs are whole-graph float executor runs.
  CHECK(*ra.rewrites[0].max_abs_diff == diff);
  CHECK(lower(a, v2, lo).unmapped.empty());
}

TEST_CASE("input layer pads: pre-padding of the image (exact) and the input normalisation folded", "[legalize]") {
  // 8x8, 3x3 stride 2 pads [1, 1, 1, 1]: Akida's input layer wants "same" [0, 0, 1, 1] or valid.
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 4, 4});
  add_conv(b, "in", "x", "t", 3, 4, 3, 3, 2, {1, 1, 1, 1}, 21);
  b.node("Relu", {"t"}, {"y"}, "relu");
  const ir::Graph original = finish(b, "prepad.onnx");
  const TargetInfo& v2 = find_target("akida-v2");

  SECTION("non-negative input: zeros around the image, the conv valid") {
    const auto xs = image_samples(original, 2, 70);
    for (const auto& x : xs) REQUIRE(*std::min_element(x.f.begin(), x.f.end()) >= 0.0f);
    ir::Graph g = original;
    const legalize::LegalizeResult r = legalize::legalize(g, v2, xs);
    CHECK(r.input_padding.top == 1);
    CHECK(r.input_padding.left == 1);
    CHECK(r.input_padding.bottom == 1);
    CHECK(r.input_padding.right == 1);
    CHECK(*g.tensor("x").shape == ir::Dims{1, 3, 10, 10});
    CHECK(node(g, "in").attr_ints("pads", {}) == std::vector<std::int64_t>{0, 0, 0, 0});
    const exec::Array p = legalize::legalized_input(xs[0], r);
    REQUIRE(p.shape == ir::Dims{1, 3, 10, 10});
    CHECK(p.f[0] == 0.0f);                                   // corner: padding
    CHECK(p.f[std::size_t(1 * 10 + 1)] == xs[0].f[0]);       // x[0,0,0,0] moved by (1, 1)
    CHECK(p.f[std::size_t(100 + 8 * 10 + 8)] == xs[0].f[std::size_t(64 + 7 * 8 + 7)]);  // channel 1, last pixel
    CHECK(p.f[std::size_t(100 + 9 * 10 + 9)] == 0.0f);
    for (const auto& x : xs) require_same_outputs(run(original, x), run(g, legalize::legalized_input(x, r)));
    LowerOptions lo;
    CHECK(lower(g, v2, lo).unmapped.empty());
  }
  SECTION("ImageNet-normalised input: pixels in, the padding value is the mean pixel") {
    auto xs = samples_for(original, 2, 80);
    ir::Graph g = original;
    legalize::LegalizeOptions o;
    o.input_pixels = "imagenet";
    const legalize::LegalizeResult r = legalize::legalize(g, v2, xs, o);
    const double mean[3] = {0.485, 0.456, 0.406}, stdev[3] = {0.229, 0.224, 0.225};
    const exec::Array p = legalize::legalized_input(xs[0], r);
    for (int c = 0; c < 3; ++c) {
      // padding stands for x = 0: pixel 255 * mean_c; inside, p = 255 * (x * std_c + mean_c)
      CHECK(p.f[std::size_t(c * 100)] == Approx(255 * mean[c]).epsilon(1e-5));
      CHECK(p.f[std::size_t(c * 100 + 11)] == Approx(255 * (xs[0].f[std::size_t(c * 64)] * stdev[c] + mean[c])).epsilon(1e-5));
    }
    bool folded = false;
    for (const auto& w : r.rewrites) folded = folded || (w.rule == "input_must_be_unsigned_8_bit" && w.exact);
    CHECK(folded);
    for (const auto& x : xs) require_same_outputs(run(original, x), run(g, legalize::legalized_input(x, r)));
  }
}

TEST_CASE("Akida 1.0: no depthwise -> full rewrite that makes the layer larger without making it fit",
          "[legalize]") {
  // A dilated depthwise: as a full convolution it would still break dilation_not_supported.
  OnnxBuilder b;
  b.input("x", {1, 3, 12, 12}).output("y", {1, 4, 12, 12});
  add_conv(b, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 31);
  b.node("Relu", {"t"}, {"r"}, "relu");
  b.initializer("dw_w", {4, 1, 3, 3}, random_values(36, 33, 0.5f)).initializer("dw_b", {4}, random_values(4, 34, 0.5f));
  auto& dw = b.node("Conv", {"r", "dw_w", "dw_b"}, {"d"}, "dw");
  OnnxBuilder::attr(dw, "kernel_shape", std::vector<std::int64_t>{3, 3});
  OnnxBuilder::attr(dw, "pads", std::vector<std::int64_t>{2, 2, 2, 2});
  OnnxBuilder::attr(dw, "dilations", std::vector<std::int64_t>{2, 2});
  OnnxBuilder::attr(dw, "group", std::int64_t{4});
  b.node("Relu", {"d"}, {"y"}, "relu_dw");
  const ir::Graph original = finish(b, "dilated_dw.onnx");
  ir::Graph g = original;
  const legalize::LegalizeResult r = legalize::legalize(g, find_target("akida-v1"), image_samples(original, 2, 91));
  for (const auto& rw : r.rewrites) CHECK(rw.rule != "depthwise_is_fused_with_pointwise_on_akida_v1");
  CHECK(*weights(g, "dw").shape == ir::Dims{4, 1, 3, 3});  // untouched
  bool said = false;
  for (const std::string& n : r.notes)
    said = said || (n.find("node 'dw'") != std::string::npos && n.find("dilation") != std::string::npos &&
                    n.find("not rewritten") != std::string::npos);
  INFO(r.to_text());
  CHECK(said);
}

TEST_CASE("Akida 1.0: depthwise as a diagonal full conv; GAP after ReLU as its own identity conv", "[legalize]") {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 1, 1});
  add_conv(b, "first", "x", "t", 3, 4, 3, 3, 1, {1, 1, 1, 1}, 31);
  b.node("Relu", {"t"}, {"r"}, "relu");
  add_conv(b, "dw", "r", "d", 4, 4, 3, 3, 1, {1, 1, 1, 1}, 33, 4);
  b.node("Relu", {"d"}, {"dr"}, "relu_dw");
  add_conv(b, "pw", "dr", "q", 4, 4, 1, 1, 1, {0, 0, 0, 0}, 35);
  b.node("Relu", {"q"}, {"qr"}, "relu_pw");
  b.node("GlobalAveragePool", {"qr"}, {"y"}, "gap");
  const ir::Graph original = finish(b, "dw.onnx");
  REQUIRE(normalize::is_tagged_depthwise(node(original, "dw")));
  const auto xs = image_samples(original, 2, 90);
  const TargetInfo& v1 = find_target("akida-v1");

  ir::Graph g = original;
  const legalize::LegalizeResult r = legalize::legalize(g, v1, xs);
  const ir::Node& dw = node(g, "dw");
  CHECK(dw.attr_int("group", 1) == 1);
  CHECK_FALSE(normalize::is_tagged_depthwise(dw));
  const ir::Tensor& w = weights(g, "dw");
  const ir::Tensor& w0 = weights(original, "dw");
  REQUIRE(*w.shape == ir::Dims{4, 4, 3, 3});
  for (int o = 0; o < 4; ++o)
    for (int c = 0; c < 4; ++c)
      for (int k = 0; k < 9; ++k)
        REQUIRE(w.float_data[std::size_t((o * 4 + c) * 9 + k)] == (o == c ? w0.float_data[std::size_t(o * 9 + k)] : 0.0f));
  for (const exec::Array& x : xs) require_same_outputs(run(original, x), run(g, x));
  // The GAP: reported on its node, carried by the identity-conv custom patterns at lowering.
  bool gap = false;
  for (const auto& rw : r.rewrites) gap = gap || (rw.nodes == std::vector<std::string>{"gap"} && rw.max_abs_diff && rw.within_tolerance);
  CHECK(gap);
  REQUIRE_FALSE(r.custom_patterns.empty());
  LowerOptions lo;
  lo.custom_patterns = r.custom_patterns;
  const LoweredModel m = lower(g, v1, lo);
  CHECK(m.unmapped.empty());
  bool identity_gap = false;
  for (const Layer& l : m.layers)
    if (l.onnx_nodes == std::vector<std::string>{"gap"}) {
      const auto& a = std::get<ConvAttributes>(l.attributes);
      identity_gap = a.pool.kind == PoolKind::global_average && a.activation.kind == ActivationKind::none &&
                     a.kernel == Kernel{1, 1} && l.weights[0] == 1.0f && l.weights[1] == 0.0f;
    }
  CHECK(identity_gap);

  // On 2.0 the same graph needs nothing: depthwise and Conv -> Relu -> GAP are native.
  ir::Graph g2 = original;
  const legalize::LegalizeResult r2 = legalize::legalize(g2, find_target("akida-v2"), xs);
  CHECK(r2.rewrites.empty());
  CHECK(r2.custom_patterns.empty());
}

TEST_CASE("check: per node, the layer or the rule broken and the rewrite fixing it", "[legalize]") {
  const ir::Graph g = shortcut_graph(8);
  const auto nodes = legalize::check_compatibility(g, find_target("akida-v2"));
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[0].node == "first");
  CHECK(nodes[0].maps);
  CHECK(nodes[0].layer_kind == "InputConv2D");
  CHECK(nodes[1].maps);  // the ReLU, fused into the first layer
  CHECK(nodes[1].layer == "first");
  CHECK_FALSE(nodes[2].maps);
  CHECK(nodes[2].rule.find("stride_2_only_with_3x3_kernels") != std::string::npos);
  CHECK(nodes[2].fix.find("3x3") != std::string::npos);
  CHECK(nodes[2].maps_after_fix);
  const std::string text = legalize::compatibility_text(nodes, find_target("akida-v2"));
  CHECK(text.find("2 node(s) map as they are, 1 after --legalize, 0 stay on the host, 0 refused") != std::string::npos);
}

TEST_CASE("a 2-D input (a dense autoencoder [1, 16]): check and --legalize work on every target", "[legalize]") {
  OnnxBuilder b;
  b.input("x", {1, 16}).output("y", {1, 16});
  b.initializer("w1", {8, 16}, random_values(128, 7, 0.5f)).initializer("b1", {8}, random_values(8, 8, 0.5f));
  b.initializer("w2", {16, 8}, random_values(128, 9, 0.5f)).initializer("b2", {16}, random_values(16, 10, 0.5f));
  OnnxBuilder::attr(b.node("Gemm", {"x", "w1", "b1"}, {"h"}, "encode"), "transB", std::int64_t{1});
  b.node("Relu", {"h"}, {"hr"}, "relu");
  OnnxBuilder::attr(b.node("Gemm", {"hr", "w2", "b2"}, {"y"}, "decode"), "transB", std::int64_t{1});
  const ir::Graph g = finish(b, "autoencoder.onnx");
  for (const char* target : {"cpu-int8", "akida-v2", "akida-v1", "tflite-int8", "gemmini"}) {
    INFO(target);
    const auto nodes = legalize::check_compatibility(g, find_target(target));
    REQUIRE(nodes.size() == 3);
    CHECK(nodes[0].node == "encode");
    CHECK(nodes[0].layer_kind == "Dense");
    CHECK(nodes[2].layer_kind == "Dense");
    ir::Graph copy = g;
    const std::vector<exec::Array> xs = samples_for(g, 4, 3);
    const legalize::LegalizeResult r = legalize::legalize(copy, find_target(target), xs, legalize::LegalizeOptions{});
    CHECK(!r.input_padding.any());
    for (const exec::Array& x : xs) require_same_outputs(run(g, x), run(copy, x));
  }
  CHECK(legalize::check_compatibility(g, find_target("cpu-int8"))[0].maps);
}

// Real models: generate() with legalization on akida-v2: every node in a device layer, only the
// final Softmax float; each rewrite within float rounding. The exception is tv_resnet's stem MaxPool
// (3x3 stride 2, ONNX pads [1, 1, 1, 1] on a 112x112 map): Akida pools "same" as [0, 0, 1, 1], every
// window one pixel away, and no exact rewrite exists, so it runs alone on the host (in akida_v2's
// arithmetic) and its convolution stays on the device.
TEST_CASE("FloatCheck: every version's outputs are the bits of a whole-graph float executor run", "[legalize]") {
  // x -> first (3x3) -> relu -> down (1x1 s2) -> y; versions that change the end, the input map
  // (pre-padding: the first conv then "valid"), a node in the middle (an identity conv whose
  // weights only that version has), and back to the start: every cached value a version may not
  // reuse must be recomputed.
  const ir::Graph original = shortcut_graph(8);
  ir::Graph all = original;  // every version's shared initializers
  all.tensors["down_w2"] = all.tensor(node(all, "down").inputs[1]);
  all.tensors["down_w2"].name = "down_w2";
  for (float& w : all.tensors["down_w2"].float_data) w *= 1.5f;

  ir::Graph v1 = original;  // other weights at the end
  for (ir::Node& n : v1.nodes)
    if (n.name == "down") n.inputs[1] = "down_w2";
  v1.tensors["down_w2"] = all.tensors["down_w2"];
  ir::Graph v2 = v1;  // the input pre-padded, the first conv "valid": the same numbers, other ops
  legalize::FloatCheck::InputMap padded{.padding = {1, 1, 1, 1}, .scale = {}, .offset = {}};
  (*v2.tensor("x").shape)[2] = (*v2.tensor("x").shape)[3] = 10;
  for (ir::Node& n : v2.nodes)
    if (n.name == "first") n.attributes["pads"] = std::vector<std::int64_t>{0, 0, 0, 0};
  ir::Graph v3 = v2;  // an identity 1x1 conv between relu and down, with a bias of 0.25
  for (ir::Node& n : v3.nodes)
    if (n.name == "down") n.inputs[0] = "r2";
  ir::Node eye;
  eye.name = "eye";
  eye.op_type = "Conv";
  eye.inputs = {"r", "eye_w", "eye_b"};
  eye.outputs = {"r2"};
  eye.attributes["kernel_shape"] = std::vector<std::int64_t>{1, 1};
  const auto down = std::find_if(v3.nodes.begin(), v3.nodes.end(), [](const ir::Node& n) { return n.name == "down"; });
  REQUIRE(down != v3.nodes.end());
  v3.nodes.insert(down, eye);
  std::vector<float> identity(16, 0.0f);
  for (int c = 0; c < 4; ++c) identity[std::size_t(c * 5)] = 1.0f;
  std::map<std::string, exec::Array> extra{{"eye_w", exec::Array::floats({4, 4, 1, 1}, identity)},
                                           {"eye_b", exec::Array::floats({4}, std::vector<float>(4, 0.25f))}};
  ir::Tensor r2 = v3.tensor("r");
  r2.name = "r2";
  v3.tensors["r2"] = r2;
  for (const auto& [name, a] : extra) {
    ir::Tensor t;
    t.name = name;
    t.dtype = ir::DataType::float32;
    t.shape = a.shape;
    t.is_initializer = true;
    t.float_data = a.f;
    v3.tensors[name] = t;
  }

  legalize::FloatCheck check;
  const std::vector<std::pair<const ir::Graph*, legalize::FloatCheck::InputMap>> versions = {
      {&original, {}}, {&v1, {}}, {&v2, padded}, {&v3, padded}, {&v1, {}}, {&original, {}}};
  for (const auto& [g, map] : versions) check.add(*g, map, g == &v3 ? extra : std::map<std::string, exec::Array>{});
  const auto xs = samples_for(original, 3, 90);
  const auto outputs = check.run(all, xs);
  REQUIRE(outputs.size() == versions.size());
  for (std::size_t v = 0; v < versions.size(); ++v) {
    INFO("version " << v);
    legalize::LegalizeResult map;
    map.input_padding = versions[v].second.padding;
    REQUIRE(outputs[v].size() == xs.size());
    for (std::size_t s = 0; s < xs.size(); ++s) {
      const std::vector<float> whole = run(*versions[v].first, legalize::legalized_input(xs[s], map));
      REQUIRE(outputs[v][s].size() == whole.size());
      CHECK(std::memcmp(outputs[v][s].data(), whole.data(), whole.size() * sizeof(float)) == 0);
    }
  }
  // The versions really differ where they should: new weights change y, the bias of 0.25 too.
  CHECK(outputs[1][0] != outputs[0][0]);
  CHECK(outputs[3][0] != outputs[2][0]);
  CHECK(std::memcmp(outputs[5][0].data(), outputs[0][0].data(), outputs[0][0].size() * sizeof(float)) == 0);
  // run() lends the initializers and gives them back.
  CHECK(all.tensor("down_w2").float_data.size() == 20);
  CHECK(all.tensor(node(all, "first").inputs[1]).float_data.size() == 4 * 3 * 9);
}

TEST_CASE("mlperf_resnet8, mlperf_vww, tv_resnet_bb1111_random map onto akida-v2 (tv_resnet's stem pool on the host)",
          "[legalize][models]") {
  for (const char* name : {"mlperf_resnet8", "mlperf_vww", "tv_resnet_bb1111_random"}) {
    INFO(name);
    const statiq::test::ScratchDir out(std::string("statiq_legalize_") + name);
    GenerateOptions o;
    o.output_dir = out.path;
    o.golden = 2;
    o.model = models / name / "model.onnx";
    o.calib = models / name / "inputs.npy";
    o.target = "akida-v2";
    o.legalize = legalize::LegalizeOptions{};
    if (std::string(name) == "tv_resnet_bb1111_random") o.legalize->input_pixels = "imagenet";
    const GenerateResult r = generate(o);
    const bool resnet = std::string(name) == "tv_resnet_bb1111_random";
    CHECK(r.model.unmapped.size() == (resnet ? 1u : 0u));
    for (const Layer& l : r.model.layers) {
      const bool stem_pool = resnet && l.kind == statiq::LayerKind::max_pool;
      INFO(l.name);
      CHECK(l.placement == (stem_pool ? Placement::host : Placement::device));
      if (stem_pool) CHECK(node(load_onnx(o.model), l.name).op_type == "MaxPool");
    }
    REQUIRE(r.model.float_tail.size() <= 1);
    for (const std::string& f : r.model.float_tail) CHECK(node(load_onnx(o.model), f).op_type == "Softmax");
    REQUIRE(r.legalization);
    CHECK(r.legalization->remaining.empty());
    for (const auto& w : r.legalization->rewrites) {
      CHECK(w.exact);
      CHECK(w.within_tolerance);
    }
    if (resnet) {
      // The rewrites and their order, as the generator before FloatCheck (one whole-graph float
      // run per rewrite) reported them.
      const std::vector<std::pair<std::string, std::string>> expected = {
          {"/conv1/Conv", "expects_pads"},
          {"/layer2/layer2.0/conv1/Conv", "expects_pads"},
          {"/layer3/layer3.0/conv1/Conv", "expects_pads"},
          {"/layer4/layer4.0/conv1/Conv", "expects_pads"},
          {"/conv1/Conv", "input_must_be_unsigned_8_bit"},
          {"/layer2/layer2.0/conv1/Conv/subsample", "stride_2_only_with_3x3_kernels"},
          {"/layer2/layer2.0/downsample/downsample.0/Conv", "stride_2_only_with_3x3_kernels"},
          {"/layer3/layer3.0/conv1/Conv/subsample", "stride_2_only_with_3x3_kernels"},
          {"/layer3/layer3.0/downsample/downsample.0/Conv", "stride_2_only_with_3x3_kernels"},
          {"/layer4/layer4.0/conv1/Conv/subsample", "stride_2_only_with_3x3_kernels"},
          {"/layer4/layer4.0/downsample/downsample.0/Conv", "stride_2_only_with_3x3_kernels"},
          {"/avgpool/GlobalAveragePool", "pattern_not_in_target_table"}};
      REQUIRE(r.legalization->rewrites.size() == expected.size());
      for (std::size_t k = 0; k < expected.size(); ++k) {
        CHECK(r.legalization->rewrites[k].nodes.at(0) == expected[k].first);
        CHECK(r.legalization->rewrites[k].rule == expected[k].second);
        CHECK(r.legalization->rewrites[k].max_abs_diff);
      }
      // Rewrites whose float outputs are bit-identical to the graph before them report 0 (the
      // pre-padding: the same sums; the GAP's identity conv: x * 1 + zeros).
      CHECK(*r.legalization->rewrites[0].max_abs_diff == 0);
      CHECK(*r.legalization->rewrites[11].max_abs_diff == 0);
    }
    REQUIRE(r.top1_agreement);
    REQUIRE(r.mean_cosine);
    CHECK(*r.mean_cosine > 0.9);
    // The fully mapped engine compiles against the akida_v2 rules and reproduces its golden vectors.
    CHECK(statiq::test::compile_and_self_test(out.path, r.model.name, "-ffp-contract=off") == "");
  }
}

TEST_CASE("mlperf_kws on akida-v2: the 10x4 input layer is named and runs on the host, the rest maps",
          "[legalize][models]") {
  const statiq::test::ScratchDir out("statiq_legalize_kws");
  GenerateOptions o;
  o.model = models / "mlperf_kws" / "model.onnx";
  o.calib = models / "mlperf_kws" / "inputs.npy";
  o.target = "akida-v2";
  o.output_dir = out.path;
  o.golden = 2;
  o.legalize = legalize::LegalizeOptions{};
  o.legalize->approximate_average = true;
  const GenerateResult r = generate(o);
  CHECK(statiq::test::compile_and_self_test(out.path, r.model.name, "-ffp-contract=off") == "");  // the host layer included
  REQUIRE(r.model.unmapped.size() == 1);
  CHECK(r.model.unmapped[0].node == "conv2d");
  CHECK(r.model.unmapped[0].reason.find("kernel_size_not_supported") != std::string::npos);
  REQUIRE(r.legalization->remaining.size() == 1);
  CHECK(r.legalization->remaining[0].find("'conv2d'") != std::string::npos);
  CHECK(r.legalization->remaining[0].find("10x4") != std::string::npos);
  for (const Layer& l : r.model.layers) CHECK((l.placement == Placement::device) == (l.name != "conv2d"));
  REQUIRE(r.top1_agreement);
  // The partial average became a global one: an approximation, its error reported.
  bool approx = false;
  for (const auto& w : r.legalization->rewrites) approx = approx || (!w.exact && w.nodes[0] == "average_pooling2d" && w.max_abs_diff);
  CHECK(approx);
}

TEST_CASE("akida-v1: check names what the 1.0 limits refuse", "[legalize][models]") {
  ir::Graph g = load_onnx(models / "mlperf_resnet8" / "model.onnx");
  normalize::normalize(g);
  const auto nodes = legalize::check_compatibility(g, find_target("akida-v1"));
  std::size_t host = 0;
  for (const auto& c : nodes) {
    if (c.op_type == "Add") CHECK_FALSE(c.maps_after_fix);  // Akida 1.0 has no Add layer
    host += !c.maps_after_fix;
  }
  // The first Add is where the engine stops as the model is: its rule is named.
  const auto first_add = std::find_if(nodes.begin(), nodes.end(), [](const auto& c) { return c.op_type == "Add"; });
  REQUIRE(first_add != nodes.end());
  CHECK(first_add->rule.find("layer_kind_not_supported_by_target") != std::string::npos);
  // ... and so is why generate refuses it even on the host: it reads a convolution without
  // activation (a zero point), which statiq's akida_v1 Add does not take.
  CHECK(first_add->refused);
  CHECK(first_add->rule.find("has no activation, so it has a zero point") != std::string::npos);
  CHECK(host == 3);  // the three Adds, nothing else
}
