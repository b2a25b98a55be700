// Every shared model that generates for cpu_int8: its QDQ export (codegen/export) run by
// onnxruntime-node 1.30.0 (tools/ort/run.js, 1 thread, optimisation "all": ORT fuses the QDQ
// groups into QLinearConv / QGemm / QLinearAdd / QLinearGlobalAveragePool ...) gives the integer
// simulation's integers — every layer on the golden inputs, the final layer on the real samples —
// and the simulation is the engine (the generated self-test proves that, tests/codegen).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/files.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "codegen/export/qdq_export.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;

using statiq::test::ScratchDir;
using statiq::test::slurp;
using statiq::test::spit;
using statiq::test::ort_file_name;
using statiq::test::mismatches;
using statiq::test::row_nhwc;
using statiq::test::run_ort;

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

struct Case {
  const char* model;
  fs::path calib;                    // calibration samples
  std::size_t calib_samples;
  std::optional<fs::path> real;      // real samples ([N, ...] uint8 pixels) compared at the output
  ActivationType activations = ActivationType::uint8_asymmetric;
  // Measured mismatching elements (every layer on the golden inputs; the output on the real samples).
  // 0 with uint8 activations. With int8 activations onnxruntime on x86-64 does not fuse the QDQ
  // Conv/Gemm groups (QDQIsInt8Allowed() is false outside ARM, qdq_selector_action_transformer.h):
  // it runs DQ -> float Conv -> Q, whose float sums round near ties differently from the exact
  // integer accumulator; the counts are pinned (they depend on MLAS's float kernels, AVX-512 here).
  std::size_t golden_mismatches = 0;
  std::size_t real_mismatches = 0;
};

void check_model(const Case& c) {
  ScratchDir dir("statiq_ort_" + std::string(c.model) + "_" + std::to_string(int(c.activations)));
  const fs::path model_dir = shared / "models" / c.model;
  GenerateOptions o;
  o.model = model_dir / "model.onnx";
  o.target = "cpu-int8";
  o.calib = c.calib;
  o.read.max_samples = c.calib_samples;
  o.eval = model_dir / "inputs.npy";
  o.golden = 0;
  o.quantize.activations = c.activations;
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  const fs::path qdq = dir.path / "qdq.onnx";
  write_qdq_model(m, qdq);

  // Golden inputs: every layer's integers.
  const statiq::io::NpyArray inputs = statiq::io::read_npy(model_dir / "inputs.npy");
  const std::vector<float> x = inputs.as<float>();
  const std::size_t rows = inputs.shape.at(0), row_size = x.size() / rows;
  std::string names;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const std::string n = qdq_tensor_name(m, i);
    if (!n.empty()) names += (names.empty() ? "" : ",") + n;
  }
  const fs::path out = dir.path / "layers";
  fs::create_directories(out);
  run_ort(qdq, model_dir / "inputs.npy",
          fmt::format("--outputs '{}' --out-dir '{}' --optimized-model '{}'", names, out.string(),
                      (dir.path / "optimized.onnx").string()),
          dir.path / "ort.log");
  // With uint8 activations ORT ran integer kernels (the QDQ groups were fused), not float ops
  // between Q and DQ; with int8 activations on x86-64 it does not fuse Conv.
  const bool fused = slurp(dir.path / "optimized.onnx").find("QLinearConv") != std::string::npos;
  CHECK(fused == (c.activations == ActivationType::uint8_asymmetric));
  std::vector<SimulationResult> sims;
  for (std::size_t s = 0; s < rows; ++s) sims.push_back(simulate(m, x.data() + s * row_size));
  std::size_t total = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const std::string n = qdq_tensor_name(m, i);
    if (n.empty()) continue;
    const std::vector<std::int32_t> ort = statiq::io::read_npy(out / ort_file_name(n)).as<std::int32_t>();
    std::size_t layer_mismatches = 0;
    for (std::size_t s = 0; s < rows; ++s)
      layer_mismatches += mismatches(row_nhwc(ort, s, sims[s].shapes[i]), sims[s].layers[i]);
    if (layer_mismatches)
      WARN(c.model << " layer " << i << " '" << m.layers[i].name << "' (" << n << "): " << layer_mismatches
                   << " mismatching elements over " << rows << " golden inputs");
    total += layer_mismatches;
  }
  WARN(c.model << ": golden inputs, " << total << " mismatching elements (every layer)");
  CHECK(total == c.golden_mismatches);

  if (!c.real) return;
  // Real samples: the whole set in one onnxruntime process, compared at the engine's output.
  const fs::path final_out = dir.path / "real_out.npy";
  std::size_t last = m.layers.size() - 1;
  while (last > 0 && m.layers[last].kind == statiq::LayerKind::dequantize) --last;
  const statiq::Shape in = m.input_shape;
  run_ort(qdq, *c.real,
          fmt::format("--outputs '{}' -o '{}' --row-shape 1,{},{},{}", qdq_tensor_name(m, last), final_out.string(),
                      in.c, in.h, in.w),
          dir.path / "ort_real.log");
  const statiq::io::NpyArray ort_array = statiq::io::read_npy(final_out);
  const std::vector<std::int32_t> ort = ort_array.as<std::int32_t>();
  const statiq::io::NpyArray real = statiq::io::read_npy(*c.real);
  const std::vector<float> rx = real.as<float>();
  const std::size_t n = real.shape.at(0), size = rx.size() / n;
  REQUIRE(ort_array.shape.at(0) == n);
  std::size_t bad = 0, bad_samples = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const SimulationResult sim = simulate(m, rx.data() + s * size);
    const std::size_t k = mismatches(row_nhwc(ort, s, sim.output_shape), sim.output);
    bad += k;
    bad_samples += k != 0;
  }
  WARN(c.model << ": " << n << " real samples, " << bad << " mismatching elements in " << bad_samples << " samples");
  CHECK(bad == c.real_mismatches);
}

}  // namespace

TEST_CASE("QDQ export: generated engine == onnxruntime, mnist8 (all 10,000 digits)", "[ort]") {
  check_model({"mnist8", STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy", 300, shared / "data/mnist_10k_u8.npy"});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, opt_mnist (all 10,000 digits)", "[ort]") {
  check_model({"opt_mnist", STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy", 300, shared / "data/mnist_10k_u8.npy"});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, mlperf_kws", "[ort]") {
  check_model({"mlperf_kws", shared / "models/mlperf_kws/inputs.npy", 0, std::nullopt});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, mlperf_resnet8", "[ort]") {
  check_model({"mlperf_resnet8", shared / "models/mlperf_resnet8/inputs.npy", 0, std::nullopt});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, mlperf_vww", "[ort]") {
  check_model({"mlperf_vww", shared / "models/mlperf_vww/inputs.npy", 0, std::nullopt});
}
// MobileNetV3: LookupTable layers (hard-swish's Add/Clip/Div, HardSigmoid) and Mul (QLinearMul).
TEST_CASE("QDQ export: generated engine == onnxruntime, ppocr_cls", "[ort]") {
  check_model({"ppocr_cls", shared / "models/ppocr_cls/inputs.npy", 0, std::nullopt});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, tv_resnet_bb1111_random", "[ort]") {
  check_model({"tv_resnet_bb1111_random", shared / "models/tv_resnet_bb1111_random/inputs.npy", 0, std::nullopt});
}

// int8 activations (QuantType.QInt8; symmetric: zero point 0): ORT's s8s8 kernels.
TEST_CASE("QDQ export: generated engine == onnxruntime, int8 activations, mnist8 (all 10,000 digits)", "[ort]") {
  check_model({"mnist8", STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy", 300, shared / "data/mnist_10k_u8.npy",
               ActivationType::int8_asymmetric});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, int8 activations, mlperf_resnet8", "[ort]") {
  // float Conv in ORT (see Case): 943 elements over the 4 inputs and 15 layers, compounding from 1
  // in the first convolution (each layer reads ORT's own previous tensor); the output layer: 9
  check_model({"mlperf_resnet8", shared / "models/mlperf_resnet8/inputs.npy", 0, std::nullopt,
               ActivationType::int8_asymmetric, 943});
}
TEST_CASE("QDQ export: generated engine == onnxruntime, int8 symmetric activations, mlperf_kws", "[ort]") {
  check_model({"mlperf_kws", shared / "models/mlperf_kws/inputs.npy", 0, std::nullopt, ActivationType::int8_symmetric});
}
