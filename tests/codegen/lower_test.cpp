// Pattern matching onto the targets, on opt_mnist (Conv -> Relu -> MaxPool x2, Reshape, Gemm):
// fused layers, NHWC attributes, weight layouts, and the rules that put a layer on the host.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "codegen/lower/lower.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "tests/codegen/onnx_builder.hpp"

using namespace statiq;
using namespace statiq::codegen;
namespace fs = std::filesystem;

namespace {
const fs::path opt_mnist = fs::path(STATIQ_SHARED_DIR) / "models" / "opt_mnist" / "model.onnx";

LoweredModel lower_opt_mnist(const char* target, UnmappedPolicy policy) {
  static const ir::Graph g = load_onnx(opt_mnist);
  LowerOptions o;
  o.policy = policy;
  return lower(g, find_target(target), o);
}
}  // namespace

TEST_CASE("opt_mnist on cpu_int8: Conv -> Relu -> MaxPool fused, Reshape folded into the Dense") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  const LoweredModel m = lower_opt_mnist("cpu-int8", UnmappedPolicy::error);
  REQUIRE(m.layers.size() == 5);
  CHECK(m.unmapped.empty());
  CHECK(m.input_shape == Shape{28, 28, 1});
  CHECK(m.layers[0].kind == LayerKind::quantize);
  const Layer& c1 = m.layers[1];
  CHECK(c1.name == "Convolution28");
  CHECK(c1.kind == LayerKind::conv2d);
  CHECK(c1.onnx_nodes.size() == 3);  // Conv, Relu, MaxPool
  const auto& a1 = std::get<ConvAttributes>(c1.attributes);
  CHECK(a1.input == Shape{28, 28, 1});
  CHECK(a1.filters == 8);
  CHECK(a1.kernel == Kernel{5, 5});
  CHECK(a1.pads == Pads{2, 2, 2, 2});  // SAME_UPPER on 28 with 5x5
  CHECK(a1.activation == relu);
  CHECK(a1.pool == max_pool(2, 2));
  CHECK(output_shape(a1) == Shape{14, 14, 8});
  const auto& a2 = std::get<ConvAttributes>(m.layers[2].attributes);
  CHECK(a2.pool == max_pool(3, 3));
  CHECK(output_shape(a2) == Shape{4, 4, 16});
  const Layer& fc = m.layers[3];
  CHECK(fc.kind == LayerKind::dense);
  const auto& d = std::get<DenseAttributes>(fc.attributes);
  CHECK(d.input == Shape{4, 4, 16});  // the map as it is, no flattening at run time
  CHECK(d.units == 10);
  CHECK(m.layers[4].kind == LayerKind::dequantize);
  CHECK(m.layers[4].inputs == std::vector<int>{3});
}

TEST_CASE("weights change layout once: OIHW -> OHWI, and the Gemm's CHW inputs -> HWC") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  const ir::Graph g = load_onnx(opt_mnist);
  const LoweredModel m = lower_opt_mnist("cpu-int8", UnmappedPolicy::error);
  const ir::Node& conv = *g.find_node("Convolution110");
  const std::vector<float>& w = g.tensor(conv.inputs[1]).float_data;  // [16][8][5][5]
  const Layer& c2 = m.layers[2];
  // OIHW element (o=3, i=5, h=1, w=4) is OHWI element (3, 1, 4, 5)
  CHECK(c2.weights[std::size_t(((3 * 5 + 1) * 5 + 4) * 8 + 5)] == w[std::size_t(((3 * 8 + 5) * 5 + 1) * 5 + 4)]);
  const ir::Node& gemm = *g.find_node(m.layers[3].name);
  const ir::Tensor& b = g.tensor(gemm.inputs[1]);
  const bool trans_b = gemm.attr_int("transB", 0) != 0;
  // input (c=7, h=2, w=1): CHW index 7*16 + 2*4 + 1 = 121, HWC index (2*4 + 1)*16 + 7 = 151; unit 6
  const float expected = trans_b ? b.float_data[6 * 256 + 121] : b.float_data[121 * 10 + 6];
  CHECK(m.layers[3].weights[6 * 256 + 151] == expected * gemm.attr_float("alpha", 1.0f));
}

TEST_CASE("akida_v2: the 3x3/3 MaxPool breaks the pooling rule; the policy decides what follows") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  // The convolution fits without its pool, so the pool is left out of it: a layer of its own, which
  // Akida 2.0 has no stand-alone form for; the message says why it could not be fused.
  SECTION("error (the default for hardware): the message lists the node and the rule") {
    try {
      lower_opt_mnist("akida-v2", UnmappedPolicy::error);
      FAIL("expected UnmappedError");
    } catch (const UnmappedError& e) {
      const std::string what = e.what();
      CHECK(what.find("because their pattern was not found or breaks a rule: [Pooling160 (MaxPool)]") != std::string::npos);
      CHECK(what.find("pool_not_supported") != std::string::npos);
      CHECK(what.find("MaxPool 3x3 stride 3x3") != std::string::npos);
      CHECK(what.find("(fused into 'Convolution110'); alone: layer_kind_not_supported_by_target") != std::string::npos);
    }
  }
  SECTION("host: the pool runs on the host, both convolutions on the device") {
    const LoweredModel m = lower_opt_mnist("akida-v2", UnmappedPolicy::host);
    REQUIRE(m.layers.size() == 6);  // Quantize, InputConv2D, Conv2D, MaxPool, Dense, Dequantize
    CHECK(m.layers[1].kind == LayerKind::input_conv2d);
    CHECK(m.layers[1].placement == Placement::device);
    CHECK(m.layers[2].kind == LayerKind::conv2d);
    CHECK(m.layers[2].placement == Placement::device);
    CHECK(m.layers[3].kind == LayerKind::max_pool);
    CHECK(m.layers[3].placement == Placement::host);
    CHECK(m.layers[3].violation.rule == Rule::layer_kind_not_supported_by_target);
    CHECK(m.layers[4].placement == Placement::device);
    // Akida: unsigned after a ReLU, signed logits
    CHECK_FALSE(output_type(m.layers[1].attributes).is_signed);
    CHECK(output_type(m.layers[4].attributes).is_signed);
  }
  SECTION("float tail: the integer engine stops before the node, the rest stays float") {
    const LoweredModel m = lower_opt_mnist("akida-v2", UnmappedPolicy::float_tail);
    REQUIRE(m.layers.size() == 4);  // Quantize, the two convs, Dequantize
    CHECK(m.layers[3].kind == LayerKind::dequantize);
    REQUIRE(m.float_tail.size() >= 2);
    CHECK(m.float_tail.front() == "Pooling160");
  }
}

TEST_CASE("unknown target names the known ones") {
  CHECK_THROWS_WITH(find_target("tpu"), Catch::Contains("choose one of cpu-int8, akida-v2, akida-v1, gemmini, tflite-int8"));
}

TEST_CASE("the advice follows the policy: no '--unmapped host' when the layer is already on the host") {
  if (!fs::exists(opt_mnist)) { WARN("shared models not found"); return; }
  const LoweredModel m = lower_opt_mnist("akida-v2", UnmappedPolicy::host);
  CHECK(unmapped_report(m, UnmappedPolicy::error).find("--unmapped host runs") != std::string::npos);
  CHECK(unmapped_report(m, UnmappedPolicy::host).find("--unmapped host runs") == std::string::npos);
  CHECK(unmapped_report(m, UnmappedPolicy::host).find("--unmapped float keeps") != std::string::npos);
}

// Akida 2.0's connection rule (targets/akida_v2.hpp connects(): a Conv2D with a fused MaxPool must
// feed a convolution), asked by the generator before it fuses: Conv -> Relu -> MaxPool 2x2/2 fits
// the layer's own rules, but its pooled map feeds a Gemm, so the pool is left out of the convolution
// and the message says which rule and which reader; feeding a Conv, the same pool is fused.
TEST_CASE("akida_v2: a fused MaxPool must feed a convolution; the generator leaves it out otherwise") {
  auto build = [](bool pool_feeds_gemm) {
    test::OnnxBuilder b;
    b.input("x", {1, 1, 16, 16}).output("y", {1, 10});
    auto conv = [&](const std::string& name, const std::string& in, int ci, int co) {
      b.initializer(name + "_w", {co, ci, 3, 3}, std::vector<float>(std::size_t(co * ci * 9), 0.1f));
      b.initializer(name + "_b", {co}, std::vector<float>(std::size_t(co), 0.0f));
      auto& n = b.node("Conv", {in, name + "_w", name + "_b"}, {name + "_out"}, name);
      test::OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{3, 3});
      test::OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
      b.node("Relu", {name + "_out"}, {name + "_relu"}, name + "_relu");
    };
    conv("conv_in", "x", 1, 4);  // the InputConv2D
    conv("conv_a", "conv_in_relu", 4, 4);
    auto& p = b.node("MaxPool", {"conv_a_relu"}, {"pool_a"}, "pool_a");
    test::OnnxBuilder::attr(p, "kernel_shape", std::vector<std::int64_t>{2, 2});
    test::OnnxBuilder::attr(p, "strides", std::vector<std::int64_t>{2, 2});
    std::string flat_in = "pool_a";
    int features = 8 * 8 * 4;
    if (!pool_feeds_gemm) {
      conv("conv_b", "pool_a", 4, 4);
      flat_in = "conv_b_relu";
    }
    b.node("Flatten", {flat_in}, {"flat"}, "flatten");
    b.initializer("fc_w", {10, features}, std::vector<float>(std::size_t(10 * features), 0.01f));
    b.initializer("fc_b", {10}, std::vector<float>(10, 0.0f));
    auto& g = b.node("Gemm", {"flat", "fc_w", "fc_b"}, {"y"}, "fc");
    test::OnnxBuilder::attr(g, "transB", std::int64_t{1});
    ir::Graph graph = import_onnx(b.model, ".", "connection_rule");
    normalize::normalize(graph);
    return graph;
  };
  LowerOptions o;
  o.policy = UnmappedPolicy::host;
  SECTION("the pooled map feeds a Gemm: the pool is a layer of its own, on the host") {
    const LoweredModel m = lower(build(true), find_target("akida-v2"), o);
    const auto conv_a = std::find_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.name == "conv_a"; });
    REQUIRE(conv_a != m.layers.end());
    CHECK(std::get<ConvAttributes>(conv_a->attributes).pool.kind == PoolKind::none);
    CHECK(conv_a->placement == Placement::device);
    const auto pool = std::find_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.name == "pool_a"; });
    REQUIRE(pool != m.layers.end());
    CHECK(pool->kind == LayerKind::max_pool);
    CHECK(pool->placement == Placement::host);
    REQUIRE(m.unmapped.size() == 1);
    CHECK(m.unmapped[0].node == "pool_a");
    CHECK_THAT(m.unmapped[0].reason,
               Catch::StartsWith("max_pool_must_feed_a_convolution: on this target a convolution with a fused MaxPool "
                                 "must feed a Conv/Depthwise layer"));
    CHECK_THAT(m.unmapped[0].reason, Catch::Contains("(feeds a Dense) (fused into 'conv_a', read by 'flatten'); alone: "
                                                     "layer_kind_not_supported_by_target"));
  }
  SECTION("the pooled map feeds a Conv: the pool is fused") {
    const LoweredModel m = lower(build(false), find_target("akida-v2"), o);
    CHECK(m.unmapped.empty());
    const auto conv_a = std::find_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.name == "conv_a"; });
    REQUIRE(conv_a != m.layers.end());
    CHECK(std::get<ConvAttributes>(conv_a->attributes).pool == max_pool(2, 2));
  }
  SECTION("cpu-int8 states no connection rule: the pool is fused before the Gemm") {
    const LoweredModel m = lower(build(true), find_target("cpu-int8"), o);
    CHECK(m.unmapped.empty());
    const auto conv_a = std::find_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.name == "conv_a"; });
    REQUIRE(conv_a != m.layers.end());
    CHECK(std::get<ConvAttributes>(conv_a->attributes).pool == max_pool(2, 2));
  }
}
