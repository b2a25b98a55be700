// codegen/export/qdq_export.cpp — see qdq_export.hpp. The QDQ form is the one onnxruntime's QDQ
// transformers (core/optimizer/qdq_transformer) fuse at graph optimisation level "basic": each
// float op sits between the DequantizeLinear of its quantized inputs and one QuantizeLinear of its
// output, weights and bias come from DequantizeLinear of initializers, a Relu between an op and
// its Q is removed when the Q's zero point is the type's minimum (ReluQuantFusion), MaxPool and
// Flatten run on the integers directly.
#include "codegen/export/qdq_export.hpp"

#include "codegen/export/onnx_writer.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <variant>
#include <vector>

#include <unistd.h>

namespace statiq::codegen {
namespace {

using onnx::TensorProto;

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::runtime_error("QDQ export: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) + "): " + what);
}

int elem_type(bool is_signed) { return is_signed ? TensorProto::INT8 : TensorProto::UINT8; }

class Exporter {
 public:
  Exporter(const LoweredModel& m, const ir::Graph* source) : m_(m), source_(source) {
    if (m.target != "cpu_int8")
      throw std::runtime_error("QDQ export: the model is for " + m.target +
                               "; only cpu_int8 (onnxruntime's arithmetic) has a QDQ form");
    model_ = onnx_writer::new_model(m.name + "_qdq");
    if (source && source->opset > 13) model_.mutable_opset_import(0)->set_version(source->opset);
    g_ = model_.mutable_graph();
  }

  onnx::ModelProto run() {
    const Shape in = m_.input_shape;
    const std::vector<std::int64_t> nchw{1, in.c, in.h, in.w};
    const std::vector<std::int64_t> in_dims = source_dims(m_.input_tensor, nchw);
    onnx_writer::value_info(g_->add_input(), m_.input_tensor, TensorProto::FLOAT, in_dims);
    quantize_input_ = in_dims == nchw ? m_.input_tensor : reshape(m_.input_tensor, nchw);
    std::string last;
    std::size_t last_layer = 0;
    for (std::size_t i = 0; i < m_.layers.size(); ++i) {
      const Layer& l = m_.layers[i];
      if (l.kind == LayerKind::dequantize) continue;  // the export ends with the integers
      if (!std::holds_alternative<ProfileData<arith::qlinear>>(l.data))
        fail(l, "is not quantized for cpu_int8 (run quantize() first)");
      layer(i, l);
      last = qdq_tensor_name(m_, i);
      last_layer = i;
    }
    if (last.empty()) throw std::runtime_error("QDQ export: the model has no integer layer");
    const Layer& l = m_.layers[last_layer];
    const Shape s = output_type(l.attributes).shape;
    if (!source_) {
      onnx_writer::value_info(g_->add_output(), last, elem_type(l.output.is_signed), dims_of(last_layer, s));
      return model_;
    }
    drop_in_outputs();
    return model_;
  }

 private:
  // The float model's dims of `tensor`, or `fallback` when it has none (or unknown ones).
  std::vector<std::int64_t> source_dims(const std::string& tensor, const std::vector<std::int64_t>& fallback) const {
    if (!source_ || !source_->has_tensor(tensor)) return fallback;
    const ir::Tensor& t = source_->tensor(tensor);
    if (!t.has_static_shape()) return fallback;
    return *t.shape;
  }

  std::string reshape(const std::string& x, const std::vector<std::int64_t>& dims) {
    const std::string shape = fresh(x + "_shape");
    TensorProto* t = initializer(shape, TensorProto::INT64, {std::int64_t(dims.size())});
    for (std::int64_t d : dims) t->add_int64_data(d);
    const std::string y = fresh(x + "_reshaped");
    node("Reshape", y + "_Reshape", {x, shape}, {y});
    return y;
  }

  // The float form of integer layer k under the float model's own name for its tensor, in the
  // float model's dims: DequantizeLinear (then a Reshape when the dims differ).
  void dequantize_as_source(std::size_t k) {
    const Layer& l = m_.layers[k];
    const Shape s = output_type(l.attributes).shape;
    const std::vector<std::int64_t> dims = dims_of(k, s);
    const std::vector<std::int64_t> want = source_dims(l.output_tensor, dims);
    const auto [sc, zp] = params(fresh(l.output_tensor + "_dq"), l.output);
    if (want == dims) {
      node("DequantizeLinear", l.output_tensor + "_DequantizeLinear", {qdq_tensor_name(m_, k), sc, zp}, {l.output_tensor});
      return;
    }
    const std::string f = fresh(l.output_tensor + "_float");
    node("DequantizeLinear", f + "_DequantizeLinear", {qdq_tensor_name(m_, k), sc, zp}, {f});
    const std::string shape = fresh(l.output_tensor + "_shape");
    TensorProto* t = initializer(shape, TensorProto::INT64, {std::int64_t(want.size())});
    for (std::int64_t d : want) t->add_int64_data(d);
    node("Reshape", l.output_tensor + "_Reshape", {f, shape}, {l.output_tensor});
  }

  // A drop-in replacement for the float model: its outputs under their names, in float, in its
  // dims: DequantizeLinear of the engine's last tensor, then the float tail copied from the model
  // (with DequantizeLinear of every engine tensor it reads, and the initializers it reads).
  void drop_in_outputs() {
    std::map<std::string, std::size_t> layer_of;  // the float model's tensor -> the last integer layer standing for it
    for (std::size_t i = 0; i < m_.layers.size(); ++i)
      if (m_.layers[i].kind != LayerKind::dequantize) layer_of[m_.layers[i].output_tensor] = i;
    std::set<std::string> available, dequantized;
    auto need = [&](const std::string& tensor, const std::string& reader) {
      if (tensor.empty() || available.count(tensor)) return;
      if (source_->has_tensor(tensor) && source_->tensor(tensor).is_initializer) {
        onnx_writer::add_ir_initializer(*g_, source_->tensor(tensor));
        available.insert(tensor);
        return;
      }
      const auto it = layer_of.find(tensor);
      if (it == layer_of.end())
        throw std::runtime_error("QDQ export: " + reader + " reads '" + tensor + "', which neither the engine nor "
                                 "the float tail computes");
      dequantize_as_source(it->second);
      available.insert(tensor);
    };
    std::set<std::string> tail(m_.float_tail.begin(), m_.float_tail.end());
    for (const Layer& l : m_.layers)  // a final Softmax the engine's Dequantize computes: float after the DQ here too
      if (l.kind == LayerKind::dequantize) tail.insert(l.onnx_nodes.begin(), l.onnx_nodes.end());
    for (const ir::Node& n : source_->nodes) {  // graph order
      if (!tail.count(n.name)) continue;
      for (const std::string& x : n.inputs) need(x, "the float tail's node '" + n.name + "'");
      onnx_writer::add_ir_node(*g_, n);
      for (const std::string& y : n.outputs) available.insert(y);
    }
    for (const std::string& out : source_->outputs) {
      need(out, "the model's output");
      const ir::Tensor& t = source_->tensor(out);
      const auto it = layer_of.find(out);
      const std::vector<std::int64_t> fallback =
          it != layer_of.end() ? dims_of(it->second, output_type(m_.layers[it->second].attributes).shape)
                               : std::vector<std::int64_t>{};
      onnx_writer::value_info(g_->add_output(), out, TensorProto::FLOAT, source_dims(out, fallback));
      (void)t;
    }
  }

 private:
  const LoweredModel& m_;
  const ir::Graph* source_ = nullptr;
  std::string quantize_input_;  // the float input as QuantizeLinear reads it (reshaped to NCHW)
  onnx::ModelProto model_;
  onnx::GraphProto* g_ = nullptr;
  int counter_ = 0;

  // A Dense layer's output is [1, units]; every other tensor [1, C, H, W].
  std::vector<std::int64_t> dims_of(std::size_t layer, Shape s) const {
    if (m_.layers[layer].kind == LayerKind::dense) return {1, s.c};
    return {1, s.c, s.h, s.w};
  }
  bool is_2d(int layer) const { return layer >= 0 && m_.layers[std::size_t(layer)].kind == LayerKind::dense; }

  std::string fresh(const std::string& base) { return base + "_" + std::to_string(counter_++); }

  onnx::NodeProto* node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    return onnx_writer::add_node(*g_, op, name, inputs, outputs);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::int64_t v) { onnx_writer::set_attribute(n, name, v); }
  TensorProto* initializer(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
    return onnx_writer::add_initializer(*g_, name, type, dims);
  }
  std::string scale_init(const std::string& name, const std::vector<float>& v, bool vector) {
    TensorProto* t = initializer(name, TensorProto::FLOAT, vector ? std::vector<std::int64_t>{std::int64_t(v.size())}
                                                                 : std::vector<std::int64_t>{});
    for (float x : v) t->add_float_data(x);
    return name;
  }
  // Zero points of a type: int8/uint8 (int32_data holds them), int32.
  std::string zero_point_init(const std::string& name, int type, std::int32_t zp, std::size_t count, bool vector) {
    TensorProto* t = initializer(name, type, vector ? std::vector<std::int64_t>{std::int64_t(count)}
                                                    : std::vector<std::int64_t>{});
    for (std::size_t i = 0; i < count; ++i) t->add_int32_data(zp);
    return name;
  }

  // The Q and DQ parameters of a tensor quantization, as two initializers (made once per tensor).
  std::pair<std::string, std::string> params(const std::string& tensor, const TensorQuantization& q) {
    return {scale_init(tensor + "_scale", {q.scale}, false),
            zero_point_init(tensor + "_zero_point", elem_type(q.is_signed), q.zero_point, 1, false)};
  }

  std::string dequantize(const std::string& q_tensor, const TensorQuantization& q) {
    const auto [s, z] = params(fresh(q_tensor + "_dq"), q);
    const std::string out = fresh(q_tensor + "_float");
    node("DequantizeLinear", out + "_DequantizeLinear", {q_tensor, s, z}, {out});
    return out;
  }
  void quantize(const std::string& f_tensor, const std::string& q_tensor, const TensorQuantization& q) {
    const auto [s, z] = params(fresh(q_tensor), q);
    node("QuantizeLinear", q_tensor + "_QuantizeLinear", {f_tensor, s, z}, {q_tensor});
  }

  const TensorQuantization& input_q(const Layer& l, std::size_t k) const {
    const int idx = l.inputs.at(k);
    if (idx < 0) fail(l, "reads the float graph input (the model must start with a Quantize layer)");
    return m_.layers[std::size_t(idx)].output;
  }
  std::string input_name(const Layer& l, std::size_t k) const {
    return qdq_tensor_name(m_, std::size_t(l.inputs.at(k)));
  }

  // Relu / Clip(0, max) between the float op and the Q: ReluQuantFusion / ClipQuantFusion remove it
  // when the Q's range already clamps there.
  std::string activation(const Layer& l, Activation act, const std::string& f) {
    if (act.kind == ActivationKind::none) return f;
    const std::string out = fresh(l.name + "_act");
    if (act.kind == ActivationKind::relu) {
      node("Relu", out + "_Relu", {f}, {out});
    } else {
      const std::string lo = scale_init(fresh(l.name + "_clip_min"), {0.0f}, false);
      const std::string hi = scale_init(fresh(l.name + "_clip_max"), {l.clip_max}, false);
      node("Clip", out + "_Clip", {f, lo, hi}, {out});
    }
    return out;
  }

  // int8 weights (per channel when the scales differ), int32 bias at x_s * w_s, both through DQ.
  std::pair<std::string, std::string> weights_and_bias(const Layer& l, const std::vector<std::int64_t>& dims,
                                                       const std::vector<std::int32_t>& values, int channels,
                                                       float x_scale) {
    if (l.weight_scales.empty()) fail(l, "has no weight scales (not quantized)");
    std::vector<float> ws = l.weight_scales;
    if (ws.size() == 1) ws.assign(std::size_t(channels), l.weight_scales[0]);
    if (ws.size() != std::size_t(channels)) fail(l, "has " + std::to_string(ws.size()) + " weight scales for " +
                                                        std::to_string(channels) + " channels");
    bool per_channel = false;
    for (float s : ws) per_channel = per_channel || s != ws[0];
    const std::string base = fresh(l.name + "_weight");
    TensorProto* w = initializer(base + "_quantized", TensorProto::INT8, dims);
    for (std::int32_t v : values) w->add_int32_data(v);
    const std::string wf = base + "_float";
    const std::vector<float> wscale = per_channel ? ws : std::vector<float>{ws[0]};
    auto* dq = node("DequantizeLinear", wf + "_DequantizeLinear",
                    {w->name(), scale_init(base + "_scale", wscale, per_channel),
                     zero_point_init(base + "_zero_point", TensorProto::INT8, l.weight_zero_point, wscale.size(),
                                     per_channel)},
                    {wf});
    if (per_channel) attr(dq, "axis", std::int64_t{0});

    // Bias: always per channel (its scale x_s * w_s[c] is what QLinearConv/QGemm assume).
    const std::string bb = fresh(l.name + "_bias");
    TensorProto* b = initializer(bb + "_quantized", TensorProto::INT32, {channels});
    for (int c = 0; c < channels; ++c) b->add_int32_data(l.qbias.empty() ? 0 : l.qbias[std::size_t(c)]);
    std::vector<float> bscale(static_cast<std::size_t>(channels));
    for (int c = 0; c < channels; ++c) bscale[std::size_t(c)] = x_scale * ws[std::size_t(c)];
    const std::string bf = bb + "_float";
    auto* bdq = node("DequantizeLinear", bf + "_DequantizeLinear",
                     {b->name(), scale_init(bb + "_scale", bscale, true),
                      zero_point_init(bb + "_zero_point", TensorProto::INT32, 0, std::size_t(channels), true)},
                     {bf});
    attr(bdq, "axis", std::int64_t{0});
    return {wf, bf};
  }

  void layer(std::size_t i, const Layer& l) {
    const std::string out = qdq_tensor_name(m_, i);
    std::visit([&](const auto& a) { layer(l, a, out); }, l.attributes);
  }

  void layer(const Layer& l, const QuantizeAttributes&, const std::string& out) {
    quantize(quantize_input_, out, l.output);
  }

  void layer(const Layer& l, const DequantizeAttributes&, const std::string&) { fail(l, "unreachable"); }

  void layer(const Layer& l, const ConvAttributes& a, const std::string& out) {
    if (a.pool.kind != PoolKind::none && a.pool.kind != PoolKind::max)
      fail(l, "a GlobalAveragePool fused into a convolution has no QDQ form onnxruntime runs in integers");
    if (is_2d(l.inputs.at(0))) fail(l, "a convolution after a Dense layer is not exported");
    const TensorQuantization& xq = input_q(l, 0);
    const std::string x = dequantize(input_name(l, 0), xq);
    const int o = a.filters, ci = a.input.c / a.group, kh = a.kernel.h, kw = a.kernel.w;
    const std::vector<std::int32_t> w = onnx_writer::oihw_weights(l, a);
    const auto [wf, bf] = weights_and_bias(l, {o, ci, kh, kw}, w, o, xq.scale);
    const std::string conv_out = fresh(l.name + "_conv");
    onnx_writer::set_conv_attributes(node("Conv", l.name, {x, wf, bf}, {conv_out}), a);
    const std::string act = activation(l, a.activation, conv_out);
    if (a.pool.kind == PoolKind::none) return quantize(act, out, l.output);
    // Conv -> Q -> DQ -> MaxPool -> Q with the same parameters: onnxruntime pools the integers.
    const std::string pre = fresh(l.name + "_before_pool");
    quantize(act, pre, l.output);
    const std::string pf = dequantize(pre, l.output);
    const std::string pooled = fresh(l.name + "_pooled");
    auto* mp = node("MaxPool", l.name + "_MaxPool", {pf}, {pooled});
    onnx_writer::set_pool_attributes(mp, a.pool, conv_output_shape(a));
    quantize(pooled, out, l.output);
  }

  void layer(const Layer& l, const DenseAttributes& a, const std::string& out) {
    const TensorQuantization& xq = input_q(l, 0);
    std::string in = input_name(l, 0);
    const int units = a.units, k = a.input.size();
    const std::vector<std::int32_t> w = onnx_writer::nchw_dense_weights(l, a);
    if (!is_2d(l.inputs.at(0))) {
      // Flatten the integers: a layout op, no requantization.
      const std::string flat = fresh(in + "_flat");
      attr(node("Flatten", flat + "_Flatten", {in}, {flat}), "axis", std::int64_t{1});
      in = flat;
    }
    const std::string x = dequantize(in, xq);
    const auto [wf, bf] = weights_and_bias(l, {units, k}, w, units, xq.scale);
    const std::string y = fresh(l.name + "_gemm");
    attr(node("Gemm", l.name, {x, wf, bf}, {y}), "transB", std::int64_t{1});
    quantize(activation(l, a.activation, y), out, l.output);
  }

  void layer(const Layer& l, const AddAttributes& a, const std::string& out) {
    const std::string x0 = dequantize(input_name(l, 0), input_q(l, 0));
    const std::string x1 = dequantize(input_name(l, 1), input_q(l, 1));
    const std::string y = fresh(l.name + "_sum");
    node("Add", l.name, {x0, x1}, {y});
    quantize(activation(l, a.activation, y), out, l.output);
  }

  void layer(const Layer& l, const ConcatAttributes& a, const std::string& out) {
    std::vector<std::string> xs;
    for (int k = 0; k < a.count; ++k) xs.push_back(dequantize(input_name(l, std::size_t(k)), input_q(l, std::size_t(k))));
    const std::string y = fresh(l.name + "_concat");
    attr(node("Concat", l.name, xs, {y}), "axis", std::int64_t{1});
    quantize(y, out, l.output);
  }

  // DQ -> op -> Q: onnxruntime fuses LeakyRelu and Sigmoid into QLinearLeakyRelu / QLinearSigmoid
  // (a table, as statiq's) and runs the others in float between DQ and Q, which gives the same codes.
  void layer(const Layer& l, const LookupTableAttributes& a, const std::string& out) {
    const std::string x = dequantize(input_name(l, 0), input_q(l, 0));
    const std::string y = fresh(l.name + "_" + std::string(lookup_function_op(a.function)));
    if (a.function == LookupFunction::hard_swish) {
      // opset 13 has no HardSwish: ONNX's own definition of it (its function body), op by op.
      const std::string gate = fresh(l.name + "_HardSigmoid");
      auto* hs = node("HardSigmoid", l.name + "_HardSigmoid", {x}, {gate});
      onnx_writer::set_attribute(hs, "alpha", 1.0f / 6.0f);
      onnx_writer::set_attribute(hs, "beta", 0.5f);
      node("Mul", l.name, {x, gate}, {y});
    } else if (a.function == LookupFunction::clip) {
      const std::string lo = scale_init(fresh(l.name + "_min"), {a.alpha}, false);
      const std::string hi = scale_init(fresh(l.name + "_max"), {a.beta}, false);
      node("Clip", l.name, {x, lo, hi}, {y});
    } else if (with_constant(a.function)) {
      // an elementwise op with a float constant: onnxruntime runs it in float between DQ and Q
      const std::string c = scale_init(fresh(l.name + "_constant"), {a.alpha}, false);
      const bool constant_first = a.function == LookupFunction::constant_sub;
      node(std::string(lookup_function_op(a.function)), l.name, constant_first ? std::vector<std::string>{c, x}
                                                                               : std::vector<std::string>{x, c}, {y});
    } else {
      auto* n = node(std::string(lookup_function_op(a.function)), l.name, {x}, {y});
      if (a.function == LookupFunction::leaky_relu || a.function == LookupFunction::hard_sigmoid)
        onnx_writer::set_attribute(n, "alpha", a.alpha);
      if (a.function == LookupFunction::hard_sigmoid) onnx_writer::set_attribute(n, "beta", a.beta);
    }
    quantize(y, out, l.output);
  }

  // DQ, DQ -> Mul | Max | Min | Sub -> Q: onnxruntime fuses Mul into QLinearMul and runs the others
  // in float between DQ and Q, as statiq's Elementwise layer computes them.
  void layer(const Layer& l, const ElementwiseAttributes& a, const std::string& out) {
    const std::string x0 = dequantize(input_name(l, 0), input_q(l, 0));
    const std::string x1 = dequantize(input_name(l, 1), input_q(l, 1));
    const std::string op(elementwise_op_name(a.op));
    const std::string y = fresh(l.name + "_" + op);
    node(op, l.name, {x0, x1}, {y});
    quantize(y, out, l.output);
  }

  // A Copy (Resize nearest) as a gather of the dequantized values: DQ -> Reshape [1, C*H*W] ->
  // Gather (the index table in NCHW offsets) -> Reshape [1, C, H', W'] -> Q, with the input's
  // quantization: values are copied, so onnxruntime's integers are the engine's whatever it fuses.
  void layer(const Layer& l, const CopyAttributes& a, const std::string& out) {
    const std::string x = dequantize(input_name(l, 0), input_q(l, 0));
    auto shape = [&](const std::string& base, const std::vector<std::int64_t>& dims) {
      const std::string name = fresh(base);
      TensorProto* t = initializer(name, TensorProto::INT64, {std::int64_t(dims.size())});
      for (std::int64_t d : dims) t->add_int64_data(d);
      return name;
    };
    if (l.pad) {
      // A Pad: written back as one, on the [1, C, H, W] view of the dequantized input; onnxruntime
      // pads in float and its QuantizeLinear gives the constant's code (no QDQ fusion for Pad).
      const std::string x4 = fresh(l.name + "_nchw");
      node("Reshape", x4 + "_Reshape", {x, shape(l.name + "_nchw_shape", {1, a.input.c, a.input.h, a.input.w})}, {x4});
      std::vector<std::string> inputs{x4, shape(l.name + "_pads", l.pad->pads)};
      if (l.pad->mode == "constant") inputs.push_back(scale_init(fresh(l.name + "_constant_value"), {l.pad->value}, false));
      const std::string y = fresh(l.name + "_padded");
      onnx::NodeProto* p = node("Pad", l.name, inputs, {y});
      onnx::AttributeProto* mode = p->add_attribute();
      mode->set_name("mode");
      mode->set_type(onnx::AttributeProto::STRING);
      mode->set_s(l.pad->mode);  // constant, edge or reflect: checked by the lowering
      quantize(y, out, l.output);
      return;
    }
    const std::string flat = fresh(l.name + "_flat");
    node("Reshape", flat + "_Reshape", {x, shape(l.name + "_flat_shape", {1, a.input.size()})}, {flat});
    const std::string indices = fresh(l.name + "_indices");
    TensorProto* t = initializer(indices, TensorProto::INT64, {std::int64_t(a.output.size())});
    for (int c = 0; c < a.output.c; ++c)
      for (int h = 0; h < a.output.h; ++h)
        for (int w = 0; w < a.output.w; ++w) {
          const std::int32_t src = l.qweights.at(std::size_t((h * a.output.w + w) * a.output.c + c));
          if (src < 0) fail(l, "fills with a constant but is no Pad; its QDQ form is not written (statiq bug)");
          const int ih = src / (a.input.w * a.input.c), iw = (src / a.input.c) % a.input.w, ic = src % a.input.c;
          t->add_int64_data((std::int64_t(ic) * a.input.h + ih) * a.input.w + iw);
        }
    const std::string gathered = fresh(l.name + "_gathered");
    onnx_writer::set_attribute(node("Gather", gathered + "_Gather", {flat, indices}, {gathered}), "axis", std::int64_t{1});
    const std::string y = fresh(l.name + "_copied");
    node("Reshape", y + "_Reshape",
         {gathered, shape(l.name + "_shape", {1, a.output.c, a.output.h, a.output.w})}, {y});
    quantize(y, out, l.output);
  }

  void layer(const Layer& l, const PoolAttributes& a, const std::string& out) {
    const std::string x = dequantize(input_name(l, 0), input_q(l, 0));
    const std::string y = fresh(l.name + "_pool");
    if (a.pool.kind == PoolKind::global_average) {
      node("GlobalAveragePool", l.name, {x}, {y});
    } else {
      auto* n = node(a.pool.kind == PoolKind::max ? "MaxPool" : "AveragePool", l.name, {x}, {y});
      onnx_writer::set_pool_attributes(n, a.pool, a.input);
      if (a.pool.kind == PoolKind::average) attr(n, "count_include_pad", std::int64_t{a.count_include_pad ? 1 : 0});
    }
    quantize(y, out, l.output);
  }
};

}  // namespace

std::string qdq_tensor_name(const LoweredModel& model, std::size_t layer) {
  const Layer& l = model.layers.at(layer);
  if (l.kind == LayerKind::dequantize) return "";
  // Unique even where two layers stand for one ONNX tensor (a Quantize reads the graph input).
  return l.output_tensor + "_quantized" + (l.kind == LayerKind::quantize ? "_input" : "");
}

onnx::ModelProto qdq_model(const LoweredModel& model, const ir::Graph* float_model) {
  return Exporter(model, float_model).run();
}

void write_qdq_model(const LoweredModel& model, const std::filesystem::path& file, const ir::Graph* float_model) {
  onnx_writer::write_model(qdq_model(model, float_model), file, "QDQ export");
}

}  // namespace statiq::codegen
