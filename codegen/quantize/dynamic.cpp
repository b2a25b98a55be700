// codegen/quantize/dynamic.cpp — see dynamic.hpp.
#include "codegen/quantize/dynamic.hpp"

#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

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

}  // namespace

void quantize_dynamic(LoweredModel& model, const QuantizeOptions& options) {
  if (model.target != "cpu_int8")
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

  for (std::size_t i = 0; i < kept.size(); ++i) {
    Layer& l = kept[i];
    if (!is_weighted(l.kind))
      refuse(l, "onnxruntime's dynamic quantization makes Conv and MatMul/Gemm integer and leaves this op float; "
                "statiq's dynamic engine holds Conv and Gemm layers (with a fused Relu/Clip and MaxPool) only. "
                "Quantize this model statically (without --dynamic), or keep this node and what follows float "
                "(--nodes-to-exclude)");
    if (l.placement == Placement::host) refuse(l, "cpu-int8 cannot run it (" + describe(l.violation) + ")");
    if (l.inputs != std::vector<int>{int(i) - 1})
      refuse(l, "it does not read the layer before it: statiq's dynamic engine is a chain of layers");
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
}

}  // namespace statiq::codegen
