// codegen/export/dynamic_export.cpp — see dynamic_export.hpp. Node and tensor names follow
// onnxruntime.quantization.quantize_dynamic (operators/matmul.py, conv.py: <x>_QuantizeLinear,
// <x>_quantized, <x>_scale, <x>_zero_point, <W>_quantized, <node>_quant, <node>_quant_scales_mul, ...)
// with the layer's ONNX node name standing for the node and its weight.
#include "codegen/export/dynamic_export.hpp"

#include "codegen/export/onnx_writer.hpp"

#include <onnx/onnx_pb.h>

#include <array>
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
  throw std::runtime_error("dynamic export: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) +
                           "): " + what);
}

class Exporter {
 public:
  explicit Exporter(const LoweredModel& m) : m_(m) {
    if (m.target != "cpu_int8")
      throw std::runtime_error("dynamic export: the model is for " + m.target +
                               "; dynamic quantization is onnxruntime's CPU scheme (cpu_int8 only)");
    model_ = onnx_writer::new_model(m.name + "_dynamic");
    g_ = model_.mutable_graph();
  }

  onnx::ModelProto run() {
    // Every layer first, so a static model is refused naming its first non-dynamic layer.
    for (const Layer& l : m_.layers)
      if (!l.dynamic) fail(l, "is not dynamically quantized (run quantize_dynamic() on the model first)");
    if (!m_.dynamic || m_.layers.empty())
      throw std::runtime_error("dynamic export: the model is not a dynamic model (run quantize_dynamic() first)");
    const Shape in = m_.input_shape;
    value_info(g_->add_input(), m_.input_tensor, {1, in.c, in.h, in.w});
    for (std::size_t i = 0; i < m_.layers.size(); ++i) {
      const Layer& l = m_.layers[i];
      for (const int from : l.inputs)
        if (from >= int(i)) fail(l, "reads a later layer");
      std::visit([&](const auto& a) { layer(i, l, a); }, l.attributes);
    }
    const std::size_t last = m_.layers.size() - 1;
    value_info(g_->add_output(), dynamic_tensor_name(m_, last), dims_of(int(last)));
    return model_;
  }

 private:
  const LoweredModel& m_;
  onnx::ModelProto model_;
  onnx::GraphProto* g_ = nullptr;
  std::set<std::string> produced_;  // every tensor name a node or initializer defines
  std::map<std::string, std::array<std::string, 3>> quantized_;  // DynamicQuantizeLinear outputs per tensor

  static void value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<std::int64_t>& dims) {
    onnx_writer::value_info(v, name, TensorProto::FLOAT, dims);
  }

  // Layer `layer`'s output: [1, units] for a Dense, [1, C, H, W] otherwise (-1: the graph input).
  std::vector<std::int64_t> dims_of(int layer) const {
    if (layer < 0) return {1, m_.input_shape.c, m_.input_shape.h, m_.input_shape.w};
    const Layer& l = m_.layers[std::size_t(layer)];
    const Shape s = output_type(l.attributes).shape;
    if (l.kind == LayerKind::dense) return {1, s.c};
    return {1, s.c, s.h, s.w};
  }
  bool is_2d(int layer) const { return layer >= 0 && m_.layers[std::size_t(layer)].kind == LayerKind::dense; }
  std::string input_name(int layer) const {
    return layer < 0 ? m_.input_tensor : dynamic_tensor_name(m_, std::size_t(layer));
  }

  // A name clash would make onnxruntime reject the graph with a less helpful message.
  void define(const Layer& l, const std::string& name) {
    if (!produced_.insert(name).second) fail(l, "the exported tensor name '" + name + "' is defined twice");
  }

  onnx::NodeProto* node(const Layer& l, const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    for (const auto& o : outputs) define(l, o);
    return onnx_writer::add_node(*g_, op, name, inputs, outputs);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::int64_t v) { onnx_writer::set_attribute(n, name, v); }
  TensorProto* initializer(const Layer& l, const std::string& name, int type, const std::vector<std::int64_t>& dims) {
    define(l, name);
    return onnx_writer::add_initializer(*g_, name, type, dims);
  }
  std::string floats(const Layer& l, const std::string& name, const std::vector<float>& v,
                     const std::vector<std::int64_t>& dims) {
    TensorProto* t = initializer(l, name, TensorProto::FLOAT, dims);
    for (float x : v) t->add_float_data(x);
    return name;
  }

  // The weights' three initializers: int8 values (`dims`, already in ONNX order), their scale (a
  // scalar, or per channel shaped `channel_dims`), zero point int8 0 (a scalar: ConvInteger and
  // MatMulInteger take only a per-tensor zero point on the weights).
  struct Weights {
    std::string values, scale, zero_point;
  };
  Weights weights(const Layer& l, const std::vector<std::int32_t>& values, const std::vector<std::int64_t>& dims,
                  int channels, const std::vector<std::int64_t>& channel_dims) {
    if (l.weight_zero_point != 0) fail(l, "has a weight zero point other than 0 (not a dynamic layer)");
    if (l.weight_scales.size() != 1 && l.weight_scales.size() != std::size_t(channels))
      fail(l, "has " + std::to_string(l.weight_scales.size()) + " weight scales for " + std::to_string(channels) +
                  " channels (run quantize_dynamic() again)");
    const std::string base = l.name + "_W";
    TensorProto* w = initializer(l, base + "_quantized", TensorProto::INT8, dims);
    std::string bytes(values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] < -128 || values[i] > 127) fail(l, "has a weight outside int8 (run quantize_dynamic() again)");
      bytes[i] = static_cast<char>(static_cast<std::int8_t>(values[i]));
    }
    w->set_raw_data(bytes);
    const bool per_channel = l.weight_scales.size() > 1;
    const std::string scale =
        floats(l, base + "_scale", l.weight_scales, per_channel ? channel_dims : std::vector<std::int64_t>{});
    TensorProto* zp = initializer(l, base + "_zero_point", TensorProto::INT8, {});
    zp->set_raw_data(std::string(1, '\0'));
    return {w->name(), scale, zp->name()};
  }

  // The part every dynamic layer shares, from the integer op's int32 output to the layer's float
  // output before any pooling: Cast, Mul(x_scale, W_scale), Mul, Add(bias), Relu | Clip. Returns the
  // last tensor; `out` names it when nothing follows.
  std::string float_tail(const Layer& l, const std::string& acc, const std::string& x_scale, const Weights& w,
                         int channels, const std::vector<std::int64_t>& channel_dims, Activation act, bool pooled,
                         const std::string& out) {
    const std::string cast = acc + "_cast_output";
    attr(node(l, "Cast", acc + "_cast", {acc}, {cast}), "to", std::int64_t{TensorProto::FLOAT});
    // float32(x_scale * w_scale[c]): the multiplier compute_dynamic rounds once, before the product.
    const std::string scales = l.name + "_quant_scales_mul:0";
    node(l, "Mul", l.name + "_quant_scales_mul", {x_scale, w.scale}, {scales});
    const std::string scaled = l.name + "_quant_output_scale_mul_output";
    node(l, "Mul", l.name + "_quant_output_scale_mul", {cast, scales}, {scaled});
    // The bias Add stays a node of its own: onnxruntime fuses it into MatMulIntegerToFloat, whose
    // output processor adds after the multiply rounded, as compute_dynamic does.
    if (l.bias.size() != std::size_t(channels))
      fail(l, "has " + std::to_string(l.bias.size()) + " bias values for " + std::to_string(channels) + " channels");
    const bool last = act.kind == ActivationKind::none && !pooled;
    const std::string biased = last ? out : l.name + "_bias_add_output";
    node(l, "Add", l.name + "_bias_add", {scaled, floats(l, l.name + "_B", l.bias, channel_dims)}, {biased});
    if (act.kind == ActivationKind::none) return biased;
    const std::string activated = pooled ? l.name + "_activation_output" : out;
    if (act.kind == ActivationKind::relu) {
      node(l, "Relu", l.name + "_Relu", {biased}, {activated});
    } else {
      const std::string lo = floats(l, l.name + "_clip_min", {0.0f}, {});
      const std::string hi = floats(l, l.name + "_clip_max", {l.clip_max}, {});
      node(l, "Clip", l.name + "_Clip", {biased, lo, hi}, {activated});
    }
    return activated;
  }

  // DynamicQuantizeLinear of x: {x_quantized, x_scale, x_zero_point}, made once per tensor (two
  // layers reading one tensor, as a residual block's two branches do, share it).
  std::array<std::string, 3> quantize_input(const Layer& l, const std::string& x) {
    if (auto it = quantized_.find(x); it != quantized_.end()) return it->second;
    const std::array<std::string, 3> q{x + "_quantized", x + "_scale", x + "_zero_point"};
    node(l, "DynamicQuantizeLinear", x + "_QuantizeLinear", {x}, {q[0], q[1], q[2]});
    quantized_.emplace(x, q);
    return q;
  }

  void layer(std::size_t i, const Layer& l, const ConvAttributes& a) {
    if (a.pool.kind != PoolKind::none && a.pool.kind != PoolKind::max)
      fail(l, "a fused " + std::string(pool_op(a.pool)) + " has no dynamic form (MaxPool only)");
    if (is_2d(l.inputs[0])) fail(l, "a convolution after a Dense layer is not exported");
    const int o = a.filters, ci = a.input.c / a.group, kh = a.kernel.h, kw = a.kernel.w;
    const std::vector<std::int32_t> w = onnx_writer::oihw_weights(l, a);
    const std::vector<std::int64_t> channel_dims{1, o, 1, 1};
    const Weights wq = weights(l, w, {o, ci, kh, kw}, o, channel_dims);

    const auto [xq, x_scale, x_zp] = quantize_input(l, input_name(l.inputs[0]));
    const std::string acc = l.name + "_output_quantized";
    onnx_writer::set_conv_attributes(
        node(l, "ConvInteger", l.name + "_quant", {xq, wq.values, x_zp, wq.zero_point}, {acc}), a);

    const std::string out = dynamic_tensor_name(m_, i);
    const bool pooled = a.pool.kind == PoolKind::max;
    const std::string y = float_tail(l, acc, x_scale, wq, o, channel_dims, a.activation, pooled, out);
    if (!pooled) return;
    onnx_writer::set_pool_attributes(node(l, "MaxPool", l.name + "_MaxPool", {y}, {out}), a.pool, conv_output_shape(a));
  }

  void layer(std::size_t i, const Layer& l, const DenseAttributes& a) {
    // MatMul's B [K, N]: the Gemm form [units][K] (K flattened C, H, W as the exported tensor is NCHW),
    // transposed.
    const int units = a.units, k = a.input.size();
    const std::vector<std::int32_t> gemm = onnx_writer::nchw_dense_weights(l, a);
    std::vector<std::int32_t> w(gemm.size());
    for (int u = 0; u < units; ++u)
      for (int i = 0; i < k; ++i) w[std::size_t(i) * units + u] = gemm[std::size_t(u) * k + i];
    const std::vector<std::int64_t> channel_dims{units};
    const Weights wq = weights(l, w, {k, units}, units, channel_dims);

    std::string in = input_name(l.inputs[0]);
    if (!is_2d(l.inputs[0])) {
      // MatMul reads [1, K]: Flatten before the quantization, so DynamicQuantizeLinear feeds
      // MatMulInteger directly (onnxruntime's DynamicQuantizeMatMul fusion needs that).
      const std::string flat = in + "_flattened";
      attr(node(l, "Flatten", flat + "_Flatten", {in}, {flat}), "axis", std::int64_t{1});
      in = flat;
    }
    const auto [xq, x_scale, x_zp] = quantize_input(l, in);
    const std::string acc = l.name + "_output_quantized";
    node(l, "MatMulInteger", l.name + "_quant", {xq, wq.values, x_zp, wq.zero_point}, {acc});
    float_tail(l, acc, x_scale, wq, units, channel_dims, a.activation, false, dynamic_tensor_name(m_, i));
  }

  // The residual Add: float Add [-> Relu], as in the float model.
  void layer(std::size_t i, const Layer& l, const AddAttributes& a) {
    if (l.inputs.size() != 2) fail(l, "an Add reads two layers");
    if (a.activation.kind == ActivationKind::clipped_relu) fail(l, "a dynamic engine's Add fuses a Relu only");
    const std::string out = dynamic_tensor_name(m_, i);
    const bool relu = a.activation.kind == ActivationKind::relu;
    const std::string sum = relu ? l.name + "_sum" : out;
    node(l, "Add", l.name, {input_name(l.inputs[0]), input_name(l.inputs[1])}, {sum});
    if (relu) node(l, "Relu", l.name + "_Relu", {sum}, {out});
  }

  template <class A>
  void layer(std::size_t, const Layer& l, const A&) {
    fail(l, "has no dynamic form (Conv, Dense and Add layers only)");
  }
};

}  // namespace

std::string dynamic_tensor_name(const LoweredModel& model, std::size_t layer) {
  const Layer& l = model.layers.at(layer);
  // The ONNX tensor the layer stands for (the MaxPool's output of Conv -> Relu -> MaxPool).
  return l.output_tensor.empty() ? l.name + "_output" : l.output_tensor;
}

onnx::ModelProto dynamic_model(const LoweredModel& model) { return Exporter(model).run(); }

void write_dynamic_model(const LoweredModel& model, const std::filesystem::path& file) {
  onnx_writer::write_model(dynamic_model(model), file, "dynamic export");
}

}  // namespace statiq::codegen
