// The shared models on Akida 1.0 (statiq-codegen --target akida-v1 --legalize): mlperf_kws generates,
// with the layers 1.0 cannot run on the host (the nodes the rules refuse, and the layers whose fire
// threshold does not fit the 20-bit registers: a bias beyond half an activation step), each reported with its reason; the emitted code compiles
// and reproduces its golden vectors. Under --unmapped error the register refusal stays an error.
// mlperf_resnet8 and mlperf_vww still stop (their reasons are checked).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "codegen/generate/generate.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq;
using namespace statiq::codegen;

namespace {

const fs::path models_dir = fs::path(STATIQ_SHARED_DIR) / "models";

struct Scratch {
  fs::path path;
  explicit Scratch(const std::string& tag)
      : path(fs::temp_directory_path() / ("statiq_akida_v1_models_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~Scratch() { fs::remove_all(path); }
};

GenerateOptions options_for(const std::string& model, const fs::path& out) {
  GenerateOptions o;
  o.model = models_dir / model / "model.onnx";
  o.calib = models_dir / model / "inputs.npy";
  o.target = "akida-v1";
  o.legalize = legalize::LegalizeOptions{};  // --legalize: what stays unfixable goes to the host
  o.output_dir = out;
  o.name = model;
  return o;
}

// A device layer with an activation fires through NSoC registers: D = RNE(step / unit) and
// threshold = floor(D / 2) - RNE(bias / unit) must both lie in [0, 2^20). Re-derived here in double
// from the float bias, the output step and the input step x weight scale, for channel c.
struct Registers {
  std::int64_t d, threshold;
  bool fit() const { return d >= 0 && d < (1 << 20) && threshold >= 0 && threshold < (1 << 20); }
};
Registers registers(const LoweredModel& m, const Layer& l, std::size_t c) {
  const double x_scale = m.layers.at(static_cast<std::size_t>(l.inputs.at(0))).output.scale;
  const double unit = x_scale * (l.weight_scales.size() == 1 ? l.weight_scales[0] : l.weight_scales.at(c));
  const std::int64_t d = std::llrint(static_cast<double>(l.output.scale) / unit);  // nearbyint: ties to even
  const std::int64_t b = l.bias.empty() ? 0 : std::llrint(static_cast<double>(l.bias[c]) / unit);
  return {d, (d >= 0 ? d / 2 : -((-d + 1) / 2)) - b};
}

// Weighted layers with a ReLU and no fused global average (whose bias is in the accumulator).
bool fires(const Layer& l) {
  if (const auto* a = std::get_if<ConvAttributes>(&l.attributes))
    return a->activation.kind != ActivationKind::none && a->pool.kind != PoolKind::global_average;
  if (const auto* a = std::get_if<DenseAttributes>(&l.attributes)) return a->activation.kind != ActivationKind::none;
  return false;
}

std::size_t channels(const Layer& l) {
  if (const auto* a = std::get_if<ConvAttributes>(&l.attributes)) return static_cast<std::size_t>(a->filters);
  return static_cast<std::size_t>(std::get<DenseAttributes>(l.attributes).units);
}

const Unmapped* unmapped_entry(const LoweredModel& m, const std::string& node) {
  for (const Unmapped& u : m.unmapped)
    if (u.node == node) return &u;
  return nullptr;
}

// What each model puts on the host, by layer name, and a phrase of the reason.
struct Expected {
  std::map<std::string, std::string> host;  // layer -> part of its reported reason
};

void check_model(const std::string& model, const Expected& e) {
  Scratch scratch(model);
  const GenerateResult r = generate(options_for(model, scratch.path));
  const LoweredModel& m = r.model;
  REQUIRE(m.target == "akida_v1");

  std::map<std::string, std::string> host;
  for (const Layer& l : m.layers)
    if (l.placement == Placement::host) {
      const Unmapped* u = unmapped_entry(m, l.name);
      INFO("host layer " << l.name);
      REQUIRE(u != nullptr);  // every host layer is reported
      host[l.name] = u->reason;
      std::cout << model << " on the host: " << l.name << ": " << u->reason.substr(0, 110) << "\n";
    }
  std::set<std::string> got, want;
  for (const auto& [name, why] : host) got.insert(name);
  for (const auto& [name, why] : e.host) want.insert(name);
  CHECK(got == want);
  for (const auto& [name, phrase] : e.host) {
    INFO(model << " " << name << ": " << (host.count(name) ? host[name] : std::string("not on the host")));
    CHECK((host.count(name) && host[name].find(phrase) != std::string::npos));
  }

  // The register rule, re-derived: a firing layer is on the device exactly when every channel fits;
  // a layer moved to the host for it names its first channel that does not, with that threshold.
  for (const Layer& l : m.layers) {
    if (!fires(l) || l.inputs.empty() || l.inputs[0] < 0) continue;
    std::size_t first_bad = channels(l);
    for (std::size_t c = 0; c < channels(l) && first_bad == channels(l); ++c)
      if (!registers(m, l, c).fit()) first_bad = c;
    INFO(model << " layer " << l.name);
    if (l.placement == Placement::device) {
      CHECK(first_bad == channels(l));
    } else if (!l.violation.broken()) {  // on the host for its registers, not for a target rule
      REQUIRE(first_bad < channels(l));
      const Registers bad = registers(m, l, first_bad);
      const std::string reason = unmapped_entry(m, l.name)->reason;
      CHECK_THAT(reason, Catch::StartsWith("output channel " + std::to_string(first_bad) + ": threshold " +
                                           std::to_string(bad.threshold) + " and step " + std::to_string(bad.d)));
      CHECK_THAT(reason, Catch::Contains("20-bit unsigned registers"));
    }
  }

  // 4-bit activations on the device (Akida 1.0's limit), the pixels of the input 8-bit.
  for (const Layer& l : m.layers)
    if (l.placement == Placement::device && l.kind != LayerKind::quantize && l.kind != LayerKind::dequantize)
      CHECK(l.output.bits <= 4);

  // The summary names every host layer with its reason.
  const std::string summary = summary_text(r);
  for (const auto& [name, why] : host) CHECK_THAT(summary, Catch::Contains("'" + name + "'"));

  // The generated engine compiles and reproduces its golden vectors bit for bit.
  CHECK(statiq::test::compile_and_self_test(scratch.path, model) == "");
  CHECK_THAT(statiq::test::slurp(scratch.path / "selftest.log"), Catch::Contains("bit-exact"));
  std::cout << model << " akida-v1: " << host.size() << " host layers, agreement "
            << (r.top1_agreement ? 100 * *r.top1_agreement : -1) << "%, cosine " << r.mean_cosine.value_or(-1) << "\n";
}

}  // namespace

// Not yet generated on akida-v1 (reported, not hidden): resnet8's Adds read a conv without activation
// (a zero point, which statiq's akida_v1 Add does not take), and vww's conv2d_5 has a channel with
// near-zero weights (a BatchNorm gamma ~ 0) whose step is beyond int32 accumulator units.
TEST_CASE("akida-v1 --legalize: mlperf_resnet8 and mlperf_vww still stop, naming the node and why",
          "[codegen][akida_v1][models]") {
  const std::map<std::string, std::vector<std::string>> stops = {
      {"mlperf_resnet8", {"node 'add' (Add)", "zero point"}},
      {"mlperf_vww", {"node 'conv2d_5' (Conv2D)", "not int32 numbers of accumulator units"}},
  };
  for (const auto& [model, parts] : stops) {
    Scratch scratch(model);
    std::string message;
    try {
      generate(options_for(model, scratch.path / "out"));
    } catch (const std::exception& ex) {
      message = ex.what();
    }
    INFO(model << ": " << message);
    for (const std::string& part : parts) CHECK_THAT(message, Catch::Contains(part));
    CHECK(!fs::exists(scratch.path / "out"));
  }
}

TEST_CASE("akida-v1 --legalize: mlperf_kws generates; the 10x4 input conv, the partial average and the layers "
          "with negative thresholds on the host",
          "[codegen][akida_v1][models]") {
  const std::string negative = "the fire threshold is negative";
  check_model("mlperf_kws", {{
                                {"conv2d", "kernel_size_not_supported"},  // 10x4: no such input layer
                                // floor-mode 24x5 window on 25x5 (no --approximate-average)
                                {"average_pooling2d", "layer_kind_not_supported_by_target"},
                                {"depthwise_conv2d", negative},
                                {"depthwise_conv2d_1", negative},
                                {"depthwise_conv2d_2", negative},
                                {"depthwise_conv2d_3", negative},
                                {"conv2d_1", negative},
                                {"conv2d_2", negative},
                                {"conv2d_3", negative},
                                {"conv2d_4", negative},
                            }});
}

TEST_CASE("akida-v1 under --unmapped error: a negative fire threshold stops generation, named",
          "[codegen][akida_v1][models]") {
  Scratch scratch("error");
  GenerateOptions o = options_for("mlperf_vww", scratch.path / "out");  // its only host layer is conv2d's
  o.policy = UnmappedPolicy::error;
  std::string message;
  try {
    generate(o);
  } catch (const std::exception& ex) {
    message = ex.what();
  }
  CHECK_THAT(message, Catch::StartsWith("node 'conv2d' (InputConv2D): output channel "));
  CHECK_THAT(message, Catch::Contains("the fire threshold is negative"));
  CHECK(!fs::exists(scratch.path / "out"));  // nothing written
}
