// codegen/calib/calibrate.cpp — the calibration loop over samples and observer passes.
#include "codegen/calib/calibrate.hpp"

#include <mutex>
#include <stdexcept>

#include "codegen/calib/entropy_observer.hpp"
#include "codegen/calib/percentile_observer.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"

namespace statiq::codegen::calib {

std::string_view to_string(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::min_max: return "minmax";
    case CalibrationMethod::percentile: return "percentile";
    case CalibrationMethod::entropy: return "entropy";
    case CalibrationMethod::mse: return "mse";
  }
  return "?";
}

CalibrationMethod parse_calibration_method(std::string_view name) {
  for (auto m : {CalibrationMethod::min_max, CalibrationMethod::percentile, CalibrationMethod::entropy,
                 CalibrationMethod::mse})
    if (to_string(m) == name) return m;
  throw std::runtime_error("unknown calibration method '" + std::string(name) +
                           "': use minmax, percentile, entropy or mse");
}

std::unique_ptr<TensorObserver> make_observer(const CalibrationOptions& o) {
  switch (o.method) {
    case CalibrationMethod::min_max: return std::make_unique<MinMaxObserver>();
    case CalibrationMethod::percentile:
      return std::make_unique<PercentileObserver>(o.percentile, o.percentile_symmetric, o.num_bins);
    case CalibrationMethod::entropy: return std::make_unique<EntropyObserver>(o.num_bins, o.num_quantized_bins);
    case CalibrationMethod::mse: return std::make_unique<MseObserver>(o.mse_grid, o.mse_bits, o.num_bins);
  }
  throw std::logic_error("make_observer: unknown method");
}

void run_observer(const ir::Graph& graph, const CalibrationSet& set, TensorObserver& observer,
                  ProgressBar::Mode progress) {
  if (set.empty())
    throw std::runtime_error("calibration set '" + set.source + "' is empty: calibration needs at least one sample");
  for (const Sample& s : set.samples) validate_sample(graph, s);
  const exec::FloatExecutor executor(graph);  // refuses unsupported ops before any sample runs

  const int passes = observer.passes();
  ProgressBar bar("calibrating", static_cast<std::int64_t>(set.size()) * passes, progress);
  if (auto* min_max = dynamic_cast<MinMaxObserver*>(&observer)) {
    // Running minima and maxima do not depend on the order of the samples' tensors once each
    // sample's are merged in sample order: the samples run on all cores, each with its own observer.
    std::vector<MinMaxObserver> per_sample(set.size());
    std::mutex bar_mutex;
    exec::parallel_for(set.size(), [&](std::size_t i) {
      const Sample& s = set.samples[i];
      MinMaxObserver& o = per_sample[i];
      std::vector<exec::Array> inputs(graph.inputs.size());
      for (std::size_t k = 0; k < graph.inputs.size(); ++k) {
        inputs[k] = s.inputs.at(graph.inputs[k]);
        o.observe(graph.inputs[k], inputs[k]);
      }
      exec::RunOptions options;
      options.observer = [&o](const ir::Node&, const std::string& tensor, const exec::Array& value) {
        if (value.is_float()) o.observe(tensor, value);
      };
      try {
        executor.run(inputs, options);
      } catch (const std::exception& e) {
        throw std::runtime_error("calibration sample '" + s.origin + "': " + e.what());
      }
      const std::lock_guard lock(bar_mutex);
      bar.advance();
    });
    for (const MinMaxObserver& o : per_sample) min_max->merge(o);
    bar.finish();
    return;
  }
  exec::RunOptions run_options;
  run_options.observer = [&observer](const ir::Node&, const std::string& tensor, const exec::Array& value) {
    if (value.is_float()) observer.observe(tensor, value);
  };
  std::vector<exec::Array> inputs(graph.inputs.size());
  for (int pass = 0; pass < passes; ++pass) {
    if (pass > 0) observer.begin_pass(pass);
    for (const Sample& s : set.samples) {
      for (std::size_t k = 0; k < graph.inputs.size(); ++k) {
        inputs[k] = s.inputs.at(graph.inputs[k]);
        observer.observe(graph.inputs[k], inputs[k]);
      }
      try {
        executor.run(inputs, run_options);
      } catch (const std::exception& e) {
        throw std::runtime_error("calibration sample '" + s.origin + "': " + e.what());
      }
      bar.advance();
    }
  }
  bar.finish();
}

std::map<std::string, Range> calibrate(const ir::Graph& graph, const CalibrationSet& set,
                                       const CalibrationOptions& options, ProgressBar::Mode progress) {
  const std::unique_ptr<TensorObserver> observer = make_observer(options);
  run_observer(graph, set, *observer, progress);
  std::map<std::string, Range> ranges;
  for (const std::string& name : observer->tensor_names()) ranges[name] = observer->range(name);
  return ranges;
}

}  // namespace statiq::codegen::calib
