// Lookup-table activations inside a network: Conv -> LeakyRelu -> Conv -> Sigmoid -> Conv -> Tanh ->
// Conv -> HardSigmoid -> Conv -> HardSwish -> Conv, built here, generated for cpu-int8 (uint8). Its
// engine compiles and reproduces its golden vectors bit for bit, its QDQ export run by onnxruntime
// gives every layer's integers on every sample, and `check` says what generate did.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/export/qdq_export.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/ort/ort_layers.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
using statiq::test::ScratchDir;

namespace {

std::vector<float> random_values(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

// x [1, 3, 8, 8] -> conv1 (6, 3x3) -> act1 -> conv2 (6, 1x1) -> act2 ... -> conv6 (4, 1x1) -> y.
fs::path activation_chain(const fs::path& dir) {
  OnnxBuilder b(14);  // HardSwish is an opset-14 operator
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8});
  const char* acts[] = {"LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"};
  std::string in = "x";
  int channels = 3;
  for (int k = 1; k <= 6; ++k) {
    const int out = k == 6 ? 4 : 6, kernel = k == 1 ? 3 : 1;
    const std::string w = fmt::format("w{}", k), bias = fmt::format("b{}", k), conv = fmt::format("conv{}", k);
    b.initializer(w, {out, channels, kernel, kernel},
                  random_values(std::size_t(out * channels * kernel * kernel), 100u + unsigned(k), 1.5f));
    b.initializer(bias, {out}, random_values(std::size_t(out), 200u + unsigned(k), 0.5f));
    const std::string conv_out = k == 6 ? "y" : conv + "_out";
    auto& n = b.node("Conv", {in, w, bias}, {conv_out}, conv);
    if (kernel == 3) OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
    if (k == 6) break;
    const std::string act = acts[k - 1];
    auto& a = b.node(act, {conv_out}, {act + "_out"}, act);
    if (act == "LeakyRelu") OnnxBuilder::attr(a, "alpha", 0.1f);
    if (act == "HardSigmoid") OnnxBuilder::attr(a, "alpha", 0.25f);
    in = act + "_out";
    channels = out;
  }
  const fs::path file = dir / "activations.onnx";
  std::ofstream f(file, std::ios::binary);
  REQUIRE(b.model.SerializeToOstream(&f));
  return file;
}

}  // namespace

TEST_CASE("LookupTable activations in a network: cpu-int8 engine == onnxruntime on every layer, self-test bit-exact",
          "[ort][lookup_table]") {
  const ScratchDir dir("statiq_ort_activations");
  const std::size_t samples = 16;
  const std::vector<float> xs = random_values(samples * 3 * 64, 7u, 1.0f);
  statiq::io::write_npy<float>(dir.path / "x.npy", {samples, 3, 8, 8}, std::span<const float>(xs));

  GenerateOptions o;
  o.model = activation_chain(dir.path);
  o.calib = dir.path / "x.npy";
  o.target = "cpu-int8";
  o.output_dir = dir.path / "out";
  o.qdq = dir.path / "qdq.onnx";
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  CHECK(m.unmapped.empty());
  std::vector<std::string> tables;
  for (const Layer& l : m.layers)
    if (l.kind == statiq::LayerKind::lookup_table) tables.push_back(l.name);
  CHECK(tables == std::vector<std::string>{"LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"});

  // The engine: compiled from the generated files, its self-test reproduces the golden vectors.
  const std::string self_test = statiq::test::compile_and_self_test(o.output_dir, m.name);
  INFO(self_test);
  CHECK(self_test.empty());

  // onnxruntime on the QDQ export: every layer's integers on every sample.
  const auto compared = statiq::test::ort_layer_mismatches(
      m, o.qdq, dir.path / "x.npy", xs, 3 * 64, dir.path,
      fmt::format("--optimized-model '{}'", (dir.path / "optimized.onnx").string()));
  const std::string optimized = statiq::test::slurp(dir.path / "optimized.onnx");
  CHECK(optimized.find("QLinearLeakyRelu") != std::string::npos);  // onnxruntime's own tables ran
  CHECK(optimized.find("QLinearSigmoid") != std::string::npos);
  std::size_t total = 0, table_layers = 0;
  for (const statiq::test::LayerMismatches& c : compared) {
    INFO("layer " << c.layer << " '" << m.layers[c.layer].name << "'");
    CHECK(c.count == 0);
    total += c.count;
    table_layers += m.layers[c.layer].kind == statiq::LayerKind::lookup_table;
  }
  CHECK(table_layers == 5);
  CHECK(total == 0);
}

TEST_CASE("LookupTable activations: check gives generate's verdicts (cpu-int8: device; akida-v2, tflite-int8: refused)",
          "[ort][lookup_table][check]") {
  const ScratchDir dir("statiq_check_activations");
  const std::vector<float> xs = random_values(4 * 3 * 64, 8u, 1.0f);
  statiq::io::write_npy<float>(dir.path / "x.npy", {4, 3, 8, 8}, std::span<const float>(xs));
  const fs::path model = activation_chain(dir.path);
  ir::Graph g = load_onnx(model);
  normalize::normalize(g);
  const std::set<std::string> acts{"LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"};
  for (const char* target : {"cpu-int8", "akida-v2", "tflite-int8"}) {
    INFO(target);
    const bool cpu = std::string(target) == "cpu-int8";
    for (const legalize::NodeCompatibility& c : legalize::check_compatibility(g, find_target(target))) {
      if (!acts.count(c.node)) continue;
      INFO(c.node << ": " << c.rule);
      CHECK(c.refused == !cpu);
      CHECK(c.maps == cpu);
      if (cpu) CHECK(c.layer_kind == "LookupTable");
    }
    if (cpu) continue;
    GenerateOptions o;
    o.model = model;
    o.calib = dir.path / "x.npy";
    o.target = target;
    o.golden = 0;
    o.policy = UnmappedPolicy::host;
    CHECK_THROWS_WITH(generate(o), Catch::Contains("node 'LeakyRelu' (LeakyRelu): no statiq layer computes LeakyRelu on " +
                                                   std::string(std::string(target) == "akida-v2" ? "akida_v2" : "tflite_int8") +
                                                   " yet: it is a 256-entry lookup table as onnxruntime builds it"));
  }
}

TEST_CASE("LookupTable in QOperator form: QLinearLeakyRelu and QLinearSigmoid run by onnxruntime give the engine's "
          "integers",
          "[ort][lookup_table]") {
  const ScratchDir dir("statiq_qoperator_activations");
  const std::size_t samples = 8;
  const std::vector<float> xs = random_values(samples * 3 * 64, 9u, 1.0f);
  statiq::io::write_npy<float>(dir.path / "x.npy", {samples, 3, 8, 8}, std::span<const float>(xs));
  // x -> conv1 -> LeakyRelu -> conv2 -> Sigmoid -> conv3 -> y
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8});
  const char* acts[] = {"LeakyRelu", "Sigmoid"};
  std::string in = "x";
  int channels = 3;
  for (int k = 1; k <= 3; ++k) {
    const int out = k == 3 ? 4 : 5;
    const std::string w = fmt::format("w{}", k), bias = fmt::format("b{}", k), conv_out = k == 3 ? "y" : fmt::format("c{}", k);
    b.initializer(w, {out, channels, 1, 1}, random_values(std::size_t(out * channels), 300u + unsigned(k), 1.5f));
    b.initializer(bias, {out}, random_values(std::size_t(out), 400u + unsigned(k), 0.5f));
    b.node("Conv", {in, w, bias}, {conv_out}, fmt::format("conv{}", k));
    if (k == 3) break;
    auto& a = b.node(acts[k - 1], {conv_out}, {std::string(acts[k - 1]) + "_out"}, acts[k - 1]);
    if (k == 1) OnnxBuilder::attr(a, "alpha", 0.15f);
    in = std::string(acts[k - 1]) + "_out";
    channels = out;
  }
  GenerateOptions o;
  o.model = dir.path / "two.onnx";
  {
    std::ofstream f(o.model, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  o.calib = dir.path / "x.npy";
  o.target = "cpu-int8";
  o.golden = 0;
  o.qoperator = dir.path / "qop.onnx";
  const LoweredModel m = generate(o).model;
  const std::string exported = statiq::test::slurp(o.qoperator);
  CHECK(exported.find("QLinearLeakyRelu") != std::string::npos);
  CHECK(exported.find("QLinearSigmoid") != std::string::npos);
  const auto compared = statiq::test::ort_layer_mismatches(m, o.qoperator, dir.path / "x.npy", xs, 3 * 64, dir.path,
                                                           "--level disabled");
  for (const statiq::test::LayerMismatches& c : compared) {
    INFO("layer " << c.layer << " '" << m.layers[c.layer].name << "'");
    CHECK(c.count == 0);
  }
  CHECK(compared.size() == 6);  // input Quantize, 3 convolutions, 2 tables
}
