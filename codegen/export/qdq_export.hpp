// codegen/export/qdq_export.hpp — a quantized cpu_int8 LoweredModel as a standard QDQ ONNX model
// (QuantizeLinear/DequantizeLinear around float ops, opset 13) that onnxruntime fuses into its
// integer kernels and runs with the engine's integers.
#pragma once

#include <filesystem>
#include <string>

#include "codegen/ir/graph.hpp"
#include "codegen/model/lowered_model.hpp"

namespace onnx {
class ModelProto;
}

namespace statiq::codegen {

// The graph, layer by layer (tensors NCHW, the ONNX layout):
//   Quantize     QuantizeLinear(input)
//   Conv / Dense DQ(x), DQ(int8 weights, per channel: axis 0), DQ(int32 bias at x_s * w_s) ->
//                Conv | Gemm(transB) [-> Relu | Clip] -> Q(y) [-> DQ -> MaxPool -> Q (same y)]
//   Add          DQ(a), DQ(b) -> Add [-> Relu] -> Q(y)
//   Concat       DQ(each) -> Concat(axis 1) -> Q(y)
//   pools        DQ(x) -> MaxPool | AveragePool | GlobalAveragePool -> Q(y)
//   Dense after a 4-D tensor: Flatten on the integers (NCHW order; the weights are permuted from
//   statiq's NHWC flattening back to it).
// Without `float_model`, the engine's final Dequantize is not exported: the graph ends with the Q
// of the engine's last integer tensor, so onnxruntime outputs the integers (the per-layer form the
// oracle tests compare). With the float model the engine was made from, the export is a drop-in
// replacement for it: the same input and output names, dims and float types (a Reshape where the
// engine's NCHW differs, e.g. a [1, 640] input), QuantizeLinear in, DequantizeLinear out, and the
// float tail after the engine (--unmapped float, a final Softmax) copied from the float model.
// Every layer's integer tensor is named qdq_tensor_name(model, i) for per-layer comparison.
// Throws std::runtime_error when the model is not a quantized cpu_int8 model or a layer has no QDQ
// form onnxruntime runs in integers (a GlobalAveragePool fused into a Conv).
onnx::ModelProto qdq_model(const LoweredModel& model, const ir::Graph* float_model = nullptr);

// qdq_model() serialized to `file` (written to a temporary file, then renamed).
void write_qdq_model(const LoweredModel& model, const std::filesystem::path& file,
                     const ir::Graph* float_model = nullptr);

// The name of layer i's integer output tensor in the exported graph ("" for a Dequantize layer).
std::string qdq_tensor_name(const LoweredModel& model, std::size_t layer);

}  // namespace statiq::codegen
