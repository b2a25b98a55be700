// tests/onnx_node/node_test.hpp — runs one ONNX backend node test (Debian libonnx-testdata:
// model.onnx + test_data_set_0/{input,output}_N.pb) through statiq and says pass/fail/unsupported.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codegen/ir/tensor.hpp"

namespace onnx {
class TensorProto;
class ModelProto;
}  // namespace onnx

namespace statiq::onnx_node {

// A TensorProto's values: floating types in `f` (as double, so float64 references keep their
// precision), integer and bool types in `i`. Strings are refused by the reader.
struct TensorData {
  std::string name;
  codegen::ir::DataType dtype = codegen::ir::DataType::undefined;
  codegen::ir::Dims dims;
  std::vector<double> f;
  std::vector<std::int64_t> i;

  bool is_float() const { return codegen::ir::is_floating(dtype); }
  std::size_t size() const { return is_float() ? f.size() : i.size(); }
};

TensorData tensor_from_proto(const onnx::TensorProto& p);
TensorData read_tensor(const std::filesystem::path& pb);
onnx::ModelProto read_model(const std::filesystem::path& onnx_file);

// input_0.pb, input_1.pb ... (or output_N) of a data set, in order.
std::vector<TensorData> read_numbered(const std::filesystem::path& data_set, const std::string& prefix);

enum class Outcome { pass, fail, unsupported };
std::string_view to_string(Outcome o);

struct Result {
  std::string test;
  std::string path;  // "float" (FloatExecutor) or "int" (statiq integer layers)
  Outcome outcome = Outcome::fail;
  std::string reason;  // why it failed or is unsupported; for a pass, what ran
};

// Float tests: the ONNX backend runner's closeness, |actual - expected| <= atol + rtol * |expected|,
// NaN where the reference is NaN; integer and bool outputs exactly.
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};
// An empty string when `actual` matches `expected`, else what differs (first mismatch).
std::string compare(const TensorData& expected, const codegen::ir::Dims& actual_dims, const std::vector<double>& actual_f,
                    const std::vector<std::int64_t>& actual_i, Tolerance tol);

// Every op of the model is one the float executor runs (ops named in the model's default domain).
bool float_executor_runs_all_ops(const onnx::ModelProto& m);
Result run_float_test(const std::filesystem::path& test_dir);

// The quantized node tests: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger, through statiq's integer layers with the qlinear profile.
bool is_quantized_op(const std::string& op_type);
Result run_quantized_test(const std::filesystem::path& test_dir);

// Every test of `node_dir` this suite selects, run: quantized ops, then tests whose ops the
// float executor all runs. Sorted by test name.
std::vector<Result> run_all(const std::filesystem::path& node_dir);

}  // namespace statiq::onnx_node
