// codegen/quantize/quantize.cpp — per-profile quantization of a lowered model: activation
// parameters from calibrated ranges, weights with the library quantizers, then each profile's
// requantization data (channel/output/add/rescale params) from the resulting scales.
#include "codegen/quantize/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "codegen/lower/target_registry.hpp"
#include "codegen/quantize/lookup_table.hpp"
#include "statiq/quant/quant.hpp"

namespace statiq::codegen {
namespace {

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::runtime_error("node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) + "): " + what);
}

std::string number(double v) { return std::to_string(v); }

// The calibrated range of `tensor`, checked: present, finite, ordered, not all zero.
Range range_of(const Ranges& ranges, const std::string& tensor, const std::string& node) {
  const auto it = ranges.find(tensor);
  if (it == ranges.end())
    throw std::runtime_error("no calibrated range for tensor '" + tensor + "' (node '" + node +
                             "'): calibrate with samples that run through this tensor");
  const Range r = it->second;
  if (!std::isfinite(r.min) || !std::isfinite(r.max))
    throw std::runtime_error("calibrated range of tensor '" + tensor + "' (node '" + node + "') is [" +
                             number(r.min) + ", " + number(r.max) +
                             "], not finite: a NaN/Inf reached the calibration; check the samples and the float model");
  if (r.min > r.max)
    throw std::runtime_error("calibrated range of tensor '" + tensor + "' (node '" + node + "') has min " +
                             number(r.min) + " > max " + number(r.max) + ": the calibration statistics are broken");
  if (r.min == 0.0f && r.max == 0.0f)
    throw std::runtime_error("calibrated range of tensor '" + tensor + "' (node '" + node +
                             "') is zero: check the calibration samples");
  return r;
}

bool is_per_axis(WeightQuantizerKind k) {
  return k == WeightQuantizerKind::max_per_axis || k == WeightQuantizerKind::std_per_axis;
}

WeightQuantizerKind per_tensor(WeightQuantizerKind k) {
  if (k == WeightQuantizerKind::max_per_axis) return WeightQuantizerKind::max;
  if (k == WeightQuantizerKind::std_per_axis) return WeightQuantizerKind::std;
  return k;
}

quant::QuantizedWeights quantize_with(WeightQuantizerKind k, std::span<const float> w, int out_channels, int bits) {
  switch (k) {
    case WeightQuantizerKind::max: return quant::quantize_weights(quant::MaxQuantizer{}, w, out_channels, bits);
    case WeightQuantizerKind::std: return quant::quantize_weights(quant::StdQuantizer{}, w, out_channels, bits);
    case WeightQuantizerKind::std_per_axis:
      return quant::quantize_weights(quant::StdPerAxisQuantizer{}, w, out_channels, bits);
    case WeightQuantizerKind::max_per_axis:
    default: return quant::quantize_weights(quant::MaxPerAxisQuantizer{}, w, out_channels, bits);
  }
}

template <class P>
class ProfileQuantizer {
  static constexpr bool qlinear = std::is_same_v<P, arith::qlinear>;
  static constexpr bool pow2 = std::is_same_v<P, arith::pow2>;
  static constexpr bool tflite = arith::is_tflite_profile<P>;
  static constexpr bool gemmini = std::is_same_v<P, arith::gemmini>;
  static constexpr bool akida1 = std::is_same_v<P, arith::akida_v1>;
  static_assert(qlinear || pow2 || tflite || gemmini || akida1);

 public:
  ProfileQuantizer(LoweredModel& m, const Ranges& r, const QuantizeOptions& o) : model_(m), ranges_(r), options_(o) {}

  void run() {
    for (std::size_t i = 0; i < model_.layers.size(); ++i) {
      Layer& l = model_.layers[i];
      index_ = i;
      std::visit([&](auto& a) { layer(l, a); }, l.attributes);
    }
    refuse_ranges_below_one_step();
  }

 private:
  LoweredModel& model_;
  const Ranges& ranges_;
  const QuantizeOptions& options_;
  std::size_t index_ = 0;

  struct BelowOneStep {
    std::string node;
    std::string what;
    int bits;
  };
  mutable std::vector<BelowOneStep> below_one_step_;  // tensors found by activation()

  // Every tensor whose calibrated range is below one step of its format, in one message with one
  // --node-config that gives each of them 8 bits where that is the way out.
  void refuse_ranges_below_one_step() const {
    if (below_one_step_.empty()) return;
    std::string text = std::to_string(below_one_step_.size()) + " tensor(s) have a calibrated range below one "
                       "quantization step of their format on " + model_.target + ", so every value would become 0 or "
                       "one step and the engine would answer the same whatever the input:\n";
    std::string config, stuck;
    for (const BelowOneStep& b : below_one_step_) {
      text += "  " + b.what + "\n";
      if (b.bits < 8) config += (config.empty() ? "" : ", ") + ("\"" + b.node + "\": {\"out\": 8}");
      else stuck += (stuck.empty() ? "'" : ", '") + b.node + "'";
    }
    if (!config.empty()) text += "Give them more bits: --node-config '{" + config + "}'. ";
    if (!stuck.empty())
      text += "No bit-width of " + model_.target + " represents " + stuck + ": scale the layer's weights and bias up "
              "by a power of two in the float model and the weights of the layers that read it down by the same "
              "power (exact in float), or generate for cpu-int8.";
    else
      text += "Or scale the layers' weights and bias up by a power of two in the float model and the weights of the "
              "layers that read them down by the same power (exact in float).";
    throw std::runtime_error(text);
  }

  // --- tensors ---------------------------------------------------------------------------

  const TensorQuantization& input(const Layer& l, std::size_t k) const {
    if (k >= l.inputs.size()) fail(l, "has " + std::to_string(l.inputs.size()) + " inputs, expected more (lowering bug)");
    const int idx = l.inputs[k];
    if (idx < 0)
      fail(l, "reads the float graph input directly: the lowered model must start with a Quantize layer");
    if (static_cast<std::size_t>(idx) >= index_)
      fail(l, "reads layer " + std::to_string(idx) + ", which does not run before it (lowering bug)");
    return model_.layers[static_cast<std::size_t>(idx)].output;
  }

  static void check_bits(const Layer& l, int bits, const char* what) {
    const bool ok = (qlinear || tflite || gemmini) ? bits == 8 : valid_bit_width(bits);
    if (!ok)
      fail(l, std::to_string(bits) + "-bit " + what + " are not supported by the " + P::name + " profile (" +
                  ((qlinear || tflite || gemmini) ? "8 bits only" : "1, 2, 4 or 8 bits") +
                  "): change the bit-width of this layer");
  }

  // The quantization of an activation tensor from its calibrated range, in the profile's
  // convention. A fused ReLU makes the range start at 0 (and a clipped ReLU end at the clip).
  // Signedness: qlinear from the options (uint8 or int8), tflite and gemmini always int8, pow2 as
  // the lowering declared it (`declared_signed`: unsigned after a ReLU and for the image input),
  // akida_v1 always unsigned (ceiling levels; a zero point where the range is negative).
  TensorQuantization activation(const Layer& l, const std::string& tensor, int bits, Activation act, float clip,
                                bool declared_signed) const {
    check_bits(l, bits, "activations");
    const Range r = range_of(ranges_, tensor, l.name);
    float lo = r.min, hi = r.max;
    if (act.kind != ActivationKind::none) {
      lo = std::max(lo, 0.0f);
      hi = std::max(hi, 0.0f);
      if (act.kind == ActivationKind::clipped_relu && clip > 0.0f) hi = std::min(hi, clip);
    }
    if (lo == 0.0f && hi == 0.0f)
      throw std::runtime_error("calibrated range of tensor '" + tensor + "' (node '" + l.name +
                               "') is zero after its ReLU (every calibrated value was <= 0): check the calibration "
                               "samples");
    TensorQuantization t;
    t.bits = bits;
    if constexpr (qlinear) {
      const auto type = options_.activations == ActivationType::uint8_asymmetric ? quant::QuantType::uint8
                                                                                   : quant::QuantType::int8;
      const quant::QuantParams q = quant::qlinear_params(
          lo, hi, type, {.symmetric = options_.activations == ActivationType::int8_symmetric});
      t.scale = q.scale;
      t.zero_point = q.zero_point;
      t.is_signed = type == quant::QuantType::int8;
    } else if constexpr (tflite) {
      const quant::QuantParams q = quant::tflite_params(lo, hi);
      t.scale = q.scale;
      t.zero_point = q.zero_point;
      t.is_signed = true;
    } else if constexpr (gemmini) {
      const quant::QuantParams q = quant::compute_scale_zp(lo, hi, -127, 127, /*symmetric=*/true);
      t.scale = q.scale;
      t.zero_point = 0;
      t.is_signed = true;
    } else if constexpr (akida1) {
      akida_v1_activation(l, tensor, act, lo, hi, t);
    } else {
      t.is_signed = declared_signed;
      if (!t.is_signed && lo < 0.0f)
        fail(l, "its output tensor '" + tensor + "' is unsigned on " + model_.target + " but its calibrated range [" +
                    number(lo) + ", " + number(hi) + "] has negative values, which would all become 0: " +
                    (l.kind == LayerKind::quantize ? "feed the input as non-negative values (e.g. uint8 pixels)"
                                                   : "make the output signed or put a ReLU before it"));
      const int value_bits = t.is_signed ? bits - 1 : bits;
      const float max_abs = std::max(std::fabs(lo), std::fabs(hi));
      t.frac_bits = quant::pow2_frac_bits(max_abs, value_bits);
      t.scale = std::ldexp(1.0f, -t.frac_bits);
      t.zero_point = 0;
      // The fractional bits are capped at the value bits (QuantizeML's FixedPoint), so a range
      // below one step would quantize to 0 and +-1 steps: an engine that answers the same whatever
      // the input. Collected, then refused together (run()), never generated.
      if (max_abs > 0.0f && max_abs < t.scale)
        below_one_step_.push_back({l.name, "node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) +
                                               "): output tensor '" + tensor + "', calibrated range [" + number(lo) +
                                               ", " + number(hi) + "], one step " + number(t.scale) + " = 2^-" +
                                               std::to_string(t.frac_bits) + " of its " + std::to_string(bits) +
                                               "-bit format (at most " + std::to_string(value_bits) +
                                               " fractional bits)",
                                   bits});
    }
    return t;
  }

  // akida_v1 tensors hold the ceiling quantizer's levels 0..2^b-1 (ARITHMETIC.md section 3),
  // real = step * (level - zero_point), step = TensorQuantization::scale:
  // - the image input (Quantize, 8 bits): uint8 pixels, step = max / 255 of the calibrated range
  //   (exactly 1 for 0..255 pixels), zero point 0; negative inputs are refused;
  // - after a ReLU: step = max_value / (2^b - 1) with max_value the calibrated maximum of the ReLU's
  //   output (clipped at a clipped ReLU's bound): CNN2SNN learns max_value in training, statiq takes
  //   the calibration's (the observer chosen by the user: min/max, percentile, entropy); zero point 0;
  // - without activation (a final FullyConnected: Akida 1.0 outputs its potentials there): the same
  //   levels spread over the calibrated [min, max] widened to include 0, step = (max - min) /
  //   (2^b - 1), zero point RNE(-min / step), so negative values (logits) keep their order. The zero
  //   point is folded into the threshold (akida_v1_channel), the integer form is unchanged.
  void akida_v1_activation(const Layer& l, const std::string& tensor, Activation act, float lo, float hi,
                           TensorQuantization& t) const {
    const int levels = (1 << t.bits) - 1;
    t.is_signed = false;
    t.frac_bits = 0;
    t.zero_point = 0;
    if (l.kind == LayerKind::quantize || act.kind != ActivationKind::none) {
      if (lo < 0.0f)
        fail(l, "its output tensor '" + tensor + "' is uint8 pixels on akida_v1 but its calibrated range [" +
                    number(lo) + ", " + number(hi) + "] has negative values, which would all become 0: feed the input "
                    "as non-negative values (e.g. uint8 pixels)");
      t.scale = static_cast<float>(static_cast<double>(hi) / levels);
      return;
    }
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
    t.scale = static_cast<float>((static_cast<double>(hi) - lo) / levels);
    t.zero_point = static_cast<std::int32_t>(
        std::clamp<std::int64_t>(arith::round_half_even(-static_cast<double>(lo) / t.scale), 0, levels));
  }

  // One akida_v1 output channel: threshold and step in accumulator units (`unit` = the real value of
  // one accumulator unit, e.g. input step / weight scale factor), the float bias folded into the
  // threshold (Akida 1.0 has no bias register) and so is the output's zero point (threshold -
  // zero_point * step, the ceiling of x + zero_point * step). `fires`: a device layer with an
  // activation, whose threshold and step are NSoC fire registers and must fit 20 bits unsigned.
  // `what` names the channel in messages ("output channel 3").
  // A device layer whose registers do not fit is refused (std::runtime_error), or, with
  // QuantizeOptions::akida_v1_host_fallback, placed on the host (integer akida_v1 arithmetic has no
  // register width there) and reported in LoweredModel::unmapped with this message.
  arith::akida_v1::channel_params akida_v1_channel(Layer& l, const std::string& what, double unit,
                                                  const TensorQuantization& y, double bias, bool fires) const {
    const double d = static_cast<double>(y.scale) / unit, b = bias / unit;
    const std::string where = what + ": ";
    if (!std::isfinite(d) || !std::isfinite(b) || std::fabs(d) >= 1073741824.0 || std::fabs(b) >= 1073741824.0)
      fail(l, where + "the activation step " + number(y.scale) + " and bias " + number(bias) +
                  " are not int32 numbers of accumulator units of " + number(unit) +
                  " (input step x weight scale): its weights are tiny next to its output; check the float model "
                  "(e.g. a BatchNorm with a near-zero gamma or variance) or use fewer weight bits");
    arith::akida_v1::channel_params ch;
    try {
      ch = arith::akida_v1::channel(unit, y.scale, y.zero_point, bias);
    } catch (const std::out_of_range& e) {
      fail(l, where + e.what());
    }
    if (fires && !arith::akida_v1::fits_20_bits(ch)) {
      std::string why;
      if (ch.step >= (1 << 20))
        why = "the step is " + std::to_string(ch.step) + " accumulator units: the weights' scale factor is large next "
              "to the activation step (tiny weights, e.g. a tiny BatchNorm gamma folded in, give oversized scale "
              "factors); fix or retrain the float model, or use fewer weight bits";
      else if (ch.threshold < 0)
        why = "the bias " + number(bias) + " is more than half an activation step (" + number(y.scale) +
              "), so the fire threshold is negative; retrain with smaller biases or run the layer on the host";
      else
        why = "the bias " + number(bias) + " makes the threshold too large; retrain with smaller biases, or use "
              "fewer weight bits";
      const std::string message = where + "threshold " + std::to_string(ch.threshold) + " and step " +
                                  std::to_string(ch.step) + " (accumulator units of " + number(unit) +
                                  ") do not fit Akida 1.0's 20-bit unsigned registers (0 <= value < 1048576): " + why;
      if (!options_.akida_v1_host_fallback) fail(l, message);
      // The remaining channels are not checked again: the layer's placement is now host.
      l.placement = Placement::host;
      model_.unmapped.push_back(Unmapped{l.name, std::string(layer_kind_name(l.kind)), message});
    }
    return ch;
  }

  static arith::output_bounds bounds(const TensorQuantization& y, Activation act, float clip,
                                     bool clip_in_accumulator = false) {
    return arith::bounds_of<P>(y.scale, y.zero_point, y.bits, y.is_signed, act, clip, clip_in_accumulator);
  }

  static arith::scale_zero_point real(const TensorQuantization& t) { return {t.scale, t.zero_point}; }

  // int32 bias at x_scale * w_scale, in the profile's rounding.
  static std::int32_t bias(const Layer& l, std::size_t c, float b, float x_scale, float w_scale) {
    try {
      return arith::quantize_bias<P>(b, x_scale, w_scale);
    } catch (const std::out_of_range&) {
      fail(l, "the bias of output channel " + std::to_string(c) + " (" + number(b) + ") does not fit int32 at scale " +
                  number(x_scale * w_scale) + " (input scale x weight scale): its weights are tiny next to the bias; "
                  "check the float model (e.g. a BatchNorm with a near-zero variance) or use per-tensor weights");
    }
  }

  // Channel c's weight scale. A channel whose weights are tiny next to its bias (a BatchNorm with
  // gamma ~ 0 leaves weights ~1e-30 and the bias as the whole output: mlperf_vww's conv2d_5) would
  // need a bias beyond int32 at x_scale * w_scale. As TFLite's and onnxruntime's converters do, the
  // channel's scale is widened until the bias is 2^30 units (headroom for the products) and its
  // weights (in l.qweights) are requantized at it: next to the bias they are noise, most become 0.
  // Per-channel float scales only (qlinear, tflite); pow2 scales must stay powers of two.
  float widen_for_bias(Layer& l, const quant::QuantizedWeights& w, std::size_t c, std::size_t channels,
                       float x_scale) const {
    const float ws = w.scale(c);
    if constexpr (qlinear || tflite) {
      if (!w.per_axis || l.bias.empty() || l.bias[c] == 0.0f) return ws;
      const float b = std::fabs(l.bias[c]);
      const float s = x_scale * ws;
      if (s != 0.0f && b / s < 2147483520.0f) return ws;
      const float sf = x_scale * 1073741824.0f / b;  // weight scale factor: bias / (x_scale / sf) = 2^30
      if (!(std::isfinite(sf) && sf > 0.0f)) return ws;  // bias() reports it
      const float k = qlinear && options_.reduce_range ? 63.0f : 127.0f;
      const std::size_t per_channel = l.qweights.size() / channels;
      for (std::size_t i = c * per_channel; i < (c + 1) * per_channel; ++i)
        l.qweights[i] = static_cast<std::int32_t>(std::clamp(static_cast<float>(P::round_real(l.weights[i] * sf)), -k, k));
      return 1.0f / sf;
    }
    return ws;
  }

  WeightQuantizerKind quantizer_for(const Layer& l) const {
    for (const auto& [node, kind] : options_.weight_overrides) {
      if (node == l.name) return kind;
      if (std::find(l.onnx_nodes.begin(), l.onnx_nodes.end(), node) != l.onnx_nodes.end()) return kind;
    }
    return options_.weights;
  }

  quant::QuantizedWeights weights(const Layer& l, std::size_t count, int out_channels, int bits,
                                  bool force_per_tensor) const {
    if (l.weights.size() != count)
      fail(l, "has " + std::to_string(l.weights.size()) + " float weights, its attributes need " +
                  std::to_string(count) + " (lowering bug)");
    for (std::size_t i = 0; i < l.weights.size(); ++i)
      if (!std::isfinite(l.weights[i]))
        fail(l, std::string("weight ") + std::to_string(i) + " (output channel " +
                    std::to_string(i / (count / static_cast<std::size_t>(out_channels))) + ") is " +
                    (std::isnan(l.weights[i]) ? "NaN" : "infinite") +
                    ": the float model is broken there; fix or retrain it (or replace the NaN/Inf weights) "
                    "before quantizing");
    check_bits(l, bits, "weights");
    if (pow2 && bits < 2) fail(l, "1-bit weights are not supported by the pow2 profile: use 2, 4 or 8 bits");
    const WeightQuantizerKind kind = quantizer_for(l);
    try {
      if constexpr (qlinear) return quantize_with(kind, l.weights, out_channels, options_.reduce_range ? 7 : 8);
      else if constexpr (gemmini) return quantize_with(per_tensor(kind), l.weights, out_channels, 8);
      else if constexpr (tflite) return quant::tflite_weights(l.weights, out_channels);
      else if constexpr (akida1) return quantize_with(kind, l.weights, out_channels, bits);
      else return quant::pow2_weights(l.weights, out_channels, bits, is_per_axis(kind) && !force_per_tensor);
    } catch (const std::invalid_argument& e) {
      fail(l, e.what());
    }
  }

  // The integers weights() gives `bits`-bit weights on this profile (what a post-training method must keep).
  WeightGrid weight_grid(int bits, bool per_axis) const {
    if constexpr (qlinear) return {options_.reduce_range ? -63 : -127, options_.reduce_range ? 63 : 127, per_axis};
    else if constexpr (tflite || gemmini) return {-127, 127, per_axis};
    else if constexpr (pow2) return {-(1 << (bits - 1)), (1 << (bits - 1)) - 1, per_axis};
    else return {-((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1, per_axis};
  }

  // --- layers ------------------------------------------------------------------------------

  // Conv and Dense: weights, bias, per-channel requantization, output bounds.
  template <class A>
  void weighted(Layer& l, A& a, int out_channels, Activation act, int gap_count) {
    const TensorQuantization x = input(l, 0);
    a.signed_input = x.is_signed;
    a.bits.in = x.bits;
    // pow2 clips a ReLU before a fused GAP on the accumulators: one accumulator unit must mean
    // the same for every channel, so the weights get a single scale.
    const bool clip_in_accumulator =
        pow2 && gap_count > 1 && act.kind == ActivationKind::clipped_relu && l.clip_max > 0.0f;
    // Weights first: a NaN/Inf weight also makes the output's calibrated range non-finite, and
    // the weight is the cause to name.
    quant::QuantizedWeights w = weights(l, weight_count(a), out_channels, a.bits.w, clip_in_accumulator);
    std::vector<float> float_bias = l.bias;  // what the integers are derived from (ptq may correct it)
    if (options_.refine_weights) options_.refine_weights(l, weight_grid(a.bits.w, w.per_axis), w, float_bias);
    const TensorQuantization y = activation(l, l.output_tensor, a.bits.out, act, l.clip_max, a.signed_output);
    a.signed_output = y.is_signed;
    if (!l.bias.empty() && l.bias.size() != static_cast<std::size_t>(out_channels))
      fail(l, "has " + std::to_string(l.bias.size()) + " biases for " + std::to_string(out_channels) +
                  " output channels (lowering bug)");
    for (std::size_t i = 0; i < float_bias.size(); ++i)
      if (!std::isfinite(float_bias[i]))
        fail(l, "bias " + std::to_string(i) + " is NaN or infinite: the float model is broken there; fix it before "
                "quantizing");
    l.qweights.assign(w.values.begin(), w.values.end());
    l.weight_scales.clear();
    l.qbias.clear();
    ProfileData<P> d;
    for (std::size_t c = 0; c < static_cast<std::size_t>(out_channels); ++c) {
      const float ws = widen_for_bias(l, w, c, static_cast<std::size_t>(out_channels), x.scale);
      l.weight_scales.push_back(ws);
      if constexpr (akida1) {
        // Akida 1.0 folds the bias into the fire threshold, so the accumulator has none. Only where the
        // ReLU acts on each pixel's accumulator before a fused average (a host layer: 1.0 averages
        // first) must the bias be in the accumulator. A fused average adds gap_count accumulators:
        // one unit of the sum is worth unit / gap_count of the average (and the bias gap_count times).
        const bool bias_in_accumulator = gap_count > 1 && act.kind != ActivationKind::none;
        const float b = float_bias.empty() ? 0.0f : float_bias[c];
        l.qbias.push_back(bias_in_accumulator ? bias(l, c, b, x.scale, ws) : 0);
        const double unit = static_cast<double>(x.scale) * ws / gap_count;
        const bool fires = l.placement == Placement::device && act.kind != ActivationKind::none;
        d.channel.push_back(
            akida_v1_channel(l, "output channel " + std::to_string(c), unit, y, bias_in_accumulator ? 0.0 : b, fires));
      } else {
        l.qbias.push_back(float_bias.empty() ? 0 : bias(l, c, float_bias[c], x.scale, ws));
        d.channel.push_back(P::channel(x.scale, ws, y.scale, gap_count));
      }
    }
    std::int64_t accumulator_clip = arith::pow2::no_accumulator_clip;
    if (clip_in_accumulator) accumulator_clip = arith::round_half_even(l.clip_max / (x.scale * w.scale(0)));
    const arith::output_bounds b = bounds(y, act, l.clip_max, clip_in_accumulator);
    if constexpr (pow2) d.output = P::output(real(y), b, accumulator_clip);  // the clip acts on the accumulator
    else d.output = P::output(real(y), b);
    l.input_zero_point = x.zero_point;
    l.weight_zero_point = 0;
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, ConvAttributes& a) {
    const Shape conv = conv_output_shape(a);
    weighted(l, a, a.filters, a.activation, a.pool.kind == PoolKind::global_average ? conv.h * conv.w : 1);
  }

  void layer(Layer& l, DenseAttributes& a) { weighted(l, a, a.units, a.activation, 1); }

  void layer(Layer& l, AddAttributes& a) {
    const TensorQuantization xa = input(l, 0), xb = input(l, 1);
    if (xa.bits != xb.bits)
      fail(l, "its inputs differ in bit-width (" + std::to_string(xa.bits) + " and " + std::to_string(xb.bits) +
                  "): give both producers the same bits");
    a.signed_input = xa.is_signed;
    // The second input may differ in signedness (a ReLU output plus a convolution without one).
    a.signed_second_input = xb.is_signed == xa.is_signed ? -1 : (xb.is_signed ? 1 : 0);
    a.bits.in = xa.bits;
    const TensorQuantization y =
        activation(l, l.output_tensor, a.bits.out, a.activation, l.clip_max, a.signed_output);
    a.signed_output = y.is_signed;
    const arith::output_bounds b = bounds(y, a.activation, l.clip_max);
    ProfileData<P> d;
    if constexpr (akida1) {
      // Akida 1.0 has no Add: statiq's definition (arith/akida_v1.hpp) aligns the levels by exact left
      // shifts, so the steps must differ by a power of two, and adds levels (no zero points).
      if (xa.zero_point != 0 || xb.zero_point != 0)
        fail(l, "an input has a zero point (the output of a layer without activation): akida_v1's Add adds "
                "levels; put a ReLU before it");
      try {
        d.add = P::make_add(xa.scale, xb.scale, {}, b);
      } catch (const std::invalid_argument&) {
        fail(l, "Akida 1.0 has no Add; statiq's akida_v1 Add aligns its inputs by exact left shifts, so their steps "
                "must differ by a power of two, not " + number(xa.scale) + " and " + number(xb.scale) +
                ": use another target for this model");
      }
      const double unit = std::min(xa.scale, xb.scale);
      d.add.activation = akida_v1_channel(l, "the sum", unit, y, 0.0, false);
    } else {
      d.add = P::add_from(real(xa), real(xb), real(y), b);
    }
    d.output = P::output(real(y), b);
    l.input_zero_point = 0;
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, ConcatAttributes& a) {
    if (a.count < 2 || a.count > 4 || l.inputs.size() != static_cast<std::size_t>(a.count))
      fail(l, "joins " + std::to_string(l.inputs.size()) + " inputs; a Concat layer takes 2 to 4 (count " +
                  std::to_string(a.count) + ")");
    const TensorQuantization x0 = input(l, 0);
    for (std::size_t i = 0; i < static_cast<std::size_t>(a.count); ++i) {
      const TensorQuantization& xi = input(l, i);
      if (xi.is_signed != x0.is_signed || xi.bits != x0.bits)
        fail(l, "its inputs differ in signedness or bit-width: the Concat layer has one input type");
    }
    a.signed_input = x0.is_signed;
    a.bits.in = x0.bits;
    const TensorQuantization y = activation(l, l.output_tensor, a.bits.out, no_activation, 0.0f, a.signed_output);
    a.signed_output = y.is_signed;
    const arith::output_bounds b = bounds(y, no_activation, 0.0f);
    ProfileData<P> d;
    for (std::size_t i = 0; i < static_cast<std::size_t>(a.count); ++i) {
      const TensorQuantization& x = input(l, i);
      if constexpr (akida1) {
        if (x.zero_point != 0)
          fail(l, "input " + std::to_string(i) + " has a zero point (the output of a layer without activation): "
                  "akida_v1's Concat rescales levels; put a ReLU before it");
        if (x.scale == y.scale && y.zero_point == 0) {
          d.rescale[i] = P::identity_rescale(b);
        } else {
          const double unit = std::ldexp(static_cast<double>(x.scale), -P::rescale_shift);
          d.rescale[i] = P::make_rescale(akida_v1_channel(l, "input " + std::to_string(i), unit, y, 0.0, false), b);
        }
      } else {
        d.rescale[i] = P::rescale_from(real(x), real(y), b);
      }
    }
    d.output = P::output(real(y), b);
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, PoolAttributes& a) {
    const TensorQuantization x = input(l, 0);
    a.signed_input = x.is_signed;
    a.bits.in = x.bits;
    ProfileData<P> d;
    if (a.pool.kind == PoolKind::max) {
      // The maximum of quantized values is the quantized maximum: the quantization passes through.
      a.bits.out = x.bits;
      a.signed_output = x.is_signed;
      d.output = P::output(real(x), bounds(x, no_activation, 0.0f));
      l.output = x;
      l.data = std::move(d);
      return;
    }
    const Pads p = resolved_pads(a);
    const bool padded = p.top || p.left || p.bottom || p.right;
    if (a.pool.kind == PoolKind::average && padded && !a.count_include_pad)
      fail(l, "AveragePool with padding excluded from the count divides border pixels differently; set "
              "count_include_pad or remove the padding");
    const int count = a.pool.kind == PoolKind::global_average ? a.input.h * a.input.w
                                                              : a.pool.kernel.h * a.pool.kernel.w;
    const TensorQuantization y = activation(l, l.output_tensor, a.bits.out, no_activation, 0.0f, a.signed_output);
    a.signed_output = y.is_signed;
    for (int c = 0; c < a.input.c; ++c) {
      if constexpr (akida1)
        d.channel.push_back(
            akida_v1_channel(l, "channel " + std::to_string(c), static_cast<double>(x.scale) / count, y, 0.0, false));
      else if constexpr (tflite)
        // TFLite's MEAN and AVERAGE_POOL_2D requantize by s_x / s_y, the division by the count apart
        // (arith/tflite.hpp: mean, average_pool).
        d.channel.push_back(P::mean_channel(x.scale, y.scale));
      else
        d.channel.push_back(P::average_channel(x.scale, y.scale, count));
    }
    d.output = P::output(real(y), bounds(y, no_activation, 0.0f));
    l.input_zero_point = x.zero_point;
    l.output = y;
    l.data = std::move(d);
  }

  // A Copy moves values: its output is quantized as its input (the index table is the lowering's).
  // A Pad's constant becomes the code the target's Quantize gives it in that quantization, saturated
  // to the type as onnxruntime's QuantizeLinear after its float Pad saturates it (a -inf before a
  // MaxPool becomes the lowest code, which no max picks over a real value).
  void layer(Layer& l, CopyAttributes& a) {
    const TensorQuantization x = input(l, 0);
    a.bits = Bits{x.bits, 8, x.bits};
    a.signed_input = a.signed_output = x.is_signed;
    l.input_zero_point = x.zero_point;
    l.output = x;
    const std::int32_t lo = x.is_signed ? -(1 << (x.bits - 1)) : 0;
    const std::int32_t hi = x.is_signed ? (1 << (x.bits - 1)) - 1 : (1 << x.bits) - 1;
    l.fill = l.pad ? statiq::detail::quantize_value<P>(l.pad->value, x.scale, x.zero_point, lo, hi) : x.zero_point;
    l.data = ProfileData<P>{};
  }

  void layer(Layer& l, LookupTableAttributes& a) {
    const TensorQuantization x = input(l, 0);
    if (x.bits != 8) fail(l, "reads a " + std::to_string(x.bits) + "-bit tensor; a lookup table indexes 8-bit codes");
    a.signed_input = x.is_signed;
    a.bits.in = x.bits;
    const TensorQuantization y = activation(l, l.output_tensor, a.bits.out, no_activation, 0.0f, a.signed_output);
    a.signed_output = y.is_signed;
    if constexpr (!qlinear) {
      fail(l, "lookup tables are built as onnxruntime builds them, for cpu-int8 only: generate for cpu-int8 or keep "
              "the node float (--unmapped float)");
    } else {
      l.qweights = qlinear_lookup_table(a, x, y);
    }
    ProfileData<P> d;
    d.output = P::output(real(y), bounds(y, no_activation, 0.0f));
    l.input_zero_point = x.zero_point;
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, ElementwiseAttributes& a) {
    const TensorQuantization xa = input(l, 0), xb = input(l, 1);
    if (xa.bits != 8 || xb.bits != 8 || xa.is_signed != xb.is_signed)
      fail(l, "its inputs differ in type or are not 8-bit; statiq's elementwise layer (onnxruntime's QLinearMul, or its "
              "float Max/Min/Sub between DQ and Q) takes one 8-bit type");
    a.signed_input = xa.is_signed;
    a.bits.in = 8;
    const TensorQuantization y = activation(l, l.output_tensor, a.bits.out, no_activation, 0.0f, a.signed_output);
    a.signed_output = y.is_signed;
    if constexpr (!qlinear)
      fail(l, "a Mul/Max/Min/Sub of two tensors is onnxruntime's QDQ form, for cpu-int8 only: generate for cpu-int8 "
              "or keep the node float (--unmapped float)");
    ProfileData<P> d;
    d.output = P::output(real(y), bounds(y, no_activation, 0.0f));
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, QuantizeAttributes& a) {
    if (!l.inputs.empty() && l.inputs[0] >= 0)
      fail(l, "a Quantize layer reads the float graph input (input -1), not layer " + std::to_string(l.inputs[0]));
    const TensorQuantization y = activation(l, model_.input_tensor, a.bits, no_activation, 0.0f, a.signed_output);
    a.signed_output = y.is_signed;
    ProfileData<P> d;
    d.output = P::output(real(y), bounds(y, no_activation, 0.0f));
    l.output = y;
    l.data = std::move(d);
  }

  void layer(Layer& l, DequantizeAttributes& a) {
    const TensorQuantization x = input(l, 0);
    a.bits = x.bits;
    a.signed_input = x.is_signed;
    l.input_zero_point = x.zero_point;
    l.output = x;  // the scale and zero point it dequantizes with
    l.data = ProfileData<P>{};
  }
};

template <class P>
void run(LoweredModel& m, const Ranges& r, const QuantizeOptions& o) {
  ProfileQuantizer<P>(m, r, o).run();
}

}  // namespace

void quantize(LoweredModel& model, const Ranges& ranges, const QuantizeOptions& options) {
  visit_target(model.target, [&]<class T>(std::type_identity<T>) { run<typename T::profile>(model, ranges, options); });
}

}  // namespace statiq::codegen
