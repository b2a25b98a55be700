// statiq-codegen's main job on every shared model, for cpu-int8 and akida-v2: what generates (the
// float-vs-quantized agreement and cosine on the model's own samples, and the emitted C++ compiled
// and run against its golden vectors, bit for bit) and what is refused, with the node and the rule.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"
#include "codegen/emit/emit.hpp"
#include "codegen/generate/generate.hpp"
#include "statiq/io/npy.hpp"
#include "statiq/kernels/isa.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;

using statiq::test::ScratchDir;
using statiq::test::slurp;
using statiq::test::spit;

namespace {

const fs::path models_dir = fs::path(STATIQ_SHARED_DIR) / "models";

const char* const all_models[] = {"mnist8",    "opt_mnist", "mlperf_kws", "mlperf_resnet8",
                                  "mlperf_vww", "ppocr_cls", "tv_resnet_bb1111_random"};

// What one model does for one target. `generates`: floors of the top-1 agreement and the output
// cosine (measured on the model's own inputs.npy, then set a margin below), the number of layers
// placed on the host. Otherwise: strings the refusal must contain.
struct Expectation {
  bool generates = false;
  double min_agreement = 0;
  double min_cosine = 0;
  std::optional<std::size_t> host_layers;
  std::vector<std::string> message;
};

Expectation generates(double agreement, double cosine, std::optional<std::size_t> host_layers = {}) {
  return {true, agreement, cosine, host_layers, {}};
}
Expectation refused(std::vector<std::string> message) { return {false, 0, 0, {}, std::move(message)}; }

// cpu-int8 with its default policy (host).
const std::map<std::string, Expectation> cpu_int8 = {
    {"mnist8", generates(12.0 / 13, 0.999, 0)},
    {"opt_mnist", generates(12.0 / 13, 0.999, 0)},
    {"mlperf_kws", generates(0.75, 0.99, 0)},
    {"mlperf_resnet8", generates(0.75, 0.99, 0)},
    {"mlperf_vww", generates(0.75, 0.99, 0)},
    // MobileNetV3: hard-swish as Add/Clip/Mul/Div and squeeze-excite gates (LookupTable and Mul
    // layers); measured top-1 7/8, cosine 0.825 (every op requantized, as onnxruntime's QDQ form)
    {"ppocr_cls", generates(0.75, 0.8, 0)},
    // random weights: only structure is tested (it generates, compiles and is bit-exact)
    {"tv_resnet_bb1111_random", generates(0, 0, 0)},
};

// akida-v2 with --unmapped host.
const std::map<std::string, Expectation> akida_v2_host = {
    {"mnist8", generates(12.0 / 13, 0.999, 1)},  // Convolution110: its 3x3/3 MaxPool does not fuse
    {"opt_mnist", generates(12.0 / 13, 0.999, 1)},
    // MFCC features are negative; akida-v2's input is unsigned
    {"mlperf_kws", refused({"'input_1'", "unsigned", "negative"})},
    {"mlperf_resnet8", generates(0.75, 0.99, 3)},  // two 1x1 stride-2 shortcuts and the average pool
    {"mlperf_vww", generates(0.75, 0.99, 0)},
    {"ppocr_cls", refused({"'p2o.Add.0' (Add)", "not even on the host"})},
    {"tv_resnet_bb1111_random", refused({"'input'", "unsigned", "negative"})},  // ImageNet-normalised input
};

// akida-v2 with --unmapped error: the UnmappedError lists the nodes and the rule each breaks.
const std::map<std::string, std::vector<std::string>> akida_v2_unmapped = {
    // The 3x3/3 pool cannot be fused into Convolution110 and Akida 2.0 has no pool of its own.
    {"mnist8", {"node 'Pooling160' (MaxPool): pool_not_supported", "(fused into 'Convolution110')"}},
    {"opt_mnist", {"node 'Pooling160' (MaxPool): pool_not_supported", "(fused into 'Convolution110')"}},
    {"mlperf_kws",
     {"node 'conv2d' (Conv): kernel_size_not_supported", "node 'average_pooling2d' (AveragePool)",
      "layer_kind_not_supported_by_target"}},
    {"mlperf_resnet8",
     {"node 'conv2d_5' (Conv): stride_2_only_with_3x3_kernels", "node 'conv2d_8' (Conv): stride_2_only_with_3x3_kernels",
      "node 'average_pooling2d' (AveragePool): layer_kind_not_supported_by_target"}},
    {"ppocr_cls", {"node 'p2o.Conv.0' (Conv): expects_pads", "p2o.Add.0 (Add)"}},
    {"tv_resnet_bb1111_random",
     {"node '/conv1/Conv' (Conv): expects_pads", "node '/layer2/layer2.0/downsample/downsample.0/Conv' (Conv): "
                                                 "stride_2_only_with_3x3_kernels",
      "node '/avgpool/GlobalAveragePool' (GlobalAveragePool)"}},
};



std::size_t sample_rows(const fs::path& inputs) { return statiq::io::read_npy(inputs).shape.at(0); }

std::size_t count_host_layers(const LoweredModel& m) {
  return static_cast<std::size_t>(
      std::count_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.placement == Placement::host; }));
}

// cpu-int8 keeps each bias as int32 at input scale x weight scale: re-derived here in double, every
// quantized bias must give back the float bias to half a unit (a channel with tiny weights next to
// its bias, as mlperf_vww's conv2d_5 has, gets a wider weight scale rather than an overflow).
void check_biases(const LoweredModel& m) {
  for (const Layer& l : m.layers) {
    if (l.bias.empty() || l.qbias.size() != l.bias.size() || l.inputs.empty() || l.inputs[0] < 0) continue;
    const double x_scale = m.layers.at(static_cast<std::size_t>(l.inputs[0])).output.scale;
    for (std::size_t c = 0; c < l.bias.size(); ++c) {
      const double unit = x_scale * (l.weight_scales.size() == 1 ? l.weight_scales[0] : l.weight_scales.at(c));
      INFO("layer " << l.name << " channel " << c << " bias " << l.bias[c] << " unit " << unit);
      CHECK(std::abs(l.qbias[c] * unit - l.bias[c]) <= 0.5 * unit + 1e-6 * std::abs(l.bias[c]));
    }
  }
}

void check_generates(const std::string& model, const std::string& target, const GenerateOptions& options,
                     const Expectation& e) {
  const GenerateResult r = generate(options);
  const std::size_t n = sample_rows(options.calib);
  REQUIRE(r.top1_agreement);  // every model here ends at its output or before a final Softmax
  REQUIRE(r.mean_cosine);
  std::cout << fmt::format("{} {}: agreement {:.1f}%, cosine {:.5f}, host layers {} ({} samples)\n", model, target,
                           100 * *r.top1_agreement, *r.mean_cosine, count_host_layers(r.model), r.eval_samples);
  // Every sample was evaluated and the numbers are filled with fractions.
  CHECK(r.eval_samples == n);
  CHECK(*r.top1_agreement >= 0.0);
  CHECK(*r.top1_agreement <= 1.0);
  CHECK(*r.mean_cosine > 0.0);
  CHECK(*r.mean_cosine <= 1.0 + 1e-9);
  CHECK(*r.top1_agreement >= e.min_agreement);
  CHECK(*r.mean_cosine >= e.min_cosine);
  if (e.host_layers) CHECK(count_host_layers(r.model) == *e.host_layers);
  CHECK(r.model.target == (target == "cpu-int8" ? "cpu_int8" : "akida_v2"));
  if (target == "cpu-int8") check_biases(r.model);
  // The report carries the per-layer measurements (the first layer, a Quantize, has a range).
  REQUIRE(r.report.layers.size() == r.model.layers.size());
  CHECK(r.report.layers.front().range_max.has_value());
  CHECK(std::any_of(r.report.layers.begin(), r.report.layers.end(), [](const LayerReport& l) { return l.sqnr_db; }));
  // Exactly the documented files, nothing else (no temporaries left).
  std::vector<std::string> expected = emitted_file_names(options.name), found;
  for (const auto& entry : fs::directory_iterator(options.output_dir)) found.push_back(entry.path().filename().string());
  std::sort(expected.begin(), expected.end());
  std::sort(found.begin(), found.end());
  CHECK(found == expected);
  CHECK(r.written.size() == expected.size());
  CHECK(statiq::test::compile_and_self_test(options.output_dir, options.name) == "");
  CHECK_THAT(slurp(options.output_dir / "selftest.log"), Catch::Contains("bit-exact"));
}

void check_refused(const GenerateOptions& options, const Expectation& e) {
  std::string message;
  try {
    generate(options);
    FAIL("generate() accepted a model it should refuse");
  } catch (const std::exception& ex) {
    message = ex.what();
  }
  INFO(message);
  for (const auto& part : e.message) CHECK_THAT(message, Catch::Contains(part));
  CHECK(!fs::exists(options.output_dir));  // nothing written on refusal
}

GenerateOptions options_for(const std::string& model, const std::string& target, const fs::path& out) {
  GenerateOptions o;
  o.model = models_dir / model / "model.onnx";
  o.calib = models_dir / model / "inputs.npy";  // all N rows: calibration and evaluation
  o.target = target;
  o.output_dir = out;
  o.name = model;  // the file stem "model" is not a usable namespace
  return o;
}

}  // namespace

TEST_CASE("every shared model for cpu-int8 and akida-v2: generated, compiled, bit-exact, or refused by name",
          "[codegen][models][generate]") {
  const std::string model = GENERATE(from_range(std::begin(all_models), std::end(all_models)));
  if (!fs::exists(models_dir / model / "model.onnx")) {
    WARN("shared models not found: " << models_dir);  // Catch2 v2 has no SKIP
    return;
  }
  INFO("model " << model);
  const ScratchDir scratch("statiq_real_models_" + model);
  const fs::path& dir = scratch.path;

  SECTION("cpu-int8") {
    const GenerateOptions o = options_for(model, "cpu-int8", dir / "cpu_int8");
    const Expectation& e = cpu_int8.at(model);
    if (e.generates) check_generates(model, "cpu-int8", o, e);
    else check_refused(o, e);
  }
  SECTION("akida-v2, unmapped nodes on the host") {
    GenerateOptions o = options_for(model, "akida-v2", dir / "akida_v2");
    o.policy = UnmappedPolicy::host;
    const Expectation& e = akida_v2_host.at(model);
    if (e.generates) check_generates(model, "akida-v2", o, e);
    else check_refused(o, e);
  }
  SECTION("akida-v2, unmapped nodes are an error") {
    GenerateOptions o = options_for(model, "akida-v2", dir / "akida_v2_error");
    o.policy = UnmappedPolicy::error;
    o.output_dir.clear();  // the mapping is what is tested here
    const auto it = akida_v2_unmapped.find(model);
    if (it == akida_v2_unmapped.end()) {
      // Every node maps: the same engine as with --unmapped host, nothing on the host.
      const GenerateResult r = generate(o);
      CHECK(count_host_layers(r.model) == 0);
      CHECK(r.model.unmapped.empty());
    } else {
      std::string message;
      try {
        generate(o);
        FAIL("generate() accepted unmapped nodes with policy error");
      } catch (const UnmappedError& ex) {
        message = ex.what();
      }
      INFO(message);
      for (const auto& part : it->second) CHECK_THAT(message, Catch::Contains(part));
      CHECK_THAT(message, Catch::Contains("--unmapped host"));  // what to do
    }
  }
}

// Akida's 4-bit weights packed two to a byte: mlperf_vww's 13 depthwise layers store them tap_major
// (a vector of 16 channels a tap, 8 bytes) and run the fast depthwise kernel of the build's ISA, which
// widens them in registers; the engine still reproduces the simulation's golden vectors bit for bit
// (the simulation reads the same weights one per byte), and its summary() names that kernel.
TEST_CASE("mlperf_vww on akida-v2 with 4-bit weights: packed depthwise weights run the fast depthwise kernel, "
          "bit-exact",
          "[codegen][models][generate]") {
  if (!fs::exists(models_dir / "mlperf_vww" / "model.onnx")) {
    WARN("shared models not found: " << models_dir);
    return;
  }
  const ScratchDir scratch("statiq_real_models_vww_w4");
  GenerateOptions o = options_for("mlperf_vww", "akida-v2", scratch.path / "out");
  o.policy = UnmappedPolicy::host;
  o.lower.weight_bits = 4;
  const GenerateResult r = generate(o);
  REQUIRE(count_host_layers(r.model) == 0);
  CHECK(statiq::test::compile_and_self_test(o.output_dir, o.name) == "");
  CHECK_THAT(slurp(o.output_dir / "selftest.log"), Catch::Contains("bit-exact"));

  // summary() of this build of the engine: every depthwise layer with 4-bit weights and its kernel.
  spit(o.output_dir / "summary_main.cpp", "#include <cstdio>\n#include \"mlperf_vww.hpp\"\n"
                                          "#include \"statiq/engine/summary.hpp\"\n"
                                          "int main() { std::fputs(statiq::summary<mlperf_vww::model>().c_str(), "
                                          "stdout); }\n");
  const fs::path exe = o.output_dir / "summary";
  const std::string compile = std::string("'") + STATIQ_CXX + "' -std=c++20 -O1 " STATIQ_ENGINE_FLAGS " -I'" STATIQ_SOURCE_DIR
                              "/include' -I'" + o.output_dir.string() + "' '" +
                              (o.output_dir / "mlperf_vww_data.cpp").string() + "' '" +
                              (o.output_dir / "summary_main.cpp").string() + "' -lfmt -o '" + exe.string() + "'";
  REQUIRE(statiq::test::run_command(compile, o.output_dir / "compile_summary.log") == 0);
  REQUIRE(statiq::test::run_command("'" + exe.string() + "'", o.output_dir / "summary.txt") == 0);
  const std::string summary = slurp(o.output_dir / "summary.txt");
  INFO(summary);
  const char* const expected = statiq::kernels::isa == statiq::kernels::Isa::avx512_vnni ? "x86::depthwise_conv2d (avx512)"
                               : statiq::kernels::isa == statiq::kernels::Isa::avx2      ? "x86::avx2::depthwise_conv2d (avx2)"
                               : statiq::kernels::isa == statiq::kernels::Isa::neon      ? "arm::neon::depthwise_conv2d (neon)"
                                                                                         : "reference::conv2d";
  int depthwise = 0;
  std::istringstream lines(summary);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("DepthwiseConv2D") == std::string::npos) continue;
    CHECK_THAT(line, Catch::Contains(" 8/4/8 "));  // input/weight/output bits
    CHECK_THAT(line, Catch::EndsWith(expected));
    ++depthwise;
  }
  CHECK(depthwise == 13);
}
