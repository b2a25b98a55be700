// statiq-codegen --dynamic (codegen/quantize/dynamic.hpp): onnxruntime's dynamic quantization as a
// generated engine. mnist8 and opt_mnist generate, every layer dynamic with int8 weights re-derived
// here, the emitted C++ compiles and reproduces its golden vectors bit for bit; models with float
// ops between Conv/Gemm, other targets and other weight quantizers are refused by name, writing nothing.
// The MLPerf models generate too: residual Adds stay float, the final average is folded into the Gemm.
// (Equality with onnxruntime on the exported dynamic model: tests/ort/dynamic_test.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "codegen/emit/emit.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/quantize/dynamic.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::ScratchDir;
using statiq::test::slurp;
using statiq::test::OnnxBuilder;
using statiq::Shape;

namespace {

const fs::path models_dir = fs::path(STATIQ_SHARED_DIR) / "models";

GenerateOptions dynamic_options(const std::string& model, const fs::path& out) {
  GenerateOptions o;
  o.model = models_dir / model / "model.onnx";
  o.calib = models_dir / model / "inputs.npy";
  o.target = "cpu-int8";
  o.dynamic = true;
  o.output_dir = out;
  o.name = model;
  return o;
}

// The weights as onnxruntime's quantize_dynamic makes them, re-derived from the float weights:
// symmetric int8, scale max|w| / 127 (per tensor or per output channel), zero point 0.
void check_weights(const Layer& l, bool per_channel) {
  const std::size_t groups = per_channel ? l.bias.size() : 1;
  REQUIRE(l.weight_scales.size() == groups);
  const std::size_t per_group = l.weights.size() / groups;
  for (std::size_t g = 0; g < groups; ++g) {
    double absmax = 0;
    for (std::size_t i = 0; i < per_group; ++i) absmax = std::max(absmax, std::fabs(double(l.weights[g * per_group + i])));
    CHECK(l.weight_scales[g] == Approx(absmax / 127).epsilon(1e-6));
    std::size_t outside = 0, off = 0;
    for (std::size_t i = 0; i < per_group; ++i) {
      const std::int32_t q = l.qweights[g * per_group + i];
      outside += q < -127 || q > 127;
      // within half a step of the float weight (w / scale is one float division: a relative 1e-6 of slack)
      off += std::fabs(q * double(l.weight_scales[g]) - l.weights[g * per_group + i]) >
             0.5 * l.weight_scales[g] * (1 + 1e-6) + 1e-12;
    }
    CHECK(outside == 0);
    CHECK(off == 0);
  }
}

}  // namespace

TEST_CASE("--dynamic: mnist8 and opt_mnist generate dynamic engines that compile and are bit-exact",
          "[codegen][dynamic]") {
  const std::string model = GENERATE(as<std::string>{}, "mnist8", "opt_mnist");
  const bool per_channel = GENERATE(false, true);
  INFO(model << (per_channel ? " per channel" : " per tensor"));
  const ScratchDir scratch("statiq_dynamic_" + model);
  GenerateOptions o = dynamic_options(model, scratch.path / "out");
  o.quantize.weights = per_channel ? WeightQuantizerKind::max_per_axis : WeightQuantizerKind::max;
  const GenerateResult r = generate(o);

  CHECK(r.model.dynamic);
  // Conv -> Add -> Relu -> MaxPool twice, then the Gemm: three dynamic layers, no Quantize/Dequantize.
  REQUIRE(r.model.layers.size() == 3);
  for (const Layer& l : r.model.layers) {
    INFO(l.name);
    CHECK(l.dynamic);
    CHECK(l.weight_zero_point == 0);
    CHECK(l.qbias.empty());
    check_weights(l, per_channel);
  }
  CHECK(r.model.layers[0].kind == statiq::LayerKind::conv2d);
  CHECK(r.model.layers[2].kind == statiq::LayerKind::dense);
  // Dynamic quantization of mnist barely moves the prediction (the samples are real digits).
  REQUIRE(r.top1_agreement);
  CHECK(*r.top1_agreement >= 0.97);
  REQUIRE(r.mean_cosine);
  CHECK(*r.mean_cosine > 0.999);
  // Per-layer SQNR is measured on the dynamic layers' float outputs.
  for (const LayerReport& l : r.report.layers) CHECK(l.sqnr_db.has_value());

  const std::string header = slurp(o.output_dir / (model + ".hpp"));
  CHECK_THAT(header, Catch::Contains("statiq::DynamicConv2D<"));
  CHECK_THAT(header, Catch::Contains("statiq::DynamicDense<"));
  CHECK_THAT(header, Catch::Contains("inline constexpr bool dynamic = true;"));
  CHECK_THAT(slurp(o.output_dir / (model + "_report.json")), Catch::Contains("\"quantization\": \"dynamic\""));
  CHECK(statiq::test::compile_and_self_test(o.output_dir, model) == "");
  CHECK_THAT(slurp(o.output_dir / "selftest.log"), Catch::Contains("3 golden vectors, bit-exact"));
}

TEST_CASE("--dynamic: the MLPerf models (residual Adds, depthwise convs, averages folded into the Gemm)",
          "[codegen][dynamic]") {
  struct Expected {
    const char* model;
    std::size_t convs, adds;
    const char* average;  // the pooling node folded into the Gemm
    Shape gemm_input;     // the map the Gemm now reads
  };
  const Expected e = GENERATE(Expected{"mlperf_resnet8", 9, 3, "average_pooling2d", {8, 8, 64}},
                              Expected{"mlperf_kws", 9, 0, "average_pooling2d", {25, 5, 64}},
                              Expected{"mlperf_vww", 27, 0, "average_pooling2d", {3, 3, 256}});
  INFO(e.model);
  const ScratchDir scratch(std::string("statiq_dynamic_") + e.model);
  const GenerateOptions o = dynamic_options(e.model, scratch.path / "out");
  const GenerateResult r = generate(o);
  std::size_t convs = 0, adds = 0;
  for (const Layer& l : r.model.layers) {
    INFO(l.name);
    CHECK(l.dynamic);
    if (l.kind == statiq::LayerKind::add) ++adds;
    else if (l.kind != statiq::LayerKind::dense) ++convs, check_weights(l, true);
  }
  CHECK(convs == e.convs);
  CHECK(adds == e.adds);
  // No float average is left: it is part of the Gemm, which reads the map.
  const Layer& gemm = r.model.layers.back();
  REQUIRE(gemm.kind == statiq::LayerKind::dense);
  CHECK(std::get<statiq::DenseAttributes>(gemm.attributes).input == e.gemm_input);
  CHECK(std::find(gemm.onnx_nodes.begin(), gemm.onnx_nodes.end(), e.average) != gemm.onnx_nodes.end());
  check_weights(gemm, true);
  CHECK(std::any_of(r.report.notes.begin(), r.report.notes.end(), [&](const std::string& n) {
    return n.find(std::string("the average '") + e.average + "'") != std::string::npos;
  }));
  // The fold is right where it counts: the engine's logits against the float model's (a wrong
  // divisor or window would cost tens of dB), and the predictions agree.
  REQUIRE(gemm.output_tensor == "dense_preact");
  REQUIRE(r.report.layers.back().sqnr_db.has_value());
  CHECK(*r.report.layers.back().sqnr_db > 25.0);
  REQUIRE(r.top1_agreement);
  CHECK(*r.top1_agreement == 1.0);
  CHECK(statiq::test::compile_and_self_test(o.output_dir, e.model) == "");
  CHECK_THAT(slurp(o.output_dir / "selftest.log"), Catch::Contains("3 golden vectors, bit-exact"));
}

TEST_CASE("--dynamic refusals name the node and the way out, and write nothing", "[codegen][dynamic]") {
  const ScratchDir scratch("statiq_dynamic_refusals");
  auto refused = [&](GenerateOptions o, std::initializer_list<std::string> parts) {
    std::string message;
    try {
      generate(o);
      FAIL("generate() accepted it");
    } catch (const std::exception& e) {
      message = e.what();
    }
    INFO(message);
    for (const std::string& p : parts) CHECK_THAT(message, Catch::Contains(p));
    CHECK(!fs::exists(o.output_dir));
  };
  SECTION("a float AveragePool between dynamic layers") {
    // x -> Conv c -> AveragePool p (2x2 / 2) -> Conv d: an average that no Gemm can absorb.
    OnnxBuilder b;
    b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 2, 2});
    b.initializer("cw", {1, 1, 1, 1}, {0.5f}).initializer("dw", {1, 1, 1, 1}, {2.0f});
    b.node("Conv", {"x", "cw"}, {"t"}, "c");
    auto& p = b.node("AveragePool", {"t"}, {"u"}, "p");
    OnnxBuilder::attr(p, "kernel_shape", std::vector<std::int64_t>{2, 2});
    OnnxBuilder::attr(p, "strides", std::vector<std::int64_t>{2, 2});
    b.node("Conv", {"u", "dw"}, {"y"}, "d");
    statiq::codegen::ir::Graph g = import_onnx(b.model, ".", "avg.onnx");
    normalize::normalize(g);
    LoweredModel m = lower(g, find_target("cpu-int8"), LowerOptions{});
    std::string message;
    try {
      quantize_dynamic(m);
      FAIL("quantize_dynamic() accepted a float AveragePool between convolutions");
    } catch (const std::exception& ex) {
      message = ex.what();
    }
    INFO(message);
    CHECK_THAT(message, Catch::Contains("--dynamic: node 'p' (AveragePool"));
    CHECK_THAT(message, Catch::Contains("onnxruntime's own summation order"));
    CHECK_THAT(message, Catch::Contains("Quantize this model statically (without --dynamic)"));
  }
  SECTION("another target") {
    GenerateOptions o = dynamic_options("mnist8", scratch.path / "akida");
    o.target = "akida-v2";
    refused(o, {"--dynamic", "use --target cpu-int8", "akida-v2"});
  }
  SECTION("a weight quantizer onnxruntime's dynamic quantization does not have") {
    GenerateOptions o = dynamic_options("mnist8", scratch.path / "std");
    o.quantize.weights = WeightQuantizerKind::std;
    refused(o, {"--dynamic: node 'Convolution28'", "max (per tensor) or max-per-axis"});
  }
}
