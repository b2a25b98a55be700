// codegen/quantize/ptq/ptq.cpp — the layer-by-layer driver of the post-training methods.
#include "codegen/quantize/ptq/ptq.hpp"

#include <algorithm>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/lower/target_registry.hpp"
#include "codegen/exec/parallel_for.hpp"
#include "codegen/quantize/ptq/activation_range_search.hpp"
#include "codegen/quantize/ptq/adaround.hpp"
#include "codegen/quantize/ptq/bias_correction.hpp"
#include "codegen/quantize/ptq/input_statistics.hpp"
#include "codegen/quantize/ptq/weight_scale_search.hpp"
#include "codegen/simulate/simulate.hpp"

namespace statiq::codegen::ptq {
namespace {

bool weighted(const Layer& l) {
  return !l.dynamic && !l.weights.empty() &&
         (std::holds_alternative<ConvAttributes>(l.attributes) || std::holds_alternative<DenseAttributes>(l.attributes));
}

std::string percent_change(double before, double after) {
  if (before <= 0) return "unchanged";
  return fmt::format("{:+.1f}%", 100.0 * (after - before) / before);
}

// A layer's refined weights and bias, as the hook hands them back to quantize().
struct Choice {
  WeightGrid grid;
  quant::QuantizedWeights weights;
  std::vector<float> bias;
};

// The real values (NHWC) of layer `k`'s input on one sample: quantized (from the simulation) and float.
struct LayerInput {
  std::vector<float> quantized, real;
};

LayerInput layer_input(const LoweredModel& model, const exec::FloatExecutor& executor, const ir::Graph& graph,
                       std::size_t k, const calib::Sample& sample, WeightCache& cache) {
  const Layer& l = model.layers[k];
  const std::size_t j = std::size_t(l.inputs.at(0));
  const exec::Array& x = sample.inputs.begin()->second;
  LayerInput in;
  const SimulationResult sim = simulate(model, x.f.data(), &cache);
  in.quantized = dequantize(model.layers[j].output, sim.layers[j]);
  const std::string& tensor = model.layers[j].output_tensor;
  const Shape shape = sim.shapes[j];
  if (std::find(graph.inputs.begin(), graph.inputs.end(), tensor) != graph.inputs.end()) {
    in.real = nchw_to_nhwc(x.f.data(), shape);
    return in;
  }
  exec::RunOptions options;
  options.observer = [&](const ir::Node&, const std::string& name, const exec::Array& value) {
    if (name == tensor && value.is_float() && value.f.size() == std::size_t(shape.size()))
      in.real = nchw_to_nhwc(value.f.data(), shape);
  };
  executor.run({x}, options);
  return in;
}

}  // namespace

PtqNotes quantize_with_ptq(LoweredModel& model, const ir::Graph& graph, const calib::CalibrationSet& set,
                           Ranges& ranges, const QuantizeOptions& options, const PtqOptions& o) {
  PtqNotes notes;
  if (o.activation_range_search) {
    std::vector<RangeChoice> changed;
    ranges = search_activation_ranges(model, graph, set, ranges, options, o.max_samples, changed, o.progress);
    for (const RangeChoice& c : changed)
      notes[c.layer].push_back(fmt::format("activation range search (output error): range x{:g}, output MSE {} on "
                                           "the calibration samples",
                                           c.factor, percent_change(c.error_before, c.error_after)));
  }
  std::map<std::size_t, Choice> fixed;     // layers the data-driven methods are done with
  std::map<std::size_t, Choice> proposed;  // what the last quantize() chose for every layer
  std::map<std::size_t, ScaleSearchResult> searched;
  QuantizeOptions q = options;
  q.refine_weights = [&](const Layer& l, const WeightGrid& grid, quant::QuantizedWeights& w, std::vector<float>& b) {
    const std::size_t k = std::size_t(&l - model.layers.data());
    if (const auto it = fixed.find(k); it != fixed.end()) {
      w = it->second.weights;
      b = it->second.bias;
      return;
    }
    if (o.weight_scale_search == ScaleSearch::weight_error) searched[k] = search_weight_scales(l.weights, grid, w);

    proposed[k] = Choice{grid, w, b};
  };
  if (o.needs_data()) {
    std::vector<std::size_t> layers;
    for (std::size_t k = 0; k < model.layers.size(); ++k)
      if (weighted(model.layers[k]) && model.layers[k].inputs.size() == 1 && model.layers[k].inputs[0] >= 0)
        layers.push_back(k);
    const std::size_t n = std::min(o.max_samples ? o.max_samples : set.size(), set.size());
    const int steps = o.adaround ? o.adaround_options.iterations : 0;
    calib::ProgressBar bar("refining weights", std::int64_t(layers.size() * (n + std::size_t(steps))), o.progress);
    const exec::FloatExecutor executor(graph);
    for (const std::size_t k : layers) {
      quantize(model, ranges, q);  // every layer before k as refined, k as the target's quantizer gives it
      const Layer& l = model.layers[k];
      InputStatisticsBuilder builder(l, o.max_patches);
      WeightCache cache;
      constexpr std::size_t batch = 64;  // samples simulated in parallel, then accumulated in order
      for (std::size_t first = 0; first < n; first += batch) {
        const std::size_t count = std::min(batch, n - first);
        std::vector<LayerInput> inputs(count);
        exec::parallel_for(count, [&](std::size_t i) {
          inputs[i] = layer_input(model, executor, graph, k, set.samples[first + i], cache);
        });
        for (const LayerInput& in : inputs) builder.add(in.quantized, in.real), bar.advance();
      }
      const InputStatistics stats = builder.finish();
      Choice c = proposed.at(k);
      if (o.weight_scale_search == ScaleSearch::output_error)
        searched[k] = search_weight_scales(l.weights, c.grid, c.weights, &stats);
      if (o.adaround) {
        const AdaRoundResult r = adaround(l.weights, c.grid, c.weights, stats, o.adaround_options, &bar);
        notes[k].push_back(fmt::format("adaround: {} of {} weights rounded away from the nearest integer, output error "
                                       "{} ({} steps, {} samples){}",
                                       r.flipped, r.weights, percent_change(r.error_before, r.error_after),
                                       o.adaround_options.iterations, n,
                                       r.kept_given ? "; not better than the given rounding, which stays" : ""));
      }
      if (o.bias_correction) {
        const BiasCorrectionResult r = correct_bias(l.weights, c.weights, stats, c.bias, o.bias_reference);
        notes[k].push_back(fmt::format("bias correction ({}): mean |shift| {:.4g}, max {:.4g} (real units, {} "
                                       "channels, {} samples)",
                                       o.bias_reference == BiasReference::float_input ? "against float" : "weights",
                                       r.mean_abs_shift, r.max_abs_shift, r.channels, n));
      }
      fixed[k] = std::move(c);
    }
    bar.finish();
  }
  quantize(model, ranges, q);
  for (const auto& [k, r] : searched) {
    auto& v = notes[k];
    const bool output = o.weight_scale_search == ScaleSearch::output_error;
    v.insert(v.begin(), fmt::format("weight scale search ({} error): {} of {} scales changed, {} clip their largest "
                                    "|w|; {} error {}",
                                    output ? "output" : "weight", r.changed_groups, r.groups, r.clipped_groups,
                                    output ? "output" : "weight", percent_change(r.error_before, r.error_after)));
  }
  return notes;
}

std::vector<std::pair<std::string, PtqOptions>> each_method_alone(const PtqOptions& ptq) {
  PtqOptions none = ptq;
  none.activation_range_search = false;
  none.weight_scale_search = ScaleSearch::off;
  none.bias_correction = false;
  none.adaround = false;
  none.progress = calib::ProgressBar::Mode::never;
  std::vector<std::pair<std::string, PtqOptions>> out{{"none", none}};
  const auto add = [&](const char* name, bool enabled, auto&& enable) {
    if (!enabled) return;
    PtqOptions p = none;
    enable(p);
    out.emplace_back(name, p);
  };
  add("range search", ptq.activation_range_search, [](PtqOptions& p) { p.activation_range_search = true; });
  add("scale search", ptq.weight_scale_search != ScaleSearch::off,
      [&](PtqOptions& p) { p.weight_scale_search = ptq.weight_scale_search; });
  add("bias correction", ptq.bias_correction, [](PtqOptions& p) { p.bias_correction = true; });
  add("adaround", ptq.adaround, [](PtqOptions& p) { p.adaround = true; });
  return out;
}

void set_mse_grids(const LoweredModel& model, calib::CalibrationOptions& options) {
  visit_target(model.target, [&]<class T>(std::type_identity<T>) {
    options.mse_grid.pow2 = std::is_same_v<typename T::profile, arith::pow2>;
  });
  for (const Layer& l : model.layers) {
    if (l.kind == LayerKind::dequantize) continue;
    const int bits = output_type(l).bits;
    options.mse_bits[l.kind == LayerKind::quantize ? model.input_tensor : l.output_tensor] = bits;
  }
}

}  // namespace statiq::codegen::ptq
