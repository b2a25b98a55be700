// codegen/quantize/ptq/cross_layer_equalization.hpp — cross-layer equalization (Nagel et al. 2019,
// "Data-Free Quantization Through Weight Equalization and Bias Correction", section 4.1): for a
// convolution followed by another (through a ReLU or directly), output channel c of the first is
// divided by s_c and input channel c of the second multiplied by it, s_c = sqrt(r1_c / r2_c) with
// r1_c, r2_c the channel's largest |w| in each. ReLU(x / s) = ReLU(x) / s for s > 0, so the float
// model computes exactly what it did (up to float rounding), while the two weight ranges per
// channel become equal: what a depthwise convolution followed by a pointwise one needs before
// per-tensor (or, for the pointwise, per-output-channel) weight quantization.
#pragma once

#include <string>
#include <vector>

#include "codegen/ir/graph.hpp"

namespace statiq::codegen::ptq {

struct EqualizedPair {
  std::string first, second;  // ONNX node names
  int channels = 0;           // channels rescaled
  double max_ratio_before = 1, max_ratio_after = 1;  // the largest r1_c / r2_c (or its inverse) over the channels
};

// Rescales every chain Conv -> [Relu] -> Conv of the normalised graph whose middle tensors have one
// reader and whose weights and biases are initializers no other node reads; `iterations` passes
// (each pass equalizes the pairs in graph order, a later pair changing an earlier one's second conv).
// A Clip (ReLU6) between them stops the chain: a bound does not scale. Channels whose two ranges
// differ by more than 10^6 (dead channels) are left alone. Returns what it changed.
std::vector<EqualizedPair> equalize_cross_layer(ir::Graph& graph, int iterations = 2);

}  // namespace statiq::codegen::ptq
