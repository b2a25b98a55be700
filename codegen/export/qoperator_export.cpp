// codegen/export/qoperator_export.cpp — see qoperator_export.hpp. The operators and their inputs are
// those of the ONNX spec (QuantizeLinear, QLinearConv, DequantizeLinear, MaxPool, Flatten) and of
// onnxruntime's contrib ops in the com.microsoft domain (QGemm, QLinearAdd, QLinearAveragePool,
// QLinearGlobalAveragePool), whose integer kernels are the ones onnxruntime's QDQ fusion runs, the
// form tests/ort already proves equal to the engine.
#include "codegen/export/qoperator_export.hpp"

#include "codegen/export/onnx_writer.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <stdexcept>
#include <variant>
#include <vector>

#include "codegen/export/qdq_export.hpp"

namespace statiq::codegen {
namespace {

using onnx::TensorProto;

constexpr const char* microsoft = "com.microsoft";

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::runtime_error("QOperator export: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) +
                           "): " + what);
}

int elem_type(bool is_signed) { return is_signed ? TensorProto::INT8 : TensorProto::UINT8; }

class Exporter {
 public:
  explicit Exporter(const LoweredModel& m) : m_(m) {
    if (m.target != "cpu_int8")
      throw std::runtime_error("QOperator export: the model is for " + m.target +
                               "; only cpu_int8 (onnxruntime's arithmetic) has a QOperator form");
    if (m.dynamic)
      throw std::runtime_error("QOperator export: a dynamically quantized model has no QOperator form; use --qdq");
    model_ = onnx_writer::new_model(m.name + "_qoperator");
    auto* ms = model_.add_opset_import();
    ms->set_domain(microsoft);
    ms->set_version(1);
    g_ = model_.mutable_graph();
  }

  onnx::ModelProto run() {
    const Shape in = m_.input_shape;
    onnx_writer::value_info(g_->add_input(), m_.input_tensor, TensorProto::FLOAT, {1, in.c, in.h, in.w});
    std::string output;
    int output_type = TensorProto::FLOAT;
    std::vector<std::int64_t> output_dims;
    for (std::size_t i = 0; i < m_.layers.size(); ++i) {
      const Layer& l = m_.layers[i];
      if (l.kind != LayerKind::dequantize && !std::holds_alternative<ProfileData<arith::qlinear>>(l.data))
        fail(l, "is not quantized for cpu_int8 (run quantize() first)");
      if (l.placement == Placement::host) fail(l, "runs on the host; a QOperator export needs every layer mapped");
      index_ = i;
      std::visit([&](const auto& a) { layer(l, a); }, l.attributes);
      if (l.kind == LayerKind::dequantize) {
        output = m_.output_tensor;
        output_type = TensorProto::FLOAT;
      } else {
        output = qdq_tensor_name(m_, i);
        output_type = elem_type(l.output.is_signed);
      }
      output_dims = dims_of(i);
    }
    if (output.empty()) throw std::runtime_error("QOperator export: the model has no layer");
    onnx_writer::value_info(g_->add_output(), output, output_type, output_dims);
    return model_;
  }

 private:
  const LoweredModel& m_;
  onnx::ModelProto model_;
  onnx::GraphProto* g_ = nullptr;
  std::size_t index_ = 0;
  int counter_ = 0;

  // A Dense layer's output is [1, units] (a Dequantize after one too); every other tensor [1, C, H, W].
  std::vector<std::int64_t> dims_of(std::size_t layer) const {
    std::size_t p = layer;
    while (m_.layers[p].kind == LayerKind::dequantize && m_.layers[p].inputs.at(0) >= 0)
      p = std::size_t(m_.layers[p].inputs[0]);
    const Shape s = output_type(m_.layers[layer].attributes).shape;
    if (m_.layers[p].kind == LayerKind::dense) return {1, s.c};
    return {1, s.c, s.h, s.w};
  }

  std::string fresh(const std::string& base) { return base + "_" + std::to_string(counter_++); }

  onnx::NodeProto* node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, bool contrib = false) {
    auto* n = onnx_writer::add_node(*g_, op, name, inputs, outputs);
    if (contrib) n->set_domain(microsoft);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::int64_t v) { onnx_writer::set_attribute(n, name, v); }

  std::string floats(const std::string& name, const std::vector<float>& v, bool vector) {
    TensorProto* t = onnx_writer::add_initializer(
        *g_, name, TensorProto::FLOAT, vector ? std::vector<std::int64_t>{std::int64_t(v.size())} : std::vector<std::int64_t>{});
    for (float x : v) t->add_float_data(x);
    return name;
  }
  std::string zero_points(const std::string& name, int type, std::int32_t zp, std::size_t count, bool vector) {
    TensorProto* t = onnx_writer::add_initializer(
        *g_, name, type, vector ? std::vector<std::int64_t>{std::int64_t(count)} : std::vector<std::int64_t>{});
    for (std::size_t i = 0; i < count; ++i) t->add_int32_data(zp);
    return name;
  }
  // The scale and zero point of a tensor quantization, as two scalar initializers.
  std::pair<std::string, std::string> params(const std::string& base, const TensorQuantization& q) {
    const std::string b = fresh(base);
    return {floats(b + "_scale", {q.scale}, false),
            zero_points(b + "_zero_point", elem_type(q.is_signed), q.zero_point, 1, false)};
  }

  const Layer& producer(const Layer& l, std::size_t k) const {
    const int idx = l.inputs.at(k);
    if (idx < 0) fail(l, "reads the float graph input (the model must start with a Quantize layer)");
    return m_.layers[std::size_t(idx)];
  }
  std::string input_name(const Layer& l, std::size_t k) const { return qdq_tensor_name(m_, std::size_t(l.inputs.at(k))); }

  // The QLinear operators saturate to their type; the engine's clamp must be that range (a ReLU is
  // free when the output's zero point is the type's minimum, as the quantizer makes it).
  void check_full_range(const Layer& l) const {
    const auto& d = std::get<ProfileData<arith::qlinear>>(l.data);
    const std::int32_t lo = l.output.is_signed ? -128 : 0, hi = l.output.is_signed ? 127 : 255;
    if (d.output.lo != lo || d.output.hi != hi)
      fail(l, "clamps its output to [" + std::to_string(d.output.lo) + ", " + std::to_string(d.output.hi) +
                  "], inside the type's [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "]: the QLinear operators have no clamp (a clipped ReLU); export with --qdq instead");
  }

  // int8 weights (per output channel when the scales differ) and the int32 bias.
  struct Weights {
    std::string w, w_scale, w_zero_point, bias;
  };
  Weights weights(const Layer& l, const std::vector<std::int64_t>& dims, const std::vector<std::int32_t>& values,
                  int channels) {
    if (l.weight_scales.empty()) fail(l, "has no weight scales (not quantized)");
    std::vector<float> ws = l.weight_scales;
    if (ws.size() == 1) ws.assign(std::size_t(channels), l.weight_scales[0]);
    if (ws.size() != std::size_t(channels))
      fail(l, "has " + std::to_string(ws.size()) + " weight scales for " + std::to_string(channels) + " channels");
    bool per_channel = false;
    for (float s : ws) per_channel = per_channel || s != ws[0];
    const std::vector<float> scales = per_channel ? ws : std::vector<float>{ws[0]};
    const std::string base = fresh(l.name + "_weight");
    TensorProto* w = onnx_writer::add_initializer(*g_, base + "_quantized", TensorProto::INT8, dims);
    for (std::int32_t v : values) w->add_int32_data(v);
    Weights r;
    r.w = w->name();
    r.w_scale = floats(base + "_scale", scales, per_channel);
    r.w_zero_point = zero_points(base + "_zero_point", TensorProto::INT8, l.weight_zero_point, scales.size(), per_channel);
    TensorProto* b = onnx_writer::add_initializer(*g_, fresh(l.name + "_bias") + "_quantized", TensorProto::INT32, {channels});
    for (int c = 0; c < channels; ++c) b->add_int32_data(l.qbias.empty() ? 0 : l.qbias[std::size_t(c)]);
    r.bias = b->name();
    return r;
  }

  void layer(const Layer& l, const QuantizeAttributes&) {
    const auto [s, z] = params(qdq_tensor_name(m_, index_), l.output);
    node("QuantizeLinear", qdq_tensor_name(m_, index_) + "_QuantizeLinear", {m_.input_tensor, s, z},
         {qdq_tensor_name(m_, index_)});
  }

  void layer(const Layer& l, const DequantizeAttributes& a) {
    const TensorQuantization& x = producer(l, 0).output;
    const auto [s, z] = params(m_.output_tensor + "_dequantize", x);
    if (!a.softmax) {
      node("DequantizeLinear", l.name, {input_name(l, 0), s, z}, {m_.output_tensor});
      return;
    }
    const std::string scores = m_.output_tensor + "_dequantized";  // then the model's final Softmax, in float
    node("DequantizeLinear", l.name, {input_name(l, 0), s, z}, {scores});
    attr(node("Softmax", l.name + "_softmax", {scores}, {m_.output_tensor}), "axis", 1);
  }

  void layer(const Layer& l, const ConvAttributes& a) {
    if (a.pool.kind != PoolKind::none && a.pool.kind != PoolKind::max)
      fail(l, "a GlobalAveragePool fused into a convolution has no QOperator form onnxruntime runs in integers");
    if (producer(l, 0).kind == LayerKind::dense) fail(l, "a convolution after a Dense layer is not exported");
    check_full_range(l);
    const TensorQuantization& xq = producer(l, 0).output;
    const auto [xs, xz] = params(l.name + "_x", xq);
    const auto [ys, yz] = params(l.name + "_y", l.output);
    const Weights w = weights(l, {a.filters, a.input.c / a.group, a.kernel.h, a.kernel.w}, onnx_writer::oihw_weights(l, a),
                              a.filters);
    const std::string out = qdq_tensor_name(m_, index_);
    const std::string conv_out = a.pool.kind == PoolKind::max ? fresh(l.name + "_before_pool") : out;
    onnx_writer::set_conv_attributes(
        node("QLinearConv", l.name, {input_name(l, 0), xs, xz, w.w, w.w_scale, w.w_zero_point, ys, yz, w.bias}, {conv_out}),
        a);
    if (a.pool.kind == PoolKind::max)
      onnx_writer::set_pool_attributes(node("MaxPool", l.name + "_MaxPool", {conv_out}, {out}), a.pool,
                                       conv_output_shape(a));
  }

  void layer(const Layer& l, const DenseAttributes& a) {
    check_full_range(l);
    const Layer& p = producer(l, 0);
    std::string in = input_name(l, 0);
    if (p.kind != LayerKind::dense) {
      const std::string flat = fresh(in + "_flat");
      attr(node("Flatten", flat + "_Flatten", {in}, {flat}), "axis", std::int64_t{1});
      in = flat;
    }
    const auto [xs, xz] = params(l.name + "_x", p.output);
    const auto [ys, yz] = params(l.name + "_y", l.output);
    const Weights w = weights(l, {a.units, a.input.size()}, onnx_writer::nchw_dense_weights(l, a), a.units);
    auto* n = node("QGemm", l.name, {in, xs, xz, w.w, w.w_scale, w.w_zero_point, w.bias, ys, yz},
                   {qdq_tensor_name(m_, index_)}, true);
    attr(n, "transB", std::int64_t{1});
  }

  // onnxruntime's QLinearLeakyRelu / QLinearSigmoid build the same table; Tanh, HardSigmoid and
  // HardSwish have no QOperator form (the QDQ export has them).
  void layer(const Layer& l, const LookupTableAttributes& a) {
    if (a.function != LookupFunction::leaky_relu && a.function != LookupFunction::sigmoid)
      fail(l, std::string(lookup_function_op(a.function)) + " has no QOperator form in onnxruntime: use the QDQ export (--qdq)");
    const auto [xs, xz] = params(l.name + "_x", producer(l, 0).output);
    const auto [ys, yz] = params(l.name + "_y", l.output);
    auto* n = node(a.function == LookupFunction::leaky_relu ? "QLinearLeakyRelu" : "QLinearSigmoid", l.name,
                   {input_name(l, 0), xs, xz, ys, yz}, {qdq_tensor_name(m_, index_)}, true);
    if (a.function == LookupFunction::leaky_relu) onnx_writer::set_attribute(n, "alpha", a.alpha);
  }

  void layer(const Layer& l, const CopyAttributes&) {
    fail(l, "a Copy (" + l.copy_of + ") is not written in QOperator form: use the QDQ export (--qdq)");
  }
  void layer(const Layer& l, const ElementwiseAttributes&) {
    fail(l, "an elementwise Mul/Max/Min/Sub of two tensors is not written in QOperator form: use the QDQ export (--qdq)");
  }

  void layer(const Layer& l, const AddAttributes&) {
    check_full_range(l);
    const auto [as, az] = params(l.name + "_a", producer(l, 0).output);
    const auto [bs, bz] = params(l.name + "_b", producer(l, 1).output);
    const auto [ys, yz] = params(l.name + "_y", l.output);
    node("QLinearAdd", l.name, {input_name(l, 0), as, az, input_name(l, 1), bs, bz, ys, yz}, {qdq_tensor_name(m_, index_)},
         true);
  }

  void layer(const Layer& l, const ConcatAttributes&) {
    fail(l, "Concat is not in the QOperator export (onnxruntime's QLinearConcat requantizes in float); use --qdq");
  }

  void layer(const Layer& l, const PoolAttributes& a) {
    const std::string out = qdq_tensor_name(m_, index_);
    if (a.pool.kind == PoolKind::max) {
      onnx_writer::set_pool_attributes(node("MaxPool", l.name, {input_name(l, 0)}, {out}), a.pool, a.input);
      return;
    }
    check_full_range(l);
    const auto [xs, xz] = params(l.name + "_x", producer(l, 0).output);
    const auto [ys, yz] = params(l.name + "_y", l.output);
    if (a.pool.kind == PoolKind::global_average) {
      attr(node("QLinearGlobalAveragePool", l.name, {input_name(l, 0), xs, xz, ys, yz}, {out}, true), "channels_last",
           std::int64_t{0});
      return;
    }
    auto* n = node("QLinearAveragePool", l.name, {input_name(l, 0), xs, xz, ys, yz}, {out}, true);
    onnx_writer::set_pool_attributes(n, a.pool, a.input);
    attr(n, "count_include_pad", std::int64_t{a.count_include_pad ? 1 : 0});
  }
};

}  // namespace

onnx::ModelProto qoperator_model(const LoweredModel& model) { return Exporter(model).run(); }

void write_qoperator_model(const LoweredModel& model, const std::filesystem::path& file) {
  onnx_writer::write_model(qoperator_model(model), file, "QOperator export");
}

}  // namespace statiq::codegen
