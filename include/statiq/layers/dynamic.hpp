// statiq/layers/dynamic.hpp — dynamic quantization as onnxruntime defines and runs it on CPU: each
// Conv / Gemm quantizes its float input at run time (DynamicQuantizeLinear: uint8, per tensor),
// accumulates in int32 against int8 weights (ConvInteger / MatMulInteger), and rescales to float
// (acc * (x_scale * w_scale) + bias); activation and MaxPool follow in float. The layer types
// DynamicConv2D, DynamicDepthwiseConv2D, DynamicDense and DynamicAdd (a residual float Add) read
// and write float tensors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/arith/rounding.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/depthwise_conv2d.hpp"

namespace statiq {

// The run-time quantization of one activation tensor (DynamicQuantizeLinear, uint8 only).
struct DynamicQuantParams {
  float scale;
  std::int32_t zero_point;
};

// onnxruntime's GetQuantizationParameter (core/util/qmath.h; the same in DynamicQuantizeMatMul):
// the range [min(x), max(x)] widened to include 0, scale = (max - min) / 255 in float32 (1 when the
// range is empty, so an all-zero tensor quantizes to zero point 0), zero point =
// round_half_even(clamp(0 - min / scale, 0, 255)) in float32. The ONNX spec writes the same.
inline DynamicQuantParams dynamic_quant_params(std::span<const float> x) {
  float lo = 0.0f, hi = 0.0f;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float initial_zero_point = 0.0f - lo / scale;
  const float clamped = std::max(0.0f, std::min(255.0f, initial_zero_point));
  return {scale, static_cast<std::int32_t>(arith::round_half_even(clamped))};
}

// MlasQuantizeLinear: x / scale (a division, not a reciprocal multiply), rounded half to even, + zero
// point, saturated to uint8.
inline std::uint8_t dynamic_quantize(float x, const DynamicQuantParams& p) {
  const std::int64_t q = arith::round_half_even(x / p.scale) + p.zero_point;
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(q, 0, 255));
}

// DynamicQuantizeLinear over a whole tensor: fills q (same size as x), returns its parameters.
inline DynamicQuantParams dynamic_quantize_linear(std::span<const float> x, std::span<std::uint8_t> q) {
  const DynamicQuantParams p = dynamic_quant_params(x);
  for (std::size_t i = 0; i < x.size(); ++i) q[i] = dynamic_quantize(x[i], p);
  return p;
}

// Symmetric per-tensor int8 weights as onnxruntime's quantize_dynamic writes them (QInt8, symmetric
// range [-127, 127]): scale = max|w| / 127 (1 for all-zero weights), q = round_half_even(w / scale).
struct DynamicWeights {
  float scale;
};
inline DynamicWeights quantize_dynamic_weights(std::span<const float> w, std::span<std::int8_t> q) {
  float absmax = 0.0f;
  for (float v : w) absmax = std::max(absmax, std::fabs(v));
  const float scale = absmax == 0.0f ? 1.0f : absmax / 127.0f;
  for (std::size_t i = 0; i < w.size(); ++i)
    q[i] = static_cast<std::int8_t>(std::clamp<std::int64_t>(arith::round_half_even(w[i] / scale), -127, 127));
  return {scale};
}

// The float tail of MatMulIntegerToFloat / DynamicQuantizeMatMul (and of the unfused
// MatMulInteger -> Cast -> Mul -> Add): float32(acc) times float32(x_scale * w_scale), then + bias —
// two roundings, never a fused multiply-add (MLAS' scale/bias output processor multiplies, then
// adds; the unfused graph has two nodes). float32(acc) is exact while |acc| < 2^24.
inline float dynamic_rescale(std::int32_t acc, float multiplier, float bias) {
  const volatile float scaled = static_cast<float>(acc) * multiplier;  // volatile: no FMA contraction
  return scaled + bias;
}

// --- dynamic layers ------------------------------------------------------------------------------
// The integer part of a dynamic layer is always uint8 activations (DynamicQuantizeLinear) times
// int8 weights with zero point 0 (ConvInteger / MatMulInteger, per-tensor zero point as
// onnxruntime's kernels require); the weight scale may be per tensor or per output channel (it
// only enters the float rescale). What follows the integers runs in float32, as onnxruntime's
// graph does: Cast, Mul(x_scale * w_scale), Add(bias), Relu | Clip(0, clip_max), MaxPool.

// A dynamic layer's data besides its weights: float bias and weight scale(s), the Clip bound.
struct DynamicData {
  const float* bias = nullptr;          // per output channel
  const float* weight_scale = nullptr;  // one, or one per output channel
  bool per_channel = false;
  float clip_max = 0.0f;                // clipped ReLU only
};

namespace detail {

// The float tail of one output: Mul by float32(x_scale * w_scale), Add bias, then the activation.
inline float dynamic_output(std::int32_t acc, float x_scale, const DynamicData& d, int channel, Activation a) {
  const float multiplier = x_scale * d.weight_scale[d.per_channel ? channel : 0];
  float v = dynamic_rescale(acc, multiplier, d.bias[channel]);
  if (a.kind != ActivationKind::none) v = std::max(v, 0.0f);
  if (a.kind == ActivationKind::clipped_relu) v = std::min(v, d.clip_max);
  return v;
}

// The attributes the integer part is checked with: uint8 x int8, a signed 8-bit stand-in output.
constexpr ConvAttributes dynamic_integer_part(ConvAttributes a) {
  a.bits = Bits{8, 8, 8};
  a.signed_input = false;
  a.signed_output = true;
  return a;
}
constexpr DenseAttributes dynamic_integer_part(DenseAttributes a) {
  a.bits = Bits{8, 8, 8};
  a.signed_input = false;
  a.signed_output = true;
  return a;
}

}  // namespace detail

// The dynamic layers' int8 weights are stored as the static convolution's (kernels/select.hpp), so
// the same fast kernels run the integer part.
constexpr WeightLayout dynamic_weight_layout(const ConvAttributes& a) {
  return weight_layout(detail::dynamic_integer_part(a), true);
}
constexpr WeightLayout dynamic_weight_layout(const DenseAttributes& a) {
  return weight_layout(detail::dynamic_integer_part(a), true);
}

// The kernel that runs a dynamic layer's integer part.
constexpr kernels::ConvKernel dynamic_kernel(const ConvAttributes& a) {
  return conv_kernel(detail::dynamic_integer_part(a), dynamic_weight_layout(a));
}
constexpr kernels::ConvKernel dynamic_kernel(const DenseAttributes& a) {
  return dense_kernel(detail::dynamic_integer_part(a), dynamic_weight_layout(a));
}

// int32 words of scratch of a dynamic layer: what its integer part needs with that layout (the
// kernel's scratch and the accumulator maps, statiq/layers/convolution.hpp), then the quantized
// input (uint8, four to a word).
constexpr std::size_t dynamic_scratch_words(const ConvAttributes& a) {
  return scratch_words(detail::dynamic_integer_part(a), dynamic_weight_layout(a)) +
         (std::size_t(a.input.size()) + 3) / 4;
}
constexpr std::size_t dynamic_scratch_words(const DenseAttributes& a) {
  return scratch_words(detail::dynamic_integer_part(a), dynamic_weight_layout(a)) +
         (std::size_t(a.input.size()) + 3) / 4;
}

namespace detail {

// The float tail of count pixels' accumulators (ld apart) into y (channels floats a pixel).
inline void dynamic_output_rows(const std::int32_t* rows, std::size_t ld, int count, int channels, float x_scale,
                                const DynamicData& d, Activation activation, float* y) {
  for (int p = 0; p < count; ++p)
    for (int c = 0; c < channels; ++c)
      y[std::size_t(p) * std::size_t(channels) + std::size_t(c)] =
          dynamic_output(rows[std::size_t(p) * ld + std::size_t(c)], x_scale, d, c, activation);
}

// The weight view's layout when it has one (the layers' qview, the simulation's weight_view), else
// row-major (a plain array of int8 in logical order).
template <class W>
constexpr WeightLayout layout_of(const W& w) {
  if constexpr (requires { w.layout; }) return w.layout;
  else return row_major_layout;
}

// Whether a fast kernel can read these weights: bytes in a layout it names.
template <class W>
concept FastKernelWeights = requires(const W& w) {
  { w.layout } -> std::convertible_to<WeightLayout>;
  { w.bytes() } -> std::convertible_to<const std::uint8_t*>;
};

}  // namespace detail

// A dynamic convolution with run-time attributes (the layer types and statiq-codegen's simulation
// call it). x and y are float NHWC, w OHWI int8 (logical indices; a fast kernel reads its bytes in
// the layout it names). Max pooling is taken on the accumulators: the float tail is non-decreasing
// in acc (positive multiplier, then + bias, then ReLU/Clip, each rounding monotonically), so
// max(tail(acc)) == tail(max(acc)), onnxruntime's order's result.
template <class W>
void compute_dynamic(const ConvAttributes& attributes, const float* x, const W& w, const DynamicData& d, float* y,
                     std::int32_t* scratch) {
  const ConvAttributes a = detail::dynamic_integer_part(attributes);
  const Shape conv_shape = conv_output_shape(a);
  const Shape out_shape = output_shape(a);
  const bool max_pool = a.pool.kind == PoolKind::max;
  const WeightLayout layout = detail::layout_of(w);
  auto* xq = reinterpret_cast<std::uint8_t*>(scratch + scratch_words(a, layout));
  const std::size_t n_in = std::size_t(a.input.size());
  const DynamicQuantParams p = dynamic_quantize_linear({x, n_in}, {xq, n_in});
  const std::uint8_t* xu = xq;
  const kernels::reference::Conv2DGeometry g = conv_geometry(a);
  const int channels = a.filters;
  if constexpr (detail::FastKernelWeights<W>) {
    const kernels::ConvKernel kernel = conv_kernel(a, layout);
    if (kernel != kernels::ConvKernel::reference) {
      // No sums in DynamicData: a kernel that reads them gets them computed at each call.
      const std::int32_t* sums = detail::weight_sums_for(kernel, nullptr, w, channels,
                                                         weight_count(a) / std::size_t(channels), scratch);
      if (!max_pool) {
        detail::run_conv_kernel(kernel, g, xu, p.zero_point, layout, w.bytes(), 0, nullptr, sums, scratch,
                                [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                  detail::dynamic_output_rows(rows, ld, count, channels, p.scale, d, a.activation,
                                                              y + std::size_t(first) * std::size_t(channels));
                                });
        return;
      }
      std::int32_t* acc = scratch + fast_map_offset(a, layout);
      detail::run_conv_kernel(kernel, g, xu, p.zero_point, layout, w.bytes(), 0, nullptr, sums, scratch,
                              [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                detail::store_accumulator_rows(rows, ld, count, channels,
                                                               acc + std::size_t(first) * std::size_t(channels));
                              });
      detail::max_pool_rows(a, acc, scratch, [&](int oh, const std::int32_t* row) {
        detail::dynamic_output_rows(row, std::size_t(channels), out_shape.w, channels, p.scale, d, a.activation,
                                    y + std::size_t(oh) * std::size_t(out_shape.w) * std::size_t(channels));
      });
      return;
    }
  }
  std::int32_t* acc = scratch;
  kernels::reference::conv2d(g, xu, p.zero_point, w, 0, nullptr, acc);
  const std::int32_t* src = acc;
  if (max_pool) {
    std::int32_t* pooled = acc + conv_shape.size();
    const Pads pool_pads = resolve_pads(a.pool.pads, conv_shape, a.pool.kernel, a.pool.strides);
    kernels::max_pool(conv_shape, out_shape, a.pool.kernel, a.pool.strides, pool_pads,
                      static_cast<const std::int32_t*>(acc), pooled);
    src = pooled;
  }
  detail::dynamic_output_rows(src, std::size_t(channels), out_shape.h * out_shape.w, channels, p.scale, d,
                              a.activation, y);
}

// A dynamic Dense: w is [units][inputs], inputs in NHWC flattening order.
template <class W>
void compute_dynamic(const DenseAttributes& attributes, const float* x, const W& w, const DynamicData& d, float* y,
                     std::int32_t* scratch) {
  const DenseAttributes a = detail::dynamic_integer_part(attributes);
  const WeightLayout layout = detail::layout_of(w);
  auto* xq = reinterpret_cast<std::uint8_t*>(scratch + scratch_words(a, layout));
  const std::size_t n_in = std::size_t(a.input.size());
  const DynamicQuantParams p = dynamic_quantize_linear({x, n_in}, {xq, n_in});
  const std::uint8_t* xu = xq;
  if constexpr (detail::FastKernelWeights<W>) {
    const kernels::ConvKernel kernel = dense_kernel(a, layout);
    if (kernel != kernels::ConvKernel::reference) {
      const std::int32_t* sums = detail::weight_sums_for(kernel, nullptr, w, a.units, n_in, scratch);
      detail::run_conv_kernel(kernel, conv_geometry(a), xu, p.zero_point, layout, w.bytes(), 0, nullptr, sums, scratch,
                              [&](int, int, const std::int32_t* rows, std::size_t ld) {
                                detail::dynamic_output_rows(rows, ld, 1, a.units, p.scale, d, a.activation, y);
                              });
      return;
    }
  }
  kernels::reference::dense(a.input.size(), a.units, xu, p.zero_point, w, 0, static_cast<const std::int32_t*>(nullptr),
                            scratch);
  detail::dynamic_output_rows(scratch, std::size_t(a.units), 1, a.units, p.scale, d, a.activation, y);
}

// The residual Add of a dynamic engine: float + float elementwise (onnxruntime's float Add, one
// rounding per element), then the ReLU if fused.
inline void compute_dynamic(const AddAttributes& a, const float* x0, const float* x1, float* y) {
  const int n = a.shape.size();
  for (int i = 0; i < n; ++i) {
    const float v = x0[i] + x1[i];
    y[i] = a.activation.kind == ActivationKind::relu ? std::max(v, 0.0f) : v;
  }
}

namespace diag {
STATIQ_DIAGNOSTIC(target_has_no_dynamic_quantization,
                  "dynamic quantization (onnxruntime's DynamicQuantizeLinear -> ConvInteger/MatMulInteger) runs "
                  "on a CPU target only (cpu_int8): use the static layer types for this target",
                  fixed_string Layer, fixed_string Target);
STATIQ_DIAGNOSTIC(dynamic_add_fuses_relu_only, "the Add of a dynamic engine fuses a ReLU or nothing",
                  fixed_string Layer, Activation activation);
STATIQ_DIAGNOSTIC(dynamic_layer_fuses_max_pool_only,
                  "a dynamic convolution fuses MaxPool only (a float GlobalAveragePool's summation order is "
                  "onnxruntime's own): use a static layer or no fused pooling",
                  fixed_string Layer, Pool pool);
}  // namespace diag

template <class T>
concept DynamicQuantizationTarget = requires { requires T::dynamic_quantization; };

// A dynamic layer's parameters, by reference: int8 weights (zero point 0), float bias per output
// channel, the weight scale (one, or per channel), the Clip bound of a clipped ReLU.
template <class WeightsView, std::size_t Channels>
struct DynamicParameters {
  WeightsView weights;
  std::span<const float, Channels> bias;
  std::span<const float> weight_scale;  // size 1 or Channels
  float clip_max = 0.0f;

  constexpr DynamicData data() const {
    return {bias.data(), weight_scale.data(), weight_scale.size() > 1, clip_max};
  }
};

namespace detail {
template <fixed_string Name, class Target, Pool P>
constexpr auto check_dynamic() {
  using namespace diag;
  return report_first<rule<DynamicQuantizationTarget<Target>, target_has_no_dynamic_quantization<Name, Target::name>>,
                      rule<P.kind == PoolKind::none || P.kind == PoolKind::max, dynamic_layer_fuses_max_pool_only<Name, P>>>();
}
}  // namespace detail

// A dynamic convolution of kind Kind: float NHWC in, float NHWC out. A's bits and signedness are
// ignored (the integer part is uint8 x int8 by definition); the rest is checked as for Conv2D.
template <LayerKind Kind, fixed_string Name, ConvAttributes A, class Target>
class DynamicConvolution {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = Kind;
  static constexpr bool dynamic = true;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr ConvAttributes attributes = detail::dynamic_integer_part(A);

 private:
  static constexpr auto check() {
    constexpr auto dynamic = detail::check_dynamic<Name, Target, A.pool>();
    if constexpr (!dynamic) return dynamic;
    else return detail::check_convolution<Name, Kind, attributes, Target>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = A.input;
  static constexpr Shape conv_shape = valid ? conv_output_shape(attributes) : Shape{1, 1, 1};
  static constexpr Shape output_shape = valid ? A.pool.output_shape(conv_shape) : Shape{1, 1, 1};
  static constexpr Pattern pattern = fused_pattern("Conv", A.activation, A.pool);
  static constexpr int filters = valid ? A.filters : 1;
  static constexpr std::size_t weight_count = valid ? statiq::weight_count(attributes) : 1;
  static constexpr std::size_t params = weight_count + std::size_t(filters);
  static constexpr std::int64_t macs = std::int64_t(conv_shape.h) * conv_shape.w * std::int64_t(weight_count);
  static constexpr std::size_t scratch_words = valid ? dynamic_scratch_words(attributes) : 1;
  // Where each weight is stored (kernels/select.hpp), part of the weights' type.
  static constexpr WeightLayout weight_layout = valid ? dynamic_weight_layout(attributes) : row_major_layout;
  static constexpr kernels::ConvKernel kernel = valid ? dynamic_kernel(attributes) : kernels::ConvKernel::reference;
  static constexpr std::string_view kernel_name = kernels::conv_kernel_name(kernel);

  using input_element = float;
  using output_element = float;
  using weight_type = qint<8, true>;
  using weights_view = qview<weight_type, weight_count, false, weight_layout>;
  using weights_array = qarray<weight_type, weight_count, false, weight_layout>;
  using parameters = DynamicParameters<weights_view, std::size_t(filters)>;

  constexpr explicit DynamicConvolution(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const float* x, float* y, std::int32_t* scratch) const {
    compute_dynamic(attributes, x, p_.weights, p_.data(), y, scratch);
  }

 private:
  parameters p_;
};

template <fixed_string Name, ConvAttributes A, class Target>
struct DynamicConv2D : DynamicConvolution<LayerKind::conv2d, Name, A, Target> {
  using DynamicConvolution<LayerKind::conv2d, Name, A, Target>::DynamicConvolution;
};

template <fixed_string Name, ConvAttributes A, class Target>
struct DynamicDepthwiseConv2D : DynamicConvolution<LayerKind::depthwise_conv2d, Name, depthwise(A), Target> {
  using DynamicConvolution<LayerKind::depthwise_conv2d, Name, depthwise(A), Target>::DynamicConvolution;
};

// A dynamic Dense (MatMul / Gemm): float in (flattened NHWC), float out.
template <fixed_string Name, DenseAttributes A, class Target>
class DynamicDense {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::dense;
  static constexpr bool dynamic = true;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr DenseAttributes attributes = detail::dynamic_integer_part(A);

 private:
  using integer_part = Dense<Name, attributes, Target>;
  static constexpr auto check() {
    constexpr auto dynamic = detail::check_dynamic<Name, Target, no_pool>();
    if constexpr (!dynamic) return dynamic;
    else return integer_part::verdict;
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = A.input;
  static constexpr int units = valid ? A.units : 1;
  static constexpr Shape output_shape{1, 1, units};
  static constexpr Pattern pattern = fused_pattern("Gemm", A.activation, no_pool);
  static constexpr std::size_t inputs = valid ? std::size_t(A.input.size()) : 1;
  static constexpr std::size_t weight_count = inputs * std::size_t(units);
  static constexpr std::size_t params = weight_count + std::size_t(units);
  static constexpr std::int64_t macs = std::int64_t(weight_count);
  static constexpr std::size_t scratch_words = valid ? dynamic_scratch_words(attributes) : 1;
  static constexpr WeightLayout weight_layout = valid ? dynamic_weight_layout(attributes) : row_major_layout;
  static constexpr kernels::ConvKernel kernel = valid ? dynamic_kernel(attributes) : kernels::ConvKernel::reference;
  static constexpr std::string_view kernel_name = kernels::conv_kernel_name(kernel);

  using input_element = float;
  using output_element = float;
  using weight_type = qint<8, true>;
  using weights_view = qview<weight_type, weight_count, false, weight_layout>;
  using weights_array = qarray<weight_type, weight_count, false, weight_layout>;
  using parameters = DynamicParameters<weights_view, std::size_t(units)>;

  constexpr explicit DynamicDense(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const float* x, float* y, std::int32_t* scratch) const {
    compute_dynamic(attributes, x, p_.weights, p_.data(), y, scratch);
  }

 private:
  parameters p_;
};

// The Add of a dynamic engine (a residual connection between dynamic layers): two float NHWC
// tensors of the same shape in, their float sum out, with an optional fused ReLU.
template <fixed_string Name, AddAttributes A, class Target>
class DynamicAdd {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::add;
  static constexpr bool dynamic = true;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr AddAttributes attributes = A;

 private:
  static constexpr auto check() {
    using namespace diag;
    constexpr bool positive = A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0;
    return report_first<
        rule<DynamicQuantizationTarget<Target>, target_has_no_dynamic_quantization<Name, Target::name>>,
        rule<positive, shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
        rule<A.activation.kind != ActivationKind::clipped_relu, dynamic_add_fuses_relu_only<Name, A.activation>>>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr int arity = 2;
  static constexpr Shape input_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Shape output_shape = input_shape;
  static constexpr Pattern pattern = fused_pattern("Add", A.activation, no_pool);
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_element = float;
  using second_input_element = float;
  using output_element = float;

  constexpr DynamicAdd() = default;

  void operator()(const float* a, const float* b, float* y, std::int32_t*) const { compute_dynamic(A, a, b, y); }
};

}  // namespace statiq
