// codegen/lower/lower.cpp — see lower.hpp.
#include "codegen/lower/lower.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/exec/resize_nearest.hpp"
#include "statiq/targets/describe.hpp"

namespace statiq::codegen {
namespace {

using ir::Node;

std::runtime_error node_error(const Node& n, const std::string& what) {
  return std::runtime_error(n.describe() + ": " + what);
}

// NCHW (batch 1) -> the engine's NHWC shape.
Shape nhwc_of(const ir::Graph& g, const std::string& tensor, const Node& at) {
  const ir::Tensor& t = g.tensor(tensor);
  if (!t.shape || !t.has_static_shape())
    throw node_error(at, "tensor '" + display_name(tensor) + "' has no static shape (statiq engines are statically sized)");
  const ir::Dims& d = *t.shape;
  if (d.empty() || d[0] != 1)
    throw node_error(at, "tensor '" + display_name(tensor) + "' " + ir::to_string(d) + " must have batch 1");
  if (d.size() == 4) return Shape{int(d[2]), int(d[3]), int(d[1])};
  if (d.size() == 2) return Shape{1, 1, int(d[1])};
  if (d.size() == 3) return Shape{1, int(d[2]), int(d[1])};
  throw node_error(at, "tensor '" + display_name(tensor) + "' " + ir::to_string(d) + " is not [1,C,H,W], [1,C,W] or [1,N]");
}

const std::vector<float>& initializer(const ir::Graph& g, const Node& n, std::size_t input, const char* what) {
  if (!n.has_input(input) || !g.has_tensor(n.inputs[input]) || !g.tensor(n.inputs[input]).is_initializer)
    throw node_error(n, std::string(what) + " must be a constant (an initializer)");
  return g.tensor(n.inputs[input]).float_data;
}

// The only node reading `tensor`, if exactly one does and it is not a graph output.
const Node* sole_consumer(const ir::Graph& g, const std::string& tensor) {
  if (std::find(g.outputs.begin(), g.outputs.end(), tensor) != g.outputs.end()) return nullptr;
  const auto c = g.consumers(tensor);
  if (c.size() != 1) return nullptr;
  return &g.nodes[c[0]];
}

// The kind of layer a node reading a tensor becomes, for the targets' connection rules; ops no
// integer layer computes leave the integers (dequantize).
LayerKind consumer_kind(const Node& n) {
  if (n.op_type == "Conv") return LayerKind::conv2d;
  if (n.op_type == "Gemm" || n.op_type == "Flatten" || n.op_type == "Reshape" || n.op_type == "MatMul")
    return LayerKind::dense;
  if (n.op_type == "Add") return LayerKind::add;
  if (n.op_type == "Concat") return LayerKind::concat;
  if (n.op_type == "MaxPool") return LayerKind::max_pool;
  if (n.op_type == "AveragePool") return LayerKind::average_pool;
  if (n.op_type == "GlobalAveragePool") return LayerKind::global_average_pool;
  return LayerKind::dequantize;
}

// Relu, or Clip from 0 (a clipped ReLU: its bound in real units). Other Clips are not activations here.
std::optional<std::pair<Activation, float>> activation_of(const ir::Graph& g, const Node& n) {
  if (n.op_type == "Relu") return std::pair{relu, 0.0f};
  if (n.op_type != "Clip") return std::nullopt;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (n.has_attribute("min")) lo = n.attr_float("min", lo);
  if (n.has_attribute("max")) hi = n.attr_float("max", hi);
  auto scalar = [&](std::size_t i, float& v) {
    if (n.has_input(i) && g.has_tensor(n.inputs[i]) && g.tensor(n.inputs[i]).is_initializer &&
        g.tensor(n.inputs[i]).float_data.size() == 1)
      v = g.tensor(n.inputs[i]).float_data[0];
  };
  scalar(1, lo);
  scalar(2, hi);
  if (lo != 0.0f) return std::nullopt;
  if (std::isinf(hi)) return std::pair{relu, 0.0f};
  return std::pair{clipped_relu, hi};
}

// Explicit [top, left, bottom, right] from ONNX pads / auto_pad of a 2-D window.
Pads pads_of(const Node& n, Shape in, Kernel k, Stride s, Dilation d) {
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER") return resolve_pads(Pads::same, in, k, s, d);
  if (auto_pad == "SAME_LOWER") {
    const Pads p = resolve_pads(Pads::same, in, k, s, d);
    return Pads{p.bottom, p.right, p.top, p.left};
  }
  if (auto_pad == "VALID") return Pads{};
  const auto p = n.attr_ints("pads", {0, 0, 0, 0});
  if (p.size() != 4) throw node_error(n, "pads must have 4 values for a 2-D window");
  return Pads{int(p[0]), int(p[1]), int(p[2]), int(p[3])};
}

Pool pool_of(const ir::Graph& g, const Node& n, Shape in) {
  if (n.op_type == "GlobalAveragePool") return global_average_pool;
  const auto ks = n.attr_ints("kernel_shape", {});
  if (ks.size() != 2) throw node_error(n, "kernel_shape must have 2 values");
  const auto st = n.attr_ints("strides", {1, 1});
  (void)g;
  const Kernel k{int(ks[0]), int(ks[1])};
  const Stride s{int(st[0]), int(st[1])};
  Pads p = pads_of(n, in, k, s, {});
  if (n.attr_int("ceil_mode", 0) != 0) {
    // statiq pools in floor mode: ceil mode is the same only when no window would start in the padding.
    auto ceil_out = [](int i, int b, int e, int kk, int ss) { return (i + b + e - kk + ss - 1) / ss + 1; };
    if (ceil_out(in.h, p.top, p.bottom, k.h, s.h) != window_output(in.h, p.top, p.bottom, k.h, s.h) ||
        ceil_out(in.w, p.left, p.right, k.w, s.w) != window_output(in.w, p.left, p.right, k.w, s.w))
      throw node_error(n, "ceil_mode=1 gives a larger output than floor mode here; statiq pools in floor mode: "
                          "export the model with ceil_mode=0 or pad the input");
  }
  if (p == Pads{}) p = Pads::valid;  // canonical: no padding reads as "valid"
  if (n.op_type == "AveragePool") {
    if (k.h == in.h && k.w == in.w && p == Pads::valid) return global_average_pool;  // averages the whole map
    return average_pool(k, s, p);
  }
  if (n.attr_ints("dilations", {1, 1}) != std::vector<std::int64_t>{1, 1}) throw node_error(n, "dilated pooling is not supported");
  return max_pool(k, s, p);
}

// The elementwise function a LookupTable layer computes for `op_type`, if it is one.
std::optional<LookupFunction> lookup_function_of(const std::string& op_type) {
  if (op_type == "LeakyRelu") return LookupFunction::leaky_relu;
  if (op_type == "Sigmoid") return LookupFunction::sigmoid;
  if (op_type == "Tanh") return LookupFunction::tanh;
  if (op_type == "HardSigmoid") return LookupFunction::hard_sigmoid;
  if (op_type == "HardSwish") return LookupFunction::hard_swish;
  return std::nullopt;
}

bool is_layout_op(const Node& n) {
  return n.op_type == "Flatten" || n.op_type == "Reshape" || n.op_type == "Squeeze" || n.op_type == "Unsqueeze" ||
         n.op_type == "Transpose";
}

bool is_pool(const Node& n) {
  return n.op_type == "MaxPool" || n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool";
}

// The one signedness convention of the run, for built-in and custom layers alike.
bool output_is_signed(const TargetInfo& t, bool all_signed, Activation a) {
  if (all_signed) return true;
  if (t.akida_conventions) return a.kind == ActivationKind::none;  // Akida: unsigned after a ReLU, signed otherwise
  return false;                                      // uint8 with a zero point
}

bool is_convolution(LayerKind k) {
  return k == LayerKind::input_conv2d || k == LayerKind::conv2d || k == LayerKind::depthwise_conv2d;
}
bool is_pool_kind(LayerKind k) {
  return k == LayerKind::max_pool || k == LayerKind::average_pool || k == LayerKind::global_average_pool;
}

// Whether a layer's kind and its attributes' type agree (a custom builder may get them wrong).
bool kind_matches(LayerKind k, const LayerAttributes& a) {
  if (std::holds_alternative<ConvAttributes>(a)) return is_convolution(k);
  if (std::holds_alternative<DenseAttributes>(a)) return k == LayerKind::dense;
  if (std::holds_alternative<AddAttributes>(a)) return k == LayerKind::add;
  if (std::holds_alternative<ConcatAttributes>(a)) return k == LayerKind::concat;
  if (std::holds_alternative<PoolAttributes>(a)) return is_pool_kind(k);
  if (std::holds_alternative<LookupTableAttributes>(a)) return k == LayerKind::lookup_table;
  if (std::holds_alternative<ElementwiseAttributes>(a)) return k == LayerKind::elementwise;
  if (std::holds_alternative<CopyAttributes>(a)) return k == LayerKind::copy;
  return false;  // Quantize / Dequantize: the engine's boundaries, never a custom layer
}

std::string shape_text(Shape s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

class Lowering {
 public:
  Lowering(const ir::Graph& g, const TargetInfo& t, const LowerOptions& o) : g_(g), t_(t), o_(o) {
    auto check_names = [&](const std::set<std::string>& names, const char* option) {
      for (const std::string& name : names)
        if (!g_.find_node(name))
          throw std::invalid_argument(std::string(option) + ": no node named '" + display_name(name) + "' in " + display_name(g_.source) +
                                      " (names are those of the normalised graph: a BatchNormalization folded "
                                      "into its Conv is gone, the Conv keeps its name)");
    };
    check_names(o_.nodes_to_exclude, "nodes_to_exclude");
    check_names(o_.nodes_to_quantize, "nodes_to_quantize");
    for (const CustomPattern& p : o_.custom_patterns) {
      if (p.ops.empty()) throw std::invalid_argument("custom pattern '" + display_name(p.name) + "' has no op types");
      if (!p.build) throw std::invalid_argument("custom pattern '" + display_name(p.name) + "' has no build function");
      patterns_.push_back(&p);
    }
    // Longest chain first (QuantizeML's rule: the most specific fusion wins); stable among equals.
    std::stable_sort(patterns_.begin(), patterns_.end(),
                     [](const CustomPattern* a, const CustomPattern* b) { return a->ops.size() > b->ops.size(); });
  }

  LoweredModel run() {
    if (g_.inputs.size() != 1 || g_.outputs.size() != 1)
      throw std::runtime_error(display_name(g_.source) + ": statiq engines take one input and give one output (the model has " +
                               std::to_string(g_.inputs.size()) + " and " + std::to_string(g_.outputs.size()) + ")");
    m_.name = o_.name;
    m_.target = std::string(t_.name);
    m_.input_tensor = g_.inputs[0];
    m_.output_tensor = g_.outputs[0];
    add_input();
    for (const Node& n : g_.nodes) {
      if (consumed_.count(n.name)) continue;
      if (stopped_) {
        m_.float_tail.push_back(n.name);
        continue;
      }
      if (const std::string why = exclusion(n); !why.empty()) {
        // The user keeps it float: the integer engine ends before it (never an error).
        m_.unmapped.push_back(Unmapped{n.name, n.op_type, why});
        stopped_ = true;
        m_.float_tail.push_back(n.name);
        continue;
      }
      if (reads_blocked(n)) {  // downstream of a node that did not map: reported there
        for (const auto& out : n.outputs) blocked_.insert(out);
        continue;
      }
      if (lower_custom(n)) continue;
      lower_node(n);
    }
    const bool really_unmapped = std::any_of(m_.unmapped.begin(), m_.unmapped.end(),
                                             [](const Unmapped& u) { return !is_excluded(u); });
    if (really_unmapped && o_.policy == UnmappedPolicy::error) throw UnmappedError(unmapped_report(m_, o_.policy));
    if (!unrepresentable_.empty() && !o_.analyse_past_unmappable)
      throw UnmappedError(unmapped_report(m_, o_.policy) + "no statiq layer computes " + unrepresentable_ +
                          ", not even on the host: --unmapped float keeps the graph from there on in float, or "
                          "replace the operator in the model\n");
    add_output();
    return std::move(m_);
  }

 private:
  int default_bits() const { return t_.default_bits; }
  int weight_bits(const std::string& head, bool input_layer) const {
    int b = o_.weight_bits ? o_.weight_bits : default_bits();
    if (input_layer && t_.akida_conventions) b = 8;  // Akida's input layer takes 8-bit weights in every recipe
    if (auto it = o_.node_bits.find(head); it != o_.node_bits.end() && it->second.w) b = *it->second.w;
    return b;
  }
  int output_bits(const std::string& head) const {
    int b = o_.activation_bits ? o_.activation_bits : default_bits();
    if (auto it = o_.node_bits.find(head); it != o_.node_bits.end() && it->second.out) b = *it->second.out;
    return b;
  }
  bool all_signed() const { return t_.signed_activations || o_.signed_activations; }
  bool signed_output(Activation a) const { return output_is_signed(t_, all_signed(), a); }
  // A convolution's bits reading layer `src`, headed by node `head`.
  Bits conv_bits(int src, const std::string& head, bool input_layer) const {
    Bits b{out_bits_of(src), weight_bits(head, input_layer), output_bits(head)};
    if (input_layer && t_.name == "akida_v1" && o_.activation_bits == 0) b.out = 4;
    return b;
  }

  // Why the user keeps `n` float ("" if not): nodes_to_exclude, or absent from nodes_to_quantize.
  std::string exclusion(const Node& n) const {
    if (o_.nodes_to_exclude.count(n.name)) return std::string(excluded_by_user) + " (nodes_to_exclude)";
    if (n.op_type == "Flatten" || n.op_type == "Reshape") {
      // Folded into its Gemm's layer, it computes nothing of its own: it follows the Gemm.
      if (const Node* next = sole_consumer(g_, n.outputs[0]); next && next->op_type == "Gemm") {
        if (exclusion(*next).empty()) return "";
        return std::string(excluded_by_user) + " (it feeds node '" + display_name(next->name) + "' (Gemm), kept float)";
      }
    }
    if (!o_.nodes_to_quantize.empty() && !o_.nodes_to_quantize.count(n.name))
      return std::string(excluded_by_user) + " (not in nodes_to_quantize)";
    return "";
  }
  // The only reader of `tensor` if it may be fused into the layer being built (the user did not
  // keep it float).
  const Node* fusable_consumer(const std::string& tensor) const {
    const Node* c = sole_consumer(g_, tensor);
    return c && exclusion(*c).empty() ? c : nullptr;
  }

  // The layer producing `tensor` (through Flatten aliases), or an error naming the node reading it.
  int producer(const std::string& tensor, const Node& reader) const {
    auto it = layer_of_.find(tensor);
    if (it == layer_of_.end())
      throw node_error(reader, "input '" + display_name(tensor) + "' is not produced by an integer layer (a constant operand "
                               "or a float-only op): statiq layers take activations only");
    return it->second;
  }
  const Layer& layer(int i) const { return m_.layers[std::size_t(i)]; }
  int out_bits_of(int i) const;
  bool out_signed_of(int i) const;

  std::map<std::string, std::string> unfused_pool_;  // pool node -> why its convolution could not fuse it

  int push(Layer l, const std::string& output_tensor) {
    l.output_tensor = output_tensor;
    for (const auto& n : l.onnx_nodes) consumed_.insert(n);
    m_.layers.push_back(std::move(l));
    const int index = int(m_.layers.size()) - 1;
    layer_of_[output_tensor] = index;
    return index;
  }

  // Places a layer by its Violation: on the device, on the host, or reported and stopped.
  bool place(Layer& l, const Node& head, Violation v) {
    if (!v.broken()) return true;
    // A pool left out of its convolution says first why it could not be fused.
    const auto unfused = unfused_pool_.find(head.name);
    m_.unmapped.push_back(Unmapped{head.name, head.op_type,
                                   (unfused != unfused_pool_.end() ? unfused->second + "; alone: " : std::string()) +
                                       describe(v)});
    l.violation = v;
    if (o_.policy == UnmappedPolicy::float_tail) {
      stopped_ = true;
      return false;
    }
    l.placement = Placement::host;
    return true;
  }

  // A node no statiq layer can compute (on the device or the host).
  void unmappable(const Node& n, const std::string& reason) {
    m_.unmapped.push_back(Unmapped{n.name, n.op_type, reason, true});
    if (o_.policy == UnmappedPolicy::float_tail) {
      stopped_ = true;
      m_.float_tail.push_back(n.name);
      return;
    }
    if (o_.analyse_past_unmappable) {
      // check: its outputs become stand-in inputs, so the nodes after it are judged too.
      for (const auto& out : n.outputs) {
        const ir::Tensor* t = g_.has_tensor(out) ? &g_.tensor(out) : nullptr;
        if (!t || !t->has_static_shape() || t->shape->empty() || (*t->shape)[0] != 1 || t->shape->size() > 4 ||
            t->shape->size() < 2) {
          blocked_.insert(out);
          continue;
        }
        Layer l;
        l.name = out;
        l.kind = LayerKind::quantize;
        l.placement = Placement::host;
        l.attributes = QuantizeAttributes{.shape = nhwc_of(g_, out, n), .bits = default_bits(), .signed_output = true};
        l.inputs = {-1};
        push(std::move(l), out);
      }
      return;
    }
    for (const auto& out : n.outputs) blocked_.insert(out);
    if (o_.policy == UnmappedPolicy::host && unrepresentable_.empty())
      unrepresentable_ = n.describe();
  }

  bool reads_blocked(const Node& n) const {
    for (const auto& in : n.inputs)
      if (blocked_.count(in)) return true;
    return false;
  }

  void add_input() {
    Node pseudo;
    pseudo.name = m_.input_tensor;
    pseudo.op_type = "QuantizeLinear";
    m_.input_shape = nhwc_of(g_, m_.input_tensor, pseudo);
    Layer l;
    l.name = m_.input_tensor;
    l.kind = LayerKind::quantize;
    // 8-bit unless the per-node configuration names the graph input ("out").
    const auto it = o_.node_bits.find(m_.input_tensor);
    const int bits = it != o_.node_bits.end() && it->second.out ? *it->second.out : 8;
    l.attributes = QuantizeAttributes{.shape = m_.input_shape, .bits = bits,
                                      .signed_output = t_.signed_activations || o_.signed_activations};
    l.inputs = {-1};
    m_.layers.push_back(std::move(l));
    m_.layers.back().output_tensor = m_.input_tensor;
    layer_of_[m_.input_tensor] = 0;
  }

  void add_output() {
    // The tensor the integer engine ends with: the graph output, or the input of the float tail.
    std::string last = m_.output_tensor;
    if (softmax_node_) last = softmax_node_->inputs[0];
    if (!m_.float_tail.empty()) {
      const Node* first = g_.find_node(m_.float_tail.front());
      last = first && !first->inputs.empty() ? first->inputs[0] : last;
    }
    auto it = layer_of_.find(last);
    if (it == layer_of_.end()) {
      // Reported below; or check, which judged the nodes past one no layer computes, whose outputs
      // may have no shape to stand in for.
      if ((o_.policy == UnmappedPolicy::error || o_.analyse_past_unmappable) && !m_.unmapped.empty()) return;
      throw std::runtime_error(display_name(g_.source) + ": no integer layer produces '" + display_name(last) + "'");
    }
    const Layer& src = layer(it->second);
    Layer l;
    l.name = m_.output_tensor + "_dequantize";
    l.kind = LayerKind::dequantize;
    l.attributes = DequantizeAttributes{.shape = output_shape_of(it->second), .bits = out_bits_of(it->second),
                                        .signed_input = out_signed_of(it->second), .softmax = softmax_node_ != nullptr};
    l.inputs = {it->second};
    l.output_tensor = src.output_tensor;
    if (softmax_node_) {  // the engine's float output is the model's: the Softmax's
      l.onnx_nodes = {softmax_node_->name};
      l.output_tensor = softmax_node_->outputs[0];
    }
    m_.layers.push_back(std::move(l));
  }

  Shape output_shape_of(int i) const;

  // The chain `ops` starting at `n` (each node the fusable only reader of the previous output), or empty.
  std::vector<const Node*> match_chain(const Node& n, const std::vector<std::string>& ops) const {
    std::vector<const Node*> chain;
    if (n.op_type != ops[0]) return chain;
    chain.push_back(&n);
    for (std::size_t i = 1; i < ops.size(); ++i) {
      const Node* c = chain.back()->outputs.empty() ? nullptr : fusable_consumer(chain.back()->outputs[0]);
      if (!c || c->op_type != ops[i]) return {};
      chain.push_back(c);
    }
    return chain;
  }

  // The user's patterns at `n`, longest first: the first whose builder gives a layer is checked,
  // placed by the target's rules like a built-in layer, and kept. False: the built-in matching runs.
  bool lower_custom(const Node& n) {
    if (patterns_.empty() || n.inputs.empty() || !layer_of_.count(n.inputs[0]) || flattened_.count(n.inputs[0]))
      return false;  // custom layers read an activation the engine holds as a map
    const int src = layer_of_.at(n.inputs[0]);
    for (const CustomPattern* p : patterns_) {
      const std::vector<const Node*> chain = match_chain(n, p->ops);
      if (chain.empty()) continue;
      const Node& last = *chain.back();
      PatternMatch match{.graph = g_,
                         .target = t_,
                         .nodes = chain,
                         .input_layer = src,
                         .input = output_type(layer(src).attributes),
                         .output_shape = nhwc_of(g_, last.outputs[0], last),
                         .bits = conv_bits(src, n.name, t_.akida_conventions && src == 0),
                         .signed_activations = all_signed()};
      std::optional<Layer> built = p->build(match);
      if (!built) continue;
      Layer& l = *built;
      if (l.name.empty()) l.name = n.name;
      l.onnx_nodes.clear();
      for (const Node* c : chain) l.onnx_nodes.push_back(c->name);
      if (l.inputs.empty()) l.inputs = {src};
      check_custom(l, match, *p);
      const Violation v = std::visit(
          [&](const auto& a) -> Violation {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, ConvAttributes>) return t_.conv(l.kind, a);
            else if constexpr (std::is_same_v<A, DenseAttributes>) return t_.dense(l.kind, a);
            else if constexpr (std::is_same_v<A, AddAttributes>) return t_.add(l.kind, a);
            else if constexpr (std::is_same_v<A, ConcatAttributes>) return t_.concat(l.kind, a);
            else if constexpr (std::is_same_v<A, PoolAttributes>) return t_.pool(l.kind, a);
            else if constexpr (std::is_same_v<A, LookupTableAttributes>) return t_.lookup_table(l.kind, a);
            else if constexpr (std::is_same_v<A, ElementwiseAttributes>) return t_.elementwise(l.kind, a);
            else if constexpr (std::is_same_v<A, CopyAttributes>) return t_.copy(l.kind, a);
            else return no_violation;  // refused by check_custom
          },
          l.attributes);
      const bool kept = place(l, n, v);
      if (v.broken()) m_.unmapped.back().reason = "as custom pattern '" + display_name(p->name) + "': " + m_.unmapped.back().reason;
      if (!kept) {
        m_.float_tail.push_back(n.name);
        return true;
      }
      push(std::move(l), last.outputs[0]);
      return true;
    }
    return false;
  }

  // A custom layer must be what the graph says there: the kind its attributes describe, reading
  // existing layers of the right shape, producing the chain's output shape, with whole parameters.
  void check_custom(const Layer& l, const PatternMatch& m, const CustomPattern& p) const {
    const Node& head = *m.nodes.front();
    auto fail = [&](const std::string& what) {
      return node_error(head, "custom pattern '" + display_name(p.name) + "' built a " + std::string(layer_kind_name(l.kind)) +
                                  " layer that " + what);
    };
    if (!kind_matches(l.kind, l.attributes)) throw fail("has attributes of another kind of layer");
    for (int i : l.inputs)
      if (i < 0 || i >= int(m_.layers.size())) throw fail("reads layer " + std::to_string(i) + ", which does not exist");
    const Shape out = output_type(l.attributes).shape;
    if (out != m.output_shape)
      throw fail("outputs " + shape_text(out) + " where node '" + display_name(m.nodes.back()->name) + "' outputs " +
                 shape_text(m.output_shape));
    const Shape in0 = output_shape_of(l.inputs[0]);
    auto expect_input = [&](Shape declared) {
      if (declared != in0)
        throw fail("declares input " + shape_text(declared) + " but layer " + std::to_string(l.inputs[0]) +
                   " outputs " + shape_text(in0));
    };
    if (const auto* c = std::get_if<ConvAttributes>(&l.attributes)) {
      expect_input(c->input);
      if (l.weights.size() != weight_count(*c) || l.bias.size() != std::size_t(c->filters))
        throw fail("has " + std::to_string(l.weights.size()) + " weights and " + std::to_string(l.bias.size()) +
                   " biases (expected " + std::to_string(weight_count(*c)) + " and " + std::to_string(c->filters) + ")");
    } else if (const auto* d = std::get_if<DenseAttributes>(&l.attributes)) {
      expect_input(d->input);
      if (l.weights.size() != weight_count(*d) || l.bias.size() != std::size_t(d->units))
        throw fail("has " + std::to_string(l.weights.size()) + " weights and " + std::to_string(l.bias.size()) +
                   " biases (expected " + std::to_string(weight_count(*d)) + " and " + std::to_string(d->units) + ")");
    } else if (const auto* pa = std::get_if<PoolAttributes>(&l.attributes)) {
      expect_input(pa->input);
    }
  }

  void lower_node(const Node& n) {
    if (n.op_type == "Conv") return lower_conv(n);
    if (n.op_type == "Gemm") return lower_gemm(n);
    if (is_layout_op(n)) return lower_layout(n);
    if (const auto f = constant_operand_function(n)) return lower_lookup_table(n, f->first, f->second);
    if (n.op_type == "Add") return lower_add(n);
    if (n.op_type == "Concat") return lower_concat(n);
    if (is_pool(n)) return lower_pool(n);
    if (const auto f = lookup_function_of(n.op_type)) return lower_lookup_table(n, *f);
    if (n.op_type == "Relu" || n.op_type == "Clip") return lower_clip(n);
    if (const auto op = elementwise_op_of(n.op_type)) return lower_elementwise(n, *op);
    if (n.op_type == "Resize") return lower_resize(n);
    if (n.op_type == "Pad") return lower_pad(n);
    if (n.op_type == "Softmax" && n.outputs[0] == m_.output_tensor) {
      // The classifier's last op is float, after the Dequantize (cheap there). Over the channels
      // (axis 1, the last for a [1, C] output) the engine's Dequantize computes it; along another
      // axis it stays a float tail for the application.
      stopped_ = true;
      const ir::Tensor& x = g_.tensor(n.inputs[0]);
      const std::int64_t rank = x.shape ? std::int64_t(x.shape->size()) : 0;
      std::int64_t axis = n.attr_int("axis", -1);
      if (axis < 0) axis += rank;
      if (axis == 1 && (rank == 2 || rank == 4) && layer_of_.count(n.inputs[0])) softmax_node_ = &n;
      else m_.float_tail.push_back(n.name);
      return;
    }
    unmappable(n, "no statiq layer computes " + display_name(n.op_type));
  }

  // Conv [-> Relu | Clip(0, max)] [-> MaxPool | GlobalAveragePool]: the longest run the target fuses.
  void lower_conv(const Node& n) {
    const std::vector<float>& w = initializer(g_, n, 1, "the weights");
    const Shape in = nhwc_of(g_, n.inputs[0], n);
    const ir::Dims& wd = *g_.tensor(n.inputs[1]).shape;
    if (wd.size() != 4) throw node_error(n, "only 2-D convolutions are supported (weights " + ir::to_string(wd) + ")");
    const int filters = int(wd[0]), group = int(n.attr_int("group", 1));
    const auto st = n.attr_ints("strides", {1, 1});
    const auto dl = n.attr_ints("dilations", {1, 1});
    ConvAttributes a;
    a.input = in;
    a.filters = filters;
    a.kernel = Kernel{int(wd[2]), int(wd[3])};
    a.strides = Stride{int(st[0]), int(st[1])};
    a.dilations = Dilation{int(dl[0]), int(dl[1])};
    a.group = group;
    a.pads = pads_of(n, in, a.kernel, a.strides, a.dilations);
    // A run of fusable nodes after the Conv.
    std::vector<const Node*> run{&n};
    std::string tail = n.outputs[0];
    float clip = 0.0f;
    Activation act = no_activation;
    if (const Node* c = fusable_consumer(tail)) {
      if (auto a2 = activation_of(g_, *c)) {
        run.push_back(c);
        act = a2->first;
        clip = a2->second;
        tail = c->outputs[0];
      }
    }
    Pool pool = no_pool;
    const Node* pool_node = nullptr;
    if (const Node* c = fusable_consumer(tail); c && is_pool(*c)) {
      pool_node = c;
      pool = pool_of(g_, *c, window_output_shape(in, filters, a.kernel, a.strides, a.pads, a.dilations));
    }
    // The longest prefix the target's table has: Conv, act, pool / Conv, act / Conv (+ pool alone).
    auto pattern_with = [&](bool with_act, bool with_pool) {
      return fused_pattern("Conv", with_act ? act : no_activation, with_pool ? pool : no_pool);
    };
    bool use_act = act.kind != ActivationKind::none, use_pool = pool_node != nullptr && pool.kind != PoolKind::average;
    if (use_pool && !table_has(t_.patterns, pattern_with(use_act, true))) use_pool = false;
    if (use_act && !table_has(t_.patterns, pattern_with(true, use_pool))) use_act = false, use_pool = false;
    if (!use_act) run.resize(1);
    a.activation = use_act ? act : no_activation;

    const int src = producer(n.inputs[0], n);
    const bool input_layer = t_.akida_conventions && src == 0;
    const LayerKind kind = input_layer ? LayerKind::input_conv2d
                           : (group > 1 && group == in.c) ? LayerKind::depthwise_conv2d
                                                          : LayerKind::conv2d;
    a.bits = conv_bits(src, n.name, input_layer);
    a.signed_input = out_signed_of(src);
    a.signed_output = signed_output(a.activation);
    // A pool the target cannot fuse (its size, stride or pads) stays a layer of its own, so the
    // convolution keeps its place on the device.
    if (use_pool) {
      ConvAttributes fused = a;
      fused.pool = pool;
      const Rule broken = t_.conv(kind, fused).rule;
      if ((broken == Rule::pool_not_supported || broken == Rule::pool_expects_pads) && !t_.conv(kind, a).broken()) {
        use_pool = false;
        unfused_pool_[pool_node->name] = describe(t_.conv(kind, fused)) + " (fused into '" + display_name(n.name) + "')";
      }
    }
    // The target's rules about how layers connect (Akida 2.0: a fused MaxPool must feed a
    // convolution): a pool whose fused form could not feed what reads it stays a layer of its own.
    if (use_pool) {
      for (const std::size_t c : g_.consumers(pool_node->outputs[0])) {
        const Node& reader = g_.nodes[c];
        if (const Violation v = t_.connects(Connection{kind, pool, consumer_kind(reader)}); v.broken()) {
          use_pool = false;
          unfused_pool_[pool_node->name] =
              describe(v) + " (fused into '" + n.name + "', read by '" + reader.name + "')";
          break;
        }
      }
    }
    if (use_pool) run.push_back(pool_node);
    a.pool = use_pool ? pool : no_pool;

    Layer l;
    l.name = n.name;
    l.kind = kind;
    for (const Node* r : run) l.onnx_nodes.push_back(r->name);
    l.inputs = {src};
    l.clip_max = use_act ? clip : 0.0f;
    // OIHW -> OHWI
    const int ci = int(wd[1]), kh = int(wd[2]), kw = int(wd[3]);
    l.weights.resize(w.size());
    for (int o = 0; o < filters; ++o)
      for (int c = 0; c < ci; ++c)
        for (int y = 0; y < kh; ++y)
          for (int x = 0; x < kw; ++x)
            l.weights[std::size_t(((o * kh + y) * kw + x) * ci + c)] = w[std::size_t(((o * ci + c) * kh + y) * kw + x)];
    l.bias.assign(std::size_t(filters), 0.0f);
    if (n.has_input(2)) l.bias = initializer(g_, n, 2, "the bias");
    l.attributes = a;
    if (!place(l, n, t_.conv(kind, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), run.back()->outputs[0]);
  }

  // Flatten / Reshape / Squeeze / Unsqueeze / Transpose. Nothing runs for it where it leaves the
  // bytes of statiq's NHWC tensors in place: feeding a Gemm as [1, N] (the Dense takes its weights
  // permuted once), giving the same NHWC shape (squeezing 1-dims), or reshaping the graph input
  // (the input Quantize takes the new shape: same bytes, same order). Otherwise refused by name.
  void lower_layout(const Node& n) {
    const Node* next = sole_consumer(g_, n.outputs[0]);
    const ir::Tensor& out = g_.tensor(n.outputs[0]);
    if (next && next->op_type == "Gemm" && out.shape && out.shape->size() == 2 &&
        (n.op_type == "Flatten" || n.op_type == "Reshape"))
      return lower_flatten(n);
    const ir::Tensor& in = g_.tensor(n.inputs[0]);
    const std::string change = "turns " + (in.shape ? ir::to_string(*in.shape) : std::string("?")) + " into " +
                               (out.shape ? ir::to_string(*out.shape) : std::string("?"));
    const std::optional<std::vector<std::int32_t>> index = layout_index(n);
    if (!index)
      return unmappable(n, change + ": statiq tensors are [1, C, H, W], [1, C, W] or [1, N] with static shapes; "
                               "export the model with such shapes, or --unmapped float keeps it float");
    bool in_place = true;
    for (std::size_t k = 0; k < index->size(); ++k) in_place = in_place && (*index)[k] == std::int32_t(k);
    const int src = producer(n.inputs[0], n);
    const Shape new_shape = nhwc_of(g_, n.outputs[0], n);
    if (!in_place) return lower_layout_copy(n, src, new_shape, *index);
    if (new_shape == output_shape_of(src)) {  // the same NHWC tensor: an alias
      layer_of_[n.outputs[0]] = src;
      consumed_.insert(n.name);
      return;
    }
    if (src == 0 && m_.layers.size() == 1 && sole_consumer(g_, n.inputs[0]) == &n) {
      // The graph input, read only here: the engine takes it in the new shape (same bytes).
      std::get<QuantizeAttributes>(m_.layers[0].attributes).shape = new_shape;
      m_.input_shape = new_shape;
      m_.layers[0].onnx_nodes.push_back(n.name);
      layer_of_[n.outputs[0]] = 0;
      consumed_.insert(n.name);
      return;
    }
    // The same bytes under another shape inside the network: a Copy with the identity table.
    return lower_layout_copy(n, src, new_shape, *index);
  }

  // A layout op that moves values in statiq's NHWC order (a Transpose, a Reshape across channels)
  // or renames the shape: a Copy with the table layout_index() computed; exact on every target.
  void lower_layout_copy(const Node& n, int src, Shape out, const std::vector<std::int32_t>& index) {
    lower_copy(n, src, output_shape_of(src), out, n.op_type, index);
  }

  // A Copy layer reading src: output value i is input value index[i], or -1 where a Pad's constant
  // goes (`pad`); values are moved, never computed, so it is exact on every target (on the host where
  // the device has no copy). copy_of names the ONNX op in the reports (Resize, Pad, a layout op).
  void lower_copy(const Node& n, int src, Shape in, Shape out, std::string copy_of, std::vector<std::int32_t> index,
                  std::optional<Layer::PadSource> pad = std::nullopt) {
    CopyAttributes a{.input = in, .output = out};
    a.bits = Bits{out_bits_of(src), 8, out_bits_of(src)};
    a.signed_input = a.signed_output = out_signed_of(src);
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::copy;
    l.copy_of = std::move(copy_of);
    l.onnx_nodes = {n.name};
    l.inputs = {src};
    l.attributes = a;
    l.pad = std::move(pad);
    l.qweights = std::move(index);
    if (!place(l, n, t_.copy(LayerKind::copy, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), n.outputs[0]);
  }

  // Where `n` (a layout op) takes each value from in statiq's NHWC order: per output NHWC offset,
  // the NHWC offset of the input element ONNX says it is (the identity when it moves no byte).
  // Nothing when a shape is unknown or not one statiq holds.
  std::optional<std::vector<std::int32_t>> layout_index(const Node& n) const {
    const ir::Tensor& in = g_.tensor(n.inputs[0]);
    const ir::Tensor& out = g_.tensor(n.outputs[0]);
    auto holdable = [](const ir::Tensor& t) {
      return t.shape && t.has_static_shape() && t.shape->size() >= 2 && t.shape->size() <= 4 && (*t.shape)[0] == 1;
    };
    if (!holdable(in) || !holdable(out)) return std::nullopt;
    const ir::Dims& din = *in.shape;
    const ir::Dims& dout = *out.shape;
    std::vector<std::int64_t> perm;
    if (n.op_type == "Transpose") {
      perm = n.attr_ints("perm", {});
      if (perm.empty())
        for (std::size_t k = din.size(); k-- > 0;) perm.push_back(std::int64_t(k));
      if (perm.size() != din.size() || din.size() != dout.size()) return std::nullopt;
    }
    // NHWC offset of an ONNX multi-index [0, c, (h,) w] / [0, c].
    auto nhwc = [](const ir::Dims& d, const std::vector<std::int64_t>& i) -> std::int64_t {
      if (d.size() == 2) return i[1];
      if (d.size() == 3) return i[2] * d[1] + i[1];
      return (i[2] * d[3] + i[3]) * d[1] + i[1];
    };
    auto unflatten = [](const ir::Dims& d, std::int64_t f) {
      std::vector<std::int64_t> i(d.size());
      for (std::size_t k = d.size(); k-- > 0;) i[k] = f % d[k], f /= d[k];
      return i;
    };
    std::int64_t total = 1, total_in = 1;
    for (std::int64_t v : dout) total *= v;
    for (std::int64_t v : din) total_in *= v;
    if (total != total_in) return std::nullopt;
    std::vector<std::int32_t> index(static_cast<std::size_t>(total));
    for (std::int64_t f = 0; f < total; ++f) {
      const std::vector<std::int64_t> io = unflatten(dout, f);
      std::vector<std::int64_t> ii;
      if (perm.empty()) {
        ii = unflatten(din, f);  // Reshape, Flatten, Squeeze, Unsqueeze keep ONNX's (row-major) order
      } else {
        ii.assign(din.size(), 0);
        for (std::size_t k = 0; k < perm.size(); ++k) ii[std::size_t(perm[k])] = io[k];
      }
      index[std::size_t(nhwc(dout, io))] = std::int32_t(nhwc(din, ii));
    }
    return index;
  }

  // Flatten / Reshape to [1, N] feeding a Gemm: the Dense reads the map as it is (NHWC) and takes
  // its weights permuted once; nothing runs for it.
  void lower_flatten(const Node& n) {
    layer_of_[n.outputs[0]] = producer(n.inputs[0], n);
    flattened_[n.outputs[0]] = nhwc_of(g_, n.inputs[0], n);
    consumed_.insert(n.name);
    flatten_nodes_[n.outputs[0]] = n.name;
  }

  void lower_gemm(const Node& n) {
    const std::vector<float>& b = initializer(g_, n, 1, "the weights (input B)");
    const ir::Dims& bd = *g_.tensor(n.inputs[1]).shape;
    if (n.attr_int("transA", 0) != 0) throw node_error(n, "transA is not supported");
    const bool trans_b = n.attr_int("transB", 0) != 0;
    const float alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
    const int units = int(trans_b ? bd[0] : bd[1]), k = int(trans_b ? bd[1] : bd[0]);
    const int src = producer(n.inputs[0], n);
    Shape in{1, 1, k};
    std::string flatten_node;
    if (auto f = flattened_.find(n.inputs[0]); f != flattened_.end()) {
      in = f->second;
      flatten_node = flatten_nodes_[n.inputs[0]];
    } else {
      in = output_shape_of(src);
    }
    if (in.size() != k) throw node_error(n, "input has " + std::to_string(in.size()) + " values, weights expect " + std::to_string(k));
    DenseAttributes a{.input = in, .units = units};
    std::vector<const Node*> run{&n};
    std::string tail = n.outputs[0];
    float clip = 0.0f;
    if (const Node* c = fusable_consumer(tail)) {
      if (auto act = activation_of(g_, *c); act && table_has(t_.patterns, fused_pattern("Gemm", act->first, no_pool))) {
        a.activation = act->first;
        clip = act->second;
        run.push_back(c);
      }
    }
    a.bits = Bits{out_bits_of(src), weight_bits(n.name, false), output_bits(n.name)};
    a.signed_input = out_signed_of(src);
    a.signed_output = signed_output(a.activation);
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::dense;
    if (!flatten_node.empty()) l.onnx_nodes.push_back(flatten_node);
    for (const Node* r : run) l.onnx_nodes.push_back(r->name);
    l.inputs = {src};
    l.clip_max = clip;
    // weights [units][inputs], inputs in NHWC order: ONNX flattened the map in CHW order.
    l.weights.assign(std::size_t(units) * std::size_t(k), 0.0f);
    for (int u = 0; u < units; ++u)
      for (int h = 0; h < in.h; ++h)
        for (int x = 0; x < in.w; ++x)
          for (int c = 0; c < in.c; ++c) {
            const int chw = (c * in.h + h) * in.w + x, hwc = (h * in.w + x) * in.c + c;
            const float v = trans_b ? b[std::size_t(u) * std::size_t(k) + std::size_t(chw)]
                                    : b[std::size_t(chw) * std::size_t(units) + std::size_t(u)];
            l.weights[std::size_t(u) * std::size_t(k) + std::size_t(hwc)] = alpha * v;
          }
    l.bias.assign(std::size_t(units), 0.0f);
    if (n.has_input(2)) {
      const std::vector<float>& c = initializer(g_, n, 2, "the bias (input C)");
      for (int u = 0; u < units; ++u) l.bias[std::size_t(u)] = beta * (c.size() == 1 ? c[0] : c[std::size_t(u)]);
    }
    l.attributes = a;
    if (!place(l, n, t_.dense(LayerKind::dense, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), run.back()->outputs[0]);
  }

  void lower_add(const Node& n) {
    if (n.inputs.size() != 2) return unmappable(n, "Add takes two inputs");
    for (const auto& in : n.inputs)
      if (g_.has_tensor(in) && g_.tensor(in).is_initializer)
        return unmappable(n, "an Add of a constant is not a statiq layer (normalisation folds it into a bias "
                             "only after a Conv or Gemm)");
    const int s0 = producer(n.inputs[0], n), s1 = producer(n.inputs[1], n);
    const Shape shape = nhwc_of(g_, n.outputs[0], n);
    if (output_shape_of(s0) != shape || output_shape_of(s1) != shape)
      return unmappable(n, "statiq's Add needs two inputs of the same shape (no broadcasting)");
    AddAttributes a{.shape = shape};
    std::vector<const Node*> run{&n};
    if (const Node* c = fusable_consumer(n.outputs[0])) {
      if (auto act = activation_of(g_, *c); act && act->first.kind == ActivationKind::relu &&
                                             table_has(t_.patterns, fused_pattern("Add", relu, no_pool))) {
        a.activation = relu;
        run.push_back(c);
      }
    }
    a.bits = Bits{std::max(out_bits_of(s0), out_bits_of(s1)), 8, output_bits(n.name)};
    a.signed_input = out_signed_of(s0);
    if (out_signed_of(s1) != a.signed_input) a.signed_second_input = out_signed_of(s1) ? 1 : 0;
    a.signed_output = signed_output(a.activation);
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::add;
    for (const Node* r : run) l.onnx_nodes.push_back(r->name);
    l.inputs = {s0, s1};
    l.attributes = a;
    if (out_bits_of(s0) != out_bits_of(s1))
      return unmappable(n, "the two inputs of the Add have different bit-widths (" + std::to_string(out_bits_of(s0)) +
                               " and " + std::to_string(out_bits_of(s1)) + "): give both producers the same bits");
    if (!place(l, n, t_.add(LayerKind::add, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), run.back()->outputs[0]);
  }

  void lower_concat(const Node& n) {
    if (n.attr_int("axis", 1) != 1 && n.attr_int("axis", 1) != -3)
      return unmappable(n, "statiq concatenates along channels only (axis 1 of NCHW)");
    if (n.inputs.size() < 2 || n.inputs.size() > 4) return unmappable(n, "Concat takes 2 to 4 inputs");
    ConcatAttributes a{.count = int(n.inputs.size())};
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::concat;
    l.onnx_nodes = {n.name};
    int bits = 0;
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const int s = producer(n.inputs[i], n);
      l.inputs.push_back(s);
      a.inputs[i] = output_shape_of(s);
      bits = std::max(bits, out_bits_of(s));
      a.signed_input = a.signed_input || out_signed_of(s);
    }
    a.bits = Bits{bits, 8, output_bits(n.name)};
    a.signed_output = a.signed_input;
    l.attributes = a;
    if (!place(l, n, t_.concat(LayerKind::concat, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), n.outputs[0]);
  }

  // LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish: a table of 256 output codes, as onnxruntime's
  // QLinearLeakyRelu / QLinearSigmoid (quantize/lookup_table.hpp builds it).
  // Max, Min, Add, Sub, Mul, Div of a tensor and a constant that is one number (a scalar, or a
  // tensor of equal values that does not broadcast the other operand): an elementwise function of
  // one 8-bit tensor, a table. The function and the constant, or nothing.
  std::optional<std::pair<LookupFunction, float>> constant_operand_function(const Node& n) const {
    static const std::map<std::string, std::pair<LookupFunction, LookupFunction>> ops = {
        {"Max", {LookupFunction::max_constant, LookupFunction::max_constant}},
        {"Min", {LookupFunction::min_constant, LookupFunction::min_constant}},
        {"Add", {LookupFunction::add_constant, LookupFunction::add_constant}},
        {"Sub", {LookupFunction::sub_constant, LookupFunction::constant_sub}},
        {"Mul", {LookupFunction::mul_constant, LookupFunction::mul_constant}},
        {"Div", {LookupFunction::div_constant, LookupFunction::div_constant}}};
    const auto op = ops.find(n.op_type);
    if (op == ops.end() || n.inputs.size() != 2 || n.outputs.empty()) return std::nullopt;
    auto constant = [&](std::size_t i) { return g_.has_tensor(n.inputs[i]) && g_.tensor(n.inputs[i]).is_initializer; };
    if (constant(0) == constant(1)) return std::nullopt;
    const std::size_t c = constant(0) ? 0 : 1;
    if (c == 0 && n.op_type == "Div") return std::nullopt;  // c / x: not (yet) a table here
    const std::vector<float>& v = g_.tensor(n.inputs[c]).float_data;
    if (v.empty() || std::any_of(v.begin(), v.end(), [&](float e) { return e != v[0]; })) return std::nullopt;
    const ir::Tensor& x = g_.tensor(n.inputs[1 - c]);
    const ir::Tensor& y = g_.tensor(n.outputs[0]);
    if (!x.shape || !y.shape || *x.shape != *y.shape) return std::nullopt;  // the constant broadcasts the tensor
    return std::pair{c == 0 ? op->second.second : op->second.first, v[0]};
  }

  // Relu or Clip that no convolution fused: a table of max(min(x, hi), lo) (+inf: no upper bound).
  void lower_clip(const Node& n) {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (n.op_type == "Relu") {
      lo = 0.0f;
    } else {
      if (n.has_attribute("min")) lo = n.attr_float("min", lo);
      if (n.has_attribute("max")) hi = n.attr_float("max", hi);
      for (std::size_t i : {std::size_t{1}, std::size_t{2}}) {
        if (!n.has_input(i)) continue;
        const bool scalar = g_.has_tensor(n.inputs[i]) && g_.tensor(n.inputs[i]).is_initializer &&
                            g_.tensor(n.inputs[i]).float_data.size() == 1;
        if (!scalar)
          return unmappable(n, "its " + std::string(i == 1 ? "min" : "max") + " is not a constant scalar: a Clip is a "
                               "table of one tensor only with constant bounds");
        (i == 1 ? lo : hi) = g_.tensor(n.inputs[i]).float_data[0];
      }
    }
    lower_lookup_table(n, LookupFunction::clip, lo, hi);
  }

  static std::optional<ElementwiseOp> elementwise_op_of(const std::string& op_type) {
    if (op_type == "Mul") return ElementwiseOp::mul;
    if (op_type == "Max") return ElementwiseOp::max;
    if (op_type == "Min") return ElementwiseOp::min;
    if (op_type == "Sub") return ElementwiseOp::sub;
    return std::nullopt;
  }

  // Mul, Max, Min, Sub of two tensors of the same shape, or of a map and one value per channel
  // ([1, C, 1, 1]) as onnxruntime runs their QDQ form: Mul fused into QLinearMul (the squeeze-excite
  // gate, HardSwish's x * gate), Max/Min/Sub in float between DQ and Q.
  void lower_elementwise(const Node& n, ElementwiseOp op) {
    const std::string form = op == ElementwiseOp::mul ? "onnxruntime's QLinearMul"
                                                      : "onnxruntime's float " + n.op_type + " between DequantizeLinear and QuantizeLinear";
    if (t_.profile != arith::qlinear::name)
      return unmappable(n, "no statiq layer computes a " + n.op_type + " of two tensors on " + std::string(t_.name) +
                               " yet: it is " + form + ", which statiq has for cpu-int8 only; --unmapped float keeps it "
                               "float, or generate for cpu-int8");
    if (n.inputs.size() != 2) return unmappable(n, n.op_type + " takes two inputs here (a variadic " + n.op_type +
                                                       " of " + std::to_string(n.inputs.size()) + " has no statiq layer)");
    int s0 = producer(n.inputs[0], n), s1 = producer(n.inputs[1], n);
    const Shape shape = nhwc_of(g_, n.outputs[0], n);
    if (output_shape_of(s0) != shape) {
      if (op == ElementwiseOp::sub)
        return unmappable(n, "statiq's Sub subtracts a tensor of the same shape or one value per channel from a map; "
                             "here the first input " + shape_text(output_shape_of(s0)) + " is the smaller one");
      std::swap(s0, s1);  // the per-channel operand second
    }
    const Shape second = output_shape_of(s1);
    const bool per_channel = second == Shape{1, 1, shape.c} && shape != second;
    if (output_shape_of(s0) != shape || (second != shape && !per_channel))
      return unmappable(n, "statiq's " + n.op_type + " combines two tensors of the same shape, or a map and one value "
                           "per channel ([1, C, 1, 1]); here " + shape_text(output_shape_of(s0)) + " and " +
                           shape_text(second));
    ElementwiseAttributes a{.op = op, .shape = shape, .per_channel_second = per_channel};
    a.bits = Bits{out_bits_of(s0), 8, output_bits(n.name)};
    a.signed_input = out_signed_of(s0);
    a.signed_output = signed_output(no_activation);
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::elementwise;
    l.onnx_nodes = {n.name};
    l.inputs = {s0, s1};
    l.attributes = a;
    if (out_signed_of(s0) != out_signed_of(s1) || out_bits_of(s0) != out_bits_of(s1))
      return unmappable(n, "the two inputs of the " + n.op_type + " differ in type; statiq's elementwise layer takes one "
                           "8-bit type for both");
    if (!place(l, n, t_.elementwise(LayerKind::elementwise, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), n.outputs[0]);
  }

  // Resize in "nearest" mode over H and W: every output pixel is an input pixel, a Copy layer with
  // the index table computed here as ONNX defines it (the coordinate transform in float32, then the
  // nearest mode), so it is exact on every target (on the host where the device has no copy).
  void lower_resize(const Node& n) {
    const std::string mode = n.attr_string("mode", "nearest");
    if (mode != "nearest")
      return unmappable(n, "Resize in mode '" + display_name(mode) + "' interpolates; statiq computes only mode "
                           "'nearest' (a copy): export the model with nearest upsampling, or --unmapped float");
    const Shape in = nhwc_of(g_, n.inputs[0], n), out = nhwc_of(g_, n.outputs[0], n);
    const ir::Tensor& xt = g_.tensor(n.inputs[0]);
    if (!xt.shape || xt.shape->size() != 4 || in.c != out.c)
      return unmappable(n, "statiq's Resize scales H and W of an [N, C, H, W] tensor only (here " +
                           shape_text(in) + " -> " + shape_text(out) + ")");
    // Scales: the `scales` input when given (float), else out / in from the shapes.
    float scale_h = float(out.h) / float(in.h), scale_w = float(out.w) / float(in.w);
    if (n.has_input(2) && g_.tensor(n.inputs[2]).is_initializer && g_.tensor(n.inputs[2]).float_data.size() == 4) {
      scale_h = g_.tensor(n.inputs[2]).float_data[2];
      scale_w = g_.tensor(n.inputs[2]).float_data[3];
    }
    const std::string transform = n.attr_string("coordinate_transformation_mode", "half_pixel");
    const std::string nearest = n.attr_string("nearest_mode", "round_prefer_floor");
    if (!exec::resize_nearest_supported(transform, nearest))
      return unmappable(n, "Resize with coordinate_transformation_mode '" + display_name(transform) +
                           "' and nearest_mode '" + display_name(nearest) + "' is not computed by statiq");
    auto source = [&](int y, int length_in, int length_out, float scale) {
      return exec::resize_nearest_source(y, length_in, length_out, scale, transform, nearest);
    };
    std::vector<std::int32_t> index(std::size_t(out.size()));
    for (int h = 0; h < out.h; ++h) {
      const int ih = source(h, in.h, out.h, scale_h);
      for (int w = 0; w < out.w; ++w) {
        const int iw = source(w, in.w, out.w, scale_w);
        for (int c = 0; c < out.c; ++c) index[std::size_t((h * out.w + w) * out.c + c)] = (ih * in.w + iw) * in.c + c;
      }
    }
    lower_copy(n, producer(n.inputs[0], n), in, out, "Resize", std::move(index));
  }

  // Pad that normalisation could not fold into a Conv's pads (a non-zero constant, edge or reflect,
  // pads on C, a crop, or another reader): a Copy whose index table says, per output value, which
  // input value it is, or -1 for the constant. onnxruntime runs a QDQ Pad as DequantizeLinear ->
  // Pad -> QuantizeLinear with the input's quantization (no QDQ fusion for Pad in 1.30), so the
  // padded values are the constant quantized as the tensor (quantize/quantize.cpp) and the rest are
  // copied: exact on every target.
  void lower_pad(const Node& n) {
    const std::string mode = n.attr_string("mode", "constant");
    if (mode != "constant" && mode != "edge" && mode != "reflect")
      return unmappable(n, "Pad in mode '" + display_name(mode) + "' is not computed by statiq (modes constant, edge "
                           "and reflect are): --unmapped float keeps it float");
    auto constant_input = [&](std::size_t i) -> const ir::Tensor* {
      if (!n.has_input(i)) return nullptr;
      const ir::Tensor& t = g_.tensor(n.inputs[i]);
      return t.is_initializer ? &t : nullptr;
    };
    std::vector<std::int64_t> pads = n.attr_ints("pads", {});
    if (n.has_input(1)) {
      const ir::Tensor* t = constant_input(1);
      if (!t) return unmappable(n, "its pads (input '" + display_name(n.inputs[1]) + "') are computed at run time; statiq "
                                   "needs them constant (an initializer) to size the engine");
      pads = t->int64_data;
    }
    float value = n.attr_float("value", 0.0f);
    if (n.has_input(2)) {
      const ir::Tensor* t = constant_input(2);
      if (!t || t->float_data.size() != 1)
        return unmappable(n, "its constant_value (input '" + display_name(n.inputs[2]) + "') is not one constant float; "
                             "statiq needs it as an initializer");
      value = t->float_data[0];
    }
    const ir::Tensor& xt = g_.tensor(n.inputs[0]);
    if (!xt.shape || !xt.has_static_shape()) throw node_error(n, "its input has no static shape");
    const std::int64_t rank = std::int64_t(xt.shape->size());
    if (n.has_input(3)) {  // axes (opset 18): the pads of those axes only
      const ir::Tensor* t = constant_input(3);
      if (!t) return unmappable(n, "its axes (input '" + display_name(n.inputs[3]) + "') are not a constant");
      if (pads.size() != 2 * t->int64_data.size()) return unmappable(n, "its pads do not hold 2 values per axis");
      std::vector<std::int64_t> all(std::size_t(2 * rank), 0);
      for (std::size_t k = 0; k < t->int64_data.size(); ++k) {
        std::int64_t axis = t->int64_data[k];
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) return unmappable(n, "axis " + std::to_string(t->int64_data[k]) + " is out of range");
        all[std::size_t(axis)] = pads[k];
        all[std::size_t(axis + rank)] = pads[k + t->int64_data.size()];
      }
      pads = all;
    }
    if (std::int64_t(pads.size()) != 2 * rank)
      return unmappable(n, "its pads hold " + std::to_string(pads.size()) + " values for a rank-" + std::to_string(rank) +
                           " input (2 x rank expected)");
    if (pads[0] != 0 || pads[std::size_t(rank)] != 0)
      return unmappable(n, "it pads the batch axis (pads " + std::to_string(pads[0]) + " and " +
                           std::to_string(pads[std::size_t(rank)]) + "); statiq engines have batch 1: pad H, W or C only");
    if (mode != "constant" && std::any_of(pads.begin(), pads.end(), [](std::int64_t v) { return v < 0; }))
      return unmappable(n, "negative pads (a crop) in mode '" + mode + "' are not computed by statiq (mode constant "
                           "crops)");
    // The engine's NHWC axes: [1, C, H, W], [1, C, W] or [1, N] (nhwc_of); begin and end per axis.
    const Shape in = nhwc_of(g_, n.inputs[0], n);
    struct Axis {
      int begin = 0, end = 0;
    } c{}, h{}, w{};
    auto at = [&](std::int64_t d) { return Axis{int(pads[std::size_t(d)]), int(pads[std::size_t(d + rank)])}; };
    if (rank >= 2) c = at(1);
    if (rank == 4) h = at(2), w = at(3);
    if (rank == 3) w = at(2);
    if (rank < 2 || rank > 4) throw node_error(n, "input of rank " + std::to_string(rank) + " (2 to 4 expected)");
    const Shape out{in.h + h.begin + h.end, in.w + w.begin + w.end, in.c + c.begin + c.end};
    if (out.h <= 0 || out.w <= 0 || out.c <= 0)
      return unmappable(n, "its pads crop the tensor " + shape_text(in) + " to nothing");
    if (const ir::Tensor& yt = g_.tensor(n.outputs[0]); yt.shape && yt.has_static_shape() && nhwc_of(g_, n.outputs[0], n) != out)
      throw node_error(n, "output shape " + shape_text(nhwc_of(g_, n.outputs[0], n)) + " is not its input " + shape_text(in) +
                          " with its pads (" + shape_text(out) + ")");
    if (mode == "reflect" && (h.begin >= in.h || h.end >= in.h || w.begin >= in.w || w.end >= in.w || c.begin >= in.c ||
                              c.end >= in.c) && (h.begin || h.end || w.begin || w.end || c.begin || c.end))
      return unmappable(n, "mode 'reflect' pads at least as wide as the axis (input " + shape_text(in) +
                           "): ONNX reflects without repeating the edge, so each pad must be shorter than its axis");
    // The input position an output position reads along one axis, or -1 for the constant.
    auto source = [&](int o, int begin, int length) {
      const int i = o - begin;
      if (i >= 0 && i < length) return i;
      if (mode == "edge") return std::clamp(i, 0, length - 1);
      if (mode == "reflect") return i < 0 ? -i : 2 * (length - 1) - i;
      return -1;
    };
    std::vector<std::int32_t> index(std::size_t(out.size()));
    for (int y = 0; y < out.h; ++y) {
      const int iy = source(y, h.begin, in.h);
      for (int x = 0; x < out.w; ++x) {
        const int ix = source(x, w.begin, in.w);
        for (int k = 0; k < out.c; ++k) {
          const int ik = source(k, c.begin, in.c);
          index[std::size_t((y * out.w + x) * out.c + k)] = iy < 0 || ix < 0 || ik < 0 ? -1 : (iy * in.w + ix) * in.c + ik;
        }
      }
    }
    lower_copy(n, producer(n.inputs[0], n), in, out, "Pad", std::move(index),
               Layer::PadSource{{0, c.begin, h.begin, w.begin, 0, c.end, h.end, w.end}, mode, value});
  }

  void lower_lookup_table(const Node& n, LookupFunction f, float constant = 0.0f, float constant2 = 0.0f) {
    if (t_.profile != arith::qlinear::name)
      return unmappable(n, "no statiq layer computes " + n.op_type + (with_constant(f) ? " with a constant" : "") +
                               " on " + std::string(t_.name) + " yet: it is a 256-entry lookup table as onnxruntime "
                               "builds it, which statiq has for cpu-int8 only; --unmapped float keeps it float, or "
                               "generate for cpu-int8");
    const bool constant_first = g_.has_tensor(n.inputs[0]) && g_.tensor(n.inputs[0]).is_initializer;
    const int src = producer(n.inputs[constant_first ? 1 : 0], n);
    const Shape shape = output_shape_of(src);
    if (nhwc_of(g_, n.outputs[0], n) != shape) throw node_error(n, "output shape differs from its input's (lowering bug)");
    LookupTableAttributes a{.shape = shape, .function = f, .alpha = constant, .beta = constant2};
    if (f == LookupFunction::leaky_relu) a.alpha = n.attr_float("alpha", 0.01f);
    if (f == LookupFunction::hard_sigmoid) a.alpha = n.attr_float("alpha", 0.2f), a.beta = n.attr_float("beta", 0.5f);
    a.bits = Bits{out_bits_of(src), 8, output_bits(n.name)};
    a.signed_input = out_signed_of(src);
    a.signed_output = signed_output(no_activation);
    Layer l;
    l.name = n.name;
    l.kind = LayerKind::lookup_table;
    l.onnx_nodes = {n.name};
    l.inputs = {src};
    l.attributes = a;
    if (!place(l, n, t_.lookup_table(LayerKind::lookup_table, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), n.outputs[0]);
  }

  void lower_pool(const Node& n) {
    const int src = producer(n.inputs[0], n);
    const Shape in = output_shape_of(src);
    PoolAttributes a{.input = in, .pool = pool_of(g_, n, in)};
    a.count_include_pad = n.attr_int("count_include_pad", 0) != 0;
    a.bits = Bits{out_bits_of(src), 8, a.pool.kind == PoolKind::max ? out_bits_of(src) : output_bits(n.name)};
    a.signed_input = out_signed_of(src);
    a.signed_output = a.pool.kind == PoolKind::max ? a.signed_input : a.signed_input;
    const LayerKind kind = a.pool.kind == PoolKind::max        ? LayerKind::max_pool
                           : a.pool.kind == PoolKind::average ? LayerKind::average_pool
                                                              : LayerKind::global_average_pool;
    Layer l;
    l.name = n.name;
    l.kind = kind;
    l.onnx_nodes = {n.name};
    l.inputs = {src};
    l.attributes = a;
    if (!place(l, n, t_.pool(kind, a))) {
      m_.float_tail.push_back(n.name);
      return;
    }
    push(std::move(l), n.outputs[0]);
  }

  const ir::Graph& g_;
  const TargetInfo& t_;
  const LowerOptions& o_;
  std::vector<const CustomPattern*> patterns_;  // longest first
  LoweredModel m_;
  std::map<std::string, int> layer_of_;
  std::map<std::string, Shape> flattened_;
  std::map<std::string, std::string> flatten_nodes_;
  std::set<std::string> consumed_;
  std::set<std::string> blocked_;   // outputs of nodes that did not map, and of their consumers
  std::string unrepresentable_;     // the first node no statiq layer computes (host policy)
  bool stopped_ = false;
  const Node* softmax_node_ = nullptr;  // the model's final Softmax, computed by the engine's Dequantize
};

Shape Lowering::output_shape_of(int i) const { return output_type(layer(i).attributes).shape; }
int Lowering::out_bits_of(int i) const { return output_type(layer(i).attributes).bits; }
bool Lowering::out_signed_of(int i) const { return output_type(layer(i).attributes).is_signed; }

}  // namespace

bool PatternMatch::signed_output(Activation a) const { return output_is_signed(target, signed_activations, a); }

bool is_excluded(const Unmapped& u) { return u.reason.starts_with(excluded_by_user); }

Layer identity_conv(const PatternMatch& m, Activation activation, float clip_max, Pool pool) {
  const Shape in = m.input.shape;
  ConvAttributes a;
  a.input = in;
  a.filters = in.c;
  a.kernel = Kernel{1, 1};
  a.strides = Stride{1, 1};
  a.pads = Pads::valid;
  a.activation = activation;
  a.pool = pool;
  a.bits = m.bits;
  a.signed_input = m.input.is_signed;
  a.signed_output = m.signed_output(activation);
  Layer l;
  // The same kind the built-in matching gives a Conv there: Akida's first layer is InputConv2D.
  l.kind = m.target.akida_conventions && m.input_layer == 0 ? LayerKind::input_conv2d : LayerKind::conv2d;
  l.attributes = a;
  l.clip_max = activation.kind == ActivationKind::clipped_relu ? clip_max : 0.0f;
  // eye(C) in OHWI (1x1: [o][c]); the float layer computes x * 1 + sum of 0 * x' + 0 = x exactly.
  l.weights.assign(std::size_t(in.c) * std::size_t(in.c), 0.0f);
  for (int c = 0; c < in.c; ++c) l.weights[std::size_t(c) * std::size_t(in.c) + std::size_t(c)] = 1.0f;
  l.bias.assign(std::size_t(in.c), 0.0f);
  return l;
}

namespace {

// A global average of the whole map: GlobalAveragePool, or an AveragePool whose window is the map
// (pool_of's rule); anything else declines.
std::optional<Pool> global_pool_of(const PatternMatch& m, const Node& n, Shape in) {
  if (n.op_type == "GlobalAveragePool") return global_average_pool;
  if (n.op_type != "AveragePool") return std::nullopt;
  const Pool p = pool_of(m.graph, n, in);
  if (p.kind != PoolKind::global_average) return std::nullopt;
  return p;
}

}  // namespace

std::vector<CustomPattern> identity_conv_patterns_relu() {
  std::vector<CustomPattern> out;
  for (const char* op : {"Relu", "Clip"})
    out.push_back(CustomPattern{
        .name = std::string("identity conv (") + op + ")",
        .ops = {op},
        .build = [](const PatternMatch& m) -> std::optional<Layer> {
          const auto act = activation_of(m.graph, *m.nodes[0]);
          if (!act) return std::nullopt;  // a Clip that is not a ReLU (min != 0)
          return identity_conv(m, act->first, act->second, no_pool);
        }});
  return out;
}

std::vector<CustomPattern> identity_conv_patterns_gap() {
  std::vector<CustomPattern> out;
  for (const char* act_op : {"Relu", "Clip"})
    for (const char* pool_op : {"GlobalAveragePool", "AveragePool"})
      out.push_back(CustomPattern{
          .name = std::string("identity conv (") + act_op + " -> " + pool_op + ")",
          .ops = {act_op, pool_op},
          .build = [](const PatternMatch& m) -> std::optional<Layer> {
            const auto act = activation_of(m.graph, *m.nodes[0]);
            if (!act) return std::nullopt;
            const auto pool = global_pool_of(m, *m.nodes[1], m.input.shape);
            if (!pool) return std::nullopt;
            // Without Conv -> act -> GAP in the table the ReLU alone becomes the identity conv and
            // the pool stays what the target makes of it.
            if (!table_has(m.target.patterns, fused_pattern("Conv", act->first, *pool))) return std::nullopt;
            return identity_conv(m, act->first, act->second, *pool);
          }});
  for (const char* pool_op : {"GlobalAveragePool", "AveragePool"})
    out.push_back(CustomPattern{
        .name = std::string("identity conv (") + pool_op + ")",
        .ops = {pool_op},
        .build = [](const PatternMatch& m) -> std::optional<Layer> {
          const auto pool = global_pool_of(m, *m.nodes[0], m.input.shape);
          if (!pool) return std::nullopt;
          // A target with a global-average layer of its own keeps it (cheaper than C x C MACs).
          const PoolAttributes native{.input = m.input.shape,
                                      .pool = *pool,
                                      .bits = Bits{m.bits.in, 8, m.bits.out},
                                      .signed_input = m.input.is_signed,
                                      .signed_output = m.input.is_signed};
          if (!m.target.pool(LayerKind::global_average_pool, native).broken()) return std::nullopt;
          // Nor is a Conv -> GAP the target cannot fuse any better than the pool it replaces.
          if (!table_has(m.target.patterns, fused_pattern("Conv", no_activation, *pool))) return std::nullopt;
          return identity_conv(m, no_activation, 0.0f, *pool);
        }});
  return out;
}

std::vector<CustomPattern> identity_conv_patterns() {
  std::vector<CustomPattern> out = identity_conv_patterns_gap();
  for (CustomPattern& p : identity_conv_patterns_relu()) out.push_back(std::move(p));
  return out;
}

LoweredModel lower(const ir::Graph& graph, const TargetInfo& target, const LowerOptions& options) {
  return Lowering(graph, target, options).run();
}

std::string unmapped_report(const LoweredModel& model, UnmappedPolicy policy) {
  std::vector<const Unmapped*> unmapped, excluded;
  for (const Unmapped& u : model.unmapped) (is_excluded(u) ? excluded : unmapped).push_back(&u);
  std::ostringstream s;
  if (unmapped.empty()) {
    s << "every node maps onto " << model.target << "\n";
  } else {
    s << unmapped.size() << " node(s) not quantized for " << model.target
      << " because their pattern was not found or breaks a rule: [";
    for (std::size_t i = 0; i < unmapped.size(); ++i)
      s << (i ? ", " : "") << display_name(unmapped[i]->node) << " (" << display_name(unmapped[i]->op_type) << ")";
    s << "]\n";
    for (const Unmapped* u : unmapped)
      s << "  node '" << display_name(u->node) << "' (" << display_name(u->op_type) << "): " << u->reason << "\n";
    s << "first node where the mapping stopped: '" << display_name(unmapped.front()->node) << "' ("
      << display_name(unmapped.front()->op_type)
      << ")\n"
      << "what to do: ";
    if (policy != UnmappedPolicy::host)
      s << "--unmapped host runs these layers on the host in " << model.target
        << "'s arithmetic (still integer, bit-exact); ";
    s << "--unmapped float keeps the rest of the graph in float after a Dequantize; or change the model so the "
         "nodes fit the rules above\n";
  }
  for (const Unmapped* u : excluded)
    s << "node '" << display_name(u->node) << "' (" << display_name(u->op_type) << ") " << u->reason
      << ": the integer engine stops before it, the rest of the graph stays float\n";
  return s.str();
}

}  // namespace statiq::codegen
