// codegen/quantize/ptq/activation_range_search.cpp — see the header.
#include "codegen/quantize/ptq/activation_range_search.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"
#include "codegen/lower/target_registry.hpp"
#include "codegen/simulate/simulate.hpp"

namespace statiq::codegen::ptq {

Ranges search_activation_ranges(LoweredModel& model, const ir::Graph& graph, const calib::CalibrationSet& set,
                                const Ranges& calibrated, const QuantizeOptions& options, std::size_t max_samples,
                                std::vector<RangeChoice>& changed, calib::ProgressBar::Mode progress) {
  bool pow2 = false;
  visit_target(model.target, [&]<class T>(std::type_identity<T>) {
    pow2 = std::is_same_v<typename T::profile, arith::pow2>;
  });
  // pow2 ranges act through their power-of-two step only: halving is one more fractional bit.
  const std::vector<double> factors =
      pow2 ? std::vector<double>{0.5, 0.25} : std::vector<double>{0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  const std::size_t n = std::min(max_samples ? max_samples : set.size(), set.size());
  const std::string engine_output = model.layers.back().output_tensor;
  // The float model's value of the engine's output tensor, per sample (NHWC as the simulation's).
  quantize(model, calibrated, options);
  std::vector<std::vector<float>> reference(n);
  {
    const exec::FloatExecutor executor(graph);
    const SimulationResult shape_probe = simulate(model, set.samples.at(0).inputs.begin()->second.f.data());
    const Shape shape = shape_probe.output_shape;
    exec::parallel_for(n, [&](std::size_t s) {
      exec::RunOptions o;
      o.observer = [&](const ir::Node&, const std::string& name, const exec::Array& value) {
        if (name == engine_output && value.is_float())
          reference[s] = shape.h * shape.w > 1 ? nchw_to_nhwc(value.f.data(), shape) : value.f;
      };
      const exec::RunResult r = executor.run({set.samples[s].inputs.begin()->second}, o);
      if (reference[s].empty() && !r.outputs.empty()) reference[s] = r.outputs[0].f;
    });
  }
  const auto score = [&](const Ranges& ranges) -> double {
    try {
      quantize(model, ranges, options);
    } catch (const std::exception&) {
      return std::numeric_limits<double>::infinity();  // a range the target refuses
    }
    WeightCache cache;
    std::vector<double> error(n, 0.0);
    exec::parallel_for(n, [&](std::size_t s) {
      const SimulationResult sim = simulate(model, set.samples[s].inputs.begin()->second.f.data(), &cache);
      if (sim.dequantized.size() != reference[s].size()) {
        error[s] = std::numeric_limits<double>::infinity();
        return;
      }
      for (std::size_t i = 0; i < sim.dequantized.size(); ++i) {
        const double d = double(sim.dequantized[i]) - double(reference[s][i]);
        error[s] += d * d;
      }
    });
    double sum = 0;
    for (const double e : error) sum += e;  // in sample order: the same sum whatever the threads
    return n ? sum / double(n) : 0.0;
  };
  Ranges ranges = calibrated;
  calib::ProgressBar bar("searching activation ranges", std::int64_t(model.layers.size()), progress);
  double best = score(ranges);
  for (std::size_t k = 0; k < model.layers.size(); ++k, bar.advance()) {
    const Layer& l = model.layers[k];
    if (l.kind == LayerKind::dequantize || l.kind == LayerKind::quantize) continue;
    const auto it = ranges.find(l.output_tensor);
    if (it == ranges.end()) continue;
    const Range original = it->second;
    RangeChoice choice{k, l.output_tensor, 1.0, best, best};
    for (const double f : factors) {
      it->second = Range{float(original.min * f), float(original.max * f)};
      const double e = score(ranges);
      if (e < choice.error_after) choice.error_after = e, choice.factor = f;
    }
    it->second = choice.factor == 1.0 ? original
                                      : Range{float(original.min * choice.factor), float(original.max * choice.factor)};
    if (choice.factor != 1.0) changed.push_back(choice);
    best = choice.error_after;
  }
  bar.finish();
  quantize(model, ranges, options);
  return ranges;
}

}  // namespace statiq::codegen::ptq
