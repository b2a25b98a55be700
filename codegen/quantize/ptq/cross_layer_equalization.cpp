// codegen/quantize/ptq/cross_layer_equalization.cpp — see the header.
#include "codegen/quantize/ptq/cross_layer_equalization.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace statiq::codegen::ptq {
namespace {

// An initializer only `node` reads (input `k` of it), or null.
ir::Tensor* own_initializer(ir::Graph& graph, std::size_t node, std::size_t k) {
  const ir::Node& n = graph.nodes[node];
  if (!n.has_input(k) || !graph.has_tensor(n.inputs[k])) return nullptr;
  ir::Tensor& t = graph.tensor(n.inputs[k]);
  if (!t.is_initializer || t.float_data.empty() || !t.shape) return nullptr;
  std::size_t readers = 0;
  for (const ir::Node& other : graph.nodes)
    for (const std::string& in : other.inputs) readers += in == n.inputs[k];
  return readers == 1 ? &t : nullptr;
}

// The one node reading `tensor`, or -1 (none, several, or a graph output).
std::int64_t only_reader(const ir::Graph& graph, const std::string& tensor) {
  if (std::find(graph.outputs.begin(), graph.outputs.end(), tensor) != graph.outputs.end()) return -1;
  const std::vector<std::size_t> readers = graph.consumers(tensor);
  return readers.size() == 1 ? std::int64_t(readers[0]) : -1;
}

}  // namespace

std::vector<EqualizedPair> equalize_cross_layer(ir::Graph& graph, int iterations) {
  std::map<std::pair<std::size_t, std::size_t>, EqualizedPair> pairs;
  for (int pass = 0; pass < iterations; ++pass) {
    for (std::size_t a = 0; a < graph.nodes.size(); ++a) {
      if (graph.nodes[a].op_type != "Conv" || graph.nodes[a].outputs.empty()) continue;
      std::int64_t next = only_reader(graph, graph.nodes[a].outputs[0]);
      if (next >= 0 && graph.nodes[std::size_t(next)].op_type == "Relu")
        next = only_reader(graph, graph.nodes[std::size_t(next)].outputs.at(0));
      if (next < 0 || graph.nodes[std::size_t(next)].op_type != "Conv") continue;
      const std::size_t b = std::size_t(next);
      if (graph.nodes[b].inputs.empty()) continue;
      ir::Tensor* wa = own_initializer(graph, a, 1);
      ir::Tensor* wb = own_initializer(graph, b, 1);
      ir::Tensor* ba = graph.nodes[a].has_input(2) ? own_initializer(graph, a, 2) : nullptr;
      if (!wa || !wb || (graph.nodes[a].has_input(2) && !ba)) continue;
      const ir::Dims& da = *wa->shape;  // [O, I/g, kh, kw]
      const ir::Dims& db = *wb->shape;
      if (da.size() != 4 || db.size() != 4) continue;
      const std::int64_t channels = da[0];
      const std::int64_t group = graph.nodes[b].attr_int("group", 1);
      if (group <= 0 || channels % group || db[1] * group != channels || db[0] % group) continue;
      const std::size_t per_a = wa->float_data.size() / std::size_t(channels);
      const std::size_t kb = std::size_t(db[2] * db[3]);
      const std::int64_t in_per_group = db[1], out_per_group = db[0] / group;
      // r2_c: the largest |w| of B along input channel c (its group's output channels, index c % in_per_group).
      auto b_index = [&](std::int64_t o, std::int64_t ci, std::size_t i) {
        return (std::size_t(o) * std::size_t(in_per_group) + std::size_t(ci)) * kb + i;
      };
      EqualizedPair& record = pairs[{a, b}];
      record.first = graph.nodes[a].name;
      record.second = graph.nodes[b].name;
      double worst_before = 1, worst_after = 1;
      int rescaled = 0;
      for (std::int64_t c = 0; c < channels; ++c) {
        const std::int64_t g = c / in_per_group, ci = c % in_per_group;
        double r1 = 0, r2 = 0;
        for (std::size_t i = 0; i < per_a; ++i) r1 = std::max(r1, double(std::fabs(wa->float_data[std::size_t(c) * per_a + i])));
        for (std::int64_t o = g * out_per_group; o < (g + 1) * out_per_group; ++o)
          for (std::size_t i = 0; i < kb; ++i) r2 = std::max(r2, double(std::fabs(wb->float_data[b_index(o, ci, i)])));
        // A dead channel (a BatchNorm with gamma ~ 0 leaves weights ~1e-30 and the bias as the whole
        // output: mlperf_vww) would have its bias blown up by 1/s: left as it is.
        if (!(r1 > 0) || !(r2 > 0) || r1 / r2 > 1e6 || r2 / r1 > 1e6) continue;
        const double s = std::sqrt(r1 / r2);
        worst_before = std::max(worst_before, std::max(r1 / r2, r2 / r1));
        if (std::fabs(s - 1.0) < 1e-6) continue;
        ++rescaled;
        for (std::size_t i = 0; i < per_a; ++i) wa->float_data[std::size_t(c) * per_a + i] = float(wa->float_data[std::size_t(c) * per_a + i] / s);
        if (ba) ba->float_data[std::size_t(c)] = float(ba->float_data[std::size_t(c)] / s);
        for (std::int64_t o = g * out_per_group; o < (g + 1) * out_per_group; ++o)
          for (std::size_t i = 0; i < kb; ++i) wb->float_data[b_index(o, ci, i)] = float(wb->float_data[b_index(o, ci, i)] * s);
      }
      (void)worst_after;
      if (pass == 0) record.max_ratio_before = worst_before;
      record.channels = std::max(record.channels, rescaled);
    }
  }
  // The ratios left after the last pass.
  std::vector<EqualizedPair> out;
  for (auto& [ab, p] : pairs) {
    const auto [a, b] = ab;
    const ir::Tensor& wa = graph.tensor(graph.nodes[a].inputs[1]);
    const ir::Tensor& wb = graph.tensor(graph.nodes[b].inputs[1]);
    const ir::Dims& db = *wb.shape;
    const std::int64_t channels = (*wa.shape)[0], group = graph.nodes[b].attr_int("group", 1);
    const std::size_t per_a = wa.float_data.size() / std::size_t(channels), kb = std::size_t(db[2] * db[3]);
    const std::int64_t in_per_group = db[1], out_per_group = db[0] / group;
    double worst = 1;
    for (std::int64_t c = 0; c < channels; ++c) {
      const std::int64_t g = c / in_per_group, ci = c % in_per_group;
      double r1 = 0, r2 = 0;
      for (std::size_t i = 0; i < per_a; ++i) r1 = std::max(r1, double(std::fabs(wa.float_data[std::size_t(c) * per_a + i])));
      for (std::int64_t o = g * out_per_group; o < (g + 1) * out_per_group; ++o)
        for (std::size_t i = 0; i < kb; ++i)
          r2 = std::max(r2, double(std::fabs(wb.float_data[(std::size_t(o) * std::size_t(in_per_group) + std::size_t(ci)) * kb + i])));
      if (r1 > 0 && r2 > 0 && r1 / r2 <= 1e6 && r2 / r1 <= 1e6) worst = std::max(worst, std::max(r1 / r2, r2 / r1));
    }
    p.max_ratio_after = worst;
    if (p.channels > 0) out.push_back(p);
  }
  return out;
}

}  // namespace statiq::codegen::ptq
