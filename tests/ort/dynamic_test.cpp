// Dynamic quantization (statiq/layers/dynamic.hpp) against hand values and against onnxruntime-node
// 1.30.0 running codegen/export/dynamic_export's quantize_dynamic form of mnist8 (its MatMul Times212).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/export/dynamic_export.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"
#include "statiq/layers/dynamic.hpp"

namespace fs = std::filesystem;
using namespace statiq;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run_ort(const fs::path& model, const fs::path& input, const std::string& args, const fs::path& log) {
  const std::string cmd = fmt::format("'{}' '{}' '{}' --input '{}' {} > '{}' 2>&1", STATIQ_NODE, STATIQ_ORT_RUN,
                                      model.string(), input.string(), args, log.string());
  const int status = std::system(cmd.c_str());
  INFO(cmd << "\n" << slurp(log));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

std::string file_of(std::string n) {
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ch = '_';
  return n + ".npy";
}

}  // namespace

TEST_CASE("DynamicQuantizeLinear parameters: hand values", "[dynamic]") {
  // ONNX's own example: x = [0, 2, -3, -2.5, 1.34, 0.5] -> range [-3, 2], scale = 5/255,
  // zp = round(3 / (5/255)) = round(153) = 153; y = round(x / scale) + zp.
  const std::vector<float> x{0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f};
  std::vector<std::uint8_t> q(x.size());
  const DynamicQuantParams p = dynamic_quantize_linear(x, q);
  CHECK(p.scale == 5.0f / 255.0f);
  CHECK(p.zero_point == 153);
  CHECK(q == std::vector<std::uint8_t>{153, 255, 0, 26, 221, 179});
  // All positive: the range is widened to 0, zp 0; max maps to 255.
  const std::vector<float> pos{1.0f, 2.55f, 0.5f};
  std::vector<std::uint8_t> qp(3);
  const DynamicQuantParams pp = dynamic_quantize_linear(pos, qp);
  CHECK(pp.scale == 2.55f / 255.0f);
  CHECK(pp.zero_point == 0);
  CHECK(qp[1] == 255);
  // All negative: zp 255.
  const std::vector<float> neg{-1.0f, -4.0f};
  std::vector<std::uint8_t> qn(2);
  CHECK(dynamic_quantize_linear(neg, qn).zero_point == 255);
  CHECK(qn[1] == 0);
  // All zero: scale 1, zp 0 (the empty range).
  const std::vector<float> zero{0.0f, 0.0f};
  std::vector<std::uint8_t> qz(2);
  const DynamicQuantParams pz = dynamic_quantize_linear(zero, qz);
  CHECK(pz.scale == 1.0f);
  CHECK(pz.zero_point == 0);
  // A tie in the zero point: min = -0.5 * scale-ish is hard to hit by hand; a tie in x/scale: with range
  // [-1.275, 1.275] (scale 0.01 up to float rounding) ... checked against re-derived float math instead.
  const std::vector<float> t{-1.0f, 3.0f, 0.37f};
  std::vector<std::uint8_t> qt(3);
  const DynamicQuantParams pt = dynamic_quantize_linear(t, qt);
  const float s = 4.0f / 255.0f;
  CHECK(pt.scale == s);
  CHECK(pt.zero_point == int(std::nearbyint(1.0f / s)));
  CHECK(qt[2] == int(std::nearbyint(0.37f / s)) + pt.zero_point);
}

TEST_CASE("dynamic_dense: integer sums and float rescale re-derived", "[dynamic]") {
  // K = 3, N = 2: x quantized at scale 4/255 (range [-1, 3]); w int8 [K, N].
  const std::vector<float> x{-1.0f, 3.0f, 0.37f};
  const std::vector<float> wf{0.5f, -1.0f, 0.25f, 0.0f, -0.125f, 1.0f};
  std::vector<std::int8_t> w(6);
  const float ws = quantize_dynamic_weights(wf, w).scale;
  CHECK(ws == 1.0f / 127.0f);
  CHECK(w == std::vector<std::int8_t>{64, -127, 32, 0, -16, 127});  // 63.5 -> 64 (half to even), 31.75 -> 32
  const std::vector<float> bias{0.5f, -0.25f};
  std::vector<float> y(2);
  std::vector<std::uint8_t> scratch(3);
  dynamic_dense(x, w, 0, ws, bias, 2, y, scratch);
  const float s = 4.0f / 255.0f;
  const int zp = int(std::nearbyint(1.0f / s));
  const int q[3] = {0, 255, int(std::nearbyint(0.37f / s)) + zp};
  for (int n = 0; n < 2; ++n) {
    std::int64_t acc = 0;
    for (int k = 0; k < 3; ++k) acc += std::int64_t(q[k] - zp) * w[k * 2 + n];
    volatile float prod = float(acc) * (s * ws);
    CHECK(std::bit_cast<std::uint32_t>(y[n]) == std::bit_cast<std::uint32_t>(float(prod + bias[n])));
    CHECK(std::fabs(y[n] - (x[0] * wf[n] + x[1] * wf[2 + n] + x[2] * wf[4 + n] + bias[n])) < 0.05f);
  }
}

TEST_CASE("dynamic mnist8 (quantize_dynamic form) == onnxruntime, 200 digits", "[dynamic][ort]") {
  const fs::path dir = fs::temp_directory_path() / ("statiq_ort_dynamic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path shared = STATIQ_SHARED_DIR;
  const fs::path model = shared / "models/mnist8/model.onnx";
  const fs::path digits = shared / "data/mnist_10k_u8.npy";
  const fs::path dyn = dir / "dynamic.onnx";
  const codegen::DynamicExport e = codegen::write_dynamic_model(model, dyn);
  REQUIRE(e.matmuls.size() == 1);
  const codegen::DynamicMatMul& mm = e.matmuls[0];
  REQUIRE(mm.k == 256);
  REQUIRE(mm.n == 10);
  REQUIRE(!mm.bias.empty());
  constexpr int rows = 200;

  for (const char* level : {"all", "disabled"}) {
    const fs::path out = dir / level;
    fs::create_directories(out);
    run_ort(dyn, digits,
            fmt::format("--rows {} --row-shape 1,1,28,28 --level {} --outputs '{},{}' --out-dir '{}' --optimized-model '{}'",
                        rows, level, mm.input, mm.bias_output, out.string(), (out / "opt.onnx").string()),
            dir / "ort.log");
    // At "all" onnxruntime fuses DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add(bias) into one
    // DynamicQuantizeMatMul (MLAS' scale-then-bias output processor); "disabled" runs the five nodes.
    const bool fused = slurp(out / "opt.onnx").find("DynamicQuantizeMatMul") != std::string::npos;
    CHECK(fused == (std::string(level) == "all"));
    const std::vector<float> x = io::read_npy(out / file_of(mm.input)).as<float>();
    const std::vector<float> y = io::read_npy(out / file_of(mm.bias_output)).as<float>();
    REQUIRE(x.size() == std::size_t(rows) * mm.k);
    REQUIRE(y.size() == std::size_t(rows) * mm.n);
    // statiq's dynamic layer on onnxruntime's own float input (the float convolutions before it are not
    // statiq's subject here): every output float bit for bit.
    std::size_t bad = 0;
    float max_diff = 0;
    std::vector<float> mine(mm.n);
    std::vector<std::uint8_t> scratch(mm.k);
    for (int r = 0; r < rows; ++r) {
      dynamic_dense(std::span(x).subspan(r * mm.k, mm.k), mm.weights, 0, mm.weight_scale, mm.bias, mm.n, mine, scratch);
      for (std::size_t n = 0; n < mm.n; ++n) {
        const float o = y[r * mm.n + n];
        bad += std::bit_cast<std::uint32_t>(o) != std::bit_cast<std::uint32_t>(mine[n]);
        max_diff = std::max(max_diff, std::fabs(o - mine[n]));
      }
    }
    WARN("level " << level << ": " << bad << " differing floats of " << rows * mm.n << ", max |diff| " << max_diff);
    CHECK(bad == 0);
  }

  // End to end with statiq's float executor before the dynamic layer: its Conv sums are not MLAS's,
  // so the dynamic input may differ by ulps and a quantization step can flip; reported, bounded.
  const codegen::ir::Graph g = codegen::load_onnx(model);
  const codegen::exec::FloatExecutor fx(g);
  const io::NpyArray px = io::read_npy(digits);
  const std::vector<float> pixels = px.as<float>();
  const std::vector<float> y = io::read_npy(dir / "all" / file_of(mm.bias_output)).as<float>();
  float max_diff = 0;
  std::size_t bad = 0;
  std::vector<float> mine(mm.n);
  std::vector<std::uint8_t> scratch(mm.k);
  for (int r = 0; r < rows; ++r) {
    codegen::exec::Array in = codegen::exec::Array::floats({1, 1, 28, 28}, {pixels.begin() + r * 784, pixels.begin() + (r + 1) * 784});
    codegen::exec::RunOptions opt;
    opt.record_intermediates = true;
    const auto res = fx.run({in}, opt);
    const codegen::exec::Array& feat = res.tensors.at(mm.input);
    dynamic_dense(feat.f, mm.weights, 0, mm.weight_scale, mm.bias, mm.n, mine, scratch);
    for (std::size_t n = 0; n < mm.n; ++n) {
      bad += std::bit_cast<std::uint32_t>(y[r * mm.n + n]) != std::bit_cast<std::uint32_t>(mine[n]);
      max_diff = std::max(max_diff, std::fabs(y[r * mm.n + n] - mine[n]));
    }
  }
  WARN("end to end (statiq float convs): " << bad << " differing floats of " << rows * mm.n << ", max |diff| " << max_diff);
  CHECK(max_diff < 0.01f);  // measured 0.0039 (logits of magnitude ~10..50)
  fs::remove_all(dir);
}
