// codegen/normalize/fusion.cpp — the passes that merge a node into its producer or neighbour:
// BatchNormalization and bias Add into Conv/Gemm, MatMul(+Add) into Gemm, shape chains into Flatten.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "codegen/normalize/graph_edit.hpp"
#include "codegen/normalize/normalize.hpp"

namespace statiq::codegen::normalize {

using edit::label;

namespace {

constexpr const char* kept = "kept ";

// Output channels of a Conv / Gemm whose weights are a float initializer (0 if not foldable).
std::int64_t weight_channels(const GraphEdit& e, const ir::Node& p) {
  if (!p.domain.empty() || p.inputs.size() < 2) return 0;
  const ir::Tensor* w = e.constant(p.inputs[1]);
  if (!w || !ir::is_floating(w->dtype)) return 0;
  const ir::Dims& ws = *w->shape;
  if (p.op_type == "Conv") return ws.size() >= 3 ? ws[0] : 0;
  if (p.op_type == "Gemm") return ws.size() == 2 ? ws[p.attr_int("transB", 0) != 0 ? 0 : 1] : 0;
  return 0;
}

// The bias of Conv/Gemm `p` as one value per output channel (Gemm: beta * C), zeros when absent;
// nullopt when it is not a constant we can read per channel.
std::optional<std::vector<double>> current_bias(const GraphEdit& e, const ir::Node& p, std::int64_t channels) {
  std::vector<double> b(static_cast<std::size_t>(channels), 0.0);
  if (!p.has_input(2)) return b;
  const ir::Tensor* c = e.constant(p.inputs[2]);
  if (!c) return std::nullopt;
  const double scale = p.op_type == "Gemm" ? p.attr_float("beta", 1.0f) : 1.0;
  std::optional<std::vector<float>> v;
  if (p.op_type == "Conv") {
    if (static_cast<std::int64_t>(c->float_data.size()) == channels) v = c->float_data;
  } else {
    v = edit::per_channel(*c, e.graph().tensor(p.outputs.at(0)).shape.value_or(ir::Dims{}));
  }
  if (!v) return std::nullopt;
  for (std::size_t k = 0; k < b.size(); ++k) b[k] = scale * (*v)[k];
  return b;
}

// Writes `values` as the bias of Conv/Gemm node `index` (input 2): in place when the initializer is
// already [C] and read only there, else as a new initializer "<node>.bias". Gemm's beta becomes 1.
void set_bias(GraphEdit& e, std::size_t index, const std::vector<double>& values) {
  ir::Graph& g = e.graph();
  std::vector<float> data(values.begin(), values.end());
  ir::Node& p = g.nodes[index];
  const ir::Dims shape{static_cast<std::int64_t>(data.size())};
  if (p.op_type == "Gemm") p.attributes["beta"] = 1.0f;
  if (p.has_input(2) && e.use_count(p.inputs[2]) == 1 && g.tensor(p.inputs[2]).shape == shape &&
      g.tensor(p.inputs[2]).dtype == ir::DataType::float32) {
    g.tensor(p.inputs[2]).float_data = std::move(data);
    return;
  }
  e.set_input(index, 2, edit::add_initializer(g, p.name + ".bias", shape, std::move(data)));
}

// Node `index` now writes `new_output`, the output of node `merged`, which is erased.
void take_output(GraphEdit& e, std::size_t index, std::size_t merged, const std::string& new_output) {
  e.set_output(index, 0, new_output);  // first: new_output keeps a producer while `merged` goes
  e.erase(merged);
}

}  // namespace

// --- 3. BatchNormalization -----------------------------------------------------------------------

// One forward pass: a BN's producer comes before it, and after a fold it writes the BN's output,
// so a BN further down (Conv -> BN -> BN) finds it through the index.
std::size_t fold_batch_norm(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  GraphEdit e(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (e.erased(i)) continue;
    const ir::Node& bn = g.nodes[i];
    if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() < 5) continue;
    auto keep = [&](const std::string& why) { report.add(kept + label(bn) + ": " + why); };
    if (bn.attr_int("training_mode", 0) != 0) {
      keep("training_mode = 1");
      continue;
    }
    if (std::any_of(bn.outputs.begin() + 1, bn.outputs.end(),
                    [&](const std::string& o) { return !o.empty() && e.use_count(o) > 0; })) {
      keep("its running statistics outputs are read");
      continue;
    }
    const std::string& x = bn.inputs[0];
    const ir::Tensor& xt = g.tensor(x);
    if (!xt.has_static_shape() || xt.shape->size() < 2) {
      keep("input '" + display_name(x) + "' has no static shape");
      continue;
    }
    const std::int64_t channels = (*xt.shape)[1];
    const ir::Tensor* param[4];
    bool constant = true;
    for (int k = 0; k < 4; ++k) {
      param[k] = e.constant(bn.inputs[static_cast<std::size_t>(k) + 1]);
      constant = constant && param[k] && ir::is_floating(param[k]->dtype) &&
                 static_cast<std::int64_t>(param[k]->float_data.size()) == channels;
    }
    if (!constant) {
      keep("scale/B/mean/var are not constants of " + std::to_string(channels) + " values");
      continue;
    }
    const auto p = e.producer(x);
    const ir::Node* prod = p ? &g.nodes[*p] : nullptr;
    if (!prod || (prod->op_type != "Conv" && prod->op_type != "Gemm")) {
      keep("its input comes from " + e.origin(x) +
           ", not from a Conv or Gemm it could fold into (a per-channel scale and shift for later stages)");
      continue;
    }
    if (e.sole_consumer(x) != i) {
      keep("the output of " + label(*prod) + " is also read elsewhere");
      continue;
    }
    const std::size_t pi = *p;
    const std::int64_t m = weight_channels(e, *prod);
    const auto bias = current_bias(e, *prod, channels);
    if (m != channels || !bias) {
      keep(label(*prod) + " has no constant weights/bias with " + std::to_string(channels) + " output channels");
      continue;
    }
    // s = scale / sqrt(var + eps) in double: the folded weights are then rounded to float once.
    const double eps = bn.attr_float("epsilon", 1e-5f);
    std::vector<double> s(static_cast<std::size_t>(channels)), b(static_cast<std::size_t>(channels));
    for (std::size_t c = 0; c < s.size(); ++c) {
      s[c] = double(param[0]->float_data[c]) / std::sqrt(double(param[3]->float_data[c]) + eps);
      b[c] = ((*bias)[c] - double(param[2]->float_data[c])) * s[c] + double(param[1]->float_data[c]);
    }
    const std::string bn_label = label(bn), bn_out = bn.outputs[0];
    ir::Tensor& w = e.exclusive_initializer(pi, 1);
    if (g.nodes[pi].op_type == "Conv") {
      const std::size_t per = w.float_data.size() / s.size();  // [M, C/group, kH, kW]: M blocks
      for (std::size_t k = 0; k < w.float_data.size(); ++k) w.float_data[k] = float(w.float_data[k] * s[k / per]);
    } else {
      const bool tb = g.nodes[pi].attr_int("transB", 0) != 0;
      const std::size_t cols = static_cast<std::size_t>((*w.shape)[1]);  // [K,N], or [N,K] if transB
      for (std::size_t k = 0; k < w.float_data.size(); ++k)
        w.float_data[k] = float(w.float_data[k] * s[tb ? k / cols : k % cols]);
    }
    set_bias(e, pi, b);
    take_output(e, pi, i, bn_out);
    report.add("folded " + bn_label + " into " + label(g.nodes[pi]));
    ++changes;
  }
  e.commit();
  return changes;
}

// --- 4. bias Add ---------------------------------------------------------------------------------

// One forward pass, as fold_batch_norm: Conv -> Add -> Add folds both in turn.
std::size_t fold_bias_add(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  GraphEdit e(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (e.erased(i)) continue;
    const ir::Node& add = g.nodes[i];
    if (!add.domain.empty() || (add.op_type != "Add" && add.op_type != "Sub") || add.inputs.size() != 2) continue;
    // Which operand is the constant: either for Add, only the subtrahend for Sub.
    std::size_t k = 1;
    if (!e.constant(add.inputs[1]) && add.op_type == "Add") k = 0;
    const ir::Tensor* c = e.constant(add.inputs[k]);
    const std::string& x = add.inputs[1 - k];
    if (!c || e.constant(x)) continue;
    const auto p = e.producer(x);
    if (!p) continue;
    const std::size_t pi = *p;
    const ir::Node& prod = g.nodes[pi];
    if (prod.op_type != "Conv" && prod.op_type != "Gemm") continue;
    if (e.sole_consumer(x) != i) continue;
    const ir::Dims out = g.tensor(x).shape.value_or(ir::Dims{});
    const auto v = edit::per_channel(*c, out);
    if (!v) {
      report.add(kept + label(add) + " after " + label(prod) + ": constant '" + display_name(add.inputs[k]) + "' " +
                 edit::shape_of(g, add.inputs[k]) + " is not per-channel for " + ir::to_string(out) +
                 " (broadcasting aligns it with the last axes)");
      continue;
    }
    const std::int64_t channels = weight_channels(e, prod);
    const auto bias = current_bias(e, prod, channels);
    if (channels != out[1] || !bias) {
      report.add(kept + label(add) + ": " + label(prod) + " has no constant weights/bias to take it");
      continue;
    }
    std::vector<double> b = *bias;
    for (std::size_t ch = 0; ch < b.size(); ++ch) b[ch] += add.op_type == "Add" ? double((*v)[ch]) : -double((*v)[ch]);
    const std::string what = label(add) + " of constant '" + display_name(add.inputs[k]) + "' " + edit::shape_of(g, add.inputs[k]);
    const std::string add_out = add.outputs.at(0);
    set_bias(e, pi, b);
    take_output(e, pi, i, add_out);
    report.add("folded " + what + " into the bias of " + label(g.nodes[pi]));
    ++changes;
  }
  e.commit();
  return changes;
}

// --- 5. MatMul -> Gemm ---------------------------------------------------------------------------

std::size_t matmul_to_gemm(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  GraphEdit e(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (e.erased(i)) continue;
    ir::Node& mm = g.nodes[i];
    if (!mm.domain.empty() || mm.op_type != "MatMul" || mm.inputs.size() != 2) continue;
    const ir::Tensor& a = g.tensor(mm.inputs[0]);
    const ir::Tensor* b = e.constant(mm.inputs[1]);
    if (!a.has_static_shape() || a.shape->size() != 2 || !ir::is_floating(a.dtype)) continue;
    if (!b || b->shape->size() != 2 || !ir::is_floating(b->dtype) || e.constant(mm.inputs[0])) continue;
    const std::string mm_label = label(mm);
    mm.op_type = "Gemm";
    mm.attributes.clear();
    std::string what = mm_label + " became Gemm '" + display_name(mm.name) + "' without bias";
    // An Add of a per-column constant that alone reads the product becomes C.
    const std::string y = mm.outputs.at(0);
    const ir::Dims out = g.tensor(y).shape.value_or(ir::Dims{});
    if (const auto j = e.sole_consumer(y)) {
      const ir::Node& add = g.nodes[*j];
      if (add.domain.empty() && add.op_type == "Add" && add.inputs.size() == 2) {
        const std::size_t k = add.inputs[0] == y ? 1 : 0;
        const ir::Tensor* c = e.constant(add.inputs[k]);
        const auto v = c ? edit::per_channel(*c, out) : std::nullopt;
        if (v) {
          what = mm_label + " + " + label(add) + " (constant '" + display_name(add.inputs[k]) + "' " +
                 edit::shape_of(g, add.inputs[k]) + ") became Gemm '" + display_name(g.nodes[i].name) + "' with bias";
          set_bias(e, i, std::vector<double>(v->begin(), v->end()));
          take_output(e, i, *j, add.outputs.at(0));
        }
      }
    }
    report.add(what);
    ++changes;
  }
  e.commit();
  return changes;
}

// --- 6. Reshape/Flatten before Gemm --------------------------------------------------------------

// One forward pass over the Gemms; each walks back the chain feeding its A. A tensor A already
// examined is not walked again (two Gemms reading one long chain would make it quadratic).
std::size_t flatten_before_gemm(ir::Graph& g, NormalizeReport& report) {
  std::size_t changes = 0;
  GraphEdit e(g);
  std::unordered_set<std::string> examined;
  auto is_shape_op = [](const ir::Node& n) { return n.domain.empty() && (n.op_type == "Reshape" || n.op_type == "Flatten"); };
  for (std::size_t gi = 0; gi < g.nodes.size(); ++gi) {
    if (e.erased(gi)) continue;
    const ir::Node& gemm = g.nodes[gi];
    if (!gemm.domain.empty() || gemm.op_type != "Gemm" || gemm.attr_int("transA", 0) != 0) continue;
    const std::string a = gemm.inputs.at(0);
    if (!examined.insert(a).second) continue;
    // chain[0] produces A; each further entry produces the input of the previous one, which it
    // alone reads (so the whole chain can collapse into chain[0]).
    std::vector<std::size_t> chain;
    std::string x = a;
    for (auto p = e.producer(x); p && is_shape_op(g.nodes[*p]); p = e.producer(x)) {
      if (!chain.empty() && e.sole_consumer(x) != chain.back()) break;
      chain.push_back(*p);
      x = g.nodes[*p].inputs.at(0);
    }
    if (chain.empty()) continue;
    const ir::Tensor& xt = g.tensor(x);
    const ir::Tensor& at = g.tensor(a);
    if (!xt.has_static_shape() || !at.has_static_shape() || xt.shape->size() < 2) continue;
    const ir::Dims& xs = *xt.shape;
    const ir::Dims flat{xs[0], ir::element_count(xs) / std::max<std::int64_t>(1, xs[0])};
    if (*at.shape != flat) continue;
    const ir::Node& last = g.nodes[chain[0]];
    if (chain.size() == 1 && last.op_type == "Flatten" && last.attr_int("axis", 1) == 1) continue;
    std::string names;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) names += (names.empty() ? "" : " + ") + label(g.nodes[*it]);
    const std::string what = names + " (" + ir::to_string(xs) + " -> " + ir::to_string(flat) + ") before " +
                             label(gemm) + " became Flatten '" + display_name(last.name) + "' (axis 1)";
    ir::Node& f = g.nodes[chain[0]];
    f.op_type = "Flatten";
    f.attributes.clear();
    f.attributes["axis"] = std::int64_t{1};
    // The Flatten reads x first, so that erasing the rest of the chain does not drop x's entry.
    e.set_inputs(chain[0], {x});
    for (std::size_t r = 1; r < chain.size(); ++r) e.erase(chain[r]);
    report.add(what);
    ++changes;
  }
  e.commit();
  return changes;
}

}  // namespace statiq::codegen::normalize
