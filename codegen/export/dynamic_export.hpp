// codegen/export/dynamic_export.hpp — a dynamic cpu_int8 LoweredModel (quantize/dynamic.hpp) as the
// ONNX graph onnxruntime.quantization.quantize_dynamic writes (DynamicQuantizeLinear ->
// ConvInteger / MatMulInteger -> float rescale, opset 13), with statiq's int8 weights, so that
// onnxruntime computes the engine's floats (statiq/layers/dynamic.hpp) bit for bit.
#pragma once

#include <filesystem>
#include <string>

#include "codegen/model/lowered_model.hpp"

namespace onnx {
class ModelProto;
}

namespace statiq::codegen {

// The graph, layer by layer (tensors NCHW, the ONNX layout; x is the float output of the layer read,
// or the graph input):
//   [Flatten(x)               a Dense after a 4-D map: its weights are permuted from statiq's NHWC
//                             flattening to the NCHW one]
//   DynamicQuantizeLinear(x) -> x_quantized (uint8), x_scale, x_zero_point
//   ConvInteger(x_quantized, W_quantized int8 [O, I/group, kh, kw], x_zero_point, W_zero_point int8 0)
//     | MatMulInteger(x_quantized, W_quantized int8 [K, N], x_zero_point, W_zero_point int8 0)
//   Cast(to FLOAT); Mul(x_scale, W_scale) -> scales; Mul(cast, scales); Add(bias)
//   [Relu | Clip(0, clip_max)] [MaxPool]
// W_scale is a scalar, or per channel ([1, C, 1, 1] for a convolution, [N] for a Dense); the bias
// is [1, C, 1, 1] / [N]. The float tail rounds as compute_dynamic does: float32(x_scale * w_scale)
// (a Mul node), times float32(acc), then + bias — onnxruntime (level extended/all) fuses a Dense's
// DynamicQuantizeLinear .. Add into DynamicQuantizeMatMul, which multiplies, then adds, the same.
// Relu/Clip then MaxPool in float equal statiq's MaxPool on the accumulators (the tail is monotonic).
// A residual Add: Add(a, b) [-> Relu] in float.
// The graph output is the last layer's float output ([1, N] for a Dense, [1, C, H, W] otherwise).
// Throws std::runtime_error naming the layer when the model is not a dynamic cpu_int8 model or a layer
// has no dynamic form (only Conv / Dense / Add layers).
onnx::ModelProto dynamic_model(const LoweredModel& model);

// dynamic_model() serialized to `file` (written to a temporary file, then renamed).
void write_dynamic_model(const LoweredModel& model, const std::filesystem::path& file);

// The name of layer i's float output tensor in the exported graph (for per-layer comparison; the
// last layer's is the graph output).
std::string dynamic_tensor_name(const LoweredModel& model, std::size_t layer);

}  // namespace statiq::codegen
