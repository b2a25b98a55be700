// codegen/simulate/simulate.hpp — the integer simulation of a quantized LoweredModel through the
// engine's own statiq::compute functions, and SQNR of each layer against the float executor.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

struct SimulationResult {
  // Every layer's integer output (NHWC), in layer order; a Dequantize layer's entry is empty.
  std::vector<std::vector<std::int32_t>> layers;
  std::vector<Shape> shapes;           // every layer's output shape (NHWC)
  std::vector<std::int32_t> output;    // the engine's last integer tensor (what a final Dequantize reads)
  Shape output_shape{};
  std::vector<float> dequantized;      // `output` back to float (NHWC), as the engine's Dequantize gives it
  // Every float-output layer's values (NHWC): dynamic layers (whose `layers` entry is empty); empty
  // for integer layers. A dynamic model's `output` is empty and `dequantized` its float output.
  std::vector<std::vector<float>> float_layers;
};

// The weights of a model's conv and dense layers checked (int8) and laid out as the kernels read them,
// kept over the samples of one run: without it simulate() redoes this for every sample (~25 M
// weights on a ResNet-50). Keyed by the layer's address: valid while the model is not changed.
// Simulations on several threads may share one.
struct WeightCache {
  std::mutex mutex;
  std::map<const Layer*, std::vector<std::uint8_t>> bytes;
  std::map<const Layer*, std::vector<std::int32_t>> sums;  // per output channel (statiq::weight_sums)
};

// Runs every layer of a quantized model (quantize() or quantize_dynamic() filled it) on one sample. input_nchw holds
// model.input_shape as C x H x W floats (the ONNX layout); it is made NHWC once, at the boundary.
// Throws std::runtime_error naming the layer when the model is not quantized for its target or a
// layer's input does not match its attributes.
// With `cache`, each layer's weights are laid out on the first call only.
SimulationResult simulate(const LoweredModel& model, const float* input_nchw, WeightCache* cache = nullptr);

// Layer `layer` of a quantized (static) model alone, on the integer tensors (NHWC) of the layers it
// reads, given in `layers` (one slot per layer of the model; the others may be empty); a Quantize
// layer reads `input_nchw` as simulate() does. For a layer-local comparison with an outside runtime:
// each layer fed the runtime's own inputs, so a difference does not carry on to the next layers.
// Throws as simulate() does, and when an input slot does not hold the layer's input.
std::vector<std::int32_t> simulate_layer(const LoweredModel& model, std::size_t layer,
                                         const std::vector<std::vector<std::int32_t>>& layers,
                                         const float* input_nchw = nullptr);

// C x H x W floats -> H x W x C.
std::vector<float> nchw_to_nhwc(const float* nchw, Shape shape);

// A layer's integers back to real values: scale * (q - zero_point).
std::vector<float> dequantize(const TensorQuantization& q, std::span<const std::int32_t> values);

// Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2); +inf when
// equal, -inf when the reference is all zero but the test is not. Sizes must match.
double sqnr_db(std::span<const float> reference, std::span<const float> test);

struct LayerSqnr {
  std::string layer;   // Layer::name
  std::string tensor;  // Layer::output_tensor
  double sqnr_db = 0.0;
};

// SQNR of every integer layer's dequantized output against the float executor's tensor of the
// same name (RunOptions::record_intermediates; NCHW, transposed to NHWC here). Layers whose tensor
// is missing from `float_tensors` (or a Dequantize) are skipped.
std::vector<LayerSqnr> layer_sqnr(const LoweredModel& model, const SimulationResult& result,
                                  const std::map<std::string, exec::Array>& float_tensors);

}  // namespace statiq::codegen
