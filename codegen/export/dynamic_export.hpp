// codegen/export/dynamic_export.hpp — a float ONNX model rewritten as onnxruntime's quantize_dynamic writes
// it (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul), with the int8 weights statiq uses for it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace statiq::codegen {

// One MatMul made dynamic: y = x[1, K] @ B[K, N], B quantized per tensor, symmetric int8
// (statiq::quantize_dynamic_weights). When the MatMul's only consumer is an Add of a constant [N] (or
// [1, N]) bias, the bias and the Add's output are recorded: that Add stays a float Add in the graph
// (quantize_dynamic leaves it; onnxruntime fuses it into MatMulIntegerToFloat's bias).
struct DynamicMatMul {
  std::string node;    // the MatMul's name
  std::string input;   // x
  std::string output;  // the MatMul's output (now the rescaling Mul's)
  std::size_t k = 0, n = 0;
  std::vector<std::int8_t> weights;  // [K, N] row-major, zero point 0
  float weight_scale = 1.0f;
  std::vector<float> bias;  // empty when no bias Add follows
  std::string bias_output;  // the Add's output
};

struct DynamicExport {
  std::vector<DynamicMatMul> matmuls;
};

// Rewrites every MatMul whose B is an initializer (or a Reshape of one) in place: the graph gets, per
// MatMul M with input x and output y,
//   DynamicQuantizeLinear(x) -> x_q, x_scale, x_zp
//   MatMulInteger(x_q, M_W_quantized (int8), x_zp, M_W_zero_point (int8 0)) -> int32
//   Cast(to FLOAT); Mul(x_scale, M_W_scale) -> scales; Mul(cast, scales) -> y
// the names quantize_dynamic uses (suffixes _quantized, _scale, _zero_point, _output_quantized, ...).
// The default-domain opset is raised to 11 if lower (DynamicQuantizeLinear). Conv stays float.
// Throws std::runtime_error when no MatMul qualifies or a weight is not a constant.
DynamicExport make_dynamic(onnx::ModelProto& model);

// Reads `in`, make_dynamic(), writes `out`.
DynamicExport write_dynamic_model(const std::filesystem::path& in, const std::filesystem::path& out);

}  // namespace statiq::codegen
