// codegen/quantize/dynamic.cpp — see dynamic.hpp.
#include "codegen/quantize/dynamic.hpp"

#include <cmath>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "codegen/lower/target_registry.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/targets/describe.hpp"

namespace statiq::codegen {
namespace {

[[noreturn]] void refuse(const Layer& l, const std::string& what) {
  std::string nodes;
  for (const std::string& n : l.onnx_nodes) nodes += (nodes.empty() ? "" : ", ") + n;
  throw std::runtime_error("--dynamic: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) +
                           (nodes.empty() ? "" : "; ONNX " + nodes) + "): " + what);
}

bool is_weighted(LayerKind k) {
  return k == LayerKind::conv2d || k == LayerKind::input_conv2d || k == LayerKind::depthwise_conv2d ||
         k == LayerKind::dense;
}

WeightQuantizerKind quantizer_of(const Layer& l, const QuantizeOptions& o) {
  for (const std::string& n : l.onnx_nodes)
    if (auto it = o.weight_overrides.find(n); it != o.weight_overrides.end()) return it->second;
  if (auto it = o.weight_overrides.find(l.name); it != o.weight_overrides.end()) return it->second;
  return o.weights;
}

// int8 in [-127, 127], zero point 0: one scale, or one per output channel (weights are
// channel-major in both OHWI and [units][inputs]).
void quantize_weights(Layer& l, std::size_t channels, bool per_channel) {
  for (const float w : l.weights)
    if (!std::isfinite(w)) refuse(l, "a weight is NaN or infinite: fix the model");
  const std::size_t groups = per_channel ? channels : 1;
  const std::size_t per_group = l.weights.size() / groups;
  std::vector<std::int8_t> q(l.weights.size());
  l.weight_scales.assign(groups, 1.0f);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::span<const float> w(l.weights.data() + g * per_group, per_group);
    l.weight_scales[g] = quantize_dynamic_weights(w, std::span<std::int8_t>(q.data() + g * per_group, per_group)).scale;
  }
  l.qweights.assign(q.begin(), q.end());
}

// A pooling layer with one output pixel: GlobalAveragePool, or an AveragePool whose single unpadded
// window starts at the map's corner (mlperf_kws: 24x5 over a 25x5 map). Its window, or nothing.
std::optional<Kernel> single_average_window(const Layer& l) {
  const auto* a = std::get_if<PoolAttributes>(&l.attributes);
  if (!a) return std::nullopt;
  if (a->pool.kind == PoolKind::global_average) return Kernel{a->input.h, a->input.w};
  const Pads p = resolve_pads(a->pool.pads, a->input, a->pool.kernel, a->pool.strides);
  const Shape out = output_shape(*a);
  if (a->pool.kind != PoolKind::average || out.h != 1 || out.w != 1 || p.top != 0 || p.left != 0 || p.bottom != 0 ||
      p.right != 0)
    return std::nullopt;
  return a->pool.kernel;
}

// Folds a one-window average feeding only a Dense into that Dense: Gemm(mean(x)) == Gemm'(x) with
// W'[u][(h, w, c)] = W[u][c] / (kh * kw) inside the window and 0 outside, exact in real arithmetic. A float average between dynamic
// layers would have to repeat onnxruntime's own summation order; the fold leaves integers only.
// Returns the notes of what was folded.
std::vector<std::string> fold_global_averages(std::vector<Layer>& layers) {
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::optional<Kernel> window = single_average_window(layers[i]);
    if (!window) continue;
    std::vector<std::size_t> readers;
    for (std::size_t j = i + 1; j < layers.size(); ++j)
      for (int from : layers[j].inputs)
        if (from == int(i)) readers.push_back(j);
    if (readers.size() != 1) continue;
    Layer& dense = layers[readers[0]];
    auto* d = std::get_if<DenseAttributes>(&dense.attributes);
    if (!d) continue;
    const Shape map = std::get<PoolAttributes>(layers[i].attributes).input;
    if (d->input.size() != map.c) continue;
    const std::size_t pixels = std::size_t(map.h) * std::size_t(map.w), c = std::size_t(map.c);
    const int count = window->h * window->w;
    std::vector<float> w(dense.weights.size() * pixels, 0.0f);
    for (std::size_t u = 0; u < std::size_t(d->units); ++u)
      for (int y = 0; y < window->h; ++y)
        for (int x = 0; x < window->w; ++x)
          for (std::size_t k = 0; k < c; ++k)
            w[(u * pixels + std::size_t(y) * std::size_t(map.w) + std::size_t(x)) * c + k] =
                dense.weights[u * c + k] / static_cast<float>(count);
    dense.weights = std::move(w);
    d->input = map;
    dense.inputs = layers[i].inputs;
    std::vector<std::string> nodes = layers[i].onnx_nodes;
    nodes.insert(nodes.end(), dense.onnx_nodes.begin(), dense.onnx_nodes.end());
    dense.onnx_nodes = std::move(nodes);
    notes.push_back("dynamic: the average '" + layers[i].name + "' (" + std::string(layer_kind_name(layers[i].kind)) +
                    ", " + std::to_string(window->h) + "x" + std::to_string(window->w) + " over " + std::to_string(map.h) +
                    "x" + std::to_string(map.w) + ") is folded into the Gemm '" + dense.name + "' (its weights / " +
                    std::to_string(count) + " over the window): the dynamic engine keeps no float average");
    // Drop layer i: later inputs shift down by one.
    layers.erase(layers.begin() + std::ptrdiff_t(i));
    for (Layer& l : layers)
      for (int& from : l.inputs)
        if (from > int(i)) --from;
    --i;
  }
  return notes;
}

}  // namespace

std::vector<std::string> quantize_dynamic(LoweredModel& model, const QuantizeOptions& options) {
  if (!find_target(model.target).dynamic_quantization)
    throw std::runtime_error("--dynamic is onnxruntime's dynamic quantization, a CPU scheme: the target must be "
                             "cpu-int8 (not " + model.target + ")");
  // The engine's boundaries go: the first layers read the float input, the last writes float.
  std::vector<int> new_index(model.layers.size(), -1);
  std::vector<Layer> kept;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    Layer& l = model.layers[i];
    if (l.kind == LayerKind::quantize || l.kind == LayerKind::dequantize) {
      new_index[i] = l.inputs.empty() ? -1 : (l.inputs[0] < 0 ? -1 : new_index[std::size_t(l.inputs[0])]);
      continue;
    }
    for (int& from : l.inputs) from = from < 0 ? -1 : new_index[std::size_t(from)];
    new_index[i] = int(kept.size());
    kept.push_back(std::move(l));
  }
  if (kept.empty()) throw std::runtime_error("--dynamic: the model has no Conv or Gemm/MatMul layer to quantize");
  const std::vector<std::string> notes = fold_global_averages(kept);

  for (std::size_t i = 0; i < kept.size(); ++i) {
    Layer& l = kept[i];
    if (l.placement == Placement::host) refuse(l, "cpu-int8 cannot run it (" + describe(l.violation) + ")");
    for (const int from : l.inputs)
      if (from >= int(i)) refuse(l, "it reads a later layer (lowering bug)");
    if (l.kind == LayerKind::add) {  // the residual Add stays float: one rounding per element, as onnxruntime's
      auto& a = std::get<AddAttributes>(l.attributes);
      if (a.activation.kind == ActivationKind::clipped_relu) refuse(l, "a dynamic engine's Add fuses a Relu only");
      a.bits = Bits{8, 8, 8};
      a.signed_input = a.signed_output = false;
      a.signed_second_input = -1;
      l.dynamic = true;
      l.output = TensorQuantization{};
      l.data = std::monostate{};
      continue;
    }
    if (!is_weighted(l.kind))
      refuse(l, "onnxruntime's dynamic quantization makes Conv and MatMul/Gemm integer and leaves this op float; "
                "statiq's dynamic engine holds Conv and Gemm layers (with a fused Relu/Clip and MaxPool), residual "
                "Adds and a one-window average feeding a Gemm (folded into it) only: a float " +
                    std::string(layer_kind_name(l.kind)) +
                    " here would have to repeat onnxruntime's own summation order. Quantize this model statically "
                    "(without --dynamic), or keep this node and what follows float (--nodes-to-exclude)");
    const WeightQuantizerKind wq = quantizer_of(l, options);
    if (wq != WeightQuantizerKind::max && wq != WeightQuantizerKind::max_per_axis)
      refuse(l, "dynamic weights are onnxruntime's symmetric int8, scale max|w| / 127: choose the weight quantizer "
                "max (per tensor) or max-per-axis (per output channel)");
    if (options.reduce_range) refuse(l, "--reduce-range is not part of statiq's dynamic quantization");
    std::size_t channels = 0;
    if (auto* a = std::get_if<ConvAttributes>(&l.attributes)) {
      if (a->pool.kind != PoolKind::none && a->pool.kind != PoolKind::max)
        refuse(l, "a fused " + std::string(pool_op(a->pool)) +
                      " would run in float, whose summation order is onnxruntime's own: quantize statically");
      if (a->bits.w != 8 || a->bits.out != 8) refuse(l, "dynamic layers are 8-bit (uint8 x int8)");
      a->bits = Bits{8, 8, 8};
      a->signed_input = false;
      a->signed_output = true;
      channels = std::size_t(a->filters ? a->filters : a->input.c);
    } else if (auto* d = std::get_if<DenseAttributes>(&l.attributes)) {
      if (d->bits.w != 8 || d->bits.out != 8) refuse(l, "dynamic layers are 8-bit (uint8 x int8)");
      d->bits = Bits{8, 8, 8};
      d->signed_input = false;
      d->signed_output = true;
      channels = std::size_t(d->units);
    }
    if (l.bias.size() != channels) l.bias.assign(channels, 0.0f);
    quantize_weights(l, channels, wq == WeightQuantizerKind::max_per_axis);
    l.dynamic = true;
    l.qbias.clear();
    l.input_zero_point = 0;
    l.weight_zero_point = 0;
    l.output = TensorQuantization{};
    l.data = std::monostate{};
  }
  model.layers = std::move(kept);
  model.dynamic = true;
  return notes;
}

}  // namespace statiq::codegen
