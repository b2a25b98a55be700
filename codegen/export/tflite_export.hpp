// codegen/export/tflite_export.hpp — a quantized LoweredModel of a tflite target (tflite_int8, its
// single-rounding and x86 variants: one graph, their integers differ only in the engine's rounding)
// as a TensorFlow Lite flatbuffer (.tflite, schema version 3): the engine's integers (int8 per-channel weights, int32 biases, every tensor's scale and zero point) in TFLite's builtin
// operators, NHWC, so TFLite, TFLite Micro and CMSIS-NN run the model the engine runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

struct TfliteExportOptions {
  // Every layer's integer tensor is also a graph output (tflite_tensor_name): TFLite's C API reads
  // only outputs, so this is how a per-layer comparison sees the interpreter's intermediates.
  bool every_layer_output = false;
  // false: the graph ends with the engine's last integer tensor (its Dequantize is not exported),
  // so an output compares integer for integer.
  bool dequantize_output = true;
};

// The graph, layer by layer (tensors NHWC as the engine's; the input float [1, H, W, C]):
//   Quantize      QUANTIZE (float -> int8)
//   Conv          [PAD] CONV_2D | DEPTHWISE_CONV_2D (group == channels) [-> MAX_POOL_2D], fused
//                 RELU / RELU6; SAME or VALID when the pads are those, else a PAD before VALID
//   Dense         RESHAPE to [1, 1, 1, H*W*C] -> 1x1 CONV_2D -> RESHAPE to [1, units] (TFLite 2.9's
//                 FULLY_CONNECTED has one weight scale; CONV_2D is per channel)
//   Add           ADD (fused RELU)
//   Concat        [QUANTIZE each input to the output's scale] CONCATENATION (axis 3)
//   MaxPool       [PADV2 with -128] MAX_POOL_2D
//   global avg    MEAN over axes 1, 2 (keep_dims), what TFLite's converters emit
//   AveragePool   AVERAGE_POOL_2D at the input's scale [-> QUANTIZE to the output's]
//   Dequantize    DEQUANTIZE (int8 -> float), the graph output
// Throws std::runtime_error naming the layer when the model is not quantized for a tflite target or
// a layer has no TFLite form (a grouped non-depthwise convolution, a clip other than 6, ...).
std::vector<std::uint8_t> tflite_model(const LoweredModel& model, const TfliteExportOptions& options = {});

// tflite_model() written to `file` (a temporary file beside it, then renamed: whole or absent).
void write_tflite_model(const LoweredModel& model, const std::filesystem::path& file,
                        const TfliteExportOptions& options = {});

// The name of layer i's integer output tensor in the exported graph ("" for a Dequantize layer).
std::string tflite_tensor_name(const LoweredModel& model, std::size_t layer);

}  // namespace statiq::codegen
