// codegen/legalize/compatibility.cpp — check_compatibility (legalize.hpp): per node, its layer on
// the target as the model is, and after legalization; nothing is quantized or written.
#include <map>
#include <variant>
#include <stdexcept>

#include <fmt/format.h>

#include "codegen/legalize/legalize.hpp"
#include "codegen/lower/lower.hpp"

namespace statiq::codegen::legalize {
namespace {

struct Placed {
  std::string layer, kind;
  bool device = false;
};

// What quantization will refuse, known from the lowered layers alone: on akida_v1 an Add or Concat
// (statiq's host definition adds or rescales levels) reading a layer without activation, whose
// output has a zero point as soon as its range is negative.
void quantization_refusals(const LoweredModel& m, const TargetInfo& t, std::vector<Unmapped>& unmapped) {
  if (t.name != "akida_v1") return;
  for (const Layer& l : m.layers) {
    if (l.kind != LayerKind::add && l.kind != LayerKind::concat) continue;
    for (const int from : l.inputs) {
      if (from <= 0) continue;
      const Layer& src = m.layers[std::size_t(from)];
      const bool activated = std::visit(
          [](const auto& a) {
            if constexpr (requires { a.activation; }) return a.activation.kind != ActivationKind::none;
            else return true;  // pools, Quantize: what they read
          },
          src.attributes);
      if (activated || src.kind == LayerKind::quantize) continue;
      unmapped.push_back(Unmapped{l.onnx_nodes.empty() ? l.name : l.onnx_nodes.front(),
                                  std::string(layer_kind_name(l.kind)),
                                  "its input '" + src.name + "' has no activation, so it has a zero point wherever "
                                  "its calibrated range is negative, and akida_v1's " +
                                      std::string(layer_kind_name(l.kind)) +
                                      " (statiq's host definition) adds levels without zero points: generate refuses "
                                      "it; put a ReLU before it or use another target",
                                  true});
      break;
    }
  }
}

// Node -> its layer, lowering everything it can (host policy, past the nodes no layer computes:
// one pass names every problem). `fatal`: what stopped the lowering itself (generate fails with it).
std::map<std::string, Placed> placements(const ir::Graph& g, const TargetInfo& t, std::vector<CustomPattern> custom,
                                         std::vector<Unmapped>& unmapped, std::string& error, std::string& fatal) {
  LowerOptions o;
  o.policy = UnmappedPolicy::host;
  o.analyse_past_unmappable = true;
  o.custom_patterns = std::move(custom);
  std::map<std::string, Placed> out;
  try {
    LoweredModel m;
    try {
      m = lower(g, t, o);
    } catch (const UnmappedError& e) {
      // Something no layer computes even on the host: the engine stops there (float from it on).
      error = e.what();
      o.policy = UnmappedPolicy::float_tail;
      m = lower(g, t, o);
    }
    for (const Layer& l : m.layers)
      for (const std::string& n : l.onnx_nodes)
        out[n] = Placed{l.name, std::string(layer_kind_name(l.kind)), l.placement == Placement::device};
    for (const std::string& n : m.float_tail) {
      const ir::Node* node = g.find_node(n);  // a final Softmax stays float by design: it maps
      out[n] = Placed{"", "float after the engine", node && node->op_type == "Softmax"};
    }
    unmapped = m.unmapped;
    quantization_refusals(m, t, unmapped);
  } catch (const std::exception& e) {
    error = fatal = e.what();
  }
  return out;
}

// The node a lowering error is about: the one it names ("node 'x' (Op)"), else the first node that
// got no layer, where the lowering, which walks the graph in order, stopped.
const ir::Node* stopped_at(const ir::Graph& g, const std::map<std::string, Placed>& placed, const std::string& error) {
  for (const ir::Node& n : g.nodes)
    if (error.find(n.describe()) != std::string::npos) return &n;
  for (const ir::Node& n : g.nodes)
    if (!placed.count(n.name)) return &n;
  return nullptr;
}

}  // namespace

std::vector<NodeCompatibility> check_compatibility(const ir::Graph& graph, const TargetInfo& target) {
  std::vector<Unmapped> before_unmapped, after_unmapped;
  std::string before_error, after_error, before_fatal, after_fatal;
  const auto before = placements(graph, target, {}, before_unmapped, before_error, before_fatal);
  ir::Graph copy = graph;
  LegalizeOptions lo;
  lo.check_samples = 0;
  const LegalizeResult fixes = legalize(copy, target, {}, lo);
  const auto after = placements(copy, target, fixes.custom_patterns, after_unmapped, after_error, after_fatal);
  // A lowering that throws (not a rule a layer breaks: a shape or an input statiq cannot take) stops
  // generate with that message: check refuses the node it is about with the same words.
  if (const ir::Node* n = before_fatal.empty() ? nullptr : stopped_at(graph, before, before_fatal))
    before_unmapped.push_back(Unmapped{n->name, n->op_type, before_fatal, true});
  if (const ir::Node* n = after_fatal.empty() ? nullptr : stopped_at(copy, after, after_fatal))
    after_unmapped.push_back(Unmapped{n->name, n->op_type, after_fatal, true});

  std::vector<NodeCompatibility> out;
  for (const ir::Node& n : graph.nodes) {
    NodeCompatibility c{.node = n.name, .op_type = n.op_type};
    if (auto it = before.find(n.name); it != before.end()) {
      c.layer = it->second.layer;
      c.layer_kind = it->second.kind;
      c.maps = it->second.device;
    }
    for (const Unmapped& u : before_unmapped)
      if (u.node == n.name) {
        c.rule += (c.rule.empty() ? "" : "; ") + u.reason;  // every rule it breaks
        c.maps = false;
        c.refused = c.refused || u.no_layer;
      }
    if (c.rule.empty() && !c.maps)
      c.rule = !c.layer.empty() ? "fused into layer '" + c.layer + "', which runs on the host"
                                : "not reached: the engine stops before it (see the first rule broken above it)";
    for (const Rewrite& w : fixes.rewrites)
      for (const std::string& touched : w.nodes)
        if (touched == n.name) c.fix += (c.fix.empty() ? "" : "; ") + std::string(w.exact ? "" : "APPROXIMATE: ") + w.action;
    if (auto it = after.find(n.name); it != after.end()) c.maps_after_fix = it->second.device;
    for (const Unmapped& u : after_unmapped)
      if (u.node == n.name) c.maps_after_fix = false, c.refused_after_fix = c.refused_after_fix || u.no_layer;
    if (!c.maps && c.fix.empty() && c.maps_after_fix) c.fix = "none needed once the nodes before it are fixed";
    if (!c.maps_after_fix)
      for (const std::string& why : fixes.remaining)
        if (why.find("'" + n.name + "'") != std::string::npos) c.fix += (c.fix.empty() ? "" : "; ") + why;
    out.push_back(std::move(c));
  }
  return out;
}

std::string compatibility_text(const std::vector<NodeCompatibility>& nodes, const TargetInfo& target) {
  std::string s;
  std::size_t ok = 0, fixable = 0, host = 0, refused = 0;
  for (const NodeCompatibility& c : nodes) {
    std::string where = c.layer.empty() ? (c.layer_kind.empty() ? "" : " -> " + c.layer_kind)
                                        : fmt::format(" -> {} '{}'", c.layer_kind, c.layer);
    if (c.maps) {
      ++ok;
      s += fmt::format("ok     {} ({}){}\n", c.node, c.op_type, where);
      continue;
    }
    const char* verdict = c.maps_after_fix ? "FIX   " : c.refused_after_fix ? "REFUSE" : "HOST  ";
    (c.maps_after_fix ? fixable : c.refused_after_fix ? refused : host) += 1;
    s += fmt::format("{} {} ({}){}: {}\n", verdict, c.node, c.op_type, where, c.rule);
    if (!c.fix.empty()) s += std::string(c.maps_after_fix ? "         fix (--legalize): " : "         note: ") + c.fix + "\n";
    if (c.refused_after_fix)
      s += "         generate refuses it, even on the host: --unmapped float keeps the graph from there on in "
           "float, or change the model\n";
    else if (!c.maps_after_fix)
      s += "         no exact rewrite makes it fit: it runs on the host (--unmapped host)\n";
  }
  s += fmt::format("{}: {} node(s) map as they are, {} after --legalize, {} stay on the host, {} refused\n", target.name,
                   ok, fixable, host, refused);
  return s;
}

}  // namespace statiq::codegen::legalize
