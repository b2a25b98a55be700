// codegen/quantize/quantize.hpp — quantize(): fills a LoweredModel's integers (weights, biases,
// tensor quantizations, per-profile requantization data) from calibrated ranges, per target convention.
#pragma once

#include "codegen/calib/range.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "codegen/model/lowered_model.hpp"
#include "statiq/quant/quantized_weights.hpp"

namespace statiq::codegen {

// Ranges are keyed by ONNX tensor name: Layer::output_tensor, and LoweredModel::input_tensor.

// CNN2SNN's weight quantizers (statiq/quant): scale factor from max|w| or from the standard
// deviation, per tensor or per output channel.
enum class WeightQuantizerKind { max, max_per_axis, std, std_per_axis };

// onnxruntime's activation choices for cpu_int8 (QuantType + symmetric activations).
enum class ActivationType { uint8_asymmetric, int8_asymmetric, int8_symmetric };

// The integers a conv or dense layer's weights may take on the target ([lo, hi], symmetric scale,
// zero point 0) and whether its scales are per output channel: what a post-training method
// (quantize/ptq/) must keep when it changes the weights.
struct WeightGrid {
  int lo = -127;
  int hi = 127;
  bool per_axis = true;
};

// Called by quantize() for each conv and dense layer with the weights as the target's quantizer chose
// them and the float bias they are quantized with; may change the integers and the scales (within
// `grid`, keeping per_axis) and the bias. The requantization data is then derived from what it leaves.
using RefineWeights =
    std::function<void(const Layer&, const WeightGrid& grid, quant::QuantizedWeights& weights, std::vector<float>& bias)>;

struct QuantizeOptions {
  // qlinear, gemmini and akida_v1 weights; gemmini takes the per-tensor form of a per-axis choice
  // (one scale per layer). pow2 (pow2_weights) and tflite (tflite_weights) have their own rules;
  // for pow2 a per-tensor choice (max, std) gives per-tensor pow2 weights.
  WeightQuantizerKind weights = WeightQuantizerKind::max_per_axis;
  ActivationType activations = ActivationType::uint8_asymmetric;  // cpu_int8 only
  // cpu_int8: 7-bit weights (hosts without VNNI); onnxruntime applies it to weights only.
  bool reduce_range = false;
  // Per ONNX node (Layer::name or any node folded into the layer): its weight quantizer.
  std::map<std::string, WeightQuantizerKind> weight_overrides;
  // akida_v1: a device layer whose fire threshold or step does not fit the 20-bit registers (e.g. a
  // bias above half an activation step) goes to the host, reported in LoweredModel::unmapped, instead
  // of stopping quantization (generate() sets it for the unmapped policy host).
  bool akida_v1_host_fallback = false;
  // Post-training methods (quantize/ptq/ptq.hpp): empty by default, so quantization is the target's rule.
  RefineWeights refine_weights;
};

// Quantizes every layer of `model` in the profile of model.target (statiq::targets::<target>::profile,
// e.g. "cpu_int8" -> qlinear, "akida_v2" -> pow2): Layer::output,
// qweights, weight_scales, qbias, input/weight zero points and `data` (ProfileData<Profile>).
// Signedness: cpu_int8 from options.activations, tflite and gemmini int8, akida_v2 as the lowering
// declared it (signed_output). quantize() writes what it chose back into the attributes
// (signed_input, signed_output, bits.in from the producing layer) so the emitted types match.
// Throws std::runtime_error naming the ONNX node and what to do: a missing or zero calibrated
// range, NaN/Inf weights, bit-widths the profile does not support, an akida_v1 device layer whose
// registers do not fit (unless options.akida_v1_host_fallback); std::invalid_argument for an
// unknown target (find_target).
void quantize(LoweredModel& model, const Ranges& ranges, const QuantizeOptions& options = {});

}  // namespace statiq::codegen
