// codegen/lower/custom_pattern.hpp — user patterns for the matcher (QuantizeML's extensible pattern
// table): a chain of ONNX op types and a function that builds a statiq layer computing it.
// The built layer still goes through the target's rules and placement like a built-in one. Also the
// classic workaround as ready-made patterns: a lone ReLU or global average as an identity 1x1 Conv.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "codegen/ir/graph.hpp"
#include "codegen/lower/target_registry.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

// What a custom pattern matched, and what the run would give a layer headed there.
struct PatternMatch {
  const ir::Graph& graph;
  const TargetInfo& target;
  // The chain, head first: each node is the only reader of the previous one's first output (and
  // that output is not a graph output), as in the built-in fusion. The head's first input is an
  // activation produced by `input_layer`; its other inputs, if any, are the builder's to read.
  std::vector<const ir::Node*> nodes;
  int input_layer = 0;    // the layer producing nodes.front()->inputs[0] (0: the graph input's Quantize)
  OutputType input;       // that layer's output: NHWC shape, bits, signedness
  Shape output_shape{};   // NHWC shape of the chain's last output: what the built layer must produce
  Bits bits{};            // in = input.bits; w and out as options / node_bits give the head
  bool signed_activations = false;  // the target's or LowerOptions' "every activation signed"

  // The run's signedness of an output after activation `a` (Akida: unsigned after a ReLU, signed
  // otherwise; uint8 with a zero point on cpu-int8 ...), so custom layers follow the built-in ones.
  bool signed_output(Activation a) const;
};

// A chain of op types (e.g. {"Relu", "GlobalAveragePool"}) and the function building its layer.
// The builder fills kind, attributes, weights, bias and clip_max; the lowering sets name (if
// empty: the head's name), onnx_nodes, output_tensor and inputs (if empty: {input_layer}), checks
// that the layer's shapes agree with the graph, then checks the target's rules and places it.
// Returning std::nullopt declines the match: shorter custom patterns, then the built-in matching,
// are tried at that node.
struct CustomPattern {
  std::string name;              // for messages: "identity conv (ReLU)"
  std::vector<std::string> ops;  // ONNX op types, head first; not empty
  std::function<std::optional<Layer>(const PatternMatch&)> build;
};

// The identity-kernel 1x1 convolution (weights eye(C), bias 0) carrying `activation` / `pool`: on
// a target whose only ReLU or global average is the one fused into a convolution, it computes a
// lone ReLU / GlobalAveragePool exactly in float (x*1 + 0 == x). Kind conv2d (input_conv2d when
// it reads the graph input of a pow2 target, as the built-in matching does for a Conv there).
Layer identity_conv(const PatternMatch& match, Activation activation, float clip_max, Pool pool);

// {"Relu"} and {"Clip"} (a clipped ReLU from 0) alone: identity conv with that activation.
std::vector<CustomPattern> identity_conv_patterns_relu();

// Global averages as identity convs with a fused GAP: {"Relu"|"Clip", "GlobalAveragePool"|"AveragePool"}
// (the activation fused too) and {"GlobalAveragePool"|"AveragePool"} alone. An AveragePool
// qualifies only when its window is the whole map (resnet8's 8x8). Declines (falls back) when the
// target runs the lone pool as a layer of its own, or when its table lacks Conv -> [act ->] GAP
// (the ReLU pattern then takes the activation alone; the pool stays what the target makes of it).
// Target rules beyond the table (Akida's GAP input size ...) are checked as for any layer.
std::vector<CustomPattern> identity_conv_patterns_gap();

// Both lists (GAP first; the matcher tries longer chains first anyway).
std::vector<CustomPattern> identity_conv_patterns();

}  // namespace statiq::codegen
