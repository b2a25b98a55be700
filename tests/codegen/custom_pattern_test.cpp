// Custom patterns in the matcher (identity-kernel 1x1 Conv for a lone ReLU / global average, user
// builders that decline or break a rule) and nodes_to_exclude / nodes_to_quantize, on graphs built
// here and on the shared models (opt_mnist, mlperf_resnet8).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include <fstream>

#include "codegen/exec/float_executor.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/lower/lower.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "onnx_builder.hpp"
#include "statiq/io/npy.hpp"

using namespace statiq;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
namespace fs = std::filesystem;

namespace {

const fs::path models = fs::path(STATIQ_SHARED_DIR) / "models";

std::vector<float> random_values(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A Conv with random weights and bias, kernel k x k, pads k/2 (same size).
void add_conv(OnnxBuilder& b, const std::string& name, const std::string& in, const std::string& out, int ci, int co,
              int k, unsigned seed) {
  b.initializer(name + "_w", {co, ci, k, k}, random_values(std::size_t(co * ci * k * k), seed, 0.5f));
  b.initializer(name + "_b", {co}, random_values(std::size_t(co), seed + 1, 0.5f));
  auto& n = b.node("Conv", {in, name + "_w", name + "_b"}, {out}, name);
  OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{k, k});
  OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{k / 2, k / 2, k / 2, k / 2});
}

// x -> Conv c1 -> t; t read by Relu r (lone: t has two readers) and by Conv c2; Add(r, c2) -> y.
ir::Graph lone_relu_graph(const std::string& act = "Relu") {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8});
  add_conv(b, "c1", "x", "t", 3, 4, 3, 1);
  if (act == "Relu") {
    b.node("Relu", {"t"}, {"r"}, "r");
  } else {  // a clipped ReLU: Clip(0, 6)
    b.initializer("lo", {}, {0.0f}).initializer("hi", {}, {6.0f});
    b.node("Clip", {"t", "lo", "hi"}, {"r"}, "r");
  }
  add_conv(b, "c2", "t", "u", 4, 4, 3, 3);
  b.node("Add", {"r", "u"}, {"y"}, "add");
  return import_onnx(b.model, ".", "lone_relu.onnx");
}

// x -> Conv a, Conv b -> Concat -> Relu r -> GlobalAveragePool g (a lone ReLU -> GAP on any target:
// nothing fuses an activation into a Concat). size: the map's height and width.
ir::Graph concat_relu_gap_graph(int size, const std::string& pool_op = "GlobalAveragePool") {
  OnnxBuilder b;
  b.input("x", {1, 3, size, size}).output("y", {1, 8, 1, 1});
  add_conv(b, "a", "x", "ta", 3, 4, 3, 11);
  add_conv(b, "b", "x", "tb", 3, 4, 3, 13);
  auto& cat = b.node("Concat", {"ta", "tb"}, {"cat"}, "cat");
  OnnxBuilder::attr(cat, "axis", std::int64_t{1});
  b.node("Relu", {"cat"}, {"r"}, "r");
  auto& pool = b.node(pool_op, {"r"}, {"y"}, "g");
  if (pool_op == "AveragePool") OnnxBuilder::attr(pool, "kernel_shape", std::vector<std::int64_t>{size, size});
  return import_onnx(b.model, ".", "concat_relu_gap.onnx");
}

LoweredModel lower_with(const ir::Graph& g, const char* target, std::vector<CustomPattern> patterns,
                        UnmappedPolicy policy = UnmappedPolicy::error) {
  LowerOptions o;
  o.policy = policy;
  o.custom_patterns = std::move(patterns);
  return lower(g, find_target(target), o);
}

const Layer* layer_named(const LoweredModel& m, const std::string& name) {
  for (const Layer& l : m.layers)
    if (l.name == name) return &l;
  return nullptr;
}
int index_of(const LoweredModel& m, const std::string& name) {
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].name == name) return int(i);
  return -1;
}

// eye(C) in OHWI for a 1x1 kernel, bias 0: checked element by element.
void check_identity_parameters(const Layer& l, int channels) {
  REQUIRE(l.weights.size() == std::size_t(channels) * std::size_t(channels));
  for (int o = 0; o < channels; ++o)
    for (int c = 0; c < channels; ++c) CHECK(l.weights[std::size_t(o * channels + c)] == (o == c ? 1.0f : 0.0f));
  CHECK(l.bias == std::vector<float>(std::size_t(channels), 0.0f));
}

// The float layer a Conv2D 1x1 computes, evaluated here from its own weights: out[o] =
// act(b[o] + sum_c W[o][c] x[c]) per pixel, on an NCHW map; then the fused GAP if any (NCHW [C]).
std::vector<float> evaluate_pointwise(const Layer& l, const std::vector<float>& x_nchw) {
  const auto& a = std::get<ConvAttributes>(l.attributes);
  const int hw = a.input.h * a.input.w, ci = a.input.c, co = a.filters;
  std::vector<float> y(std::size_t(co * hw));
  for (int o = 0; o < co; ++o)
    for (int p = 0; p < hw; ++p) {
      float acc = l.bias[std::size_t(o)];
      for (int c = 0; c < ci; ++c) acc += l.weights[std::size_t(o * ci + c)] * x_nchw[std::size_t(c * hw + p)];
      if (a.activation.kind != ActivationKind::none) acc = std::max(acc, 0.0f);
      if (a.activation.kind == ActivationKind::clipped_relu) acc = std::min(acc, l.clip_max);
      y[std::size_t(o * hw + p)] = acc;
    }
  if (a.pool.kind != PoolKind::global_average) return y;
  std::vector<float> g(static_cast<std::size_t>(co));
  for (int o = 0; o < co; ++o) {
    double s = 0;
    for (int p = 0; p < hw; ++p) s += y[std::size_t(o * hw + p)];
    g[std::size_t(o)] = float(s / hw);
  }
  return g;
}

exec::RunResult run_float(const ir::Graph& g, std::vector<float> x) {
  const ir::Dims& shape = *g.tensor(g.inputs[0]).shape;
  exec::RunOptions o;
  o.record_intermediates = true;
  return exec::FloatExecutor(g).run({exec::Array::floats(shape, std::move(x))}, o);
}

}  // namespace

TEST_CASE("a lone Relu becomes an identity Conv2D 1x1 carrying the ReLU") {
  const ir::Graph g = lone_relu_graph();
  SECTION("without the pattern no statiq layer computes it") {
    CHECK_THROWS_WITH(lower_with(g, "akida-v2", {}), Catch::Contains("node 'r' (Relu): no statiq layer computes Relu"));
  }
  for (const char* target : {"akida-v2", "cpu-int8", "akida-v1"}) {
    DYNAMIC_SECTION("on " << target) {
      const LoweredModel m = lower_with(g, target, identity_conv_patterns_relu(), UnmappedPolicy::host);
      const Layer* r = layer_named(m, "r");
      REQUIRE(r != nullptr);
      CHECK(r->kind == LayerKind::conv2d);  // not the input layer: it reads c1
      CHECK(r->onnx_nodes == std::vector<std::string>{"r"});
      CHECK(r->output_tensor == "r");
      CHECK(r->inputs == std::vector<int>{index_of(m, "c1")});
      CHECK(r->placement == Placement::device);
      const auto& a = std::get<ConvAttributes>(r->attributes);
      CHECK(a.input == Shape{8, 8, 4});
      CHECK(a.filters == 4);
      CHECK(a.kernel == Kernel{1, 1});
      CHECK(a.strides == Stride{1, 1});
      CHECK(a.group == 1);
      CHECK(a.activation == relu);
      CHECK(a.pool == no_pool);
      CHECK(output_shape(a) == Shape{8, 8, 4});
      check_identity_parameters(*r, 4);
      // The Add reads the identity conv as its first input.
      const Layer* add = layer_named(m, "add");
      REQUIRE(add != nullptr);
      CHECK(add->inputs == std::vector<int>{index_of(m, "r"), index_of(m, "c2")});
      // Signedness as the run's convention for a ReLU output: Akida unsigned, cpu-int8 uint8.
      CHECK_FALSE(a.signed_output);
      const int default_bits = std::string(target) == "akida-v1" ? 4 : 8;
      CHECK(a.bits.w == default_bits);
      CHECK(a.bits.out == default_bits);
    }
  }
}

TEST_CASE("the identity conv is exact in float: identity conv with ReLU equals ReLU, bit for bit") {
  for (const char* act : {"Relu", "Clip"}) {
    DYNAMIC_SECTION(act) {
      const ir::Graph g = lone_relu_graph(act);
      const LoweredModel m = lower_with(g, "akida-v2", identity_conv_patterns_relu(), UnmappedPolicy::host);
      const Layer* r = layer_named(m, "r");
      REQUIRE(r != nullptr);
      const auto& a = std::get<ConvAttributes>(r->attributes);
      if (std::string(act) == "Clip") {
        CHECK(a.activation == clipped_relu);
        CHECK(r->clip_max == 6.0f);
      } else {
        CHECK(a.activation == relu);
        CHECK(r->clip_max == 0.0f);
      }
      // Inputs large enough that the conv output crosses both 0 and 6.
      const exec::RunResult fr = run_float(g, random_values(3 * 8 * 8, 5, 4.0f));
      const std::vector<float>& t = fr.tensors.at("t").f;
      const std::vector<float>& expected = fr.tensors.at("r").f;
      const std::vector<float> got = evaluate_pointwise(*r, t);
      REQUIRE(got.size() == expected.size());
      int below_zero = 0, above_six = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i] == expected[i]);
        below_zero += t[i] < 0.0f;
        above_six += t[i] > 6.0f;
      }
      CHECK(below_zero > 0);  // the cases that exercise the activation are present
      if (std::string(act) == "Clip") CHECK(above_six > 0);
    }
  }
}

TEST_CASE("Relu -> GlobalAveragePool becomes one identity conv with both fused (Akida 2.0)") {
  for (const char* pool_op : {"GlobalAveragePool", "AveragePool"}) {
    DYNAMIC_SECTION(pool_op) {
      const ir::Graph g = concat_relu_gap_graph(8, pool_op);
      const LoweredModel m = lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::error);
      const Layer* r = layer_named(m, "r");
      REQUIRE(r != nullptr);
      CHECK(r->kind == LayerKind::conv2d);
      CHECK(r->onnx_nodes == std::vector<std::string>{"r", "g"});
      CHECK(r->output_tensor == "y");
      CHECK(r->placement == Placement::device);
      const auto& a = std::get<ConvAttributes>(r->attributes);
      CHECK(a.input == Shape{8, 8, 8});
      CHECK(a.activation == relu);
      CHECK(a.pool == global_average_pool);
      CHECK(output_shape(a) == Shape{1, 1, 8});
      check_identity_parameters(*r, 8);
      CHECK(m.unmapped.empty());
      // Float: the identity conv + GAP equals the graph's ReLU -> GAP up to summation order.
      const exec::RunResult fr = run_float(g, random_values(3 * 8 * 8, 7, 2.0f));
      const std::vector<float> got = evaluate_pointwise(*r, fr.tensors.at("cat").f);
      const std::vector<float>& expected = fr.outputs[0].f;
      REQUIRE(got.size() == 8);
      REQUIRE(expected.size() == 8);
      for (std::size_t i = 0; i < 8; ++i) CHECK(got[i] == Approx(expected[i]).epsilon(1e-6).margin(1e-6));
    }
  }
}

TEST_CASE("the identity conv goes through calibration, quantization and the integer simulation") {
  // The Concat -> Relu -> GAP graph as a file, with 16 calibration rows of pixel-like values.
  const fs::path dir = fs::temp_directory_path() / "statiq_custom_pattern_test";
  fs::create_directories(dir);
  {
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).output("y", {1, 8, 1, 1});
    add_conv(b, "a", "x", "ta", 3, 4, 3, 11);
    add_conv(b, "b", "x", "tb", 3, 4, 3, 13);
    auto& cat = b.node("Concat", {"ta", "tb"}, {"cat"}, "cat");
    OnnxBuilder::attr(cat, "axis", std::int64_t{1});
    b.node("Relu", {"cat"}, {"r"}, "r");
    b.node("GlobalAveragePool", {"r"}, {"y"}, "g");
    std::ofstream f(dir / "crg.onnx", std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  std::vector<float> rows = random_values(16 * 3 * 8 * 8, 17, 60.0f);
  for (float& v : rows) v = std::min(std::abs(v), 255.0f);
  io::write_npy<float>(dir / "crg.npy", {16, 3, 8, 8}, rows);
  GenerateOptions o;
  o.model = dir / "crg.onnx";
  o.calib = dir / "crg.npy";
  o.target = "akida-v2";
  o.name = "crg";
  o.policy = UnmappedPolicy::error;
  o.lower.custom_patterns = identity_conv_patterns();
  const GenerateResult r = generate(o);
  const Layer* l = layer_named(r.model, "r");
  REQUIRE(l != nullptr);
  CHECK(l->kind == LayerKind::conv2d);
  CHECK(l->placement == Placement::device);
  // eye(C) quantizes to one integer per channel on the diagonal, zeros elsewhere.
  const int c = 8;
  REQUIRE(l->qweights.size() == std::size_t(c * c));
  for (int o2 = 0; o2 < c; ++o2)
    for (int i = 0; i < c; ++i)
      if (i != o2) CHECK(l->qweights[std::size_t(o2 * c + i)] == 0);
  CHECK(l->qweights[0] != 0);
  // The integer engine follows the float model: ReLU -> GAP on 8 channels.
  CHECK(r.eval_samples == 16);
  REQUIRE(r.mean_cosine);
  CHECK(*r.mean_cosine > 0.999);
  fs::remove_all(dir);
}

TEST_CASE("builders decline where the target has something better; the shorter or built-in pattern follows") {
  SECTION("Akida 1.0 has no Conv -> Relu -> GAP: the ReLU and the GAP become two identity convs") {
    const ir::Graph g = concat_relu_gap_graph(8);
    const LoweredModel m = lower_with(g, "akida-v1", identity_conv_patterns(), UnmappedPolicy::host);
    const Layer* r = layer_named(m, "r");
    const Layer* gap = layer_named(m, "g");
    REQUIRE(r != nullptr);
    REQUIRE(gap != nullptr);
    CHECK(r->onnx_nodes == std::vector<std::string>{"r"});
    CHECK(std::get<ConvAttributes>(r->attributes).activation == relu);
    CHECK(std::get<ConvAttributes>(r->attributes).pool == no_pool);
    CHECK(gap->kind == LayerKind::conv2d);
    CHECK(gap->inputs == std::vector<int>{index_of(m, "r")});
    CHECK(std::get<ConvAttributes>(gap->attributes).activation == no_activation);
    CHECK(std::get<ConvAttributes>(gap->attributes).pool == global_average_pool);
  }
  SECTION("cpu-int8 has a GlobalAveragePool layer: it keeps it, the ReLU alone is the identity conv") {
    const ir::Graph g = concat_relu_gap_graph(8);
    const LoweredModel m = lower_with(g, "cpu-int8", identity_conv_patterns(), UnmappedPolicy::error);
    const Layer* gap = layer_named(m, "g");
    REQUIRE(gap != nullptr);
    CHECK(gap->kind == LayerKind::global_average_pool);
    CHECK(std::get<ConvAttributes>(layer_named(m, "r")->attributes).pool == no_pool);
  }
  SECTION("an AveragePool that is not global is not matched: the built-in pool layer") {
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 4, 4});
    add_conv(b, "c", "x", "t", 3, 4, 3, 21);
    auto& p = b.node("AveragePool", {"t"}, {"y"}, "p");
    OnnxBuilder::attr(p, "kernel_shape", std::vector<std::int64_t>{2, 2});
    OnnxBuilder::attr(p, "strides", std::vector<std::int64_t>{2, 2});
    const ir::Graph g = import_onnx(b.model, ".", "avg.onnx");
    const LoweredModel m = lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::host);
    const Layer* pool = layer_named(m, "p");
    REQUIRE(pool != nullptr);
    CHECK(pool->kind == LayerKind::average_pool);
    CHECK(pool->placement == Placement::host);
  }
}

TEST_CASE("a custom pattern whose builder returns nullopt falls back; longer chains are tried first") {
  const ir::Graph g = lone_relu_graph();
  std::vector<std::string> calls;
  std::vector<PatternMatch> seen;
  CustomPattern decline_conv{.name = "decline", .ops = {"Conv"}, .build = [&](const PatternMatch& m) -> std::optional<Layer> {
                               calls.push_back("Conv@" + m.nodes.front()->name);
                               seen.push_back(m);
                               return std::nullopt;
                             }};
  CustomPattern decline_conv_relu{.name = "decline2",
                                  .ops = {"Conv", "Relu"},
                                  .build = [&](const PatternMatch& m) -> std::optional<Layer> {
                                    calls.push_back("Conv,Relu@" + m.nodes.front()->name);
                                    return std::nullopt;
                                  }};
  // Registered shorter first: the matcher still tries the longer chain first at each node.
  const LoweredModel with = lower_with(g, "cpu-int8", {decline_conv, decline_conv_relu, identity_conv_patterns_relu()[0]});
  const LoweredModel without = lower_with(g, "cpu-int8", {identity_conv_patterns_relu()[0]});
  REQUIRE(with.layers.size() == without.layers.size());
  for (std::size_t i = 0; i < with.layers.size(); ++i) {
    CHECK(with.layers[i].name == without.layers[i].name);
    CHECK(with.layers[i].kind == without.layers[i].kind);
    CHECK(with.layers[i].onnx_nodes == without.layers[i].onnx_nodes);
    CHECK(with.layers[i].attributes == without.layers[i].attributes);
  }
  // c1's output has two readers, so Conv -> Relu never matches there (the chain needs a sole
  // reader); c2's output is read by the Add only, not a Relu: only the one-op pattern is called.
  CHECK(calls == std::vector<std::string>{"Conv@c1", "Conv@c2"});
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].input_layer == 0);
  CHECK(seen[0].input.shape == Shape{8, 8, 3});
  CHECK(seen[0].output_shape == Shape{8, 8, 4});
  CHECK(seen[0].bits.w == 8);
  CHECK(seen[1].input_layer == index_of(without, "c1"));

  SECTION("longest first: Conv -> Relu is offered before Conv where both match") {
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8});
    add_conv(b, "c", "x", "t", 3, 4, 3, 31);
    b.node("Relu", {"t"}, {"y"}, "r");
    const ir::Graph g2 = import_onnx(b.model, ".", "conv_relu.onnx");
    calls.clear();
    const LoweredModel m = lower_with(g2, "cpu-int8", {decline_conv, decline_conv_relu});
    CHECK(calls == std::vector<std::string>{"Conv,Relu@c", "Conv@c"});
    CHECK(m.layers[1].onnx_nodes == std::vector<std::string>{"c", "r"});  // the built-in fusion
  }
}

TEST_CASE("a custom layer breaking a target rule is reported like any other") {
  // 12x12: Akida 2.0's GAP wants W*H < 144.
  const ir::Graph g = concat_relu_gap_graph(12);
  SECTION("error policy: the report names the node, the pattern and the rule") {
    try {
      lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::error);
      FAIL("expected UnmappedError");
    } catch (const UnmappedError& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("breaks a rule: [r (Relu)]"));
      CHECK_THAT(what, Catch::Contains("as custom pattern 'identity conv (Relu -> GlobalAveragePool)'"));
      CHECK_THAT(what, Catch::Contains("global_average_pool_input_too_large"));
    }
  }
  SECTION("host policy: the layer runs on the host with its violation") {
    const LoweredModel m = lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::host);
    const Layer* r = layer_named(m, "r");
    REQUIRE(r != nullptr);
    CHECK(r->placement == Placement::host);
    CHECK(r->violation.rule == Rule::global_average_pool_input_too_large);
    CHECK(r->violation.shape == Shape{12, 12, 8});
    REQUIRE(m.unmapped.size() == 1);
    CHECK(m.unmapped[0].node == "r");
  }
  SECTION("float-tail policy: the engine stops before the chain") {
    const LoweredModel m = lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::float_tail);
    CHECK(m.float_tail == std::vector<std::string>{"r", "g"});
    CHECK(m.layers.back().kind == LayerKind::dequantize);
    CHECK(m.layers.back().output_tensor == "cat");
  }
  SECTION("a user layer: a Conv rebuilt with stride 3 breaks Akida's stride rule") {
    CustomPattern strided{.name = "strided", .ops = {"Relu"}, .build = [](const PatternMatch& m) -> std::optional<Layer> {
                            Layer l = identity_conv(m, relu, 0.0f, no_pool);
                            auto a = std::get<ConvAttributes>(l.attributes);
                            a.kernel = Kernel{3, 3};
                            a.strides = Stride{3, 3};
                            a.pads = Pads{1, 1, 1, 1};
                            l.attributes = a;
                            l.weights.assign(weight_count(a), 0.0f);
                            return l;
                          }};
    // 12x12 with a 3x3/3 kernel padded 1: (12 + 2 - 3) / 3 + 1 = 4, not the graph's 12x12.
    CHECK_THROWS_WITH(lower_with(g, "akida-v2", {strided}, UnmappedPolicy::host),
                      Catch::Contains("node 'r' (Relu): custom pattern 'strided' built a Conv2D layer that outputs "
                                      "4x4x8 where node 'r' outputs 12x12x8"));
  }
}

TEST_CASE("malformed custom patterns are refused up front") {
  const ir::Graph g = lone_relu_graph();
  CHECK_THROWS_WITH(lower_with(g, "cpu-int8", {CustomPattern{.name = "empty", .ops = {}, .build = {}}}),
                    Catch::Contains("custom pattern 'empty' has no op types"));
  CHECK_THROWS_WITH(lower_with(g, "cpu-int8", {CustomPattern{.name = "nofn", .ops = {"Relu"}, .build = {}}}),
                    Catch::Contains("custom pattern 'nofn' has no build function"));
  CustomPattern wrong_kind{.name = "wrong", .ops = {"Relu"}, .build = [](const PatternMatch& m) -> std::optional<Layer> {
                             Layer l = identity_conv(m, relu, 0.0f, no_pool);
                             l.kind = LayerKind::dense;
                             return l;
                           }};
  CHECK_THROWS_WITH(lower_with(g, "cpu-int8", {wrong_kind}),
                    Catch::Contains("custom pattern 'wrong' built a Dense layer that has attributes of another kind"));
}

TEST_CASE("mlperf_resnet8 on Akida 2.0: the global AveragePool 8x8 moves from the host to the device") {
  const fs::path file = models / "mlperf_resnet8" / "model.onnx";
  if (!fs::exists(file)) { WARN("shared models not found"); return; }
  ir::Graph g = load_onnx(file);
  normalize::normalize(g);
  const LoweredModel before = lower_with(g, "akida-v2", {}, UnmappedPolicy::host);
  const LoweredModel after = lower_with(g, "akida-v2", identity_conv_patterns(), UnmappedPolicy::host);
  const Layer* pool_before = layer_named(before, "average_pooling2d");
  const Layer* pool_after = layer_named(after, "average_pooling2d");
  REQUIRE(pool_before != nullptr);
  REQUIRE(pool_after != nullptr);
  CHECK(pool_before->kind == LayerKind::global_average_pool);
  CHECK(pool_before->placement == Placement::host);
  CHECK(pool_before->violation.rule == Rule::layer_kind_not_supported_by_target);

  CHECK(pool_after->kind == LayerKind::conv2d);
  CHECK(pool_after->placement == Placement::device);
  CHECK(pool_after->onnx_nodes == std::vector<std::string>{"average_pooling2d"});
  const auto& a = std::get<ConvAttributes>(pool_after->attributes);
  CHECK(a.input == Shape{8, 8, 64});
  CHECK(a.filters == 64);
  CHECK(a.kernel == Kernel{1, 1});
  CHECK(a.activation == no_activation);  // the ReLU stays fused in the Add (Akida has Add -> Relu)
  CHECK(a.pool == global_average_pool);
  CHECK(a.signed_input == false);         // unsigned after the Add's ReLU
  check_identity_parameters(*pool_after, 64);
  // Every other layer is the same; the Dense reads the identity conv.
  REQUIRE(before.layers.size() == after.layers.size());
  CHECK(after.layers[std::size_t(index_of(after, "dense"))].inputs == std::vector<int>{index_of(after, "average_pooling2d")});
  CHECK(before.unmapped.size() == after.unmapped.size() + 1);  // the two 1x1 stride-2 shortcuts stay on the host

  // Float, on the shared input rows: the identity conv + GAP equals the graph's AveragePool (up to
  // summation order) on the Add -> Relu output it reads.
  const std::vector<float> rows = io::read_npy(models / "mlperf_resnet8" / "inputs.npy").as<float>();
  const ir::Node& pool_node = *g.find_node(pool_after->onnx_nodes[0]);
  const std::size_t row = 3 * 32 * 32;
  REQUIRE(rows.size() >= 2 * row);
  for (std::size_t r = 0; r < 2; ++r) {
    const exec::RunResult fr = run_float(g, std::vector<float>(rows.begin() + long(r * row), rows.begin() + long((r + 1) * row)));
    const std::vector<float> got = evaluate_pointwise(*pool_after, fr.tensors.at(pool_node.inputs[0]).f);
    const std::vector<float>& expected = fr.tensors.at(pool_node.outputs[0]).f;
    REQUIRE(got.size() == 64);
    REQUIRE(expected.size() == 64);
    for (std::size_t i = 0; i < 64; ++i) CHECK(got[i] == Approx(expected[i]).epsilon(1e-6).margin(1e-6));
  }
}

// ---- nodes_to_exclude / nodes_to_quantize ------------------------------------------------------

namespace {
const fs::path opt_mnist = models / "opt_mnist" / "model.onnx";

LoweredModel lower_mnist(const ir::Graph& g, std::set<std::string> exclude, std::set<std::string> quantize,
                         const char* target = "cpu-int8") {
  LowerOptions o;
  o.policy = UnmappedPolicy::error;  // exclusions are never an error
  o.nodes_to_exclude = std::move(exclude);
  o.nodes_to_quantize = std::move(quantize);
  return lower(g, find_target(target), o);
}

std::string nth_of(const ir::Graph& g, const std::string& op, int k) {
  for (const ir::Node& n : g.nodes)
    if (n.op_type == op && k-- == 0) return n.name;
  FAIL("no node " << op << " #" << k);
  return "";
}
}  // namespace

TEST_CASE("nodes_to_exclude: the integer engine stops before the node, the rest stays float") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  const ir::Graph g = load_onnx(opt_mnist);
  const std::string conv1 = "Convolution28", conv2 = "Convolution110";
  const std::string relu1 = nth_of(g, "Relu", 0), pool1 = nth_of(g, "MaxPool", 0);
  const std::string reshape = nth_of(g, "Reshape", 0), gemm = nth_of(g, "Gemm", 0);

  SECTION("the second Conv: Quantize, conv1 (Conv -> Relu -> MaxPool), Dequantize; float from conv2") {
    const LoweredModel m = lower_mnist(g, {conv2}, {});
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[1].onnx_nodes == std::vector<std::string>{conv1, relu1, pool1});
    CHECK(m.layers[2].kind == LayerKind::dequantize);
    REQUIRE(!m.float_tail.empty());
    CHECK(m.float_tail.front() == conv2);
    CHECK(m.float_tail.size() == 5);  // Conv, Relu, MaxPool, Reshape, Gemm
    // The tail starts from the tensor the engine ends with.
    CHECK(g.find_node(conv2)->inputs[0] == m.layers.back().output_tensor);
    REQUIRE(m.unmapped.size() == 1);
    CHECK(m.unmapped[0].node == conv2);
    CHECK(is_excluded(m.unmapped[0]));
    CHECK_THAT(m.unmapped[0].reason, Catch::StartsWith("excluded by the user"));
    const std::string report = unmapped_report(m);
    CHECK_THAT(report, Catch::Contains("every node maps onto cpu_int8"));
    CHECK_THAT(report, Catch::Contains("node '" + conv2 + "' (Conv) excluded by the user (nodes_to_exclude)"));
  }
  SECTION("a Relu: not fused into the Conv before it, which loses its Relu and MaxPool") {
    const LoweredModel m = lower_mnist(g, {relu1}, {});
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[1].onnx_nodes == std::vector<std::string>{conv1});
    CHECK(std::get<ConvAttributes>(m.layers[1].attributes).activation == no_activation);
    CHECK(std::get<ConvAttributes>(m.layers[1].attributes).pool == no_pool);
    CHECK(m.float_tail.front() == relu1);
  }
  SECTION("the Gemm: its Reshape follows it into the float tail") {
    const LoweredModel m = lower_mnist(g, {gemm}, {});
    REQUIRE(m.float_tail.size() == 2);
    CHECK(m.float_tail == std::vector<std::string>{reshape, gemm});
    CHECK_THAT(m.unmapped[0].reason, Catch::Contains("it feeds node '" + gemm + "' (Gemm)"));
    CHECK(m.layers.back().kind == LayerKind::dequantize);
    CHECK(m.layers[m.layers.size() - 2].name == conv2);
  }
  SECTION("the first node: the engine is only Quantize -> Dequantize of the input") {
    const LoweredModel m = lower_mnist(g, {conv1}, {});
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[1].inputs == std::vector<int>{0});
    CHECK(m.float_tail.size() == g.nodes.size());
  }
  SECTION("on a hardware target with error policy, exclusions before a rule-breaking node avoid the error") {
    // akida-v2 cannot fuse opt_mnist's 3x3/3 MaxPool (conv2's run): excluding conv2 is no error.
    CHECK_THROWS_AS(lower_mnist(g, {}, {}, "akida-v2"), UnmappedError);
    const LoweredModel m = lower_mnist(g, {conv2}, {}, "akida-v2");
    CHECK(m.layers.size() == 3);
    CHECK(m.layers[1].kind == LayerKind::input_conv2d);
  }
  SECTION("a name that is no node is an error naming it") {
    CHECK_THROWS_WITH(lower_mnist(g, {"conv_nope"}, {}),
                      Catch::StartsWith("nodes_to_exclude: no node named 'conv_nope' in"));
    CHECK_THROWS_AS(lower_mnist(g, {"conv_nope"}, {}), std::invalid_argument);
    CHECK_THROWS_WITH(lower_mnist(g, {}, {conv1, "Plus214"}),
                      Catch::StartsWith("nodes_to_quantize: no node named 'Plus214' in"));
  }
}

TEST_CASE("nodes_to_quantize: only the listed nodes are integer (empty: all)") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  const ir::Graph g = load_onnx(opt_mnist);
  const std::string conv1 = "Convolution28", conv2 = "Convolution110";
  const std::string relu1 = nth_of(g, "Relu", 0), pool1 = nth_of(g, "MaxPool", 0);
  const std::string relu2 = nth_of(g, "Relu", 1), pool2 = nth_of(g, "MaxPool", 1), gemm = nth_of(g, "Gemm", 0);
  SECTION("the first Conv's run: the engine stops at the second Conv, not listed") {
    const LoweredModel m = lower_mnist(g, {}, {conv1, relu1, pool1});
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[1].onnx_nodes.size() == 3);
    CHECK(m.float_tail.front() == conv2);
    REQUIRE(m.unmapped.size() == 1);
    CHECK(m.unmapped[0].reason == "excluded by the user (not in nodes_to_quantize)");
  }
  SECTION("every compute node listed, the Reshape not: it follows its Gemm, the whole model maps") {
    const LoweredModel m = lower_mnist(g, {}, {conv1, relu1, pool1, conv2, relu2, pool2, gemm});
    CHECK(m.unmapped.empty());
    CHECK(m.float_tail.empty());
    CHECK(m.layers.size() == 5);
  }
  SECTION("nodes_to_exclude wins over nodes_to_quantize") {
    const LoweredModel m = lower_mnist(g, {conv2}, {conv1, relu1, pool1, conv2, relu2, pool2, gemm});
    CHECK(m.float_tail.front() == conv2);
    CHECK(m.unmapped[0].reason == "excluded by the user (nodes_to_exclude)");
  }
}

TEST_CASE("custom patterns do not take excluded nodes") {
  const ir::Graph g = concat_relu_gap_graph(8);
  LowerOptions o;
  o.policy = UnmappedPolicy::error;
  o.custom_patterns = identity_conv_patterns();
  o.nodes_to_exclude = {"g"};
  const LoweredModel m = lower(g, find_target("akida-v2"), o);
  const Layer* r = layer_named(m, "r");
  REQUIRE(r != nullptr);
  CHECK(r->onnx_nodes == std::vector<std::string>{"r"});  // Relu alone: the GAP is the user's float
  CHECK(std::get<ConvAttributes>(r->attributes).pool == no_pool);
  CHECK(m.float_tail == std::vector<std::string>{"g"});
}
