// No silent wrong answers (issue 12): an engine that would answer the same whatever its input is
// refused by name with the numbers, never generated; the quality figures compare the right tensors
// or say why they cannot; the figures are in the reports too.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/generate/generate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
using statiq::test::ScratchDir;
using statiq::test::slurp;

namespace {

void save(const OnnxBuilder& b, const fs::path& file) {
  std::ofstream f(file, std::ios::binary);
  REQUIRE(b.model.SerializeToOstream(&f));
}

// n samples of c x h x w values: sample s holds lo + (hi - lo) * ((s * 7 + i * 3) % 17) / 16.
fs::path samples(const fs::path& file, std::size_t n, std::size_t c, std::size_t h, std::size_t w, float lo, float hi) {
  std::vector<float> v;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t i = 0; i < c * h * w; ++i) v.push_back(lo + (hi - lo) * float((s * 7 + i * 3) % 17) / 16.0f);
  statiq::io::write_npy<float>(file, {n, c, h, w}, std::span<const float>(v));
  return file;
}

// x [1,1,8,8] -> Conv 1x1 (weight cw) -> Relu -> Conv 1x1 (weight 1) -> y: the middle tensor's range
// is cw times the input's.
OnnxBuilder two_convs(float cw) {
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).output("y", {1, 1, 8, 8});
  b.initializer("cw", {1, 1, 1, 1}, {cw}).initializer("cb", {1}, {0.0f});
  b.initializer("dw", {1, 1, 1, 1}, {1.0f}).initializer("db", {1}, {0.0f});
  b.node("Conv", {"x", "cw", "cb"}, {"t"}, "small");
  b.node("Relu", {"t"}, {"r"}, "relu");
  b.node("Conv", {"r", "dw", "db"}, {"y"}, "next");
  return b;
}

std::string refusal(const GenerateOptions& o) {
  try {
    generate(o);
  } catch (const std::exception& e) {
    CHECK(!fs::exists(o.output_dir));  // nothing half-written
    return e.what();
  }
  FAIL("generate() accepted it");
  return "";
}

}  // namespace

TEST_CASE("a tensor whose range is below one step of the target's fixed point is refused, not zeroed",
          "[codegen][quality]") {
  const ScratchDir scratch("statiq_silent_range");
  GenerateOptions o;
  o.model = scratch.path / "small.onnx";
  o.calib = samples(scratch.path / "x.npy", 8, 1, 8, 8, 0.0f, 1.0f);
  o.target = "akida-v2";
  o.policy = UnmappedPolicy::host;  // the 1x1 input convolution is no InputConv2D: on the host, same arithmetic
  o.output_dir = scratch.path / "out";
  o.golden = 2;

  // 8-bit unsigned pow2 after the ReLU: at most 8 fractional bits, one step = 2^-8 = 0.0039; the
  // middle tensor reaches 0.001 * 1.0 = 0.001 < one step: every value would be 0.
  save(two_convs(0.001f), o.model);
  const std::string m = refusal(o);
  INFO(m);
  // Both tensors, named at once: the output is 0.001 too (signed: 7 fractional bits).
  CHECK_THAT(m, Catch::Contains("2 tensor(s) have a calibrated range below one quantization step"));
  CHECK_THAT(m, Catch::Contains("node 'small' (InputConv2D): output tensor 'r', calibrated range [0.000000, 0.001000], "
                                "one step 0.003906 = 2^-8 of its 8-bit format (at most 8 fractional bits)"));
  CHECK_THAT(m, Catch::Contains("one step 0.007812 = 2^-7 of its 8-bit format (at most 7 fractional bits)"));
  CHECK_THAT(m, Catch::Contains("No bit-width of akida_v2 represents 'small', 'next': scale the layer's weights and "
                                "bias up by a power of two"));
  CHECK_THAT(m, !Catch::Contains("--node-config"));  // 8 bits already: no such way out

  // The same graph with a range of 0.05 (12.8 steps) generates.
  save(two_convs(0.05f), o.model);
  const GenerateResult r = generate(o);
  CHECK(fs::exists(o.output_dir / "small.hpp"));
  REQUIRE(r.mean_cosine);
  CHECK(*r.mean_cosine > 0.95);
}

TEST_CASE("the refusal's suggestion works: more bits for a 4-bit tensor through --node-config, graph inputs too",
          "[codegen][quality]") {
  const ScratchDir scratch("statiq_silent_suggestion");
  GenerateOptions o;
  o.model = scratch.path / "small.onnx";
  o.calib = samples(scratch.path / "x.npy", 8, 1, 8, 8, 0.0f, 1.0f);
  o.target = "akida-v2";
  o.policy = UnmappedPolicy::host;
  o.lower.activation_bits = 4;
  o.output_dir = scratch.path / "out";
  // 4-bit unsigned: one step is 2^-4 = 0.0625 > 0.05, the middle tensor's range.
  save(two_convs(0.05f), o.model);
  const std::string m = refusal(o);
  INFO(m);
  // Both 4-bit tensors are named at once (the last one is signed: 3 fractional bits), with one
  // configuration that fixes both.
  CHECK_THAT(m, Catch::Contains("2 tensor(s) have a calibrated range below one quantization step"));
  CHECK_THAT(m, Catch::Contains("node 'next' (Conv2D): output tensor 'y'"));
  REQUIRE_THAT(m, Catch::Contains(R"(Give them more bits: --node-config '{"small": {"out": 8}, "next": {"out": 8}}'.)"));
  // What the message says, as the user would type it: the JSON between the quotes.
  {
    std::ofstream f(scratch.path / "config.json");
    f << R"({"small": {"out": 8}, "next": {"out": 8}})";
  }
  o.node_config = scratch.path / "config.json";
  const GenerateResult r = generate(o);
  CHECK(fs::exists(o.output_dir / "small.hpp"));
  for (const Layer& l : r.model.layers)
    if (l.name == "small") CHECK(output_type(l).bits == 8);

  // A graph input can be named too: its QuantizeLinear's bits.
  {
    std::ofstream f(scratch.path / "config.json");
    f << R"({"x": {"out": 4}, "small": {"out": 8}, "next": {"out": 8}})";
  }
  fs::remove_all(o.output_dir);
  const GenerateResult r4 = generate(o);
  REQUIRE(r4.model.layers.at(0).kind == statiq::LayerKind::quantize);
  CHECK(output_type(r4.model.layers.at(0)).bits == 4);
}

TEST_CASE("a layer whose integers never change while the float tensor does is refused by name",
          "[codegen][quality]") {
  // Calibrated on [0, 1] (input step 1/255), evaluated on [0, 0.0015]: every evaluation input
  // quantizes to the zero point, so the engine answers the same for all of them.
  const ScratchDir scratch("statiq_silent_collapse");
  GenerateOptions o;
  o.model = scratch.path / "m.onnx";
  save(two_convs(0.5f), o.model);
  o.calib = samples(scratch.path / "calib.npy", 8, 1, 8, 8, 0.0f, 1.0f);
  o.eval = samples(scratch.path / "eval.npy", 8, 1, 8, 8, 0.0f, 0.0015f);
  o.target = "cpu-int8";
  o.output_dir = scratch.path / "out";
  const std::string m = refusal(o);
  INFO(m);
  // The first integer layer with a float twin: the first Conv (with its ReLU), 0.5 x [0, 0.0015].
  CHECK_THAT(m, Catch::Contains("node 'small' (Conv2D): its quantized output is 0 (real 0) everywhere on all 8 "
                                "evaluation samples, while the float model's tensor 'r' varies over [0, 0.00075]"));
  CHECK_THAT(m, Catch::Contains("preprocessed as the calibration samples are"));
  CHECK_THAT(m, !Catch::Contains("--node-config"));  // cpu-int8 has 8 bits only: no such way out

  // Evaluated on the calibration samples, the same model generates.
  o.eval.clear();
  CHECK_NOTHROW(generate(o));
}

TEST_CASE("quality figures: cosine on the engine's own output, top-1 only for class scores, in both reports",
          "[codegen][quality]") {
  const ScratchDir scratch("statiq_quality");
  GenerateOptions o;
  o.model = scratch.path / "m.onnx";
  o.calib = samples(scratch.path / "x.npy", 8, 1, 8, 8, 0.0f, 1.0f);
  o.target = "cpu-int8";
  o.output_dir = scratch.path / "out";
  o.name = "m";

  SECTION("an output as large as the input (a reconstruction): cosine, no top-1") {
    save(two_convs(0.5f), o.model);
    const GenerateResult r = generate(o);
    CHECK(!r.top1_agreement);
    REQUIRE(r.mean_cosine);
    CHECK(*r.mean_cosine > 0.999);
    CHECK_THAT(summary_text(r), Catch::Contains("top-1 not measured: the output (64 values, as many as the input) is "
                                                "not a vector of class scores"));
    const nlohmann::json j = nlohmann::json::parse(slurp(o.output_dir / "m_report.json"));
    CHECK(j["quality"]["samples"] == 8);
    CHECK(j["quality"]["top1_agreement"].is_null());
    CHECK(j["quality"]["mean_cosine"].get<double>() == Approx(*r.mean_cosine));
    CHECK_THAT(slurp(o.output_dir / "m_report.txt"), Catch::Contains("evaluated on 8 samples: mean output cosine"));
  }
  SECTION("a vector of scores: top-1 and cosine") {
    // x -> Conv 1x1 -> Relu -> GlobalAveragePool -> Flatten -> Gemm (4 scores)
    OnnxBuilder b;
    b.input("x", {1, 1, 8, 8}).output("y", {1, 4});
    b.initializer("cw", {2, 1, 1, 1}, {0.5f, -0.25f}).initializer("cb", {2}, {0.0f, 0.5f});
    b.initializer("gw", {4, 2}, {1.0f, -1.0f, 0.5f, 0.25f, -0.5f, 1.0f, 0.75f, 0.0f}).initializer("gb", {4}, {0, 0.1f, 0, 0});
    b.node("Conv", {"x", "cw", "cb"}, {"t"}, "c");
    b.node("Relu", {"t"}, {"r"}, "relu");
    b.node("GlobalAveragePool", {"r"}, {"p"}, "gap");
    b.node("Flatten", {"p"}, {"f"}, "flat");
    auto& g = b.node("Gemm", {"f", "gw", "gb"}, {"y"}, "fc");
    OnnxBuilder::attr(g, "transB", std::int64_t{1});
    save(b, o.model);
    const GenerateResult r = generate(o);
    REQUIRE(r.top1_agreement);
    CHECK(*r.top1_agreement >= 0.75);
    REQUIRE(r.mean_cosine);
    const nlohmann::json j = nlohmann::json::parse(slurp(o.output_dir / "m_report.json"));
    CHECK(j["quality"]["top1_agreement"].get<double>() == Approx(*r.top1_agreement));
    CHECK(j["quality"]["not_compared"] == "");
  }
}
