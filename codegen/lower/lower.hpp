// codegen/lower/lower.hpp — pattern matching: the normalised ONNX graph becomes statiq layers.
// Runs of operators are fused as the target's pattern table allows (Conv -> Relu -> MaxPool ...),
// each fused layer is checked with the target's own rules (the functions the layer types use at
// compile time), and what does not fit is reported with the ONNX node and the rule it breaks.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "codegen/ir/graph.hpp"
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
};

// Thrown when the policy is `error` and nodes do not map: what() is the full report.
struct UnmappedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

LoweredModel lower(const ir::Graph& graph, const TargetInfo& target, const LowerOptions& options);

// QuantizeML-style text: "not quantized because their pattern was not found: [a (Conv), ...]" and,
// per node, the rule it breaks.
std::string unmapped_report(const LoweredModel& model);

}  // namespace statiq::codegen
