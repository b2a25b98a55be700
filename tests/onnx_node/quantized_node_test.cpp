// tests/onnx_node/quantized_node_test.cpp — the quantized ONNX node tests (QOperator form, explicit
// scales and zero points) mapped onto statiq's integer layers: the statiq::compute functions the
// generated engine calls, with the qlinear profile, NCHW <-> NHWC once. Compared exactly.
#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "node_test.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/reference/dense.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/quantize.hpp"

namespace statiq::onnx_node {

namespace ir = codegen::ir;
using arith::qlinear;

bool is_quantized_op(const std::string& op_type) {
  return op_type == "QuantizeLinear" || op_type == "DequantizeLinear" || op_type == "QLinearConv" ||
         op_type == "QLinearMatMul" || op_type == "ConvInteger" || op_type == "MatMulInteger";
}

namespace {

// A test the mapping cannot express: reported as unsupported with the reason, never approximated.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NodeView {
  const onnx::NodeProto& node;
  std::map<std::string, TensorData> values;  // graph inputs by name

  // Node input k, or nullopt when omitted (optional input absent or named "").
  const TensorData* input(int k) const {
    if (k >= node.input_size() || node.input(k).empty()) return nullptr;
    auto it = values.find(node.input(k));
    if (it == values.end()) throw std::runtime_error("no data for input '" + node.input(k) + "'");
    return &it->second;
  }
  const TensorData& required(int k) const {
    const TensorData* t = input(k);
    if (!t) throw std::runtime_error(fmt::format("input {} is missing", k));
    return *t;
  }
  const onnx::AttributeProto* attr(const std::string& name) const {
    for (const auto& a : node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::vector<std::int64_t> ints(const std::string& name, std::vector<std::int64_t> fallback) const {
    const auto* a = attr(name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : fallback;
  }
  std::int64_t integer(const std::string& name, std::int64_t fallback) const {
    const auto* a = attr(name);
    return a ? a->i() : fallback;
  }
  std::string text(const std::string& name, std::string fallback) const {
    const auto* a = attr(name);
    return a ? a->s() : fallback;
  }
};

bool is_8_bit(ir::DataType t) { return t == ir::DataType::uint8 || t == ir::DataType::int8; }
bool is_signed(ir::DataType t) { return t == ir::DataType::int8; }

float scalar_float(const TensorData& t, const char* what) {
  if (t.f.size() != 1) throw Unsupported(fmt::format("{} has {} values: per-axis quantization", what, t.f.size()));
  return static_cast<float>(t.f[0]);
}
// A zero point: absent = 0; several values must all be equal (one zero point per tensor in statiq).
std::int32_t uniform_zero_point(const TensorData* t, const char* what) {
  if (!t) return 0;
  if (t->i.empty()) throw std::runtime_error(fmt::format("{} is empty", what));
  if (std::any_of(t->i.begin(), t->i.end(), [&](std::int64_t v) { return v != t->i[0]; }))
    throw Unsupported(fmt::format("{} differs per channel/row: statiq layers take one zero point per tensor", what));
  return static_cast<std::int32_t>(t->i[0]);
}

// statiq's weights are signed (qint<8, true>). uint8 weights with zero point z are the same
// numbers as int8 weights w - 128 with zero point z - 128: (w - z) is unchanged, so the mapping
// is exact, and it is what a generator does with an unsigned ONNX weight tensor.
struct SignedWeights {
  std::vector<std::int8_t> values;
  std::int32_t zero_point = 0;
};
SignedWeights to_signed(const std::vector<std::int64_t>& w, ir::DataType dtype, std::int32_t zero_point) {
  SignedWeights s;
  const int shift = dtype == ir::DataType::uint8 ? 128 : 0;
  s.values.reserve(w.size());
  for (auto v : w) s.values.push_back(static_cast<std::int8_t>(v - shift));
  s.zero_point = zero_point - shift;
  return s;
}

// NCHW -> NHWC of one image of an [N, C, H, W] tensor.
template <class T>
std::vector<T> image_nhwc(const std::vector<std::int64_t>& x, std::int64_t n, int c, int h, int w) {
  std::vector<T> out(std::size_t(c) * h * w);
  const std::size_t base = std::size_t(n) * c * h * w;
  for (int ci = 0; ci < c; ++ci)
    for (int y = 0; y < h; ++y)
      for (int xw = 0; xw < w; ++xw)
        out[(std::size_t(y) * w + xw) * c + ci] = static_cast<T>(x[base + (std::size_t(ci) * h + y) * w + xw]);
  return out;
}

struct ConvGeometry {
  Shape in;
  int filters = 0;
  Kernel kernel;
  Stride strides;
  Pads pads;
  Dilation dilations;
  int group = 1;
  std::int64_t batch = 1;
};

// QLinearConv / ConvInteger attributes (ONNX Conv's) in statiq's NHWC terms. 2-D only.
ConvGeometry conv_geometry(const NodeView& v, const TensorData& x, const TensorData& w) {
  if (x.dims.size() != 4 || w.dims.size() != 4)
    throw Unsupported(fmt::format("{}-D convolution: statiq convolutions are 2-D", x.dims.size() - 2));
  ConvGeometry g;
  g.batch = x.dims[0];
  g.in = Shape{int(x.dims[2]), int(x.dims[3]), int(x.dims[1])};
  g.filters = int(w.dims[0]);
  g.kernel = Kernel{int(w.dims[2]), int(w.dims[3])};
  const auto ks = v.ints("kernel_shape", {w.dims[2], w.dims[3]});
  if (ks != std::vector<std::int64_t>{w.dims[2], w.dims[3]}) throw std::runtime_error("kernel_shape differs from W");
  const auto s = v.ints("strides", {1, 1});
  const auto d = v.ints("dilations", {1, 1});
  g.strides = Stride{int(s[0]), int(s[1])};
  g.dilations = Dilation{int(d[0]), int(d[1])};
  g.group = int(v.integer("group", 1));
  const std::string auto_pad = v.text("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto p = v.ints("pads", {0, 0, 0, 0});  // ONNX [h_begin, w_begin, h_end, w_end]
    g.pads = Pads{int(p[0]), int(p[1]), int(p[2]), int(p[3])};
  } else if (auto_pad == "VALID") {
    g.pads = Pads::valid;
  } else if (auto_pad == "SAME_UPPER") {
    g.pads = Pads::same;  // statiq's "same" puts the odd pixel at the end, as SAME_UPPER
  } else {
    throw Unsupported("auto_pad " + auto_pad + ": statiq's 'same' is SAME_UPPER");
  }
  if (int(w.dims[1]) * g.group != g.in.c) throw std::runtime_error("W's input channels do not match X / group");
  return g;
}

// Writes an NHWC image back into an NCHW int64 tensor.
template <class T>
void store_nchw(const std::vector<T>& y, std::int64_t n, Shape s, std::vector<std::int64_t>& out) {
  const std::size_t base = std::size_t(n) * s.size();
  for (int c = 0; c < s.c; ++c)
    for (int h = 0; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w)
        out[base + (std::size_t(c) * s.h + h) * s.w + w] = y[(std::size_t(h) * s.w + w) * s.c + c];
}

std::vector<std::int8_t> ohwi(const SignedWeights& w, int filters, Kernel k, int in_per_group) {
  std::vector<std::int8_t> out(w.values.size());
  for (int o = 0; o < filters; ++o)
    for (int i = 0; i < in_per_group; ++i)
      for (int h = 0; h < k.h; ++h)
        for (int x = 0; x < k.w; ++x)
          out[((std::size_t(o) * k.h + h) * k.w + x) * in_per_group + i] =
              w.values[((std::size_t(o) * in_per_group + i) * k.h + h) * k.w + x];
  return out;
}

struct Computed {
  ir::Dims dims;
  std::vector<double> f;
  std::vector<std::int64_t> i;
  std::string note;  // what ran, for the table
};

// QLinearConv: statiq::compute(ConvAttributes, ...) with LayerData<qlinear>, as a Conv2D layer runs.
template <class X, class Y>
Computed qlinear_conv(const NodeView& v) {
  const TensorData& x = v.required(0);
  const TensorData& w = v.required(3);
  const ConvGeometry g = conv_geometry(v, x, w);
  const float x_scale = scalar_float(v.required(1), "x_scale");
  const std::int32_t x_zp = uniform_zero_point(v.input(2), "x_zero_point");
  const TensorData& w_scale = v.required(4);
  const std::int32_t w_zp = uniform_zero_point(v.input(5), "w_zero_point");
  const float y_scale = scalar_float(v.required(6), "y_scale");
  const std::int32_t y_zp = uniform_zero_point(v.input(7), "y_zero_point");
  const TensorData* bias = v.input(8);
  if (w_scale.f.size() != 1 && w_scale.f.size() != std::size_t(g.filters))
    throw std::runtime_error("w_scale is neither per tensor nor per output channel");

  ConvAttributes a;
  a.input = g.in;
  a.filters = g.filters;
  a.kernel = g.kernel;
  a.strides = g.strides;
  a.pads = g.pads;
  a.dilations = g.dilations;
  a.group = g.group;
  a.bits = Bits{8, 8, 8};
  a.signed_input = std::is_signed_v<X>;
  a.signed_output = std::is_signed_v<Y>;

  const SignedWeights sw = to_signed(w.i, w.dtype, w_zp);
  const std::vector<std::int8_t> weights = ohwi(sw, g.filters, g.kernel, g.in.c / g.group);
  std::vector<qlinear::channel_params> channels;
  for (int c = 0; c < g.filters; ++c)
    channels.push_back({qlinear::multiplier(x_scale, static_cast<float>(w_scale.f[w_scale.f.size() == 1 ? 0 : c]), y_scale)});
  std::vector<std::int32_t> b;
  if (bias) for (auto value : bias->i) b.push_back(static_cast<std::int32_t>(value));
  const qlinear::output_params out{y_zp, qmin(8, a.signed_output), qmax(8, a.signed_output)};
  const LayerData<qlinear> data{bias ? b.data() : nullptr, channels.data(), out, x_zp, sw.zero_point};

  const Shape os = output_shape(a);
  Computed r;
  r.dims = {g.batch, os.c, os.h, os.w};
  r.i.resize(std::size_t(g.batch) * os.size());
  std::vector<std::int32_t> scratch(scratch_words(a, row_major_layout));
  std::vector<Y> y(std::size_t(os.size()));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const auto xi = image_nhwc<X>(x.i, n, g.in.c, g.in.h, g.in.w);
    compute(a, xi.data(), weights.data(), data, y.data(), scratch.data());
    store_nchw(y, n, os, r.i);
  }
  r.note = fmt::format("Conv2D {}x{}x{} -> {} filters, k {}x{}, group {}", g.in.h, g.in.w, g.in.c, g.filters,
                       g.kernel.h, g.kernel.w, g.group);
  return r;
}

// ConvInteger: the accumulator stage of statiq's convolutions (kernels::reference::conv2d, the
// loop statiq::compute runs before requantizing); its int32 map is ConvInteger's output.
template <class X>
Computed conv_integer(const NodeView& v) {
  const TensorData& x = v.required(0);
  const TensorData& w = v.required(1);
  const ConvGeometry g = conv_geometry(v, x, w);
  const std::int32_t x_zp = uniform_zero_point(v.input(2), "x_zero_point");
  const std::int32_t w_zp = uniform_zero_point(v.input(3), "w_zero_point");
  const SignedWeights sw = to_signed(w.i, w.dtype, w_zp);
  const std::vector<std::int8_t> weights = ohwi(sw, g.filters, g.kernel, g.in.c / g.group);
  const auto geometry =
      kernels::reference::conv2d_geometry(g.in, g.filters, g.kernel, g.strides, g.pads, g.dilations, g.group);
  Computed r;
  r.dims = {g.batch, geometry.out.c, geometry.out.h, geometry.out.w};
  r.i.resize(std::size_t(g.batch) * geometry.out.size());
  std::vector<std::int32_t> acc(std::size_t(geometry.out.size()));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const auto xi = image_nhwc<X>(x.i, n, g.in.c, g.in.h, g.in.w);
    kernels::reference::conv2d(geometry, xi.data(), x_zp, weights.data(), sw.zero_point, nullptr, acc.data());
    store_nchw(acc, n, geometry.out, r.i);
  }
  r.note = fmt::format("conv2d accumulators {}x{}x{}, k {}x{}", g.in.h, g.in.w, g.in.c, g.kernel.h, g.kernel.w);
  return r;
}

// A MatMul [..., M, K] x [..., K, N] as statiq Dense layers: one Dense of N units over K inputs
// per row of A (and per batch matrix of B). Broadcast batch dimensions are not mapped.
struct MatMulShape {
  std::int64_t batch = 1, m = 0, k = 0, n = 0;
};
MatMulShape matmul_shape(const TensorData& a, const TensorData& b) {
  if (a.dims.size() < 2 || b.dims.size() < 2) throw Unsupported("1-D MatMul operand (vector promotion)");
  if (a.dims.size() != b.dims.size() ||
      !std::equal(a.dims.begin(), a.dims.end() - 2, b.dims.begin()))
    throw Unsupported("broadcast batch dimensions");
  MatMulShape s;
  for (std::size_t d = 0; d + 2 < a.dims.size(); ++d) s.batch *= a.dims[d];
  s.m = a.dims[a.dims.size() - 2];
  s.k = a.dims.back();
  s.n = b.dims.back();
  if (b.dims[b.dims.size() - 2] != s.k) throw std::runtime_error("inner dimensions differ");
  return s;
}
// Dense weights are [units][inputs]: B's batch matrix `bi` transposed.
std::vector<std::int8_t> dense_weights(const SignedWeights& b, const MatMulShape& s, std::int64_t bi) {
  std::vector<std::int8_t> w(std::size_t(s.n * s.k));
  for (std::int64_t kk = 0; kk < s.k; ++kk)
    for (std::int64_t nn = 0; nn < s.n; ++nn) w[std::size_t(nn * s.k + kk)] = b.values[std::size_t((bi * s.k + kk) * s.n + nn)];
  return w;
}

template <class X, class Y>
Computed qlinear_matmul(const NodeView& v) {
  const TensorData& a = v.required(0);
  const TensorData& b = v.required(3);
  const MatMulShape s = matmul_shape(a, b);
  const float a_scale = scalar_float(v.required(1), "a_scale");
  const std::int32_t a_zp = uniform_zero_point(v.input(2), "a_zero_point");
  const float b_scale = scalar_float(v.required(4), "b_scale");
  const std::int32_t b_zp = uniform_zero_point(v.input(5), "b_zero_point");
  const float y_scale = scalar_float(v.required(6), "y_scale");
  const std::int32_t y_zp = uniform_zero_point(v.input(7), "y_zero_point");

  DenseAttributes da;
  da.input = Shape{1, 1, int(s.k)};
  da.units = int(s.n);
  da.bits = Bits{8, 8, 8};
  da.signed_input = std::is_signed_v<X>;
  da.signed_output = std::is_signed_v<Y>;
  const SignedWeights sb = to_signed(b.i, b.dtype, b_zp);
  const std::vector<qlinear::channel_params> channels(std::size_t(s.n), {qlinear::multiplier(a_scale, b_scale, y_scale)});
  const qlinear::output_params out{y_zp, qmin(8, da.signed_output), qmax(8, da.signed_output)};
  const LayerData<qlinear> data{nullptr, channels.data(), out, a_zp, sb.zero_point};

  Computed r;
  r.dims = a.dims;
  r.dims.back() = s.n;
  r.i.resize(std::size_t(s.batch * s.m * s.n));
  std::vector<std::int32_t> scratch(scratch_words(da, row_major_layout));
  std::vector<X> row(std::size_t(s.k));
  std::vector<Y> y(std::size_t(s.n));
  for (std::int64_t bi = 0; bi < s.batch; ++bi) {
    const auto w = dense_weights(sb, s, bi);
    for (std::int64_t mi = 0; mi < s.m; ++mi) {
      for (std::int64_t kk = 0; kk < s.k; ++kk) row[std::size_t(kk)] = static_cast<X>(a.i[std::size_t((bi * s.m + mi) * s.k + kk)]);
      compute(da, row.data(), w.data(), data, y.data(), scratch.data());
      for (std::int64_t nn = 0; nn < s.n; ++nn) r.i[std::size_t((bi * s.m + mi) * s.n + nn)] = y[std::size_t(nn)];
    }
  }
  r.note = fmt::format("{} Dense of {} units over {} inputs", s.batch * s.m, s.n, s.k);
  return r;
}

// MatMulInteger: the accumulator stage of statiq's Dense (kernels::reference::dense).
template <class X>
Computed matmul_integer(const NodeView& v) {
  const TensorData& a = v.required(0);
  const TensorData& b = v.required(1);
  const MatMulShape s = matmul_shape(a, b);
  const std::int32_t a_zp = uniform_zero_point(v.input(2), "a_zero_point");
  const std::int32_t b_zp = uniform_zero_point(v.input(3), "b_zero_point");
  const SignedWeights sb = to_signed(b.i, b.dtype, b_zp);
  Computed r;
  r.dims = a.dims;
  r.dims.back() = s.n;
  r.i.resize(std::size_t(s.batch * s.m * s.n));
  std::vector<X> row(std::size_t(s.k));
  std::vector<std::int32_t> acc(std::size_t(s.n));
  for (std::int64_t bi = 0; bi < s.batch; ++bi) {
    const auto w = dense_weights(sb, s, bi);
    for (std::int64_t mi = 0; mi < s.m; ++mi) {
      for (std::int64_t kk = 0; kk < s.k; ++kk) row[std::size_t(kk)] = static_cast<X>(a.i[std::size_t((bi * s.m + mi) * s.k + kk)]);
      kernels::reference::dense(int(s.k), int(s.n), row.data(), a_zp, w.data(), sb.zero_point, nullptr, acc.data());
      for (std::int64_t nn = 0; nn < s.n; ++nn) r.i[std::size_t((bi * s.m + mi) * s.n + nn)] = acc[std::size_t(nn)];
    }
  }
  r.note = fmt::format("dense accumulators, {} rows of {} x {}", s.batch * s.m, s.k, s.n);
  return r;
}

// QuantizeLinear: the Quantize layer's compute (what the engine runs on its float input), and
// qlinear::quantize (the profile's scalar definition) must both give the reference.
template <class Y>
Computed quantize_linear(const NodeView& v) {
  const TensorData& x = v.required(0);
  const float scale = scalar_float(v.required(1), "y_scale");
  const TensorData* zp_tensor = v.input(2);
  const std::int32_t zp = uniform_zero_point(zp_tensor, "y_zero_point");
  // Per-tensor and element-wise: the layout does not matter, the tensor is one NHWC row.
  const QuantizeAttributes qa{Shape{1, 1, int(x.f.size())}, 8, std::is_signed_v<Y>};
  const std::vector<float> xf(x.f.begin(), x.f.end());
  std::vector<Y> y(xf.size());
  compute<qlinear>(qa, xf.data(), scale, zp, y.data());
  Computed r;
  r.dims = x.dims;
  for (std::size_t k = 0; k < y.size(); ++k) {
    const std::int32_t scalar = qlinear::quantize(xf[k], scale, zp, qmin(8, qa.signed_output), qmax(8, qa.signed_output));
    if (scalar != y[k])
      throw std::runtime_error(fmt::format("Quantize layer {} and qlinear::quantize {} differ at [{}]", y[k], scalar, k));
    r.i.push_back(y[k]);
  }
  r.note = fmt::format("Quantize layer, {} values", y.size());
  return r;
}

template <class X>
Computed dequantize_linear(const NodeView& v) {
  const TensorData& x = v.required(0);
  const float scale = scalar_float(v.required(1), "x_scale");
  const std::int32_t zp = uniform_zero_point(v.input(2), "x_zero_point");
  const DequantizeAttributes da{Shape{1, 1, int(x.i.size())}, 8, std::is_signed_v<X>};
  std::vector<X> xq;
  for (auto q : x.i) xq.push_back(static_cast<X>(q));
  std::vector<float> y(xq.size());
  compute(da, xq.data(), scale, zp, y.data());
  Computed r;
  r.dims = x.dims;
  for (std::size_t k = 0; k < y.size(); ++k) {
    const float scalar = qlinear::dequantize(xq[k], scale, zp);
    if (std::bit_cast<std::uint32_t>(scalar) != std::bit_cast<std::uint32_t>(y[k]))
      throw std::runtime_error(fmt::format("Dequantize layer {} and qlinear::dequantize {} differ at [{}]", y[k], scalar, k));
    r.f.push_back(y[k]);
  }
  r.note = fmt::format("Dequantize layer, {} values", y.size());
  return r;
}

// Picks the instantiation for the 8-bit element types of the test (uint8 or int8).
Computed dispatch(const NodeView& v) {
  const std::string& op = v.node.op_type();
  const auto type_of = [&](int k) { return v.required(k).dtype; };
  const auto check8 = [](ir::DataType t, const char* what) {
    if (!is_8_bit(t)) throw Unsupported(fmt::format("{} is {}: statiq's integer layers hold 8-bit tensors", what, ir::to_string(t)));
  };
  if (op == "QuantizeLinear") {
    const TensorData* zp = v.input(2);
    const ir::DataType yt = zp ? zp->dtype : ir::DataType::uint8;
    check8(yt, "y");
    return is_signed(yt) ? quantize_linear<std::int8_t>(v) : quantize_linear<std::uint8_t>(v);
  }
  if (op == "DequantizeLinear") {
    check8(type_of(0), "x");
    return is_signed(type_of(0)) ? dequantize_linear<std::int8_t>(v) : dequantize_linear<std::uint8_t>(v);
  }
  if (op == "QLinearConv" || op == "QLinearMatMul") {
    check8(type_of(0), "x");
    check8(type_of(3), "w");
    const TensorData* yzp = v.input(7);
    const ir::DataType yt = yzp ? yzp->dtype : ir::DataType::uint8;
    const bool xs = is_signed(type_of(0)), ys = is_signed(yt);
    if (op == "QLinearConv") {
      if (xs) return ys ? qlinear_conv<std::int8_t, std::int8_t>(v) : qlinear_conv<std::int8_t, std::uint8_t>(v);
      return ys ? qlinear_conv<std::uint8_t, std::int8_t>(v) : qlinear_conv<std::uint8_t, std::uint8_t>(v);
    }
    if (xs) return ys ? qlinear_matmul<std::int8_t, std::int8_t>(v) : qlinear_matmul<std::int8_t, std::uint8_t>(v);
    return ys ? qlinear_matmul<std::uint8_t, std::int8_t>(v) : qlinear_matmul<std::uint8_t, std::uint8_t>(v);
  }
  if (op == "ConvInteger" || op == "MatMulInteger") {
    check8(type_of(0), "x");
    check8(type_of(1), "w");
    if (op == "ConvInteger") return is_signed(type_of(0)) ? conv_integer<std::int8_t>(v) : conv_integer<std::uint8_t>(v);
    return is_signed(type_of(0)) ? matmul_integer<std::int8_t>(v) : matmul_integer<std::uint8_t>(v);
  }
  throw Unsupported(op + " is not a quantized op of this suite");
}

}  // namespace

Result run_quantized_test(const std::filesystem::path& test_dir) {
  Result r{test_dir.filename().string(), "int", Outcome::fail, {}};
  try {
    const onnx::ModelProto model = read_model(test_dir / "model.onnx");
    if (model.graph().node_size() != 1) throw Unsupported("not a single-node test");
    const auto inputs = read_numbered(test_dir / "test_data_set_0", "input");
    const auto outputs = read_numbered(test_dir / "test_data_set_0", "output");
    if (int(inputs.size()) != model.graph().input_size() || outputs.size() != 1)
      throw std::runtime_error("data set does not match the graph's inputs/outputs");
    NodeView v{model.graph().node(0), {}};
    for (int k = 0; k < model.graph().input_size(); ++k) v.values[model.graph().input(k).name()] = inputs[std::size_t(k)];
    const Computed c = dispatch(v);
    // Exact: integers, and DequantizeLinear's float32 products (atol = rtol = 0).
    r.reason = compare(outputs[0], c.dims, c.f, c.i, Tolerance{0.0, 0.0});
    if (r.reason.empty()) {
      r.outcome = Outcome::pass;
      r.reason = c.note;
    }
  } catch (const Unsupported& e) {
    r.outcome = Outcome::unsupported;
    r.reason = e.what();
  } catch (const std::exception& e) {
    r.reason = e.what();
  }
  return r;
}

}  // namespace statiq::onnx_node
