// The trained speech-embedding CNN of issue 12, in miniature: a layout-only Reshape at the input
// ([1, 640] -> [1, 1, 64, 10]), then Conv -> LeakyRelu -> Max with a constant -> MaxPool, twice,
// then Flatten -> Gemm. Generated for cpu-int8 (refused before: the Reshape, then LeakyRelu had no
// layer): its engine is bit-exact on its golden vectors, its QDQ export (a drop-in: [1, 640] in) run
// by onnxruntime gives every layer's integers, and check maps every node as generate does. Layout
// ops that would move bytes are refused by name, with the shapes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
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
using statiq::test::uniform_values;
using statiq::test::ScratchDir;

namespace {


// `reshape_to`: the dims the input Reshape gives ([1, 1, 64, 10] keeps the bytes in place).
fs::path speech_cnn(const fs::path& file, const std::vector<std::int64_t>& reshape_to) {
  OnnxBuilder b;
  b.input("audio", {1, 640}).output("embedding", {1, 12});
  b.initializer_i64("shape", {4}, reshape_to);
  b.node("Reshape", {"audio", "shape"}, {"frames"}, "reshape_input");
  std::string x = "frames";
  int c = int(reshape_to[1]), h = int(reshape_to[2]), w = int(reshape_to[3]);
  for (int k = 1; k <= 2; ++k) {
    const int f = 4 * k;
    const std::string p = fmt::format("block{}_", k);
    b.initializer(p + "w", {f, c, 3, 3}, uniform_values(std::size_t(f * c * 9), 10u + unsigned(k), -0.6f, 0.6f));
    b.initializer(p + "b", {f}, uniform_values(std::size_t(f), 20u + unsigned(k), -0.2f, 0.2f));
    OnnxBuilder::attr(b.node("Conv", {x, p + "w", p + "b"}, {p + "conv"}, p + "conv"), "pads",
                      std::vector<std::int64_t>{1, 1, 1, 1});
    OnnxBuilder::attr(b.node("LeakyRelu", {p + "conv"}, {p + "leaky"}, p + "leaky"), "alpha", 0.2f);
    b.initializer(p + "floor", {1}, {-0.05f});
    b.node("Max", {p + "leaky", p + "floor"}, {p + "max"}, p + "max");
    auto& pool = b.node("MaxPool", {p + "max"}, {p + "pool"}, p + "pool");
    OnnxBuilder::attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
    OnnxBuilder::attr(pool, "strides", std::vector<std::int64_t>{2, 2});
    x = p + "pool";
    c = f, h /= 2, w /= 2;
  }
  b.node("Flatten", {x}, {"flat"}, "flatten");
  b.initializer("fc_w", {12, c * h * w}, uniform_values(std::size_t(12 * c * h * w), 30u, -0.3f, 0.3f));
  b.initializer("fc_b", {12}, uniform_values(12, 31u, -0.1f, 0.1f));
  OnnxBuilder::attr(b.node("Gemm", {"flat", "fc_w", "fc_b"}, {"embedding"}, "fc"), "transB", std::int64_t{1});
  std::ofstream out(file, std::ios::binary);
  REQUIRE(b.model.SerializeToOstream(&out));
  return file;
}

}  // namespace

TEST_CASE("speech CNN (Reshape at the input, Conv, LeakyRelu, Max with a constant, MaxPool): cpu-int8 engine == "
          "onnxruntime on every layer, self-test bit-exact, check agrees",
          "[ort][lookup_table][layout]") {
  const ScratchDir dir("statiq_ort_speech_cnn");
  const std::size_t samples = 12;
  const std::vector<float> xs = uniform_values(samples * 640, 5u, -1.0f, 1.0f);
  statiq::io::write_npy<float>(dir.path / "audio.npy", {samples, 640}, std::span<const float>(xs));

  GenerateOptions o;
  o.model = speech_cnn(dir.path / "speech.onnx", {1, 1, 64, 10});
  o.calib = dir.path / "audio.npy";
  o.target = "cpu-int8";
  o.output_dir = dir.path / "out";
  o.qdq = dir.path / "qdq.onnx";
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  CHECK(m.unmapped.empty());
  CHECK(m.input_shape == statiq::Shape{64, 10, 1});  // the Reshape is the input's new shape: nothing runs for it
  std::size_t tables = 0;
  for (const Layer& l : m.layers) tables += l.kind == statiq::LayerKind::lookup_table;
  CHECK(tables == 4);  // LeakyRelu and Max(x, -0.05) in each block

  const std::string self_test = statiq::test::compile_and_self_test(o.output_dir, m.name);
  INFO(self_test);
  CHECK(self_test.empty());

  // onnxruntime on the drop-in export ([1, 640] float in), every layer on every sample.
  std::size_t total = 0;
  const auto compared = statiq::test::ort_layer_mismatches(m, o.qdq, dir.path / "audio.npy", xs, 640, dir.path);
  CHECK(compared.size() == m.layers.size() - 1);  // every layer but the final Dequantize's float
  for (const statiq::test::LayerMismatches& c : compared) {
    INFO("layer " << c.layer << " '" << m.layers[c.layer].name << "'");
    CHECK(c.count == 0);
    total += c.count;
  }
  CHECK(total == 0);

  // check: every node maps on cpu-int8, the Reshape and the Max among them.
  ir::Graph g = load_onnx(o.model);
  normalize::normalize(g);
  std::size_t nodes = 0;
  for (const legalize::NodeCompatibility& c : legalize::check_compatibility(g, find_target("cpu-int8"))) {
    INFO(c.node << ": " << c.rule);
    CHECK(c.maps);
    CHECK_FALSE(c.refused);
    ++nodes;
  }
  CHECK(nodes == g.nodes.size());
}

TEST_CASE("a layout op that moves bytes in statiq's NHWC tensors is a Copy: cpu-int8 == onnxruntime on every layer",
          "[ort][layout]") {
  const ScratchDir dir("statiq_layout_copy");
  const std::size_t samples = 6;
  const std::vector<float> xs = uniform_values(samples * 640, 6u, -1.0f, 1.0f);
  statiq::io::write_npy<float>(dir.path / "audio.npy", {samples, 640}, std::span<const float>(xs));
  GenerateOptions o;
  // [1, 640] -> [1, 4, 16, 10]: 4 channels of a 16x10 map; element (c, h, w) is at 160c + 10h + w
  // in the input, at 4(10h + w) + c in NHWC: a transposition, which a Copy's table does.
  o.model = speech_cnn(dir.path / "permuting.onnx", {1, 4, 16, 10});
  o.calib = dir.path / "audio.npy";
  o.target = "cpu-int8";
  o.output_dir = dir.path / "out";
  o.qdq = dir.path / "qdq.onnx";
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  CHECK(m.unmapped.empty());
  const Layer* copy = nullptr;
  for (const Layer& l : m.layers)
    if (l.kind == statiq::LayerKind::copy) copy = &l;
  REQUIRE(copy);
  CHECK(copy->onnx_nodes == std::vector<std::string>{"reshape_input"});
  CHECK(copy->copy_of == "Reshape");
  // NHWC output offset 4(10h + w) + c reads input offset 160c + 10h + w: (c, h, w) = (3, 2, 5).
  CHECK(copy->qweights.at(std::size_t(4 * (10 * 2 + 5) + 3)) == 160 * 3 + 10 * 2 + 5);
  const std::string self_test = statiq::test::compile_and_self_test(o.output_dir, m.name);
  INFO(self_test);
  CHECK(self_test.empty());
  std::size_t total = 0;
  const auto compared = statiq::test::ort_layer_mismatches(m, o.qdq, dir.path / "audio.npy", xs, 640, dir.path);
  CHECK(compared.size() == m.layers.size() - 1);
  for (const statiq::test::LayerMismatches& c : compared) {
    INFO("layer " << c.layer << " '" << m.layers[c.layer].name << "'");
    CHECK(c.count == 0);
    total += c.count;
  }
  CHECK(total == 0);
  ir::Graph g = load_onnx(o.model);
  normalize::normalize(g);
  for (const legalize::NodeCompatibility& c : legalize::check_compatibility(g, find_target("cpu-int8"))) {
    INFO(c.node << ": " << c.rule);
    CHECK(c.maps);
  }
}
