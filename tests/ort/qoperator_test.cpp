// Every shared model that generates for cpu_int8: its QOperator export (codegen/export/
// qoperator_export) run by onnxruntime-node 1.30.0 with graph optimisations disabled (so what runs is
// exactly the exported QLinearConv / QGemm / QLinearAdd / QLinearGlobalAveragePool ... nodes) gives
// the integer simulation's integers: every layer on the golden inputs, the engine's last integer
// layer on the 10,000 MNIST digits.
#include <catch2/catch.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/export/qdq_export.hpp"
#include "codegen/export/qoperator_export.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::ort_file_name;
using statiq::test::mismatches;
using statiq::test::row_nhwc;
using statiq::test::run_ort;
using statiq::test::ScratchDir;

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

void check_model(const char* name, const fs::path& calib, std::size_t calib_samples, std::optional<fs::path> real) {
  ScratchDir dir(std::string("statiq_qoperator_") + name);
  const fs::path model_dir = shared / "models" / name;
  GenerateOptions o;
  o.model = model_dir / "model.onnx";
  o.target = "cpu-int8";
  o.calib = calib;
  o.read.max_samples = calib_samples;
  o.eval = model_dir / "inputs.npy";
  o.golden = 0;
  const LoweredModel m = generate(o).model;

  // The QOperator form: no float Conv / Gemm / Add / pool and no QDQ pair around them.
  const onnx::ModelProto proto = qoperator_model(m);
  std::multiset<std::string> ops;
  for (const auto& n : proto.graph().node()) ops.insert(n.op_type());
  for (const char* float_op : {"Conv", "Gemm", "MatMul", "Add", "AveragePool", "GlobalAveragePool", "Relu"})
    CHECK(ops.count(float_op) == 0);
  CHECK(ops.count("QuantizeLinear") == 1);
  CHECK(ops.count("DequantizeLinear") <= 1);
  CHECK(ops.count("QLinearConv") > 0);
  const fs::path file = dir.path / "qoperator.onnx";
  write_qoperator_model(m, file);

  // Golden inputs: every layer's integers.
  const statiq::io::NpyArray inputs = statiq::io::read_npy(model_dir / "inputs.npy");
  const std::vector<float> x = inputs.as<float>();
  const std::size_t rows = inputs.shape.at(0), row_size = x.size() / rows;
  std::string names;
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (const std::string n = qdq_tensor_name(m, i); !n.empty()) names += (names.empty() ? "" : ",") + n;
  const fs::path out = dir.path / "layers";
  fs::create_directories(out);
  run_ort(file, model_dir / "inputs.npy", fmt::format("--level disabled --outputs '{}' --out-dir '{}'", names, out.string()),
          dir.path / "ort.log");
  std::vector<SimulationResult> sims;
  for (std::size_t s = 0; s < rows; ++s) sims.push_back(simulate(m, x.data() + s * row_size));
  std::size_t total = 0, compared = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const std::string n = qdq_tensor_name(m, i);
    if (n.empty()) continue;
    const std::vector<std::int32_t> ort = statiq::io::read_npy(out / ort_file_name(n)).as<std::int32_t>();
    std::size_t bad = 0;
    for (std::size_t s = 0; s < rows; ++s) bad += mismatches(row_nhwc(ort, s, sims[s].shapes[i]), sims[s].layers[i]);
    if (bad) WARN(name << " layer " << i << " '" << m.layers[i].name << "': " << bad << " mismatching elements");
    total += bad;
    ++compared;
  }
  CHECK(compared + 1 >= m.layers.size());
  CHECK(total == 0);

  if (!real) return;
  std::size_t last = m.layers.size() - 1;
  while (last > 0 && m.layers[last].kind == statiq::LayerKind::dequantize) --last;
  const statiq::Shape in = m.input_shape;
  const fs::path final_out = dir.path / "real_out.npy";
  run_ort(file, *real,
          fmt::format("--level disabled --outputs '{}' -o '{}' --row-shape 1,{},{},{}", qdq_tensor_name(m, last),
                      final_out.string(), in.c, in.h, in.w),
          dir.path / "ort_real.log");
  const std::vector<std::int32_t> ort = statiq::io::read_npy(final_out).as<std::int32_t>();
  const statiq::io::NpyArray samples = statiq::io::read_npy(*real);
  const std::vector<float> rx = samples.as<float>();
  const std::size_t n = samples.shape.at(0), size = rx.size() / n;
  std::size_t bad = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const SimulationResult sim = simulate(m, rx.data() + s * size);
    bad += mismatches(row_nhwc(ort, s, sim.output_shape), sim.output);
  }
  WARN(name << ": " << n << " real samples, " << bad << " mismatching elements");
  CHECK(n == 10000);
  CHECK(bad == 0);
}

const fs::path digits_1k = STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy";

}  // namespace

TEST_CASE("QOperator export: generated engine == onnxruntime, mnist8 (all 10,000 digits)", "[ort][qoperator]") {
  check_model("mnist8", digits_1k, 300, shared / "data/mnist_10k_u8.npy");
}
TEST_CASE("QOperator export: generated engine == onnxruntime, opt_mnist (all 10,000 digits)", "[ort][qoperator]") {
  check_model("opt_mnist", digits_1k, 300, shared / "data/mnist_10k_u8.npy");
}
TEST_CASE("QOperator export: generated engine == onnxruntime, mlperf_kws", "[ort][qoperator]") {
  check_model("mlperf_kws", shared / "models/mlperf_kws/inputs.npy", 0, std::nullopt);
}
TEST_CASE("QOperator export: generated engine == onnxruntime, mlperf_resnet8", "[ort][qoperator]") {
  check_model("mlperf_resnet8", shared / "models/mlperf_resnet8/inputs.npy", 0, std::nullopt);
}
TEST_CASE("QOperator export: generated engine == onnxruntime, mlperf_vww", "[ort][qoperator]") {
  check_model("mlperf_vww", shared / "models/mlperf_vww/inputs.npy", 0, std::nullopt);
}
TEST_CASE("QOperator export: generated engine == onnxruntime, tv_resnet_bb1111_random", "[ort][qoperator]") {
  check_model("tv_resnet_bb1111_random", shared / "models/tv_resnet_bb1111_random/inputs.npy", 0, std::nullopt);
}
