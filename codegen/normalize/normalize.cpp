// codegen/normalize/normalize.cpp — the report, the fixed-point driver, and the passes that remove
// nodes outright (Identity/Dropout, constant subgraphs, dead nodes) or only annotate/report
// (Clip canonical form, depthwise tag, input preprocessing).
#include "codegen/normalize/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "codegen/exec/float_executor.hpp"
#include "codegen/normalize/graph_edit.hpp"

namespace statiq::codegen::normalize {

using edit::label;

// --- report ------------------------------------------------------------------------------------

void NormalizeReport::add(std::string message) {
  if (added_.size() != actions.size()) added_ = {actions.begin(), actions.end()};  // `actions` was set directly
  if (added_.insert(message).second) actions.push_back(std::move(message));
}

bool NormalizeReport::mentions(const std::string& fragment) const {
  return std::any_of(actions.begin(), actions.end(),
                     [&](const std::string& a) { return a.find(fragment) != std::string::npos; });
}

std::string NormalizeReport::to_text() const {
  std::string s;
  for (const auto& a : actions) s += a + "\n";
  return s;
}

namespace {

// Messages about what a pass left alone start with this; the driver keeps them only from the final
// round, so a node kept in round 1 but folded in round 2 is not reported as both.
constexpr std::string_view kept_prefix = "kept ";

bool is_kept_note(const std::string& m) { return m.rfind(kept_prefix, 0) == 0; }

std::string values_text(const exec::Array& a) {
  const std::size_t n = a.is_float() ? a.f.size() : a.i.size();
  if (n > 8) return "";
  std::string s = " = [";
  for (std::size_t k = 0; k < n; ++k) {
    if (k) s += ",";
    s += a.is_float() ? edit::number(a.f[k]) : std::to_string(a.i[k]);
  }
  return s + "]";
}

// Evaluates node `index` alone. Constant inputs come along as initializers; the input of a Shape
// node (not constant, static shape) is fed as zeros, its values being irrelevant to Shape.
std::vector<exec::Array> evaluate(const ir::Graph& g, const ir::Node& node) {
  ir::Graph mini;
  mini.name = g.name;
  mini.source = g.source;
  mini.opset = g.opset;
  mini.nodes = {node};
  std::vector<exec::Array> feeds;
  for (const auto& in : node.inputs) {
    if (in.empty() || mini.tensors.count(in)) continue;
    const ir::Tensor& t = g.tensor(in);
    mini.tensors.emplace(in, t);
    if (!edit::constant(g, in)) {
      mini.inputs.push_back(in);
      feeds.push_back(ir::is_floating(t.dtype) ? exec::Array::floats(*t.shape) : exec::Array::ints(*t.shape, {}, t.dtype));
    }
  }
  for (const auto& out : node.outputs) {
    if (out.empty()) continue;
    mini.tensors.emplace(out, g.tensor(out));
    mini.outputs.push_back(out);
  }
  const exec::FloatExecutor executor(mini);
  return executor.run(feeds).outputs;
}

bool foldable(const ir::Graph& g, const ir::Node& n) {
  if (!exec::FloatExecutor::supports(n.op_type, n.domain)) return false;
  if (n.op_type == "Shape" && n.has_input(0) && !edit::constant(g, n.inputs[0]) &&
      g.tensor(n.inputs[0]).has_static_shape())
    return true;
  for (const auto& in : n.inputs)
    if (!in.empty() && !edit::constant(g, in)) return false;
  return true;
}

// Erases the nodes marked dead, keeping the order of the others: one pass, where erasing them one
// by one would move the rest of the vector each time (quadratic on 100k-node graphs).
void erase_dead(ir::Graph& g, const std::vector<bool>& dead) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (!dead[i]) {
      if (kept != i) g.nodes[kept] = std::move(g.nodes[i]);
      ++kept;
    }
  g.nodes.resize(kept);
}

// How many times each tensor is read: by node inputs and as a graph output.
std::unordered_map<std::string, std::size_t> use_counts(const ir::Graph& g) {
  std::unordered_map<std::string, std::size_t> uses;
  for (const auto& o : g.outputs) ++uses[o];
  for (const auto& n : g.nodes)
    for (const auto& in : n.inputs)
      if (!in.empty()) ++uses[in];
  return uses;
}

// Drops nodes nobody reads (not producing a graph output), then tensor entries nothing references.
// Linear: use counts are computed once and decremented as nodes go, last node first.
std::size_t remove_dead(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  std::unordered_map<std::string, std::size_t> uses = use_counts(g);
  std::vector<bool> dead(g.nodes.size(), false);
  for (std::size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    const bool used = std::any_of(n.outputs.begin(), n.outputs.end(), [&](const std::string& o) {
      if (o.empty()) return false;
      const auto it = uses.find(o);
      return it != uses.end() && it->second > 0;
    });
    if (used) continue;
    report.add("removed " + label(n) + ": nothing reads its outputs");
    dead[i] = true;
    for (const auto& in : n.inputs)
      if (!in.empty()) --uses[in];
    ++changes;
  }
  erase_dead(g, dead);
  // the dead nodes' outputs are unreferenced now: the sweep below drops them with the rest
  std::set<std::string> referenced(g.inputs.begin(), g.inputs.end());
  referenced.insert(g.outputs.begin(), g.outputs.end());
  for (const auto& n : g.nodes) {
    referenced.insert(n.inputs.begin(), n.inputs.end());
    referenced.insert(n.outputs.begin(), n.outputs.end());
  }
  std::vector<std::string> unused;
  for (const auto& [name, t] : g.tensors)
    if (!referenced.count(name)) unused.push_back(name);
  std::vector<std::string> initializers;
  for (const auto& name : unused) {
    if (g.tensor(name).is_initializer) initializers.push_back("'" + display_name(name) + "'");
    g.tensors.erase(name);
  }
  // Not counted as a change: dropping entries never enables another rewrite.
  if (!initializers.empty()) {
    std::string names;
    for (std::size_t k = 0; k < initializers.size() && k < 6; ++k) names += (k ? ", " : "") + initializers[k];
    if (initializers.size() > 6) names += ", ...";
    report.add("dropped " + std::to_string(initializers.size()) + " initializer(s) no node reads any more: " + names);
  }
  return changes;
}

}  // namespace

// --- 1. Identity / Dropout -----------------------------------------------------------------------

// One forward pass, linear in the graph: readers of a removed node's output are redirected
// through `alias` (resolved as each node is reached, then once more over every node for the
// renames of graph outputs), removed nodes are erased together at the end.
std::size_t remove_identities(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  const std::unordered_set<std::string> graph_outputs(g.outputs.begin(), g.outputs.end());
  const std::unordered_map<std::string, std::size_t> uses = use_counts(g);
  std::unordered_map<std::string, std::size_t> producer;  // tensor -> index of the node writing it
  std::unordered_map<std::string, std::string> alias;     // a tensor that is gone -> the one to read instead
  const auto resolve = [&](const std::string& t) {
    std::string r = t;
    for (auto it = alias.find(r); it != alias.end(); it = alias.find(r)) r = it->second;
    return r;
  };
  std::vector<bool> dead(g.nodes.size(), false);
  std::vector<std::string> dropped;  // inputs and outputs of removed nodes: dropped below if unreferenced
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    for (auto& in : g.nodes[i].inputs)
      if (!in.empty()) in = resolve(in);
    for (const auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
    const ir::Node& n = g.nodes[i];
    if (!n.domain.empty() || (n.op_type != "Identity" && n.op_type != "Dropout")) continue;
    if (!n.has_input(0) || n.outputs.empty()) continue;
    if (n.op_type == "Dropout") {
      const auto mask_uses = n.outputs.size() > 1 && !n.outputs[1].empty() ? uses.find(n.outputs[1]) : uses.end();
      if (mask_uses != uses.end() && mask_uses->second > 0) {
        report.add(std::string(kept_prefix) + label(n) + ": its mask output '" + display_name(n.outputs[1]) + "' is read");
        continue;
      }
      if (n.has_input(2)) {
        const ir::Tensor* t = edit::constant(g, n.inputs[2]);
        const bool training = !t || (t->int64_data.size() == 1 ? t->int64_data[0] != 0
                                                               : t->float_data.size() != 1 || t->float_data[0] != 0.0f);
        if (training) {
          report.add(std::string(kept_prefix) + label(n) + ": training_mode '" + n.inputs[2] +
                     "' is not a false constant");
          continue;
        }
      }
    }
    const std::string x = n.inputs[0];
    const std::string y = n.outputs[0];
    std::string how;
    if (y.empty() || !graph_outputs.count(y)) {
      if (!y.empty()) alias[y] = x;
      how = "its consumers read '" + display_name(x) + "' directly";
    } else {
      // y is a graph output and must keep its name: the producer of x writes y instead.
      if (edit::constant(g, x)) continue;  // fold_constants turns y into an initializer
      const auto p = producer.find(x);
      if (p == producer.end() || graph_outputs.count(x)) {
        // (not looked up in the whole graph: on 100k-node graphs that made this pass quadratic)
        const std::string from = p != producer.end() ? label(g.nodes[p->second])
                                 : g.tensor(x).is_initializer ? "initializer '" + display_name(x) + "'"
                                                              : "graph input '" + display_name(x) + "'";
        report.add(std::string(kept_prefix) + label(n) + ": it copies " + from + " to graph output '" + display_name(y) + "'");
        continue;
      }
      for (auto& o : g.nodes[p->second].outputs)
        if (o == x) o = y;
      producer[y] = p->second;
      alias[x] = y;  // readers of x between its producer and here are renamed in the final pass
      ir::Tensor& t = g.tensor(y);
      const ir::Tensor& src = g.tensor(x);
      if (!t.shape) t.shape = src.shape;
      if (t.dtype == ir::DataType::undefined) t.dtype = src.dtype;
      g.tensors.erase(x);
      how = "graph output '" + display_name(y) + "' is now written by " + label(g.nodes[p->second]) + " (was '" + display_name(x) + "')";
    }
    dead[i] = true;
    dropped.insert(dropped.end(), n.outputs.begin(), n.outputs.end());
    dropped.insert(dropped.end(), n.inputs.begin(), n.inputs.end());
    report.add("removed " + label(n) + (n.op_type == "Dropout" ? " (inference)" : "") + ": " + how);
    ++changes;
  }
  if (changes == 0) return 0;
  erase_dead(g, dead);
  for (auto& node : g.nodes)
    for (auto& in : node.inputs)
      if (!in.empty()) in = resolve(in);
  std::unordered_set<std::string> referenced(g.inputs.begin(), g.inputs.end());
  referenced.insert(g.outputs.begin(), g.outputs.end());
  for (const auto& node : g.nodes) {
    referenced.insert(node.inputs.begin(), node.inputs.end());
    referenced.insert(node.outputs.begin(), node.outputs.end());
  }
  for (const auto& t : dropped)
    if (!t.empty() && !referenced.count(t)) g.tensors.erase(t);
  return changes;
}

// --- 2. constant folding -------------------------------------------------------------------------

std::size_t fold_constants(ir::Graph& g, NormalizeReport& report) {
  // One forward pass (the graph is in topological order: a folded node's readers come after it
  // and see its outputs as initializers); folded nodes are erased together at the end.
  std::size_t changes = 0;
  std::vector<bool> folded(g.nodes.size(), false);
  {
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const ir::Node& n = g.nodes[i];
      if (!foldable(g, n)) continue;
      std::vector<exec::Array> values;
      try {
        values = evaluate(g, n);
      } catch (const std::exception& e) {
        report.add(std::string(kept_prefix) + label(n) + ": its inputs are constant but evaluating it failed: " + e.what());
        continue;
      }
      std::string what;
      std::size_t k = 0;
      for (const auto& out : n.outputs) {
        if (out.empty()) continue;
        exec::Array& a = values.at(k++);
        ir::Tensor& t = g.tensor(out);
        t.is_initializer = true;
        t.dtype = a.dtype;
        t.shape = a.shape;
        t.float_data.clear();
        t.int64_data.clear();
        if (a.is_float()) t.float_data = std::move(a.f);
        else t.int64_data = std::move(a.i);
        if (!what.empty()) what += ", ";
        what += "'" + display_name(out) + "' " + ir::to_string(a.shape) + values_text(exec::Array::from_tensor(t));
      }
      std::string why = "its inputs are constant";
      if (n.op_type == "Shape" && !edit::constant(g, n.inputs[0]))
        why = "'" + display_name(n.inputs[0]) + "' has the static shape " + edit::shape_of(g, n.inputs[0]);
      folded[i] = true;
      report.add("folded " + label(n) + " into initializer " + what + " (" + why + ")");
      ++changes;
    }
  }
  if (changes) erase_dead(g, folded);
  return changes + remove_dead(g, report);
}

// --- 7. Clip ------------------------------------------------------------------------------------

std::size_t canonicalize_clip(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  GraphEdit e(g);  // no node is erased: the index only answers "is this bound still read?"
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (!n.domain.empty() || n.op_type != "Clip" || !n.has_input(1)) continue;
    const auto lo = edit::scalar(g, n.inputs[1]);
    if (!lo || *lo != 0.0f) continue;
    std::optional<float> hi = std::numeric_limits<float>::infinity();
    if (n.has_input(2)) hi = edit::scalar(g, n.inputs[2]);
    if (!hi) continue;  // max computed at run time: not a clipped ReLU we can name
    if (std::isinf(*hi) && *hi > 0) {
      n.op_type = "Relu";
      n.attributes.clear();
      e.set_inputs(i, {n.inputs[0]});
      report.add(label(g.nodes[i]) + " was Clip with min 0 and no max: became Relu");
      ++changes;
      continue;
    }
    // Clipped ReLU: make both bounds rank-0 initializers so matchers read one form.
    bool rewritten = false;
    for (std::size_t k = 1; k <= 2; ++k) {
      const ir::Tensor& bound = g.tensor(n.inputs[k]);
      if (bound.shape->empty()) continue;
      const ir::DataType dtype = bound.dtype;  // Clip wants min/max of X's type: keep it
      const std::string name = edit::add_initializer(g, n.name + (k == 1 ? ".min" : ".max"), {}, {k == 1 ? 0.0f : *hi});
      g.tensor(name).dtype = dtype;
      e.set_input(i, k, name);
      rewritten = true;
    }
    const std::string kind = *hi == 6.0f ? " (ReLU6)" : "";
    if (rewritten) {
      report.add("rewrote " + label(n) + " as clipped ReLU min 0, max " + edit::number(*hi) + kind +
                 " with rank-0 bound initializers");
      ++changes;
    } else {
      report.add(std::string(kept_prefix) + label(n) + " as clipped ReLU: min 0, max " + edit::number(*hi) + kind);
    }
  }
  return changes;
}

// --- 7b. ReduceMean over H, W -------------------------------------------------------------------

std::size_t reduce_mean_to_pool(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (!n.domain.empty() || n.op_type != "ReduceMean" || n.inputs.empty() || n.outputs.size() != 1) continue;
    const ir::Tensor& x = g.tensor(n.inputs[0]);
    if (!x.shape || x.shape->size() != 4) continue;
    // axes: an attribute up to opset 17, a constant input from 18.
    std::vector<std::int64_t> axes = n.attr_ints("axes", {});
    if (n.has_input(1)) {
      const ir::Tensor* a = edit::constant(g, n.inputs[1]);
      if (!a || a->int64_data.empty()) continue;
      axes = a->int64_data;
    }
    for (std::int64_t& a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<std::int64_t>{2, 3}) continue;
    const bool keepdims = n.attr_int("keepdims", 1) != 0;
    const std::string before = label(n);
    n.op_type = "GlobalAveragePool";
    n.attributes.clear();
    n.inputs.resize(1);
    if (!keepdims) {  // GlobalAveragePool to [N, C, 1, 1], then Flatten to the ReduceMean's [N, C]
      const std::string out = n.outputs[0];
      const std::string pooled = edit::fresh_name(g, out + "_pooled");
      ir::Tensor t;
      t.name = pooled;
      t.dtype = g.tensor(out).dtype;
      t.shape = ir::Dims{(*x.shape)[0], (*x.shape)[1], 1, 1};
      g.tensors[pooled] = t;
      n.outputs[0] = pooled;
      ir::Node flatten;
      flatten.name = edit::fresh_name(g, n.name + "_flatten");
      flatten.op_type = "Flatten";
      flatten.inputs = {pooled};
      flatten.outputs = {out};
      flatten.attributes["axis"] = ir::AttributeValue{std::int64_t{1}};
      g.nodes.insert(g.nodes.begin() + std::ptrdiff_t(i) + 1, std::move(flatten));
    }
    report.add(before + " (ReduceMean over H, W) became GlobalAveragePool" + (keepdims ? "" : " -> Flatten"));
    ++changes;
  }
  return changes;
}

// --- 7c. Pad before a Conv ----------------------------------------------------------------------

std::size_t fold_pad_into_conv(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  const auto uses = use_counts(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& pad = g.nodes[i];
    if (!pad.domain.empty() || pad.op_type != "Pad" || pad.outputs.size() != 1 || pad.inputs.empty()) continue;
    if (pad.attr_string("mode", "constant") != "constant") continue;
    // pads: an attribute before opset 11, a constant input since; the value must be 0.
    std::vector<std::int64_t> pads = pad.attr_ints("pads", {});
    if (pad.has_input(1)) {
      const ir::Tensor* p = edit::constant(g, pad.inputs[1]);
      if (!p) continue;
      pads = p->int64_data;
    }
    float value = pad.attr_float("value", 0.0f);
    if (pad.has_input(2)) {
      const auto v = edit::scalar(g, pad.inputs[2]);
      if (!v) continue;
      value = *v;
    }
    if (pad.has_input(3) || value != 0.0f || pads.size() != 8) continue;  // axes input: not folded here
    if (pads[0] || pads[1] || pads[4] || pads[5] || std::any_of(pads.begin(), pads.end(), [](std::int64_t v) { return v < 0; }))
      continue;
    const auto it = uses.find(pad.outputs[0]);
    if (it == uses.end() || it->second != 1) continue;
    const std::vector<std::size_t> readers = g.consumers(pad.outputs[0]);
    if (readers.size() != 1) continue;
    ir::Node& conv = g.nodes[readers[0]];
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.inputs[0] != pad.outputs[0]) continue;
    if (conv.attr_string("auto_pad", "NOTSET") != "NOTSET") continue;
    std::vector<std::int64_t> cp = conv.attr_ints("pads", {0, 0, 0, 0});
    if (cp.size() != 4) continue;
    cp[0] += pads[2], cp[1] += pads[3], cp[2] += pads[6], cp[3] += pads[7];
    conv.attributes["pads"] = ir::AttributeValue{cp};
    conv.inputs[0] = pad.inputs[0];
    report.add(label(pad) + " (zeros around H, W) folded into " + label(conv) + "'s pads");
    ++changes;
  }
  return changes ? changes + remove_dead(g, report) : 0;
}

// --- 8. depthwise tag ---------------------------------------------------------------------------

bool is_tagged_depthwise(const ir::Node& n) {
  return n.op_type == "Conv" && n.attr_int(depthwise_attribute, 0) == 1;
}

std::size_t tag_depthwise(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  for (auto& n : g.nodes) {
    if (!n.domain.empty() || n.op_type != "Conv" || n.has_attribute(depthwise_attribute) || n.inputs.size() < 2) continue;
    const ir::Tensor& x = g.tensor(n.inputs[0]);
    const ir::Tensor& w = g.tensor(n.inputs[1]);
    if (!x.has_static_shape() || !w.has_static_shape() || x.shape->size() < 2 || w.shape->size() < 2) continue;
    const std::int64_t group = n.attr_int("group", 1), channels = (*x.shape)[1], outputs = (*w.shape)[0];
    if (group <= 1 || group != channels || (*w.shape)[1] != 1 || outputs % group != 0) continue;
    n.attributes[depthwise_attribute] = std::int64_t{1};
    n.attributes[depth_multiplier_attribute] = outputs / group;
    report.add("tagged " + label(n) + " depthwise (" + depthwise_attribute + " = 1): group " + std::to_string(group) +
               " = input channels, multiplier " + std::to_string(outputs / group));
    ++changes;
  }
  return changes;
}

// --- 9. input preprocessing (report only) --------------------------------------------------------

std::size_t report_input_preprocessing(const ir::Graph& g, NormalizeReport& report) {
  std::size_t reported = 0;
  std::unordered_map<std::string, std::vector<std::size_t>> consumers;  // one scan, not one per step
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs)
      if (!in.empty() && (consumers[in].empty() || consumers[in].back() != i)) consumers[in].push_back(i);
  const std::vector<std::size_t> none;
  for (const auto& input : g.inputs) {
    std::string cur = input, where = "graph input '" + display_name(input) + "'";
    // Follow the chain while each step is an elementwise op with a constant on the tensor coming
    // from the input; later steps must be the only reader of the previous one.
    for (bool first = true;; first = false) {
      const auto found = consumers.find(cur);
      const std::vector<std::size_t>& readers = found == consumers.end() ? none : found->second;
      if (readers.empty() || (!first && readers.size() != 1)) break;
      std::string next;
      for (auto r : readers) {
        const ir::Node& n = g.nodes[r];
        static const std::set<std::string> elementwise{"Add", "Sub", "Mul", "Div"};
        if (!n.domain.empty() || !elementwise.count(n.op_type) || n.inputs.size() != 2) continue;
        const std::size_t k = n.inputs[0] == cur ? 1 : 0;
        if (n.inputs[1 - k] != cur) continue;
        const ir::Tensor* c = edit::constant(g, n.inputs[k]);
        if (!c || !g.tensor(cur).shape) continue;
        std::string value;
        if (c->float_data.size() == 1) value = edit::number(c->float_data[0]);
        else if (edit::per_channel(*c, *g.tensor(cur).shape)) value = "per-channel '" + display_name(n.inputs[k]) + "' " + ir::to_string(*c->shape);
        else continue;
        const char* op = n.op_type == "Add" ? " + " : n.op_type == "Sub" ? " - " : n.op_type == "Mul" ? " * " : " / ";
        const std::string expr = k == 1 ? "x" + std::string(op) + value : value + op + "x";
        report.add("input preprocessing: " + label(n) + " computes " + expr + " on " + where +
                   "; left in place, later stages decide");
        ++reported;
        if (readers.size() == 1) next = n.outputs.at(0);
      }
      if (next.empty()) break;
      where = "the output of " + label(g.nodes[readers[0]]) + " (from graph input '" + display_name(input) + "')";
      cur = next;
    }
  }
  return reported;
}

// --- driver -------------------------------------------------------------------------------------

NormalizeReport normalize(ir::Graph& g, const NormalizeOptions& options) {
  NormalizeReport report;
  for (std::size_t round = 0; round < options.max_iterations; ++round) {
    NormalizeReport step;
    std::size_t changes = 0;
    if (options.remove_identities) changes += remove_identities(g, step);
    if (options.fold_constants) changes += fold_constants(g, step);
    if (options.matmul_to_gemm) changes += matmul_to_gemm(g, step);
    if (options.fold_batch_norm) changes += fold_batch_norm(g, step);
    if (options.fold_bias_add) changes += fold_bias_add(g, step);
    if (options.flatten_before_gemm) changes += flatten_before_gemm(g, step);
    if (options.canonicalize_clip) changes += canonicalize_clip(g, step);
    if (options.reduce_mean_to_pool) changes += reduce_mean_to_pool(g, step);
    if (options.fold_pad_into_conv) changes += fold_pad_into_conv(g, step);
    ++report.iterations;
    for (auto& m : step.actions)
      if (changes == 0 || !is_kept_note(m)) report.add(std::move(m));
    if (changes == 0) break;
  }
  if (options.tag_depthwise) tag_depthwise(g, report);
  if (options.report_input_preprocessing) report_input_preprocessing(g, report);
  g.validate();
  return report;
}

}  // namespace statiq::codegen::normalize
