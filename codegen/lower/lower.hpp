// codegen/lower/lower.hpp — pattern matching: the normalised ONNX graph becomes statiq layers.
// Runs of operators are fused as the target's pattern table allows (Conv -> Relu -> MaxPool ...),
// each fused layer is checked with the target's own rules (the functions the layer types use at
// compile time), and what does not fit is reported with the ONNX node and the rule it breaks.
// Users extend the table with custom patterns and choose the nodes to quantize or to keep float.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/ir/graph.hpp"
#include "codegen/lower/custom_pattern.hpp"
#include "codegen/lower/target_registry.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

// What to do with nodes the target cannot execute.
enum class UnmappedPolicy {
  error,       // stop with a message listing them (default for hardware targets)
  host,        // run them on the host in the target's arithmetic (integer, bit-exact)
  float_tail,  // stop the integer engine before the first one; the rest stays float (after a Dequantize)
};

// Bit-widths of one layer; unset fields keep the run's defaults.
struct BitsOverride {
  std::optional<int> w;
  std::optional<int> out;
};

struct LowerOptions {
  std::string name = "model";  // C++ namespace of the generated code
  UnmappedPolicy policy = UnmappedPolicy::error;
  int weight_bits = 0;      // 0: the target's default
  int activation_bits = 0;  // 0: the target's default
  bool signed_activations = false;  // cpu-int8: int8 activations instead of uint8
  std::map<std::string, BitsOverride> node_bits;  // by ONNX node name (the head of a fused layer)
  // Tried at each node before the built-in matching, longest chain first (in this order among
  // equal lengths); see custom_pattern.hpp.
  std::vector<CustomPattern> custom_patterns;
  // onnxruntime's nodes_to_exclude / nodes_to_quantize (empty: every node), by ONNX node name of
  // the normalised graph. A node excluded, or not listed when nodes_to_quantize is not empty, is
  // not integer: the engine stops before it and the rest stays float (as UnmappedPolicy::float_tail
  // from there), reported as "excluded by the user" and never an error. It is not fused into the
  // layer before it either. A Flatten/Reshape feeding a Gemm follows that Gemm (it computes
  // nothing of its own) unless it is named in nodes_to_exclude. A name matching no node throws
  // std::invalid_argument naming it.
  std::set<std::string> nodes_to_exclude;
  std::set<std::string> nodes_to_quantize;
  // check (nothing is generated): a node no layer computes, not even on the host, is reported and
  // what follows it is lowered as if its outputs were inputs of the engine (stand-in Quantize
  // layers), so every blocker of every node is named, not only the first; no UnmappedError for it.
  bool analyse_past_unmappable = false;
};

// Unmapped::reason of a node kept float by nodes_to_exclude / nodes_to_quantize (the reason starts so).
inline constexpr std::string_view excluded_by_user = "excluded by the user";
bool is_excluded(const Unmapped& u);

// Thrown when the policy is `error` and nodes do not map (excluded ones aside): what() is the full report.
struct UnmappedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

LoweredModel lower(const ir::Graph& graph, const TargetInfo& target, const LowerOptions& options);

// QuantizeML-style text: "not quantized because their pattern was not found: [a (Conv), ...]" and,
// per node, the rule it breaks.
std::string unmapped_report(const LoweredModel& model, UnmappedPolicy policy = UnmappedPolicy::error);

}  // namespace statiq::codegen
