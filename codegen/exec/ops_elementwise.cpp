// codegen/exec/ops_elementwise.cpp — broadcasting arithmetic, activations, BatchNormalization,
// Softmax.
#include <algorithm>
#include <cmath>
#include <limits>

#include "codegen/exec/ops.hpp"

namespace statiq::codegen::exec::ops {

namespace {

// Multidirectional (numpy) broadcasting of two shapes.
ir::Dims broadcast(const ir::Dims& a, const ir::Dims& b) {
  const std::size_t r = std::max(a.size(), b.size());
  ir::Dims out(r);
  for (std::size_t d = 0; d < r; ++d) {
    const std::int64_t da = d + a.size() >= r ? a[d + a.size() - r] : 1;
    const std::int64_t db = d + b.size() >= r ? b[d + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1)
      fail("shapes " + ir::to_string(a) + " and " + ir::to_string(b) + " do not broadcast");
    out[d] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of `in` seen as `out` (0 along broadcast axes).
std::vector<std::int64_t> broadcast_strides(const ir::Dims& in, const ir::Dims& out) {
  std::vector<std::int64_t> s(out.size(), 0);
  std::int64_t stride = 1;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t d_in = in.size() - 1 - k, d_out = out.size() - 1 - k;
    s[d_out] = in[d_in] == 1 ? 0 : stride;
    stride *= in[d_in];
  }
  return s;
}

// out[idx] = f(a[idx'], b[idx'']) over the broadcast shape, walking the innermost axis in a loop.
template <class T, class F>
void broadcast_apply(const ir::Dims& out_shape, const std::vector<T>& a, const ir::Dims& as, const std::vector<T>& b,
                     const ir::Dims& bs, std::vector<T>& out, F f) {
  const std::int64_t n = ir::element_count(out_shape);
  out.resize(static_cast<std::size_t>(n));
  if (as == out_shape && bs == out_shape) {
    for (std::int64_t k = 0; k < n; ++k) out[k] = f(a[k], b[k]);
    return;
  }
  if (n == 0) return;
  const std::size_t r = out_shape.size();
  if (r == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const auto sa = broadcast_strides(as, out_shape), sb = broadcast_strides(bs, out_shape);
  const std::int64_t inner = out_shape[r - 1], ia = sa[r - 1], ib = sb[r - 1];
  std::vector<std::int64_t> idx(r, 0);
  std::int64_t oa = 0, ob = 0;
  for (std::int64_t o = 0; o < n; o += inner) {
    for (std::int64_t k = 0; k < inner; ++k) out[o + k] = f(a[oa + k * ia], b[ob + k * ib]);
    // advance the odometer over the outer axes
    for (std::size_t d = r - 1; d-- > 0;) {
      ++idx[d];
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < out_shape[d]) break;
      oa -= sa[d] * out_shape[d];
      ob -= sb[d] * out_shape[d];
      idx[d] = 0;
    }
  }
}

Array binary(const Array& a, const Array& b, float (*ff)(float, float), std::int64_t (*fi)(std::int64_t, std::int64_t)) {
  if (a.is_float() != b.is_float())
    fail("operands have different types (" + std::string(ir::to_string(a.dtype)) + ", " +
         std::string(ir::to_string(b.dtype)) + ")");
  Array y;
  y.dtype = a.dtype;
  y.shape = broadcast(a.shape, b.shape);
  if (a.is_float()) broadcast_apply(y.shape, a.f, a.shape, b.f, b.shape, y.f, ff);
  else if (fi) broadcast_apply(y.shape, a.i, a.shape, b.i, b.shape, y.i, fi);
  else fail("integer operands are not supported");
  return y;
}

template <float (*FF)(float, float), std::int64_t (*FI)(std::int64_t, std::int64_t)>
void binary_op(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  outputs[0] = binary(in(node, inputs, 0), in(node, inputs, 1), FF, FI);
}

// Variadic Max/Min/Sum: a left fold of the binary broadcast.
template <float (*FF)(float, float), std::int64_t (*FI)(std::int64_t, std::int64_t)>
void variadic_op(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  Array acc = in(node, inputs, 0);
  for (std::size_t k = 1; k < inputs.size(); ++k) acc = binary(acc, in(node, inputs, k), FF, FI);
  outputs[0] = std::move(acc);
}

float add_f(float a, float b) { return a + b; }
float sub_f(float a, float b) { return a - b; }
float mul_f(float a, float b) { return a * b; }
float div_f(float a, float b) { return a / b; }
float pow_f(float a, float b) { return std::pow(a, b); }
float max_f(float a, float b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::max(a, b); }
float min_f(float a, float b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::min(a, b); }
std::int64_t add_i(std::int64_t a, std::int64_t b) { return a + b; }
std::int64_t sub_i(std::int64_t a, std::int64_t b) { return a - b; }
std::int64_t mul_i(std::int64_t a, std::int64_t b) { return a * b; }
std::int64_t div_i(std::int64_t a, std::int64_t b) {
  if (b == 0) fail("integer division by zero");
  return a / b;  // truncation toward zero, as onnxruntime
}
std::int64_t max_i(std::int64_t a, std::int64_t b) { return std::max(a, b); }
std::int64_t min_i(std::int64_t a, std::int64_t b) { return std::min(a, b); }

// Unary float ops with their parameters read from the node once.
template <class F>
void map_float(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs, F f) {
  const Array& x = in_float(node, inputs, 0);
  Array y;
  y.dtype = x.dtype;
  y.shape = x.shape;
  y.f.resize(x.f.size());
  for (std::size_t k = 0; k < x.f.size(); ++k) y.f[k] = f(x.f[k]);
  outputs[0] = std::move(y);
}

#define STATIQ_UNARY(NAME, EXPR)                                                                      \
  void NAME(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) { \
    map_float(node, inputs, outputs, [](float x) { return EXPR; });                                   \
  }
STATIQ_UNARY(relu, x > 0.0f ? x : 0.0f)
STATIQ_UNARY(sigmoid, 1.0f / (1.0f + std::exp(-x)))
STATIQ_UNARY(tanh_op, std::tanh(x))
STATIQ_UNARY(exp_op, std::exp(x))
STATIQ_UNARY(log_op, std::log(x))
STATIQ_UNARY(sqrt_op, std::sqrt(x))
STATIQ_UNARY(neg, -x)
STATIQ_UNARY(abs_op, std::fabs(x))
STATIQ_UNARY(reciprocal, 1.0f / x)
STATIQ_UNARY(floor_op, std::floor(x))
STATIQ_UNARY(ceil_op, std::ceil(x))
STATIQ_UNARY(erf_op, std::erf(x))
// HardSwish(x) = x * HardSigmoid(x) with alpha 1/6, beta 0.5.
STATIQ_UNARY(hard_swish, x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)))
#undef STATIQ_UNARY

void leaky_relu(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const float alpha = node.attr_float("alpha", 0.01f);
  map_float(node, inputs, outputs, [alpha](float x) { return x >= 0.0f ? x : alpha * x; });
}

void hard_sigmoid(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const float alpha = node.attr_float("alpha", 0.2f), beta = node.attr_float("beta", 0.5f);
  map_float(node, inputs, outputs, [alpha, beta](float x) { return std::max(0.0f, std::min(1.0f, alpha * x + beta)); });
}

void elu(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const float alpha = node.attr_float("alpha", 1.0f);
  map_float(node, inputs, outputs, [alpha](float x) { return x >= 0.0f ? x : alpha * (std::exp(x) - 1.0f); });
}

// Clip (opset 11+): min and max are optional scalar inputs.
void clip(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  auto scalar = [&](std::size_t k, float fallback) {
    if (!node.has_input(k)) return fallback;
    const Array& a = in_float(node, inputs, k);
    if (a.size() != 1) fail(std::string(k == 1 ? "min" : "max") + " must be a scalar, has shape " + ir::to_string(a.shape));
    return a.f[0];
  };
  const float lo = scalar(1, -std::numeric_limits<float>::infinity());
  const float hi = scalar(2, std::numeric_limits<float>::infinity());
  map_float(node, inputs, outputs, [lo, hi](float x) { return std::min(hi, std::max(lo, x)); });
}

// Inference-mode BatchNormalization over axis 1: y = (x - mean) / sqrt(var + eps) * scale + B.
void batch_norm(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  if (node.attr_int("training_mode", 0) != 0) fail("training_mode=1 is not supported (inference only)");
  const Array& x = in_float(node, inputs, 0);
  if (x.rank() < 2) fail("X must have rank >= 2");
  const std::int64_t N = x.shape[0], C = x.shape[1], inner = x.size() / std::max<std::int64_t>(1, N * C);
  const Array& scale = in_float(node, inputs, 1);
  const Array& bias = in_float(node, inputs, 2);
  const Array& mean = in_float(node, inputs, 3);
  const Array& var = in_float(node, inputs, 4);
  for (const Array* p : {&scale, &bias, &mean, &var})
    if (p->size() != C) fail("scale/B/mean/var must hold " + std::to_string(C) + " values");
  const float eps = node.attr_float("epsilon", 1e-5f);
  Array y = Array::floats(x.shape);
  for (std::int64_t c = 0; c < C; ++c) {
    const float a = scale.f[c] / std::sqrt(var.f[c] + eps);
    const float b = bias.f[c] - mean.f[c] * a;
    for (std::int64_t n = 0; n < N; ++n) {
      const float* xp = x.f.data() + (n * C + c) * inner;
      float* yp = y.f.data() + (n * C + c) * inner;
      for (std::int64_t k = 0; k < inner; ++k) yp[k] = xp[k] * a + b;
    }
  }
  outputs[0] = std::move(y);
}

// Softmax (opset 13): along one axis, max-subtracted for range safety.
void softmax(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  const std::int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (std::int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[d];
  const std::int64_t len = x.shape[axis];
  Array y = Array::floats(x.shape);
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      const float* xp = x.f.data() + o * len * inner + i;
      float* yp = y.f.data() + o * len * inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (std::int64_t k = 0; k < len; ++k) m = std::max(m, xp[k * inner]);
      float sum = 0.0f;
      for (std::int64_t k = 0; k < len; ++k) sum += (yp[k * inner] = std::exp(xp[k * inner] - m));
      for (std::int64_t k = 0; k < len; ++k) yp[k * inner] /= sum;
    }
  outputs[0] = std::move(y);
}

}  // namespace

void register_elementwise_ops(std::map<std::string, OpFn>& table) {
  table["Add"] = binary_op<add_f, add_i>;
  table["Sub"] = binary_op<sub_f, sub_i>;
  table["Mul"] = binary_op<mul_f, mul_i>;
  table["Div"] = binary_op<div_f, div_i>;
  table["Pow"] = binary_op<pow_f, nullptr>;
  table["Max"] = variadic_op<max_f, max_i>;
  table["Min"] = variadic_op<min_f, min_i>;
  table["Sum"] = variadic_op<add_f, add_i>;
  table["Relu"] = relu;
  table["Sigmoid"] = sigmoid;
  table["Tanh"] = tanh_op;
  table["Exp"] = exp_op;
  table["Log"] = log_op;
  table["Sqrt"] = sqrt_op;
  table["Neg"] = neg;
  table["Abs"] = abs_op;
  table["Reciprocal"] = reciprocal;
  table["Floor"] = floor_op;
  table["Ceil"] = ceil_op;
  table["Erf"] = erf_op;
  table["HardSwish"] = hard_swish;
  table["LeakyRelu"] = leaky_relu;
  table["HardSigmoid"] = hard_sigmoid;
  table["Elu"] = elu;
  table["Clip"] = clip;
  table["BatchNormalization"] = batch_norm;
  table["Softmax"] = softmax;
}

}  // namespace statiq::codegen::exec::ops
