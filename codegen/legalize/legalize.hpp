// codegen/legalize/legalize.hpp — hardware legalization: rewrites of the normalised ir::Graph that make
// a near-compatible model fit a target's rules without retraining, each reported and float-checked.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/lower/custom_pattern.hpp"
#include "codegen/lower/target_registry.hpp"

namespace statiq::codegen::legalize {

struct LegalizeOptions {
  // Symmetric pads where the target wants "same": accept the one-pixel shift of the sampling grid
  // (TARGETS.md's documented approximation) instead of the exact rewrites (pre-padding the input of
  // the input layer; stride 1 then an identity subsampling layer for an inner convolution).
  bool approximate_pads = false;
  // An AveragePool to 1x1 whose window misses the map's last rows/columns (floor mode, e.g. KWS's
  // 24x5 window on a 25x5 map) is no global average: with this, it becomes one (an approximation,
  // its error reported); without, it stays on the host.
  bool approximate_average = false;
  // Lone Relu / GlobalAveragePool as identity convolutions (lower/custom_pattern.hpp's builders).
  bool identity_conv = true;
  // What the graph input is in pixels, when the target's input layer reads uint8 pixels (Akida) and
  // the input has negative values: "imagenet" ((p/255 - mean)/std, torchvision's statistics): the
  // affine map is folded into the first convolution so the engine takes 0..255 pixels; "" (auto):
  // per channel, the check samples' range [min(lo, 0), max(hi, 0)] is mapped onto 0..255; "none":
  // no fold (reported).
  std::string input_pixels;
  std::size_t check_samples = 8;  // samples the float check runs (0: no check)
  double tolerance = 1e-5;        // an exact rewrite's max |diff| relative to the output's max |value|
};

// One rewrite: what it did, to which nodes, and what the float executor says it costs.
struct Rewrite {
  std::string rule{};              // the target rule it answers ("stride_2_only_with_3x3_kernels")
  std::string action{};            // "1x1 stride-2 convolution as a 3x3 one ..."
  std::vector<std::string> nodes{};  // the ONNX nodes touched or created
  bool exact = true;               // equivalent in exact arithmetic (false: a documented approximation)
  std::string cost{};              // what the hardware pays for it ("" = nothing)
  // Float executor before vs after on the check samples: max |output difference| and the output's
  // max |value| (unset when no sample was checked, or for lowering-time rewrites).
  std::optional<double> max_abs_diff{};
  double output_max_abs = 0;
  bool within_tolerance = true;    // exact rewrites: max_abs_diff <= tolerance * output_max_abs
};

// Zeros the host adds around the graph input before the engine reads it (pre-padding of the input
// layer): the legalised graph's input is the padded image.
struct InputPadding {
  int top = 0, left = 0, bottom = 0, right = 0;
  bool any() const { return top || left || bottom || right; }
};

// What the host does to a sample (as the original graph takes it) before the engine reads it:
// pads with the value standing for 0 (pre-padding), then maps x to pixels p = (x - offset_c) / scale_c.
struct LegalizeResult {
  std::vector<Rewrite> rewrites;
  std::vector<std::string> remaining;  // what no rewrite fixes: node, rule, why (lowering reports it too)
  std::vector<std::string> notes;      // input range and other facts the user must know
  std::vector<CustomPattern> custom_patterns;  // for LowerOptions::custom_patterns
  InputPadding input_padding;
  std::vector<float> input_scale, input_offset;  // per channel, x = scale * p + offset; empty: p = x
  std::string to_text() const;  // one line per rewrite / remaining rule / note
};

// Runs the passes on `graph` (normalised, one 4-D input) for `target`, each checked with the float
// executor against the graph before it on `samples` (graph inputs of the ORIGINAL graph, NCHW): the
// passes, in order:
// - input normalisation folded into the input layer (Akida: the engine takes uint8 pixels);
// - depthwise as a full convolution with a diagonal kernel (Akida 1.0 has no stand-alone depthwise);
// - input layer with pads that are neither "same" nor "valid": pre-padding of the graph input
//   (exact) or, with approximate_pads, "same" pads (one-pixel shift);
// - inner convolution with a stride and symmetric pads: stride 1 with the same pads, then an
//   identity 1x1 convolution with the stride (exact), or with approximate_pads "same" pads;
// - a kernel no layer supports: zero-padded to the smallest supported square kernel with the taps
//   placed where they read the same pixels;
// - 1x1 stride-2 convolutions as 3x3 stride-2 at the tap that reads the same pixel;
// - lone Relu / GlobalAveragePool (Akida 1.0: a GAP after a ReLU): identity-conv custom patterns.
LegalizeResult legalize(ir::Graph& graph, const TargetInfo& target, const std::vector<exec::Array>& samples,
                        const LegalizeOptions& options = {});

// The sample as the legalised graph takes it: pre-padded with zeros, then mapped to pixels, as
// the result says.
exec::Array legalized_input(const exec::Array& x, const LegalizeResult& result);

// check_model_compatibility: per node, the layer it maps to on `target` (pattern, device or host)
// or the rule it breaks and the rewrite that fixes it. Loads nothing and writes nothing: `graph` is
// the normalised model; it is legalised on a copy (without the float check) to name the fixes.
struct NodeCompatibility {
  std::string node{}, op_type{};
  std::string layer{};       // the statiq layer it belongs to ("" if none)
  std::string layer_kind{};  // "Conv2D", "InputConv2D" ...
  bool maps = false;        // on the device as the model is
  std::string rule{};       // the rule it breaks as it is ("" if it maps)
  std::string fix{};        // the rewrite that fixes it, or why none applies when it stays on the host
  bool maps_after_fix = false;
  // generate refuses it even on the host (no layer computes it, or the target's arithmetic cannot
  // take its inputs), as the model is / after --legalize
  bool refused = false;
  bool refused_after_fix = false;
};
std::vector<NodeCompatibility> check_compatibility(const ir::Graph& graph, const TargetInfo& target);
std::string compatibility_text(const std::vector<NodeCompatibility>& nodes, const TargetInfo& target);

}  // namespace statiq::codegen::legalize
