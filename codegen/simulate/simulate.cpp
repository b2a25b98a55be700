// codegen/simulate/simulate.cpp — runs a quantized LoweredModel layer by layer with statiq::compute
// (the functions the engine's layer types call), on int32 buffers holding each tensor's integers.
#include "codegen/quantize/elementwise_params.hpp"
#include "codegen/simulate/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "codegen/lower/target_registry.hpp"
#include "statiq/layers/dynamic.hpp"

namespace statiq::codegen {
namespace {

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::runtime_error("node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) + "): " + what);
}

template <class P>
class Simulator {
 public:
  explicit Simulator(const LoweredModel& m, WeightCache* cache = nullptr) : model_(m), cache_(cache) {}

  SimulationResult run(const float* input_nchw) {
    const std::vector<float> x = nchw_to_nhwc(input_nchw, model_.input_shape);
    SimulationResult r;
    r.layers.resize(model_.layers.size());
    r.shapes.resize(model_.layers.size());
    for (std::size_t i = 0; i < model_.layers.size(); ++i) {
      const Layer& l = model_.layers[i];
      const auto* d = std::get_if<ProfileData<P>>(&l.data);
      if (!d)
        fail(l, std::string("has no ") + P::name + " data for target '" + model_.target +
                    "': quantize the model for this target before simulating it");
      r.shapes[i] = output_type(l.attributes).shape;
      std::visit([&](const auto& a) { layer(l, a, *d, x, r, i); }, l.attributes);
    }
    // The engine's output: the last integer tensor, and its float value as a Dequantize gives it.
    for (std::size_t i = model_.layers.size(); i-- > 0;) {
      const Layer& l = model_.layers[i];
      if (l.kind == LayerKind::dequantize) {
        r.dequantized = std::move(dequantized_);
        continue;
      }
      r.output = r.layers[i];
      r.output_shape = r.shapes[i];
      if (r.dequantized.empty()) r.dequantized = dequantize(l.output, r.output);
      break;
    }
    return r;
  }

  // Layer i alone, its inputs taken from `layers` (indexed like the model's layers).
  std::vector<std::int32_t> run_layer(std::size_t i, const std::vector<std::vector<std::int32_t>>& layers,
                                      const float* input_nchw) {
    const Layer& l = model_.layers.at(i);
    const auto* d = std::get_if<ProfileData<P>>(&l.data);
    if (!d)
      fail(l, std::string("has no ") + P::name + " data for target '" + model_.target +
                  "': quantize the model for this target before simulating it");
    if (layers.size() != model_.layers.size())
      fail(l, "simulate_layer needs one tensor slot per layer of the model");
    SimulationResult r;
    r.layers = layers;
    r.shapes.resize(model_.layers.size());
    std::vector<float> x;
    if (l.kind == LayerKind::quantize) {
      if (!input_nchw) fail(l, "simulate_layer on a Quantize layer needs the float input");
      x = nchw_to_nhwc(input_nchw, model_.input_shape);
    }
    std::visit([&](const auto& a) { layer(l, a, *d, x, r, i); }, l.attributes);
    return std::move(r.layers[i]);
  }

 private:
  const LoweredModel& model_;
  WeightCache* cache_ = nullptr;
  std::vector<float> dequantized_;

  const std::vector<std::int32_t>& input(const Layer& l, std::size_t k, const SimulationResult& r, std::size_t self,
                                         int expected_size) const {
    if (k >= l.inputs.size() || l.inputs[k] < 0 || static_cast<std::size_t>(l.inputs[k]) >= self)
      fail(l, "input " + std::to_string(k) + " is not an earlier layer (lowering bug)");
    const auto& v = r.layers[static_cast<std::size_t>(l.inputs[k])];
    if (static_cast<int>(v.size()) != expected_size)
      fail(l, "expects " + std::to_string(expected_size) + " input values, its input layer gives " +
                  std::to_string(v.size()) + " (lowering bug)");
    return v;
  }

  static LayerData<P> layer_data(const Layer& l, const ProfileData<P>& d, std::size_t channels) {
    if (d.channel.size() != channels || (!l.qbias.empty() && l.qbias.size() != channels))
      fail(l, "has " + std::to_string(d.channel.size()) + " channel parameters for " + std::to_string(channels) +
                  " output channels: quantize the model again");
    return LayerData<P>{l.qbias.empty() ? nullptr : l.qbias.data(), d.channel.data(), d.output, l.input_zero_point,
                        l.weight_zero_point};
  }

  // A conv or dense layer through the engine's own compute(), with the engine's operand types: byte
  // activations and byte weights in the layout the fast kernels read, so the simulation runs the
  // kernels the engine runs (the layout and the packing of sub-byte weights change no number).
  // The layer's weights checked and laid out, and their per-channel sums (statiq::weight_sums, as
  // the generator emits them): once per run with a cache, else into `local`.
  struct Prepared {
    std::vector<std::uint8_t> bytes;
    std::vector<std::int32_t> sums;
  };
  std::pair<const std::uint8_t*, const std::int32_t*> laid_out(const Layer& l, const WeightLayout& layout,
                                                               std::size_t channels, Prepared& local) {
    std::unique_lock<std::mutex> lock;  // held while the shared cache is read or filled
    if (cache_) {
      lock = std::unique_lock(cache_->mutex);
      if (const auto it = cache_->bytes.find(&l); it != cache_->bytes.end())
        return {it->second.data(), cache_->sums.at(&l).data()};
    }
    for (const std::int32_t v : l.qweights)
      if (v < -128 || v > 127) fail(l, "has a quantized weight " + std::to_string(v) + " outside int8: quantize the model again");
    std::vector<std::uint8_t>& w = cache_ ? cache_->bytes[&l] : local.bytes;
    w.assign(layout.stored(l.qweights.size()), 0);
    lay_out_weights(layout, l.qweights, l.qweights.size(), w.data());
    std::vector<std::int32_t>& sums = cache_ ? cache_->sums[&l] : local.sums;
    sums.assign(channels, 0);
    if (channels > 0) weight_sums(l.qweights, channels, l.qweights.size() / channels, sums.data());
    return {w.data(), sums.data()};
  }

  template <class A>
  std::vector<std::int32_t> weighted(const Layer& l, const A& a, const std::vector<std::int32_t>& x,
                                     LayerData<P> data, int outputs) {
    const WeightLayout layout = weight_layout(a, true);
    Prepared local;
    const auto [bytes, sums] = laid_out(l, layout, std::size_t(layout.rows), local);
    data.weight_sums = sums;
    const weight_view<qint<8, true>> view{bytes, layout};
    std::vector<std::int32_t> scratch(scratch_words(a, layout));
    std::vector<std::int32_t> y(static_cast<std::size_t>(outputs));
    const auto run = [&]<class X, class Y>(X*, Y*) {
      const X lo = std::numeric_limits<X>::min(), hi = std::numeric_limits<X>::max();
      std::vector<X> xb(x.size());
      for (std::size_t k = 0; k < x.size(); ++k) {
        if (x[k] < lo || x[k] > hi) fail(l, "an input value " + std::to_string(x[k]) + " is outside its type (simulation bug)");
        xb[k] = static_cast<X>(x[k]);
      }
      std::vector<Y> yb(y.size());
      compute<P>(a, xb.data(), view, data, yb.data(), scratch.data());
      std::copy(yb.begin(), yb.end(), y.begin());
    };
    if (a.signed_input) {
      if (a.signed_output) run(static_cast<std::int8_t*>(nullptr), static_cast<std::int8_t*>(nullptr));
      else run(static_cast<std::int8_t*>(nullptr), static_cast<std::uint8_t*>(nullptr));
    } else {
      if (a.signed_output) run(static_cast<std::uint8_t*>(nullptr), static_cast<std::int8_t*>(nullptr));
      else run(static_cast<std::uint8_t*>(nullptr), static_cast<std::uint8_t*>(nullptr));
    }
    return y;
  }

  static void check_weights(const Layer& l, std::size_t count) {
    if (l.qweights.size() != count)
      fail(l, "has " + std::to_string(l.qweights.size()) + " quantized weights, its attributes need " +
                  std::to_string(count) + ": quantize the model again");
  }

  void layer(const Layer& l, const ConvAttributes& a, const ProfileData<P>& d, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.input.size());
    check_weights(l, weight_count(a));
    r.layers[i] = weighted(l, a, x, layer_data(l, d, static_cast<std::size_t>(a.filters)), output_shape(a).size());
  }

  void layer(const Layer& l, const DenseAttributes& a, const ProfileData<P>& d, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.input.size());
    check_weights(l, weight_count(a));
    r.layers[i] = weighted(l, a, x, layer_data(l, d, static_cast<std::size_t>(a.units)), a.units);
  }

  void layer(const Layer& l, const AddAttributes& a, const ProfileData<P>& d, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& xa = input(l, 0, r, i, a.shape.size());
    const auto& xb = input(l, 1, r, i, a.shape.size());
    std::vector<std::int32_t> y(static_cast<std::size_t>(a.shape.size()));
    compute<P>(a, xa.data(), xb.data(), d.add, y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const ConcatAttributes& a, const ProfileData<P>& d, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    if (a.count < 2 || a.count > 4 || l.inputs.size() != static_cast<std::size_t>(a.count))
      fail(l, "a Concat layer takes 2 to 4 inputs");
    const std::int32_t* xs[4]{};
    for (int k = 0; k < a.count; ++k) xs[k] = input(l, static_cast<std::size_t>(k), r, i, a.inputs[k].size()).data();
    std::vector<std::int32_t> y(static_cast<std::size_t>(output_shape(a).size()));
    compute<P>(a, xs, d.rescale.data(), y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const PoolAttributes& a, const ProfileData<P>& d, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.input.size());
    std::vector<std::int32_t> y(static_cast<std::size_t>(output_shape(a).size()));
    std::vector<std::int32_t> scratch(scratch_words(a));
    LayerData<P> data{nullptr, nullptr, d.output, l.input_zero_point, 0};
    if (a.pool.kind != PoolKind::max) data = layer_data(l, d, static_cast<std::size_t>(a.input.c));
    compute<P>(a, x.data(), data, y.data(), scratch.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const CopyAttributes& a, const ProfileData<P>&, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.input.size());
    if (l.qweights.size() != std::size_t(a.output.size())) fail(l, "has no index table (lowering bug)");
    std::vector<std::int32_t> y(std::size_t(a.output.size()));
    compute(a, x.data(), l.qweights.data(), l.fill, y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const LookupTableAttributes& a, const ProfileData<P>&, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.shape.size());
    check_weights(l, 256);
    std::vector<std::int32_t> y(static_cast<std::size_t>(a.shape.size()));
    compute(a, x.data(), l.qweights.data(), y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const ElementwiseAttributes& a, const ProfileData<P>&, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& xa = input(l, 0, r, i, a.shape.size());
    const auto& xb = input(l, 1, r, i, a.second_shape().size());
    std::vector<std::int32_t> y(static_cast<std::size_t>(a.shape.size()));
    compute(a, xa.data(), xb.data(), elementwise_params(model_, l), y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const QuantizeAttributes& a, const ProfileData<P>&, const std::vector<float>& x,
             SimulationResult& r, std::size_t i) {
    if (!l.inputs.empty() && l.inputs[0] >= 0) fail(l, "a Quantize layer reads the float graph input");
    if (a.shape.size() != static_cast<int>(x.size()))
      fail(l, "quantizes " + std::to_string(a.shape.size()) + " values, the model input has " +
                  std::to_string(x.size()));
    std::vector<std::int32_t> y(x.size());
    compute<P>(a, x.data(), l.output.scale, l.output.zero_point, y.data());
    r.layers[i] = std::move(y);
  }

  void layer(const Layer& l, const DequantizeAttributes& a, const ProfileData<P>&, const std::vector<float>&,
             SimulationResult& r, std::size_t i) {
    const auto& x = input(l, 0, r, i, a.shape.size());
    dequantized_.assign(x.size(), 0.0f);
    compute(a, x.data(), l.output.scale, l.output.zero_point, dequantized_.data());
    r.layers[i].clear();
  }
};

template <class P>
SimulationResult run(const LoweredModel& m, const float* input_nchw, WeightCache* cache) {
  return Simulator<P>(m, cache).run(input_nchw);
}

template <class P>
std::vector<std::int32_t> run_layer(const LoweredModel& m, std::size_t i,
                                    const std::vector<std::vector<std::int32_t>>& layers, const float* input_nchw) {
  return Simulator<P>(m).run_layer(i, layers, input_nchw);
}

// A dynamic model (quantize_dynamic): a chain of float-to-float layers, each through
// statiq::compute_dynamic as the engine's DynamicConv2D / DynamicDense call it.
SimulationResult run_dynamic(const LoweredModel& m, const float* input_nchw) {
  SimulationResult r;
  r.layers.resize(m.layers.size());
  r.float_layers.resize(m.layers.size());
  r.shapes.resize(m.layers.size());
  const std::vector<float> x = nchw_to_nhwc(input_nchw, m.input_shape);
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const Layer& l = m.layers[i];
    if (!l.dynamic) fail(l, "is not dynamic in a dynamic model: run quantize_dynamic() on the whole model");
    for (const int from : l.inputs)
      if (from >= int(i)) fail(l, "reads a later layer (lowering bug)");
    auto input = [&](std::size_t k) -> const std::vector<float>& {
      if (k >= l.inputs.size()) fail(l, "has too few inputs (lowering bug)");
      return l.inputs[k] < 0 ? x : r.float_layers[std::size_t(l.inputs[k])];
    };
    r.shapes[i] = output_type(l.attributes).shape;
    std::visit(
        [&](const auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, ConvAttributes> || std::is_same_v<A, DenseAttributes>) {
            const std::vector<float>& in = input(0);
            const std::size_t channels = std::size_t(r.shapes[i].c);
            if (int(in.size()) != a.input.size())
              fail(l, "expects " + std::to_string(a.input.size()) + " input values, its input gives " +
                          std::to_string(in.size()));
            if (l.qweights.size() != weight_count(a) || l.bias.size() != channels ||
                (l.weight_scales.size() != 1 && l.weight_scales.size() != channels))
              fail(l, "its weights, bias or scales do not match its attributes: run quantize_dynamic() again");
            std::vector<float> y(std::size_t(r.shapes[i].size()));
            std::vector<std::int32_t> scratch(dynamic_scratch_words(a));
            const DynamicData d{l.bias.data(), l.weight_scales.data(), l.weight_scales.size() > 1, l.clip_max};
            // The weights in the layout the engine stores them, so the same kernels run.
            const WeightLayout layout = dynamic_weight_layout(a);
            std::vector<std::uint8_t> w(layout.stored(l.qweights.size()));
            lay_out_weights(layout, l.qweights, l.qweights.size(), w.data());
            compute_dynamic(a, in.data(), weight_view<qint<8, true>>{w.data(), layout}, d, y.data(), scratch.data());
            r.float_layers[i] = std::move(y);
          } else if constexpr (std::is_same_v<A, AddAttributes>) {
            const std::vector<float>& a0 = input(0);
            const std::vector<float>& a1 = input(1);
            if (int(a0.size()) != a.shape.size() || int(a1.size()) != a.shape.size())
              fail(l, "its inputs do not have its shape (lowering bug)");
            std::vector<float> y(a0.size());
            compute_dynamic(a, a0.data(), a1.data(), y.data());
            r.float_layers[i] = std::move(y);
          } else {
            fail(l, "has no dynamic form (Conv, Gemm and Add only)");
          }
        },
        l.attributes);
  }
  r.dequantized = r.float_layers.back();
  r.output_shape = r.shapes.back();
  return r;
}

}  // namespace

SimulationResult simulate(const LoweredModel& model, const float* input_nchw, WeightCache* cache) {
  if (model.dynamic) return run_dynamic(model, input_nchw);
  return visit_target(model.target,
                      [&]<class T>(std::type_identity<T>) { return run<typename T::profile>(model, input_nchw, cache); });
}

std::vector<std::int32_t> simulate_layer(const LoweredModel& model, std::size_t layer,
                                         const std::vector<std::vector<std::int32_t>>& layers, const float* input_nchw) {
  if (model.dynamic) throw std::runtime_error("simulate_layer: a dynamic model's layers are float; use simulate()");
  return visit_target(model.target, [&]<class T>(std::type_identity<T>) {
    return run_layer<typename T::profile>(model, layer, layers, input_nchw);
  });
}

std::vector<float> nchw_to_nhwc(const float* nchw, Shape s) {
  std::vector<float> out(static_cast<std::size_t>(s.size()));
  for (int c = 0; c < s.c; ++c)
    for (int h = 0; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w)
        out[static_cast<std::size_t>((h * s.w + w) * s.c + c)] = nchw[static_cast<std::size_t>((c * s.h + h) * s.w + w)];
  return out;
}

std::vector<float> dequantize(const TensorQuantization& q, std::span<const std::int32_t> values) {
  std::vector<float> out(values.size());
  // The engine's Dequantize.
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = arith::dequantize(values[i], q.scale, q.zero_point);
  return out;
}

double sqnr_db(std::span<const float> reference, std::span<const float> test) {
  if (reference.size() != test.size())
    throw std::invalid_argument("sqnr_db: the reference has " + std::to_string(reference.size()) +
                                " values, the test " + std::to_string(test.size()));
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double r = reference[i], e = r - static_cast<double>(test[i]);
    signal += r * r;
    noise += e * e;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

std::vector<LayerSqnr> layer_sqnr(const LoweredModel& model, const SimulationResult& result,
                                  const std::map<std::string, exec::Array>& float_tensors) {
  std::vector<LayerSqnr> out;
  for (std::size_t i = 0; i < model.layers.size() && i < result.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    if (l.kind == LayerKind::dequantize) continue;
    const auto it = float_tensors.find(l.kind == LayerKind::quantize ? model.input_tensor : l.output_tensor);
    if (it == float_tensors.end() || !it->second.is_float()) continue;
    const exec::Array& a = it->second;
    const Shape s = result.shapes[i];
    if (a.size() != s.size())
      fail(l, "the float tensor '" + it->first + "' has " + std::to_string(a.size()) + " values, the layer's output " +
                  std::to_string(s.size()));
    // A 4-D float tensor is NCHW; anything else (the [1, N] of a Gemm) is already in NHWC order.
    const std::vector<float> ref = a.rank() == 4 ? nchw_to_nhwc(a.f.data(), s) : a.f;
    const bool is_float = i < result.float_layers.size() && !result.float_layers[i].empty();
    out.push_back({l.name, it->first, sqnr_db(ref, is_float ? result.float_layers[i] : dequantize(l.output, result.layers[i]))});
  }
  return out;
}

}  // namespace statiq::codegen
