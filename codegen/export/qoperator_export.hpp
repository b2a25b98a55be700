// codegen/export/qoperator_export.hpp — a quantized cpu_int8 LoweredModel in ONNX's QOperator form:
// the integer operators themselves (QLinearConv, QGemm, QLinearAdd, QLinearGlobalAveragePool ...)
// between one QuantizeLinear and one DequantizeLinear, as onnxruntime's quantization tool writes
// with QuantFormat.QOperator (and as Gemmini's onnxruntime fork runs it). onnxruntime runs it with
// graph optimisations disabled, with the engine's integers.
#pragma once

#include <filesystem>
#include <string>

#include "codegen/model/lowered_model.hpp"

namespace onnx {
class ModelProto;
}

namespace statiq::codegen {

// The graph, layer by layer (tensors NCHW; uint8 or int8 as the model's activations):
//   Quantize     QuantizeLinear(input)
//   Conv         QLinearConv (int8 weights, per output channel when the scales differ; int32 bias)
//                [-> MaxPool on the integers]; a fused ReLU is the output range itself
//   Dense        [Flatten] -> QGemm (com.microsoft, transB = 1, per-unit weight scales, int32 bias)
//   Add          QLinearAdd (com.microsoft)
//   MaxPool      MaxPool on the integers
//   AveragePool  QLinearAveragePool (com.microsoft); GlobalAveragePool: QLinearGlobalAveragePool
//   Dequantize   DequantizeLinear (the graph output)
// Every layer's integer tensor is named qdq_tensor_name(model, i), as in the QDQ export.
// Throws std::runtime_error naming the layer when the model is not a quantized cpu_int8 model or a
// layer has no QOperator form that computes the engine's integers (a clipped ReLU whose bound is
// inside the type's range, a Concat: use --qdq).
onnx::ModelProto qoperator_model(const LoweredModel& model);

// qoperator_model() serialized to `file` (a temporary file first, then renamed).
void write_qoperator_model(const LoweredModel& model, const std::filesystem::path& file);

}  // namespace statiq::codegen
