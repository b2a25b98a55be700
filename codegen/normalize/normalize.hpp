// codegen/normalize/normalize.hpp — graph normalisation of statiq-codegen: rewrites an ir::Graph into
// the few canonical forms the target matcher expects (BN folded, biases in Conv/Gemm, one Flatten ...).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "codegen/ir/graph.hpp"

namespace statiq::codegen::normalize {

// What the passes did, in order, naming the ONNX nodes touched ("folded BatchNormalization 'bn3'
// into Conv 'conv3'"), and what they deliberately left for later stages ("kept ...", "input
// preprocessing: ..."). A message is recorded once even when a pass runs again.
struct NormalizeReport {
  std::vector<std::string> actions;
  std::size_t iterations = 0;  // rounds of the fixed-point loop of normalize()

  void add(std::string message);                     // once: a repeated message is not added again
  bool mentions(const std::string& fragment) const;  // some action contains `fragment`
  std::string to_text() const;                       // one action per line

 private:
  std::unordered_set<std::string> added_;  // `actions` as a set: add() stays O(1) on 100k-node graphs
};

struct NormalizeOptions {
  bool remove_identities = true;
  bool fold_constants = true;
  bool fold_batch_norm = true;
  bool fold_bias_add = true;
  bool matmul_to_gemm = true;
  bool flatten_before_gemm = true;
  bool canonicalize_clip = true;
  bool reduce_mean_to_pool = true;
  bool fold_pad_into_conv = true;
  bool tag_depthwise = true;
  bool report_input_preprocessing = true;
  std::size_t max_iterations = 32;  // bound of the fixed-point loop (a change never undoes another)
};

// Runs the enabled passes in the order below until none changes the graph, then tags depthwise
// convolutions and reports input preprocessing. The result is still valid ONNX-semantics IR that
// exec::FloatExecutor runs with the same outputs (up to float rounding of folded constants);
// graph input and output names are kept. Throws (from Graph::validate) only on a bug.
NormalizeReport normalize(ir::Graph& graph, const NormalizeOptions& options = {});

// The passes. Each returns the number of changes it made and records them in `report`. They assume
// the loader's invariants (topological order, static shapes) and keep them.

// Identity and inference Dropout (mask unused, training_mode absent or a false constant) are
// removed and their consumers read the input. If the removed node produced a graph output, the
// producer of its input writes the graph output's name instead. An Identity straight from a graph
// input to a graph output stays (reported).
std::size_t remove_identities(ir::Graph& graph, NormalizeReport& report);

// A node whose inputs are all initializers (never graph inputs) is evaluated with the float
// executor and its outputs become initializers; so is Shape of a tensor with a static shape. Then
// nodes whose outputs nobody reads and tensors nobody references are dropped.
std::size_t fold_constants(ir::Graph& graph, NormalizeReport& report);

// BatchNormalization (inference) after a Conv or Gemm whose output it alone reads, with constant
// parameters, is folded into the weights: s = scale / sqrt(var + epsilon) per output channel,
// W' = W * s, B' = (B - mean) * s + bias (B = 0 when absent; for Gemm B = beta * C and beta becomes
// 1). Any other BatchNormalization stays (reported). The Conv/Gemm takes the BN's output name.
std::size_t fold_batch_norm(ir::Graph& graph, NormalizeReport& report);

// Add (or Sub with the constant on the right) of a per-channel constant after a Conv or Gemm whose
// output it alone reads becomes that node's bias (summed with an existing one). "Per-channel" means
// with numpy broadcasting against the output: every axis 1 except axis 1 (the channels / Gemm's N),
// i.e. [C,1,1] or [1,C,1,1] for a Conv, [N] or [1,N] for a Gemm, or one element. A [C] constant
// after a 4-D Conv broadcasts along W, not channels, and is left alone (reported).
std::size_t fold_bias_add(ir::Graph& graph, NormalizeReport& report);

// MatMul with a 2-D first operand and a 2-D constant second operand becomes Gemm; an Add of a
// constant [N] / [1,N] / scalar that alone reads its output becomes the Gemm's C (a new [N]
// initializer). The Gemm keeps the MatMul's name and takes the Add's output name.
std::size_t matmul_to_gemm(ir::Graph& graph, NormalizeReport& report);

// A chain of Reshape/Flatten nodes feeding Gemm's A that turns X [N, d1, ..., dk] into
// [N, d1*...*dk] becomes one Flatten (axis 1) of X, named after the last node of the chain.
std::size_t flatten_before_gemm(ir::Graph& graph, NormalizeReport& report);

// Clip whose min is the constant 0:
// - max absent or +inf: becomes Relu (input X only);
// - finite max: stays Clip in the normalised form "clipped ReLU": inputs [X, min, max] where min and
//   max are rank-0 float initializers, min == 0 (max == 6 is ReLU6). Matchers read inputs[2].
// A Clip whose bounds are not constants, or whose min is not 0, is left as it is.
std::size_t canonicalize_clip(ir::Graph& graph, NormalizeReport& report);
// ReduceMean over H and W of an [N, C, H, W] tensor is GlobalAveragePool (keepdims 0: then a
// Flatten to [N, C]), which every target's average layers compute.
std::size_t reduce_mean_to_pool(ir::Graph& g, NormalizeReport& report);
// A constant Pad of zeros over H and W whose only reader is a Conv becomes the Conv's own pads
// (the quantized engine pads with the zero point: the same real zero).
std::size_t fold_pad_into_conv(ir::Graph& g, NormalizeReport& report);

// Attribute set on depthwise Conv nodes: "statiq_depthwise" (INT, 1) and "statiq_depth_multiplier"
// (INT, output channels / group). Depthwise means group > 1, group == input channels and output
// channels a multiple of group. A 1-input-channel Conv with group 1 is an ordinary Conv and is not
// tagged. The float executor ignores these attributes.
inline constexpr const char* depthwise_attribute = "statiq_depthwise";
inline constexpr const char* depth_multiplier_attribute = "statiq_depth_multiplier";
std::size_t tag_depthwise(ir::Graph& graph, NormalizeReport& report);
bool is_tagged_depthwise(const ir::Node& node);

// Reports (never changes) the chain of Add/Sub/Mul/Div by a constant (one element or per channel)
// that starts at a graph input, e.g. ppocr's (x/255-0.5)/0.5: "input preprocessing: Div 'n' divides
// graph input 'x' by 255 ...". Returns the number of nodes reported; later stages decide.
std::size_t report_input_preprocessing(const ir::Graph& graph, NormalizeReport& report);

}  // namespace statiq::codegen::normalize
