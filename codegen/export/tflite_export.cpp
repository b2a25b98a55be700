// codegen/export/tflite_export.cpp — see tflite_export.hpp. The flatbuffer is written with the
// generic FlatBufferBuilder calls (Debian libflatbuffers-dev) and the field ids of TFLite's
// published schema (tensorflow/lite/schema/schema.fbs, schema version 3), which tflite_schema
// below lists: a table field with id n sits at vtable offset 4 + 2n; a union field takes two ids,
// its type (n) and its value (n + 1); union values count from 1 in the order the schema declares.
#include "codegen/export/tflite_export.hpp"

#include "codegen/lower/target_registry.hpp"

#include <flatbuffers/flatbuffers.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <variant>

namespace statiq::codegen {
namespace {

// The subset of the TFLite schema this exporter writes.
namespace tflite_schema {
constexpr flatbuffers::voffset_t field(int id) { return static_cast<flatbuffers::voffset_t>(4 + 2 * id); }

enum TensorType : std::int8_t { FLOAT32 = 0, INT32 = 2, INT8 = 9 };
enum BuiltinOperator : std::int32_t {
  ADD = 0, AVERAGE_POOL_2D = 1, CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4, DEQUANTIZE = 6,
  MAX_POOL_2D = 17, RESHAPE = 22, PAD = 34, MEAN = 40, PADV2 = 60, QUANTIZE = 114,
};
// union BuiltinOptions: the position in the schema's list, from 1.
enum BuiltinOptions : std::uint8_t {
  NoOptions = 0, Conv2DOptions = 1, DepthwiseConv2DOptions = 2, Pool2DOptions = 5,
  ConcatenationOptions = 10, AddOptions = 11, ReshapeOptions = 17, PadOptions = 22, ReducerOptions = 27,
  DequantizeOptions = 38, PadV2Options = 43, QuantizeOptions = 89,
};
enum Padding : std::int8_t { SAME = 0, VALID = 1 };
enum ActivationFunctionType : std::int8_t { NONE = 0, RELU = 1, RELU6 = 3 };

// Field ids.
namespace model { constexpr int version = 0, operator_codes = 1, subgraphs = 2, description = 3, buffers = 4; }
namespace operator_code { constexpr int deprecated_builtin_code = 0, version = 2, builtin_code = 3; }
namespace subgraph { constexpr int tensors = 0, inputs = 1, outputs = 2, operators = 3, name = 4; }
namespace buffer { constexpr int data = 0; }
namespace tensor { constexpr int shape = 0, type = 1, buffer = 2, name = 3, quantization = 4; }
namespace quantization { constexpr int scale = 2, zero_point = 3, quantized_dimension = 6; }
namespace op { constexpr int opcode_index = 0, inputs = 1, outputs = 2, builtin_options_type = 3, builtin_options = 4; }
// Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w_factor 4,
// dilation_h_factor 5. DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
// fused_activation_function 4, dilation_w_factor 5, dilation_h_factor 6. Pool2DOptions: padding 0,
// stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5.
// ConcatenationOptions: axis 0,
// fused_activation_function 1. AddOptions: fused_activation_function 0. ReshapeOptions: new_shape 0.
// ReducerOptions: keep_dims 0.
}  // namespace tflite_schema

namespace ts = tflite_schema;

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::runtime_error("TFLite export: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) + "): " + what);
}

struct Quant {
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  int dimension = 0;
};

struct TensorDef {
  std::vector<std::int32_t> shape;
  ts::TensorType type;
  std::uint32_t buffer = 0;
  std::string name;
  std::optional<Quant> quant;
};

// An options table: scalar fields (id, bytes, value) and at most one int vector field.
struct OptionsDef {
  ts::BuiltinOptions type = ts::NoOptions;
  struct Scalar {
    int id;
    int bytes;  // 1 or 4
    std::int32_t value;
  };
  std::vector<Scalar> scalars;
  int vector_id = -1;
  std::vector<std::int32_t> vector;
};

struct OperatorDef {
  ts::BuiltinOperator code;
  int version;
  std::vector<std::int32_t> inputs, outputs;
  OptionsDef options;
};

// A layer's data in one of TFLite's arithmetics (arith::is_tflite_profile): every tflite target
// exports the same graph, its integers differ only in where the engine rounds.
template <class D>
constexpr bool is_tflite_data = false;
template <class P>
constexpr bool is_tflite_data<ProfileData<P>> = arith::is_tflite_profile<P>;

class Exporter {
 public:
  Exporter(const LoweredModel& m, const TfliteExportOptions& o) : m_(m), o_(o) {
    const TargetInfo* target = lookup_target(m.target);
    if (!target || !target->tflite_form)
      throw std::runtime_error("TFLite export: the model is for " + m.target + "; only " +
                               tflite_target_names() + " (TFLite's arithmetic) have a TFLite form");
    if (m.dynamic) throw std::runtime_error("TFLite export: a dynamically quantized model has no TFLite int8 form");
    buffers_.emplace_back();  // buffer 0: the empty sentinel every tensor without data refers to
  }

  std::vector<std::uint8_t> run() {
    const Shape in = m_.input_shape;
    const int input = tensor({1, in.h, in.w, in.c}, ts::FLOAT32, m_.input_tensor, std::nullopt);
    graph_inputs_.push_back(input);
    layer_tensor_.assign(m_.layers.size(), -1);
    int last = -1;
    for (std::size_t i = 0; i < m_.layers.size(); ++i) {
      const Layer& l = m_.layers[i];
      if (l.placement == Placement::host) fail(l, "runs on the host in this model; every layer must map for a TFLite export");
      if (l.kind != LayerKind::dequantize &&
          !std::visit([](const auto& d) { return is_tflite_data<std::decay_t<decltype(d)>>; }, l.data))
        fail(l, "is not quantized for a tflite target (run quantize() first)");
      index_ = i;
      if (l.kind == LayerKind::dequantize && !o_.dequantize_output) continue;
      std::visit([&](const auto& a) { layer(l, a); }, l.attributes);
      if (layer_tensor_[i] >= 0) last = layer_tensor_[i];
    }
    if (last < 0) throw std::runtime_error("TFLite export: the model has no layer");
    if (o_.every_layer_output) {
      for (std::size_t i = 0; i < m_.layers.size(); ++i)
        if (m_.layers[i].kind != LayerKind::dequantize) graph_outputs_.push_back(layer_tensor_[i]);
      if (std::find(graph_outputs_.begin(), graph_outputs_.end(), last) == graph_outputs_.end())
        graph_outputs_.push_back(last);
    } else {
      graph_outputs_.push_back(last);
    }
    return serialize();
  }

 private:
  const LoweredModel& m_;
  const TfliteExportOptions& o_;
  std::size_t index_ = 0;
  std::vector<int> layer_tensor_;
  std::vector<TensorDef> tensors_;
  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<OperatorDef> operators_;
  std::vector<std::int32_t> graph_inputs_, graph_outputs_;
  int counter_ = 0;

  // --- graph building ----------------------------------------------------------------------

  int tensor(std::vector<std::int32_t> shape, ts::TensorType type, std::string name, std::optional<Quant> q,
             std::vector<std::uint8_t> data = {}) {
    TensorDef t{std::move(shape), type, 0, std::move(name), std::move(q)};
    if (!data.empty()) {
      t.buffer = static_cast<std::uint32_t>(buffers_.size());
      buffers_.push_back(std::move(data));
    }
    tensors_.push_back(std::move(t));
    return static_cast<int>(tensors_.size() - 1);
  }

  static Quant per_tensor(const TensorQuantization& q) { return Quant{{q.scale}, {q.zero_point}, 0}; }

  // An int8 activation tensor [1, H, W, C] (or [1, C] for a Dense output).
  int activation_tensor(const std::string& name, Shape s, const TensorQuantization& q, bool two_d = false) {
    std::vector<std::int32_t> shape = two_d ? std::vector<std::int32_t>{1, s.size()}
                                            : std::vector<std::int32_t>{1, s.h, s.w, s.c};
    return tensor(std::move(shape), ts::INT8, name, per_tensor(q));
  }

  template <class T>
  static std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
  }

  int int32_constant(const std::string& name, const std::vector<std::int32_t>& values, std::vector<std::int32_t> shape) {
    return tensor(std::move(shape), ts::INT32, name, std::nullopt, bytes_of(values));
  }

  void op(ts::BuiltinOperator code, int version, std::vector<std::int32_t> inputs, std::vector<std::int32_t> outputs,
          OptionsDef options = {}) {
    operators_.push_back(OperatorDef{code, version, std::move(inputs), std::move(outputs), std::move(options)});
  }

  std::string fresh(const std::string& base) { return base + "_" + std::to_string(counter_++); }

  const Layer& producer(const Layer& l, std::size_t k) const {
    const int idx = l.inputs.at(k);
    if (idx < 0) fail(l, "reads the float graph input (the model must start with a Quantize layer)");
    return m_.layers[std::size_t(idx)];
  }
  int input_tensor(const Layer& l, std::size_t k) const { return layer_tensor_[std::size_t(l.inputs.at(k))]; }
  bool input_is_2d(const Layer& l, std::size_t k) const { return producer(l, k).kind == LayerKind::dense; }

  // The output bounds the engine clamps to (the same in every tflite profile).
  static std::pair<std::int32_t, std::int32_t> bounds(const Layer& l) {
    return std::visit(
        [](const auto& d) -> std::pair<std::int32_t, std::int32_t> {
          if constexpr (is_tflite_data<std::decay_t<decltype(d)>>) return {d.output.lo, d.output.hi};
          else throw std::logic_error("TFLite export: a layer without tflite data");  // refused in run()
        },
        l.data);
  }

  // The fused activation whose clamp TFLite derives (CalculateActivationRangeQuantized) is the
  // engine's: checked against the engine's bounds so a mismatch is refused, not exported.
  ts::ActivationFunctionType fused(const Layer& l, Activation act) const {
    const TensorQuantization& y = l.output;
    const auto [lo, hi] = bounds(l);
    ts::ActivationFunctionType f = ts::NONE;
    std::int64_t want_lo = -128, want_hi = 127;
    if (act.kind == ActivationKind::relu) {
      f = ts::RELU;
      want_lo = std::max<std::int64_t>(-128, y.zero_point);
    } else if (act.kind == ActivationKind::clipped_relu) {
      if (l.clip_max != 6.0f)
        fail(l, "a clipped ReLU at " + std::to_string(l.clip_max) +
                    " has no fused TFLite activation (RELU6 clips at 6 only): clip at 6 or use --target cpu-int8");
      f = ts::RELU6;
      want_lo = std::max<std::int64_t>(-128, y.zero_point);
      // TfLiteRound(6 / scale): the quotient in float, rounded half away from zero.
      want_hi = std::min<std::int64_t>(127, y.zero_point + static_cast<std::int64_t>(std::round(6.0f / y.scale)));
    }
    if (lo != want_lo || hi != want_hi)
      fail(l, "the engine clamps its output to [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "] but TFLite's fused activation would clamp to [" + std::to_string(want_lo) + ", " +
                  std::to_string(want_hi) + "]; this model cannot be exported as it is (please report it)");
    return f;
  }

  // SAME, VALID, or explicit pads that need a PAD operator first.
  enum class PadChoice { same, valid, explicit_pads };
  static PadChoice pad_choice(Pads resolved, Pads same) {
    if (resolved.top == 0 && resolved.left == 0 && resolved.bottom == 0 && resolved.right == 0) return PadChoice::valid;
    if (resolved.top == same.top && resolved.left == same.left && resolved.bottom == same.bottom &&
        resolved.right == same.right)
      return PadChoice::same;
    return PadChoice::explicit_pads;
  }

  // PAD (zeros of the quantized domain: the tensor's zero point, as TFLite pads int8) or PADV2 with
  // `value` (MaxPool: -128, below every real maximum) before a VALID window.
  int pad(const Layer& l, int x, Shape s, Pads p, const TensorQuantization& q, std::optional<std::int8_t> value) {
    const std::string base = fresh(l.name + "_pad");
    const int paddings = int32_constant(base + "_paddings", {0, 0, p.top, p.bottom, p.left, p.right, 0, 0}, {4, 2});
    const Shape out{s.h + p.top + p.bottom, s.w + p.left + p.right, s.c};
    const int y = activation_tensor(base, out, q);
    if (value) {
      const int v = tensor({}, ts::INT8, base + "_value", per_tensor(q), {static_cast<std::uint8_t>(*value)});
      op(ts::PADV2, 2, {x, paddings, v}, {y}, OptionsDef{ts::PadV2Options, {}, -1, {}});
    } else {
      op(ts::PAD, 2, {x, paddings}, {y}, OptionsDef{ts::PadOptions, {}, -1, {}});
    }
    return y;
  }

  // int8 weights of `shape`, per channel along `dimension`, and the int32 bias at x_s * w_s[c].
  std::pair<int, int> weights_and_bias(const Layer& l, const std::vector<std::int32_t>& values,
                                       std::vector<std::int32_t> shape, int dimension, int channels, float x_scale) {
    if (l.weight_scales.empty()) fail(l, "has no weight scales (not quantized)");
    std::vector<float> ws = l.weight_scales;
    if (ws.size() == 1) ws.assign(std::size_t(channels), l.weight_scales[0]);
    if (ws.size() != std::size_t(channels))
      fail(l, "has " + std::to_string(ws.size()) + " weight scales for " + std::to_string(channels) + " channels");
    if (l.weight_zero_point != 0) fail(l, "has a weight zero point; TFLite's int8 weights are symmetric");
    std::vector<std::uint8_t> w(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] < -127 || values[i] > 127) fail(l, "has a weight outside [-127, 127]");
      w[i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(values[i]));
    }
    const std::string base = fresh(l.name + "_weights");
    const int wt = tensor(std::move(shape), ts::INT8, base,
                          Quant{ws, std::vector<std::int64_t>(std::size_t(channels), 0), dimension}, std::move(w));
    std::vector<std::int32_t> b(std::size_t(channels), 0);
    if (!l.qbias.empty()) {
      if (l.qbias.size() != std::size_t(channels)) fail(l, "has a bias per channel count mismatch");
      b = l.qbias;
    }
    std::vector<float> bs(static_cast<std::size_t>(channels));
    for (int c = 0; c < channels; ++c) bs[std::size_t(c)] = x_scale * ws[std::size_t(c)];
    const int bt = tensor({channels}, ts::INT32, fresh(l.name + "_bias"),
                          Quant{bs, std::vector<std::int64_t>(std::size_t(channels), 0), 0}, bytes_of(b));
    return {wt, bt};
  }

  void layer(const Layer& l, const QuantizeAttributes& a) {
    const int y = activation_tensor(tflite_tensor_name(m_, index_), a.shape, l.output);
    op(ts::QUANTIZE, 1, {graph_inputs_[0]}, {y}, OptionsDef{ts::QuantizeOptions, {}, -1, {}});
    layer_tensor_[index_] = y;
  }

  // A final Softmax the engine's Dequantize computes (a.softmax) is not written: the .tflite ends
  // at the dequantized scores, as TFLite models are compared layer by layer in integers.
  void layer(const Layer& l, const DequantizeAttributes& a) {
    const Layer& p = producer(l, 0);
    const bool two_d = p.kind == LayerKind::dense;
    std::vector<std::int32_t> shape = two_d ? std::vector<std::int32_t>{1, a.shape.size()}
                                            : std::vector<std::int32_t>{1, a.shape.h, a.shape.w, a.shape.c};
    const int y = tensor(std::move(shape), ts::FLOAT32, m_.output_tensor, std::nullopt);
    op(ts::DEQUANTIZE, 2, {input_tensor(l, 0)}, {y}, OptionsDef{ts::DequantizeOptions, {}, -1, {}});
    layer_tensor_[index_] = y;
  }

  void layer(const Layer& l, const ConvAttributes& a) {
    if (a.pool.kind != PoolKind::none && a.pool.kind != PoolKind::max)
      fail(l, "a GlobalAveragePool fused into a convolution has no TFLite form");
    if (input_is_2d(l, 0)) fail(l, "a convolution after a Dense layer is not exported");
    const bool depthwise = a.group > 1 && a.group == a.input.c;
    if (a.group != 1 && !depthwise)
      fail(l, "a grouped convolution (group " + std::to_string(a.group) +
                  " of " + std::to_string(a.input.c) + " channels) has no TFLite operator (only depthwise)");
    const TensorQuantization& xq = producer(l, 0).output;
    int x = input_tensor(l, 0);
    const Pads p = resolved_pads(a);
    const Pads same = resolve_pads(Pads::same, a.input, a.kernel, a.strides, a.dilations);
    PadChoice choice = pad_choice(p, same);
    if (choice == PadChoice::explicit_pads) {
      x = pad(l, x, a.input, p, xq, std::nullopt);
      choice = PadChoice::valid;
    }
    const std::int32_t padding = choice == PadChoice::same ? ts::SAME : ts::VALID;
    const int kh = a.kernel.h, kw = a.kernel.w, ci = a.input.c / a.group, o = a.filters;
    if (l.qweights.size() != weight_count(a)) fail(l, "has a weight count that does not match its attributes");
    std::pair<int, int> wb;
    if (depthwise) {
      // [1, H, W, C * multiplier]: output channel o reads input channel o / multiplier, as ONNX's group conv.
      std::vector<std::int32_t> w(l.qweights.size());
      for (int oc = 0; oc < o; ++oc)
        for (int h = 0; h < kh; ++h)
          for (int wi = 0; wi < kw; ++wi)
            w[(std::size_t(h) * kw + wi) * o + oc] = l.qweights[(std::size_t(oc) * kh + h) * kw + wi];
      wb = weights_and_bias(l, w, {1, kh, kw, o}, 3, o, xq.scale);
    } else {
      wb = weights_and_bias(l, l.qweights, {o, kh, kw, ci}, 0, o, xq.scale);  // OHWI, as statiq's
    }
    const ts::ActivationFunctionType act = fused(l, a.activation);
    const Shape conv = conv_output_shape(a);
    const bool pooled = a.pool.kind == PoolKind::max;
    const int y = activation_tensor(pooled ? fresh(l.name + "_before_pool") : tflite_tensor_name(m_, index_), conv,
                                    l.output);
    OptionsDef opt;
    if (depthwise) {
      opt = {ts::DepthwiseConv2DOptions,
             {{0, 1, padding}, {1, 4, a.strides.w}, {2, 4, a.strides.h}, {3, 4, o / a.input.c}, {4, 1, act},
              {5, 4, a.dilations.w}, {6, 4, a.dilations.h}},
             -1, {}};
      op(ts::DEPTHWISE_CONV_2D, 3, {x, wb.first, wb.second}, {y}, opt);
    } else {
      opt = {ts::Conv2DOptions,
             {{0, 1, padding}, {1, 4, a.strides.w}, {2, 4, a.strides.h}, {3, 1, act}, {4, 4, a.dilations.w},
              {5, 4, a.dilations.h}},
             -1, {}};
      op(ts::CONV_2D, 3, {x, wb.first, wb.second}, {y}, opt);
    }
    if (!pooled) {
      layer_tensor_[index_] = y;
      return;
    }
    // The maximum of requantized values is the requantized maximum: MAX_POOL_2D at the same scale.
    layer_tensor_[index_] = max_pool(l, y, conv, a.pool, l.output, tflite_tensor_name(m_, index_));
  }

  int max_pool(const Layer& l, int x, Shape in, const Pool& pool, const TensorQuantization& q, const std::string& name) {
    const Pads p = resolve_pads(pool.pads, in, pool.kernel, pool.strides);
    const Pads same = resolve_pads(Pads::same, in, pool.kernel, pool.strides);
    PadChoice choice = pad_choice(p, same);
    if (choice == PadChoice::explicit_pads) {
      x = pad(l, x, in, p, q, std::int8_t{-128});
      choice = PadChoice::valid;
    }
    const int y = activation_tensor(name, pool.output_shape(in), q);
    op(ts::MAX_POOL_2D, 2, {x}, {y}, pool_options(choice == PadChoice::same ? ts::SAME : ts::VALID, pool));
    return y;
  }

  static OptionsDef pool_options(std::int32_t padding, const Pool& pool) {
    return {ts::Pool2DOptions,
            {{0, 1, padding}, {1, 4, pool.strides.w}, {2, 4, pool.strides.h}, {3, 4, pool.kernel.w},
             {4, 4, pool.kernel.h}, {5, 1, ts::NONE}},
            -1, {}};
  }

  // Dense as a 1x1 CONV_2D on [1, 1, 1, K] between two RESHAPEs: TFLite 2.9's FULLY_CONNECTED takes
  // one weight scale (it reads scale[0] of per-channel weights and computes every unit with it),
  // CONV_2D is per channel and requantizes exactly as FULLY_CONNECTED does otherwise
  // (MultiplyByQuantizedMultiplier per output channel).
  void layer(const Layer& l, const DenseAttributes& a) {
    const TensorQuantization& xq = producer(l, 0).output;
    const int k = a.input.size();
    const std::string base = fresh(l.name + "_as_conv");
    const int in_shape = int32_constant(base + "_in_shape", {1, 1, 1, k}, {4});
    const int x = tensor({1, 1, 1, k}, ts::INT8, base + "_in", per_tensor(xq));
    op(ts::RESHAPE, 1, {input_tensor(l, 0), in_shape}, {x}, OptionsDef{ts::ReshapeOptions, {}, 0, {1, 1, 1, k}});
    if (l.qweights.size() != std::size_t(a.units) * std::size_t(k))
      fail(l, "has a weight count that does not match its attributes");
    const auto [w, b] = weights_and_bias(l, l.qweights, {a.units, 1, 1, k}, 0, a.units, xq.scale);
    const ts::ActivationFunctionType act = fused(l, a.activation);
    const int y4 = activation_tensor(base + "_out", Shape{1, 1, a.units}, l.output);
    op(ts::CONV_2D, 3, {x, w, b}, {y4},
       OptionsDef{ts::Conv2DOptions, {{0, 1, ts::VALID}, {1, 4, 1}, {2, 4, 1}, {3, 1, act}, {4, 4, 1}, {5, 4, 1}}, -1, {}});
    const int out_shape = int32_constant(base + "_out_shape", {1, a.units}, {2});
    const int y = activation_tensor(tflite_tensor_name(m_, index_), Shape{1, 1, a.units}, l.output, true);
    op(ts::RESHAPE, 1, {y4, out_shape}, {y}, OptionsDef{ts::ReshapeOptions, {}, 0, {1, a.units}});
    layer_tensor_[index_] = y;
  }

  // statiq builds lookup tables for cpu_int8 only (onnxruntime's); lowering refuses them on tflite.
  void layer(const Layer& l, const LookupTableAttributes&) {
    fail(l, "a lookup-table activation is a cpu_int8 layer; TFLite computes it in its own arithmetic");
  }

  void layer(const Layer& l, const CopyAttributes&) {
    fail(l, "a Copy (" + l.copy_of + ": values moved, not computed) is not written to .tflite yet (RESIZE_NEAREST_NEIGHBOR, "
            "PADV2, TRANSPOSE are not in statiq's writer)");
  }
  void layer(const Layer& l, const ElementwiseAttributes&) {
    fail(l, "an elementwise Mul/Max/Min/Sub layer is onnxruntime's QDQ form, a cpu_int8 layer; TFLite's MUL/MAXIMUM/"
            "MINIMUM/SUB requantize in their own arithmetic");
  }

  void layer(const Layer& l, const AddAttributes& a) {
    if (input_is_2d(l, 0) != input_is_2d(l, 1)) fail(l, "adds a Dense output to a 4-D tensor");
    const ts::ActivationFunctionType act = fused(l, a.activation);
    const int y = activation_tensor(tflite_tensor_name(m_, index_), a.shape, l.output, input_is_2d(l, 0));
    op(ts::ADD, 2, {input_tensor(l, 0), input_tensor(l, 1)}, {y}, OptionsDef{ts::AddOptions, {{0, 1, act}}, -1, {}});
    layer_tensor_[index_] = y;
  }

  // A QUANTIZE from int8 to int8 (TFLite's Requantize: MultiplyByQuantizedMultiplier(q - zp_in,
  // QuantizeMultiplier(s_in / s_out)) + zp_out), the engine's rescale.
  int requantize(const Layer& l, int x, Shape s, const TensorQuantization& to, bool two_d = false) {
    const int y = activation_tensor(fresh(l.name + "_requantized"), s, to, two_d);
    op(ts::QUANTIZE, 2, {x}, {y}, OptionsDef{ts::QuantizeOptions, {}, -1, {}});
    return y;
  }

  void layer(const Layer& l, const ConcatAttributes& a) {
    std::vector<std::int32_t> xs;
    for (int k = 0; k < a.count; ++k) {
      const Layer& p = producer(l, std::size_t(k));
      if (p.kind == LayerKind::dense) fail(l, "concatenates a Dense output");
      int x = input_tensor(l, std::size_t(k));
      // TFLite's int8 CONCATENATION copies: every input at the output's scale and zero point.
      if (p.output.scale != l.output.scale || p.output.zero_point != l.output.zero_point)
        x = requantize(l, x, a.inputs[k], l.output);
      xs.push_back(x);
    }
    const int y = activation_tensor(tflite_tensor_name(m_, index_), output_shape(a), l.output);
    op(ts::CONCATENATION, 2, xs, {y}, OptionsDef{ts::ConcatenationOptions, {{0, 4, 3}, {1, 1, ts::NONE}}, -1, {}});
    layer_tensor_[index_] = y;
  }

  void layer(const Layer& l, const PoolAttributes& a) {
    const TensorQuantization& xq = producer(l, 0).output;
    const int x = input_tensor(l, 0);
    const std::string name = tflite_tensor_name(m_, index_);
    if (a.pool.kind == PoolKind::max) {
      layer_tensor_[index_] = max_pool(l, x, a.input, a.pool, l.output, name);
      return;
    }
    const Pads p = resolved_pads(a);
    const bool padded = p.top || p.left || p.bottom || p.right;
    const bool whole = a.pool.kind == PoolKind::global_average ||
                       (!padded && a.pool.kernel.h == a.input.h && a.pool.kernel.w == a.input.w);
    const Shape out = output_shape(a);
    if (whole) {
      // MEAN over H and W, keep_dims: the global average as TFLite's converters emit it.
      const int axes = int32_constant(fresh(l.name + "_axes"), {1, 2}, {2});
      const int y = activation_tensor(name, out, l.output);
      op(ts::MEAN, 2, {x, axes}, {y}, OptionsDef{ts::ReducerOptions, {{0, 1, 1}}, -1, {}});
      layer_tensor_[index_] = y;
      return;
    }
    if (padded)
      fail(l, "a padded AveragePool: TFLite's AVERAGE_POOL_2D divides by the cells inside the input, the engine "
              "by the whole window (count_include_pad)");
    // AVERAGE_POOL_2D averages the integers at one scale; then a requantization to the output's.
    const bool same_params = xq.scale == l.output.scale && xq.zero_point == l.output.zero_point;
    const int avg = activation_tensor(same_params ? name : fresh(l.name + "_average"), out, xq);
    op(ts::AVERAGE_POOL_2D, 2, {x}, {avg}, pool_options(ts::VALID, a.pool));
    layer_tensor_[index_] = same_params ? avg : requantize(l, avg, out, l.output);
    if (!same_params) tensors_[std::size_t(layer_tensor_[index_])].name = name;
  }

  // --- serialization -------------------------------------------------------------------------

  std::vector<std::uint8_t> serialize() {
    flatbuffers::FlatBufferBuilder fb(1 << 16);
    // Buffers first (their data aligned to 16 as the schema's force_align asks).
    std::vector<flatbuffers::Offset<void>> buffers;
    for (const auto& data : buffers_) {
      flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> v;
      if (!data.empty()) {
        fb.ForceVectorAlignment(data.size(), sizeof(std::uint8_t), 16);
        v = fb.CreateVector(data);
      }
      const auto start = fb.StartTable();
      if (!data.empty()) fb.AddOffset(ts::field(ts::buffer::data), v);
      buffers.push_back(flatbuffers::Offset<void>(fb.EndTable(start)));
    }
    std::vector<flatbuffers::Offset<void>> tensors;
    for (const TensorDef& t : tensors_) {
      const auto shape = fb.CreateVector(t.shape);
      const auto name = fb.CreateString(t.name);
      flatbuffers::Offset<void> quant;
      if (t.quant) {
        const auto scale = fb.CreateVector(t.quant->scale);
        const auto zp = fb.CreateVector(t.quant->zero_point);
        const auto start = fb.StartTable();
        fb.AddOffset(ts::field(ts::quantization::scale), scale);
        fb.AddOffset(ts::field(ts::quantization::zero_point), zp);
        fb.AddElement<std::int32_t>(ts::field(ts::quantization::quantized_dimension), t.quant->dimension, 0);
        quant = flatbuffers::Offset<void>(fb.EndTable(start));
      }
      const auto start = fb.StartTable();
      fb.AddOffset(ts::field(ts::tensor::shape), shape);
      fb.AddElement<std::int8_t>(ts::field(ts::tensor::type), t.type, 0);
      fb.AddElement<std::uint32_t>(ts::field(ts::tensor::buffer), t.buffer, 0);
      fb.AddOffset(ts::field(ts::tensor::name), name);
      if (t.quant) fb.AddOffset(ts::field(ts::tensor::quantization), quant);
      tensors.push_back(flatbuffers::Offset<void>(fb.EndTable(start)));
    }
    // Operator codes: one per (code, version), in first-use order.
    std::vector<std::pair<ts::BuiltinOperator, int>> codes;
    std::vector<std::uint32_t> opcode_index;
    for (const OperatorDef& o : operators_) {
      const std::pair<ts::BuiltinOperator, int> key{o.code, o.version};
      auto it = std::find(codes.begin(), codes.end(), key);
      if (it == codes.end()) it = codes.insert(codes.end(), key);
      opcode_index.push_back(static_cast<std::uint32_t>(it - codes.begin()));
    }
    std::vector<flatbuffers::Offset<void>> operator_codes;
    for (const auto& [code, version] : codes) {
      const auto start = fb.StartTable();
      // Both fields: readers before schema 2.4 know only the deprecated int8 code (every code here is < 127).
      fb.AddElement<std::int8_t>(ts::field(ts::operator_code::deprecated_builtin_code), static_cast<std::int8_t>(code), 0);
      fb.AddElement<std::int32_t>(ts::field(ts::operator_code::version), version, 1);
      fb.AddElement<std::int32_t>(ts::field(ts::operator_code::builtin_code), code, 0);
      operator_codes.push_back(flatbuffers::Offset<void>(fb.EndTable(start)));
    }
    std::vector<flatbuffers::Offset<void>> operators;
    for (std::size_t i = 0; i < operators_.size(); ++i) {
      const OperatorDef& o = operators_[i];
      const auto inputs = fb.CreateVector(o.inputs);
      const auto outputs = fb.CreateVector(o.outputs);
      flatbuffers::Offset<void> options;
      if (o.options.type != ts::NoOptions) {
        flatbuffers::Offset<flatbuffers::Vector<std::int32_t>> vec;
        if (o.options.vector_id >= 0) vec = fb.CreateVector(o.options.vector);
        const auto start = fb.StartTable();
        for (const auto& s : o.options.scalars) {
          if (s.bytes == 1) fb.AddElement<std::int8_t>(ts::field(s.id), static_cast<std::int8_t>(s.value));
          else fb.AddElement<std::int32_t>(ts::field(s.id), s.value);
        }
        if (o.options.vector_id >= 0) fb.AddOffset(ts::field(o.options.vector_id), vec);
        options = flatbuffers::Offset<void>(fb.EndTable(start));
      }
      const auto start = fb.StartTable();
      fb.AddElement<std::uint32_t>(ts::field(ts::op::opcode_index), opcode_index[i], 0);
      fb.AddOffset(ts::field(ts::op::inputs), inputs);
      fb.AddOffset(ts::field(ts::op::outputs), outputs);
      if (o.options.type != ts::NoOptions) {
        fb.AddElement<std::uint8_t>(ts::field(ts::op::builtin_options_type), o.options.type, 0);
        fb.AddOffset(ts::field(ts::op::builtin_options), options);
      }
      operators.push_back(flatbuffers::Offset<void>(fb.EndTable(start)));
    }
    const auto tensors_v = fb.CreateVector(tensors);
    const auto inputs_v = fb.CreateVector(graph_inputs_);
    const auto outputs_v = fb.CreateVector(graph_outputs_);
    const auto operators_v = fb.CreateVector(operators);
    const auto sg_name = fb.CreateString(m_.name);
    auto start = fb.StartTable();
    fb.AddOffset(ts::field(ts::subgraph::tensors), tensors_v);
    fb.AddOffset(ts::field(ts::subgraph::inputs), inputs_v);
    fb.AddOffset(ts::field(ts::subgraph::outputs), outputs_v);
    fb.AddOffset(ts::field(ts::subgraph::operators), operators_v);
    fb.AddOffset(ts::field(ts::subgraph::name), sg_name);
    const flatbuffers::Offset<void> subgraph(fb.EndTable(start));

    const auto codes_v = fb.CreateVector(operator_codes);
    const auto subgraphs_v = fb.CreateVector(std::vector<flatbuffers::Offset<void>>{subgraph});
    const auto description = fb.CreateString("statiq-codegen " + m_.target + " export of " + m_.name);
    const auto buffers_v = fb.CreateVector(buffers);
    start = fb.StartTable();
    fb.AddElement<std::uint32_t>(ts::field(ts::model::version), 3, 0);
    fb.AddOffset(ts::field(ts::model::operator_codes), codes_v);
    fb.AddOffset(ts::field(ts::model::subgraphs), subgraphs_v);
    fb.AddOffset(ts::field(ts::model::description), description);
    fb.AddOffset(ts::field(ts::model::buffers), buffers_v);
    const flatbuffers::Offset<void> root(fb.EndTable(start));
    fb.Finish(root, "TFL3");
    return std::vector<std::uint8_t>(fb.GetBufferPointer(), fb.GetBufferPointer() + fb.GetSize());
  }
};

}  // namespace

std::string tflite_tensor_name(const LoweredModel& model, std::size_t layer) {
  const Layer& l = model.layers.at(layer);
  if (l.kind == LayerKind::dequantize) return "";
  return l.output_tensor + "_int8" + (l.kind == LayerKind::quantize ? "_input" : "");
}

std::vector<std::uint8_t> tflite_model(const LoweredModel& model, const TfliteExportOptions& options) {
  return Exporter(model, options).run();
}

void write_tflite_model(const LoweredModel& model, const std::filesystem::path& file, const TfliteExportOptions& options) {
  const std::vector<std::uint8_t> bytes = tflite_model(model, options);
  std::filesystem::path tmp = file;
  tmp += ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size())) || !out.flush()) {
      out.close();
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("TFLite export: cannot write " + file.string() + 
                               " (its folder does not exist, is not writable or is full): create the "
                               "folder or choose another path");
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("TFLite export: cannot write " + file.string() + ": " + ec.message());
  }
}

}  // namespace statiq::codegen
