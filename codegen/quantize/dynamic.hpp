// codegen/quantize/dynamic.hpp — dynamic quantization as onnxruntime defines it
// (onnxruntime.quantization.quantize_dynamic): only the weights are quantized ahead of time; each
// Conv / Gemm quantizes its float input at run time (statiq/layers/dynamic.hpp). No activation
// range is calibrated, so calibration samples only measure accuracy.
#pragma once

#include <string>
#include <vector>

#include "codegen/model/lowered_model.hpp"
#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen {

// Makes a lowered cpu_int8 model dynamic, in place: drops the engine's Quantize / Dequantize (the
// engine reads and writes float), marks every conv and dense layer dynamic, and quantizes its
// weights to int8 symmetric with zero point 0 (onnxruntime's ConvInteger takes only a per-tensor
// zero point): scale = max|w| / 127 per tensor (WeightQuantizerKind::max, quantize_dynamic's
// default) or per output channel (max_per_axis, statiq's default; the per-channel scales enter the
// float rescale only). options.weights and weight_overrides choose; the std quantizers are refused.
// A residual Add stays a float Add (DynamicAdd; exact: one rounding per element). An average with
// one output pixel (GlobalAveragePool, or an unpadded AveragePool with a single window) read only
// by a Gemm is folded into the Gemm's weights (W / count over the window, 0 elsewhere), so no float
// average remains: its summation order would be onnxruntime's own. Returns a note per fold.
// Throws std::runtime_error naming the ONNX node: another layer kind (a standalone MaxPool or
// AveragePool, Concat), a fused GlobalAveragePool, a host layer, NaN/Inf weights, a target other than
// cpu_int8, bits other than 8.
std::vector<std::string> quantize_dynamic(LoweredModel& model, const QuantizeOptions& options = {});

}  // namespace statiq::codegen
