// codegen/quantize/ptq/mixed_precision.cpp — see mixed_precision.hpp.
#include "codegen/quantize/ptq/mixed_precision.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/emit/report.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"
#include "codegen/simulate/simulate.hpp"

namespace statiq::codegen::ptq {
namespace {

bool searchable(const Layer& l) {
  return !l.dynamic && !l.weights.empty() &&
         (std::holds_alternative<ConvAttributes>(l.attributes) || std::holds_alternative<DenseAttributes>(l.attributes));
}

std::size_t layer_bytes(std::size_t weights, int bits, bool packs) {
  const std::size_t per_byte = packs && bits < 8 ? std::size_t(8 / bits) : 1;
  return (weights + per_byte - 1) / per_byte;
}

// Noise power relative to the signal's: 10^(-SQNR/10).
double noise_of(double sqnr_db) { return std::pow(10.0, -sqnr_db / 10.0); }

std::size_t argmax(std::span<const float> v) { return std::size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// The float model's engine-output tensor on each chosen sample, and the measurements against it.
class Evaluator {
 public:
  Evaluator(const BudgetInputs& in, const std::string& engine_output) : in_(in) {
    const std::size_t total = in.eval.size();
    const std::size_t n = in.max_samples ? std::min(in.max_samples, total) : total;
    for (std::size_t i = 0; i < n; ++i) rows_.push_back(i * total / n);  // spread: sets are often ordered by class
    if (!in.labels.empty() && in.labels.size() < total)
      throw std::runtime_error("--budget: fewer labels than evaluation samples");
    float_.resize(n);
    const exec::FloatExecutor executor(in.graph);
    exec::parallel_for(n, [&](std::size_t i) {
      exec::RunOptions options;
      options.observer = [&](const ir::Node&, const std::string& name, const exec::Array& value) {
        if (name == engine_output && value.is_float()) float_[i] = value.f;
      };
      executor.run({in.eval.samples[rows_[i]].inputs.begin()->second}, options);
      if (float_[i].empty())
        throw std::runtime_error("--budget: the float model has no tensor '" + display_name(engine_output) +
                                 "' to compare the engine's output with");
    });
    if (!in.labels.empty()) {
      std::size_t right = 0;
      for (std::size_t i = 0; i < n; ++i) right += std::int64_t(argmax(float_[i])) == in.labels[rows_[i]];
      float_accuracy_ = double(right) / double(n);
    }
  }

  std::size_t samples() const { return rows_.size(); }
  std::optional<double> float_accuracy() const { return float_accuracy_; }

  Measure measure(const LoweredModel& model) const {
    struct One {
      double signal = 0, noise = 0;
      bool right = false, agree = false;
    };
    std::vector<One> per(rows_.size());
    WeightCache cache;
    exec::parallel_for(rows_.size(), [&](std::size_t i) {
      const exec::Array& x = in_.eval.samples[rows_[i]].inputs.begin()->second;
      const SimulationResult sim = simulate(model, x.f.data(), &cache);
      const Shape sh = sim.output_shape;
      const std::vector<float> f = sh.h * sh.w > 1 ? nchw_to_nhwc(float_[i].data(), sh) : float_[i];
      if (f.size() != sim.dequantized.size())
        throw std::runtime_error("--budget: the engine's output has " + std::to_string(sim.dequantized.size()) +
                                 " values, the float model's " + std::to_string(f.size()));
      One& o = per[i];
      for (std::size_t j = 0; j < f.size(); ++j) {
        const double d = double(f[j]) - sim.dequantized[j];
        o.signal += double(f[j]) * f[j];
        o.noise += d * d;
      }
      const std::size_t q = argmax(sim.dequantized);
      o.agree = q == argmax(f);
      o.right = !in_.labels.empty() && std::int64_t(q) == in_.labels[rows_[i]];
    });
    double signal = 0, noise = 0;
    std::size_t right = 0, agree = 0;
    for (const One& o : per) signal += o.signal, noise += o.noise, right += o.right, agree += o.agree;  // in order
    Measure m;
    m.sqnr_db = noise > 0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
    if (!in_.labels.empty()) m.accuracy = double(right) / double(per.size());
    m.agreement = double(agree) / double(per.size());
    m.weight_bytes = report_totals(model, in_.packs_sub_byte).weight_bytes;
    return m;
  }

 private:
  const BudgetInputs& in_;
  std::vector<std::size_t> rows_;
  std::vector<std::vector<float>> float_;
  std::optional<double> float_accuracy_;
};

// Accuracy lost against float in percentage points: labelled accuracy, else top-1 disagreement.
double drop_points(const Measure& m, std::optional<double> float_accuracy) {
  if (m.accuracy && float_accuracy) return 100.0 * (*float_accuracy - *m.accuracy);
  return 100.0 * (1.0 - m.agreement);
}

bool meets(const Budget& b, const Measure& m, std::optional<double> float_accuracy) {
  switch (b.kind) {
    case Budget::Kind::weight_bytes: return true;  // checked on the bytes
    case Budget::Kind::accuracy_drop: return drop_points(m, float_accuracy) <= b.value + 1e-9;
    case Budget::Kind::output_sqnr: return m.sqnr_db >= b.value;
  }
  return false;
}

std::string percent(std::optional<double> v) { return v ? fmt::format("{:.2f}%", 100 * *v) : std::string("-"); }

}  // namespace

Budget parse_budget(const std::string& text) {
  const auto bad = [&] {
    return std::runtime_error("--budget '" + display_name(text) + "': use bytes=N (weight memory, or bytes=P% of the "
                              "weights at 8 bits), drop=P (accuracy points lost against float) or sqnr=DB (output "
                              "SQNR floor against float)");
  };
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) throw bad();
  const std::string key = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  Budget b;
  if (key == "bytes") b.kind = Budget::Kind::weight_bytes;
  else if (key == "drop") b.kind = Budget::Kind::accuracy_drop;
  else if (key == "sqnr") b.kind = Budget::Kind::output_sqnr;
  else throw bad();
  if (b.kind == Budget::Kind::weight_bytes && !value.empty() && value.back() == '%') {
    b.percent_of_8_bit = true;
    value.pop_back();
  }
  std::size_t used = 0;
  try {
    b.value = std::stod(value, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  if (used != value.size() || !std::isfinite(b.value)) throw bad();
  if (b.kind != Budget::Kind::output_sqnr && b.value < 0) throw bad();
  return b;
}

std::string budget_text(const Budget& b) {
  switch (b.kind) {
    case Budget::Kind::weight_bytes:
      return b.percent_of_8_bit ? fmt::format("weight memory at most {:g}% of the weights at 8 bits", b.value)
                                : fmt::format("weight memory at most {:g} bytes", b.value);
    case Budget::Kind::accuracy_drop: return fmt::format("at most {:g} points lost against float", b.value);
    case Budget::Kind::output_sqnr: return fmt::format("output SQNR against float at least {:g} dB", b.value);
  }
  return "";
}

std::map<std::string, int> MixedPrecision::chosen_bits() const {
  std::map<std::string, int> out;
  for (const LayerSensitivity& l : layers)
    if (!l.pinned && !l.output) out[l.node] = l.chosen;
  return out;
}

std::map<std::string, int> MixedPrecision::chosen_output_bits() const {
  std::map<std::string, int> out;
  for (const LayerSensitivity& l : layers)
    if (!l.pinned && l.output) out[l.node] = l.chosen;
  return out;
}

MixedPrecision choose_bits(const BudgetInputs& in, const Budget& budget, const LowerWith& lower_with,
                           const QuantizeModel& quantize_model) {
  MixedPrecision r;
  r.budget = budget;
  if (in.search_activations && budget.kind == Budget::Kind::weight_bytes)
    throw std::runtime_error("--budget-activations with a bytes= budget: activation bits cost no weight memory; use "
                             "drop= or sqnr=, or drop --budget-activations");
  const LoweredModel base = lower_with(in.base_bits);
  // A configuration: (node, output?) -> bits.
  using Knobs = std::map<std::pair<std::string, bool>, int>;
  const auto with = [&](const Knobs& w) {
    std::map<std::string, BitsOverride> bits = in.base_bits;
    for (const auto& [knob, b] : w) (knob.second ? bits[knob.first].out : bits[knob.first].w) = b;
    return bits;
  };
  // Each searched layer's allowed widths: those its lowering accepts with the model's placement unchanged.
  for (std::size_t k = 0; k < base.layers.size(); ++k)
    for (const bool output : {false, true}) {
    const Layer& l = base.layers[k];
    if (!searchable(l) || (output && !in.search_activations)) continue;
    LayerSensitivity s;
    s.layer = k;
    s.node = l.name;
    s.weights = l.weights.size();
    s.output = output;
    const auto given = in.base_bits.find(l.name);
    s.pinned = given != in.base_bits.end() && (output ? given->second.out : given->second.w);
    const Bits bits = std::holds_alternative<ConvAttributes>(l.attributes) ? std::get<ConvAttributes>(l.attributes).bits
                                                                           : std::get<DenseAttributes>(l.attributes).bits;
    const int current = output ? bits.out : bits.w;
    std::vector<int> allowed;
    if (s.pinned) {
      allowed.push_back(current);
    } else {
      for (const int b : {8, 4, 2, 1}) {
        try {
          const LoweredModel m = lower_with(with({{{l.name, output}, b}}));
          bool same = m.layers.size() == base.layers.size();
          for (std::size_t j = 0; same && j < m.layers.size(); ++j)
            same = m.layers[j].name == base.layers[j].name && m.layers[j].placement == base.layers[j].placement;
          if (same) allowed.push_back(b);
        } catch (const std::exception&) {
          // the target refuses this width here
        }
      }
    }
    if (allowed.empty()) allowed.push_back(current);
    s.chosen_base = current;
    for (const int b : allowed) s.entries.push_back({b, output ? 0 : layer_bytes(s.weights, b, in.packs_sub_byte), {}});
    s.chosen = allowed.front();
    r.layers.push_back(std::move(s));
  }
  if (r.layers.empty()) throw std::runtime_error("--budget: the model has no conv or dense layer whose bits to choose");

  // A memory budget below every layer's lowest width is refused before anything is measured.
  const auto weight_limit = [&](std::size_t eight_bit) {
    return budget.percent_of_8_bit ? budget.value / 100.0 * double(eight_bit) : budget.value;
  };
  if (budget.kind == Budget::Kind::weight_bytes) {
    std::size_t lowest = report_totals(base, in.packs_sub_byte).weight_bytes, eight_bit = lowest;
    for (const LayerSensitivity& l : r.layers) {
      if (l.output) continue;
      const std::size_t now = layer_bytes(l.weights, l.pinned ? l.entries.front().bits : l.chosen_base, in.packs_sub_byte);
      lowest = lowest - now + l.entries.back().weight_bytes;
      eight_bit = eight_bit - now + (l.pinned ? l.entries.front().weight_bytes : l.weights);
    }
    if (double(lowest) > weight_limit(eight_bit)) {
      std::string stuck;  // the layers the target keeps at 8 bits, which the user may not expect
      for (const LayerSensitivity& l : r.layers)
        if (l.entries.back().bits == 8) stuck += (stuck.empty() ? "" : ", ") + display_name(l.node);
      throw std::runtime_error(fmt::format("--budget {}: the model needs at least {} weight bytes at the lowest bits "
                                           "the target allows per layer ({:g} asked{}); raise the budget",
                                           budget_text(budget), lowest, weight_limit(eight_bit),
                                           stuck.empty() ? "" : "; 8 bits only: " + stuck));
    }
  }
  const Evaluator eval(in, base.layers.back().output_tensor);
  r.samples = eval.samples();
  r.float_accuracy = eval.float_accuracy();
  const auto measure = [&](const Knobs& w) {
    LoweredModel m = lower_with(with(w));
    quantize_model(m);
    ++r.measured;
    return eval.measure(m);
  };
  Knobs current;
  for (const LayerSensitivity& l : r.layers)
    if (!l.pinned) current[{l.node, l.output}] = l.entries.front().bits;
  try {
    r.reference = measure(current);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--budget: the model with every layer at its highest bits does not quantize: ") +
                             e.what());
  }
  std::size_t other_bytes = r.reference.weight_bytes;  // weight bytes outside the searched layers
  for (const LayerSensitivity& l : r.layers) other_bytes -= l.entries.front().weight_bytes;
  r.eight_bit_weight_bytes = other_bytes;
  for (LayerSensitivity& l : r.layers) {
    if (!l.output) r.eight_bit_weight_bytes += l.pinned ? l.entries.front().weight_bytes : l.weights;
    l.entries.front().measure = r.reference;
    for (std::size_t e = 1; e < l.entries.size();) {
      Knobs w = current;
      w[{l.node, l.output}] = l.entries[e].bits;
      try {
        l.entries[e].measure = measure(w);
        ++e;
      } catch (const std::exception&) {
        l.entries.erase(l.entries.begin() + long(e));  // quantization refuses this width here (e.g. 1 bit on pow2)
      }
    }
  }

  // Extra output noise of layer i at entry e over the reference (>= 0: independent noises add).
  const double reference_noise = noise_of(r.reference.sqnr_db);
  const auto extra = [&](std::size_t i, std::size_t e) {
    return std::max(0.0, noise_of(r.layers[i].entries[e].measure.sqnr_db) - reference_noise);
  };
  std::vector<std::size_t> at(r.layers.size(), 0);  // entry index per layer
  const auto bytes = [&] {
    std::size_t b = other_bytes;
    for (std::size_t i = 0; i < r.layers.size(); ++i) b += r.layers[i].entries[at[i]].weight_bytes;
    return b;
  };
  // The cheapest step down in noise per byte saved among the layers not in `frozen`.
  const auto best_step = [&](const std::vector<bool>& frozen) -> std::optional<std::size_t> {
    std::optional<std::size_t> best;
    double best_cost = 0;
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      if (frozen[i] || at[i] + 1 >= r.layers[i].entries.size()) continue;
      const double saved = double(r.layers[i].entries[at[i]].weight_bytes) -
                           double(r.layers[i].entries[at[i] + 1].weight_bytes);
      const double cost = (extra(i, at[i] + 1) - extra(i, at[i])) / std::max(saved, 1.0);
      if (!best || cost < best_cost) best = i, best_cost = cost;
    }
    return best;
  };
  const auto bits_now = [&] {
    Knobs w;
    for (std::size_t i = 0; i < r.layers.size(); ++i)
      if (!r.layers[i].pinned) w[{r.layers[i].node, r.layers[i].output}] = r.layers[i].entries[at[i]].bits;
    return w;
  };
  std::vector<bool> frozen(r.layers.size(), false);
  if (budget.kind == Budget::Kind::weight_bytes) {
    const double limit = weight_limit(r.eight_bit_weight_bytes);
    while (double(bytes()) > limit) {
      const std::optional<std::size_t> i = best_step(frozen);
      if (!i) {
        throw std::runtime_error(fmt::format("--budget {}: the model needs at least {} weight bytes at the lowest bits "
                                             "the target allows per layer ({:g} asked); raise the budget",
                                             budget_text(budget), bytes(), limit));
      }
      ++at[*i];
    }
    // Bytes left over: raise the layers that remove the most predicted noise per byte while it fits.
    for (bool raised = true; raised;) {
      raised = false;
      std::optional<std::size_t> best;
      double best_gain = 0;
      for (std::size_t i = 0; i < r.layers.size(); ++i) {
        if (at[i] == 0) continue;
        const double added = double(r.layers[i].entries[at[i] - 1].weight_bytes) - double(r.layers[i].entries[at[i]].weight_bytes);
        if (double(bytes()) + added > limit) continue;
        const double gain = (extra(i, at[i]) - extra(i, at[i] - 1)) / std::max(added, 1.0);
        if (gain > 0 && (!best || gain > best_gain)) best = i, best_gain = gain;
      }
      if (best) --at[*best], raised = true;
    }
    r.chosen = measure(bits_now());
    r.met = double(r.chosen.weight_bytes) <= limit;
  } else {
    // Measured steps: a step that breaks the floor is undone and its layer stays where it is.
    Measure now = r.reference;
    r.met = meets(budget, now, r.float_accuracy);
    if (r.met) {
      while (const std::optional<std::size_t> i = best_step(frozen)) {
        ++at[*i];
        std::optional<Measure> m;
        try {
          m = measure(bits_now());
        } catch (const std::exception&) {
          // this combination does not quantize (each width alone did): treated as breaking the floor
        }
        if (m && meets(budget, *m, r.float_accuracy)) {
          now = *m;
        } else {
          --at[*i];
          frozen[*i] = true;
        }
      }
    }
    r.chosen = now;
  }
  for (std::size_t i = 0; i < r.layers.size(); ++i) r.layers[i].chosen = r.layers[i].entries[at[i]].bits;
  return r;
}

std::string MixedPrecision::text() const {
  std::string s = fmt::format("mixed precision (--budget: {}), measured on {} evaluation samples against the float "
                              "model ({} configurations):\n",
                              budget_text(budget), samples, measured);
  std::vector<std::vector<std::string>> rows{{"#", "node", "weights", "bits", "bytes", "output SQNR dB", "accuracy",
                                              "top-1 agreement", "chosen"}};
  for (const LayerSensitivity& l : layers)
    for (std::size_t e = 0; e < l.entries.size(); ++e) {
      const SensitivityEntry& x = l.entries[e];
      rows.push_back({e ? "" : std::to_string(l.layer),
                      e ? "" : display_name(l.node) + (l.output ? " (output)" : "") + (l.pinned ? " (--node-config)" : ""),
                      e || l.output ? "" : std::to_string(l.weights), std::to_string(x.bits),
                      l.output ? "-" : std::to_string(x.weight_bytes),
                      fmt::format("{:.2f}", x.measure.sqnr_db), percent(x.measure.accuracy),
                      percent(x.measure.agreement), x.bits == l.chosen ? "<-" : ""});
    }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line = " ";
    for (std::size_t c = 0; c < row.size(); ++c)
      line += " " + row[c] + (c + 1 < row.size() ? std::string(width[c] - row[c].size() + 1, ' ') : "");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  const auto figures = [&](const Measure& m) {
    std::string t = fmt::format("{} weight bytes ({:.1f}% of {} at 8 bits), output SQNR {:.2f} dB", m.weight_bytes,
                                100.0 * double(m.weight_bytes) / double(std::max<std::size_t>(eight_bit_weight_bytes, 1)),
                                eight_bit_weight_bytes, m.sqnr_db);
    if (m.accuracy) t += fmt::format(", accuracy {}", percent(m.accuracy));
    return t + fmt::format(", top-1 agreement {}", percent(m.agreement));
  };
  s += "  reference (every layer at its highest allowed bits): " + figures(reference) + "\n";
  s += "  chosen: " + figures(chosen) + (float_accuracy ? ", float accuracy " + percent(float_accuracy) : "") +
       (met ? "; budget met\n" : "; budget NOT met (even every layer at its highest allowed bits misses it)\n");
  return s;
}

std::string MixedPrecision::json() const {
  using nlohmann::json;
  const auto of = [](const Measure& m) {
    return json{{"weight_bytes", m.weight_bytes},
                {"sqnr_db", std::isfinite(m.sqnr_db) ? json(m.sqnr_db) : json(nullptr)},
                {"accuracy", m.accuracy ? json(*m.accuracy) : json(nullptr)},
                {"top1_agreement", m.agreement}};
  };
  json j;
  const char* kinds[] = {"bytes", "drop", "sqnr"};
  j["budget"] = {{"kind", kinds[int(budget.kind)]}, {"value", budget.value}, {"percent_of_8_bit", budget.percent_of_8_bit},
                 {"text", budget_text(budget)}};
  j["samples"] = samples;
  j["configurations_measured"] = measured;
  j["float_accuracy"] = float_accuracy ? json(*float_accuracy) : json(nullptr);
  j["eight_bit_weight_bytes"] = eight_bit_weight_bytes;
  j["reference"] = of(reference);
  json ls = json::array();
  for (const LayerSensitivity& l : layers) {
    json e = json::array();
    for (const SensitivityEntry& x : l.entries) {
      json o = of(x.measure);
      o["bits"] = x.bits;
      o["layer_weight_bytes"] = x.weight_bytes;
      e.push_back(std::move(o));
    }
    ls.push_back({{"index", l.layer}, {"node", l.node}, {"bits_of", l.output ? "output" : "weights"},
                  {"weights", l.weights}, {"pinned", l.pinned},
                  {"sensitivity", std::move(e)}, {"chosen_bits", l.chosen}});
  }
  j["layers"] = std::move(ls);
  j["chosen"] = of(chosen);
  j["met"] = met;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace statiq::codegen::ptq
