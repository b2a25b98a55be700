// statiq-codegen compare (codegen/compare): the engine against the float model (per-layer SQNR,
// re-derived here from the float executor and the simulation), against onnxruntime on the QDQ
// export (0 mismatches on mnist8), and a perturbed quantization whose first differing layer is
// known by construction.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "codegen/compare/compare.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using Catch::Matchers::Contains;

namespace {

const fs::path mnist_model = fs::path(STATIQ_SHARED_DIR) / "models" / "mnist8" / "model.onnx";
const fs::path digits = fs::path(STATIQ_SOURCE_DIR) / "examples" / "data" / "mnist_1k_u8.npy";

GenerateOptions mnist_options() {
  GenerateOptions o;
  o.model = mnist_model;
  o.target = "cpu-int8";
  o.calib = digits;
  o.read.max_samples = 100;
  o.max_eval = 1;
  o.golden = 0;
  return o;
}

const LoweredModel& mnist_quantized() {
  static const LoweredModel m = generate(mnist_options()).model;
  return m;
}

// Digit `row` of the calibration file (inside the calibrated ranges) as 784 floats.
std::vector<float> digit(std::size_t row) {
  const std::vector<float> all = statiq::io::read_npy(digits).as<float>();
  return {all.begin() + long(row * 784), all.begin() + long((row + 1) * 784)};
}

std::size_t integer_layers(const LoweredModel& m) {
  std::size_t n = 0;
  for (const Layer& l : m.layers) n += l.kind != statiq::LayerKind::dequantize;
  return n;
}

}  // namespace

TEST_CASE("compare against the float model: mnist8, SQNR per layer re-derived", "[compare]") {
  const LoweredModel& m = mnist_quantized();
  ir::Graph graph = load_onnx(mnist_model);
  normalize::normalize(graph);
  const std::vector<float> x = digit(0);
  const Comparison c = compare_with_float(m, graph, x.data());
  REQUIRE(c.layers.size() == integer_layers(m));
  CHECK(c.against == CompareAgainst::float_model);

  // Independent: the float executor's tensors, the simulation's integers dequantized by hand.
  const exec::FloatExecutor executor(graph);
  exec::RunOptions ro;
  ro.record_intermediates = true;
  const exec::RunResult fr = executor.run({exec::Array::floats({1, 1, 28, 28}, x)}, ro);
  const SimulationResult sim = simulate(m, x.data());
  for (const LayerComparison& l : c.layers) {
    INFO("layer " << l.layer << " '" << l.name << "' SQNR " << l.sqnr_db << " max|diff| " << l.max_abs_diff);
    const Layer& layer = m.layers[l.layer];
    CHECK(l.name == layer.name);
    CHECK_FALSE(l.mismatches.has_value());  // integers are compared only against onnxruntime
    const exec::Array input_array = exec::Array::floats({1, 1, 28, 28}, x);
    const auto found = fr.tensors.find(layer.kind == statiq::LayerKind::quantize ? m.input_tensor : layer.output_tensor);
    const exec::Array& ref = found != fr.tensors.end() ? found->second : input_array;
    CHECK((found != fr.tensors.end() || layer.kind == statiq::LayerKind::quantize));
    const statiq::Shape s = sim.shapes[l.layer];
    REQUIRE(std::size_t(ref.size()) == std::size_t(s.size()));
    double signal = 0, noise = 0, worst = 0;
    for (int h = 0; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w)
        for (int ch = 0; ch < s.c; ++ch) {
          // NCHW float, NHWC integers.
          const double r = ref.f[(std::size_t(ch) * s.h + h) * s.w + w];
          const std::int32_t q = sim.layers[l.layer][(std::size_t(h) * s.w + w) * s.c + ch];
          const double d = double(layer.output.scale) * (q - layer.output.zero_point);
          signal += r * r;
          noise += (r - d) * (r - d);
          worst = std::max(worst, std::abs(r - d));
        }
    CHECK(l.max_abs_diff == Approx(worst).margin(1e-6));
    if (noise == 0) {
      CHECK(std::isinf(l.sqnr_db));
    } else {
      CHECK(l.sqnr_db == Approx(10 * std::log10(signal / noise)).epsilon(1e-4));
    }
  }
  // Sanity of the numbers: the input is quantized within half a step (0..255 pixels); every
  // computed layer has finite, plausible SQNR that does not exceed the input's; the error
  // accumulates: the output is no better than the first convolution.
  const LayerComparison& input = c.layers.front();
  CHECK(m.layers[input.layer].kind == statiq::LayerKind::quantize);
  CHECK(input.max_abs_diff <= 0.5 * m.layers[input.layer].output.scale * (1 + 1e-6));
  for (std::size_t k = 1; k < c.layers.size(); ++k) {
    INFO(c.layers[k].name);
    CHECK(std::isfinite(c.layers[k].sqnr_db));
    CHECK(c.layers[k].sqnr_db > 15.0);
    CHECK(c.layers[k].sqnr_db <= input.sqnr_db);
  }
  CHECK(c.layers.back().sqnr_db <= c.layers[1].sqnr_db);
  CHECK_FALSE(c.first_difference.has_value());  // all above the default 20 dB on a calibration digit

  // A threshold above every layer's SQNR: the first layer below it is marked (the Quantize layer
  // is exact here, +inf).
  const Comparison strict = compare_with_float(m, graph, x.data(), 1000.0);
  std::size_t expected = 0;
  while (expected < strict.layers.size() && !(strict.layers[expected].sqnr_db < 1000.0)) ++expected;
  REQUIRE(expected < strict.layers.size());
  CHECK(strict.first_difference == expected);
  const std::string text = comparison_text(strict);
  CHECK_THAT(text, Contains("first layer under 1000.0 dB: layer " + std::to_string(strict.layers[expected].layer)));

  // compare(): the whole job (quantize as generate() does, row 3 of the input file).
  CompareOptions o;
  o.generate = mnist_options();
  o.input = digits;
  o.row = 3;
  o.against = CompareAgainst::float_model;
  const Comparison whole = compare(o);
  const std::vector<float> x3 = digit(3);
  const Comparison direct = compare_with_float(m, graph, x3.data());
  REQUIRE(whole.layers.size() == direct.layers.size());
  for (std::size_t k = 0; k < whole.layers.size(); ++k) {
    CHECK(whole.layers[k].max_abs_diff == direct.layers[k].max_abs_diff);
    CHECK((whole.layers[k].sqnr_db == direct.layers[k].sqnr_db ||
           (std::isnan(whole.layers[k].sqnr_db) && std::isnan(direct.layers[k].sqnr_db))));
  }
  o.row = 1000;  // the file has 1000 digits
  CHECK_THROWS_WITH(compare(o), Contains("--row 1000 is outside [0, 1000)"));
  CHECK_THROWS_WITH(parse_compare_against("tensorflow"), Contains("choose onnxruntime, tflite, tflite-xnnpack or float"));
  CHECK(parse_compare_against("tflite") == CompareAgainst::tflite);
  CHECK(parse_compare_against("tflite-xnnpack") == CompareAgainst::tflite_xnnpack);
}

TEST_CASE("compare against onnxruntime: a clear error when node or tools/ort is missing", "[compare]") {
  const LoweredModel& m = mnist_quantized();
  const std::vector<float> x = digit(0);
  OrtRunner no_node;
  no_node.node = "/nonexistent/bin/node";
  CHECK_THROWS_WITH(compare_with_onnxruntime(m, x.data(), no_node),
                    Contains("node ('/nonexistent/bin/node') cannot be run"));
  OrtRunner no_runner;
  no_runner.run_js = "/nonexistent/tools/ort/run.js";
  CHECK_THROWS_WITH(compare_with_onnxruntime(m, x.data(), no_runner), Contains("does not exist"));
}

#ifdef STATIQ_COMPARE_WITH_ORT
TEST_CASE("compare against onnxruntime: mnist8, every layer equal", "[compare][ort]") {
  const LoweredModel& m = mnist_quantized();
  for (std::size_t row : {0u, 7u, 500u}) {
    const std::vector<float> x = digit(row);
    const Comparison c = compare_with_onnxruntime(m, x.data());
    REQUIRE(c.layers.size() == integer_layers(m));
    for (const LayerComparison& l : c.layers) {
      INFO("row " << row << " layer " << l.layer << " '" << l.name << "'");
      REQUIRE(l.mismatches.has_value());
      CHECK(*l.mismatches == 0);
      CHECK(l.max_abs_diff == 0.0);
      CHECK(std::isinf(l.sqnr_db));
      CHECK(l.sqnr_db > 0);
      CHECK(l.elements == std::size_t(l.shape.size()));
    }
    CHECK_FALSE(c.first_difference.has_value());
    CHECK_THAT(comparison_text(c), Contains("every layer matches onnxruntime bit for bit"));
  }
}

TEST_CASE("compare against onnxruntime: a perturbed quantization parts at the layer that was changed", "[compare][ort]") {
  // The engine with max-per-axis weights everywhere; onnxruntime runs an export whose second
  // convolution has per-tensor weights. Activation ranges come from the float model, so the
  // layers before Convolution110 are identical and it is the first to differ.
  const LoweredModel& engine = mnist_quantized();
  GenerateOptions o = mnist_options();
  o.quantize.weight_overrides["Convolution110"] = WeightQuantizerKind::max;
  const LoweredModel exported = generate(o).model;
  const std::vector<float> x = digit(0);
  const Comparison c = compare_with_onnxruntime(engine, x.data(), {}, &exported);
  REQUIRE(c.first_difference.has_value());
  const LayerComparison& first = c.layers[*c.first_difference];
  CHECK(first.name == "Convolution110");
  for (std::size_t k = 0; k < *c.first_difference; ++k) {
    CHECK(*c.layers[k].mismatches == 0);
    CHECK(c.layers[k].max_abs_diff == 0.0);
  }
  // onnxruntime == simulation (the case above), so the count is that of the two simulations.
  const SimulationResult a = simulate(engine, x.data()), b = simulate(exported, x.data());
  std::size_t differing = 0;
  for (std::size_t k = 0; k < a.layers[first.layer].size(); ++k)
    differing += a.layers[first.layer][k] != b.layers[first.layer][k];
  REQUIRE(differing > 0);
  CHECK(*first.mismatches == differing);
  CHECK(first.max_abs_diff > 0);
  CHECK(std::isfinite(first.sqnr_db));
  const std::string text = comparison_text(c);
  CHECK_THAT(text, Contains("first difference: layer " + std::to_string(first.layer) + " 'Convolution110'"));
  CHECK_THAT(text, Contains(std::to_string(differing) + " of " + std::to_string(first.elements) + " integers differ"));
}
TEST_CASE("compare against onnxruntime: a dynamic model, floats bit for bit; a perturbed one parts where changed",
          "[compare][ort][dynamic]") {
  GenerateOptions o = mnist_options();
  o.dynamic = true;
  const LoweredModel engine = generate(o).model;
  REQUIRE(engine.dynamic);
  const std::vector<float> x = digit(3);
  const Comparison same = compare_with_onnxruntime(engine, x.data());
  REQUIRE(same.layers.size() == engine.layers.size());  // every dynamic layer outputs a float tensor
  for (const LayerComparison& l : same.layers) {
    INFO("layer " << l.layer << " '" << l.name << "'");
    CHECK(*l.mismatches == 0);
    CHECK(l.max_abs_diff == 0.0);
  }
  CHECK_THAT(comparison_text(same), Contains("every layer matches onnxruntime bit for bit"));

  // The export with per-tensor weights in Convolution110 only: the first layer agrees, the second
  // differs in as many floats as the two simulations do.
  o.quantize.weight_overrides["Convolution110"] = WeightQuantizerKind::max;
  const LoweredModel exported = generate(o).model;
  const Comparison c = compare_with_onnxruntime(engine, x.data(), {}, &exported);
  REQUIRE(c.first_difference.has_value());
  CHECK(c.layers[*c.first_difference].name == "Convolution110");
  CHECK(*c.layers[0].mismatches == 0);
  const SimulationResult a = simulate(engine, x.data()), b = simulate(exported, x.data());
  std::size_t differing = 0;
  for (std::size_t k = 0; k < a.float_layers[1].size(); ++k) differing += std::bit_cast<std::uint32_t>(a.float_layers[1][k]) != std::bit_cast<std::uint32_t>(b.float_layers[1][k]);
  REQUIRE(differing > 0);
  CHECK(*c.layers[1].mismatches == differing);
  CHECK_THAT(comparison_text(c), Contains(" floats differ"));
}
#endif

TEST_CASE("compare takes generate's options: --legalize (an input layer whose pads move onto the input)",
          "[compare]") {
  // 8x8x3 -> Conv 3x3 stride 2 pads [1,1,1,1] -> Relu -> Conv 3x3 pads 1 -> Relu: Akida's input layer
  // wants "same" [0,0,1,1]; --legalize pre-pads the image to 10x10 and makes the conv valid.
  const statiq::test::ScratchDir dir("statiq_compare_legalize");
  statiq::test::OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 4, 4});
  std::vector<float> w1, w2;
  for (int i = 0; i < 4 * 3 * 9; ++i) w1.push_back(float((i * 37) % 23 - 11) / 64.0f);
  for (int i = 0; i < 4 * 4 * 9; ++i) w2.push_back(float((i * 29) % 19 - 9) / 16.0f);
  b.initializer("w1", {4, 3, 3, 3}, w1).initializer("b1", {4}, {0.5f, -0.25f, 0.125f, 1.0f});
  b.initializer("w2", {4, 4, 3, 3}, w2).initializer("b2", {4}, {0.0f, 0.25f, -0.5f, 0.75f});
  for (const char* name : {"in", "second"}) {
    const bool first = std::string(name) == "in";
    auto& n = b.node("Conv", {first ? "x" : "r", first ? "w1" : "w2", first ? "b1" : "b2"}, {first ? "t" : "u"}, name);
    statiq::test::OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{3, 3});
    statiq::test::OnnxBuilder::attr(n, "strides", std::vector<std::int64_t>{first ? 2 : 1, first ? 2 : 1});
    statiq::test::OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
    b.node("Relu", {first ? "t" : "u"}, {first ? "r" : "y"}, std::string(name) + "_relu");
  }
  const fs::path model = dir.path / "prepad.onnx";
  {
    std::ofstream f(model, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  std::vector<float> pixels;
  for (int i = 0; i < 8 * 3 * 64; ++i) pixels.push_back(float((i * 53) % 256));
  const fs::path samples = dir.path / "x.npy";
  statiq::io::write_npy<float>(samples, {8, 3, 8, 8}, std::span<const float>(pixels));

  CompareOptions o;
  o.generate.model = model;
  o.generate.target = "akida-v2";
  o.generate.calib = samples;
  o.generate.golden = 0;
  o.generate.legalize = legalize::LegalizeOptions{};
  o.input = samples;
  o.row = 5;
  o.against = CompareAgainst::float_model;
  const Comparison c = compare(o);
  const GenerateResult r = generate(o.generate);
  REQUIRE(r.legalization);
  CHECK(r.legalization->input_padding.any());
  CHECK(r.model.input_shape.h == 10);
  REQUIRE(c.layers.size() == integer_layers(r.model));
  for (const LayerComparison& l : c.layers) {
    INFO("layer " << l.name << " SQNR " << l.sqnr_db);
    CHECK(l.sqnr_db > 20.0);
  }
  CHECK(!c.first_difference);
}
