// codegen/emit/report_html.cpp — see report_html.hpp.
#include "codegen/emit/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <variant>

#include <fmt/format.h>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"
#include "codegen/simulate/simulate.hpp"

namespace statiq::codegen {
namespace {

// Text from the model (names) as HTML: printable ASCII, with the five markup characters escaped.
std::string html(std::string_view text) {
  std::string out;
  for (const char c : printable(text)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* colors[] = {"#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};

struct Series {
  std::string label;
  std::string color;
  std::vector<double> counts;  // one per bin
};

struct Marker {
  double x;
  std::string color, label;
};

constexpr int chart_w = 420, chart_h = 190, pad_l = 44, pad_b = 28, pad_t = 36;

// A legend entry's x after the ones before it (labels ~6 px a character).
int legend_x(const std::vector<std::string>& labels, std::size_t k) {
  int x = pad_l;
  for (std::size_t i = 0; i < k; ++i) x += 24 + 6 * int(labels[i].size());
  return x;
}

// Counts of `values` in `bins` equal bins over [lo, hi] (values outside fall in the end bins).
std::vector<double> histogram(const std::vector<float>& values, double lo, double hi, int bins) {
  std::vector<double> h(std::size_t(bins), 0.0);
  const double width = hi > lo ? (hi - lo) / bins : 1.0;
  for (const float v : values) {
    if (!std::isfinite(v)) continue;
    const int b = std::clamp(int(std::floor((v - lo) / width)), 0, bins - 1);
    h[std::size_t(b)] += 1;
  }
  return h;
}

// An SVG histogram: each series as bars (the later ones narrower, in front), markers as vertical
// lines, counts on a square-root scale so that sparse tails stay visible.
std::string svg_histogram(const std::string& title, double lo, double hi, const std::vector<Series>& series,
                          const std::vector<Marker>& markers) {
  double top = 1;
  for (const Series& s : series)
    for (const double c : s.counts) top = std::max(top, std::sqrt(c));
  const double plot_w = chart_w - pad_l - 10, plot_h = chart_h - pad_b - pad_t;
  const auto x_of = [&](double x) { return pad_l + (hi > lo ? (x - lo) / (hi - lo) : 0.5) * plot_w; };
  std::string s = fmt::format(R"(<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">)",
                              chart_w, chart_h, chart_w, chart_h);
  s += fmt::format(R"(<text x="{}" y="14" font-size="12" font-weight="bold">{}</text>)", pad_l, html(title));
  s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333"/>)", pad_l, pad_t + plot_h, pad_l + plot_w,
                   pad_t + plot_h);
  s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333"/>)", pad_l, pad_t, pad_l, pad_t + plot_h);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& se = series[k];
    const std::size_t bins = se.counts.size();
    const double bw = plot_w / double(std::max<std::size_t>(bins, 1));
    const double inset = bw * 0.18 * double(k);
    for (std::size_t b = 0; b < bins; ++b) {
      if (se.counts[b] <= 0) continue;
      const double h = std::sqrt(se.counts[b]) / top * plot_h;
      s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" fill-opacity="{}"/>)",
                       pad_l + bw * double(b) + inset, pad_t + plot_h - h, std::max(bw - 2 * inset, 0.8), h, se.color,
                       k ? "0.85" : "0.55");
    }
    std::vector<std::string> labels;
    for (const Series& x : series) labels.push_back(x.label);
    s += fmt::format(R"(<rect x="{}" y="21" width="10" height="8" fill="{}"/><text x="{}" y="29" font-size="10">{}</text>)",
                     legend_x(labels, k), se.color, legend_x(labels, k) + 13, html(se.label));
  }
  for (const Marker& m : markers) {
    const double x = std::clamp(x_of(m.x), double(pad_l), double(pad_l) + plot_w);
    s += fmt::format(R"(<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="{}" stroke-width="1.5" stroke-dasharray="4 2"><title>{}</title></line>)",
                     x, pad_t, x, pad_t + plot_h, m.color, html(m.label));
  }
  s += fmt::format(R"(<text x="{}" y="{}" font-size="10">{:.3g}</text>)", pad_l, chart_h - 8, lo);
  s += fmt::format(R"(<text x="{}" y="{}" font-size="10" text-anchor="end">{:.3g}</text>)", pad_l + plot_w, chart_h - 8, hi);
  s += fmt::format(R"(<text x="4" y="{}" font-size="10">&#8730;n</text>)", pad_t + 10);
  return s + "</svg>";
}

// Grouped bars: one group per row label, one bar per column; values in dB (missing: no bar).
std::string svg_bars(const std::string& title, const std::vector<std::string>& rows, const std::vector<std::string>& columns,
                     const std::vector<std::vector<std::optional<double>>>& values) {
  double top = 1, bottom = 0;
  for (const auto& r : values)
    for (const auto& v : r)
      if (v && std::isfinite(*v)) top = std::max(top, *v), bottom = std::min(bottom, *v);
  const int group_w = std::max(24, int(columns.size()) * 9 + 8);
  const int w = std::max({chart_w, pad_l + group_w * int(rows.size()) + 20, legend_x(columns, columns.size()) + 10}), h = 240;
  const double plot_h = h - 60 - pad_t;
  const auto y_of = [&](double v) { return pad_t + (top - v) / (top - bottom) * plot_h; };
  std::string s = fmt::format(R"(<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">)",
                              w, h, w, h);
  s += fmt::format(R"(<text x="{}" y="14" font-size="12" font-weight="bold">{}</text>)", pad_l, html(title));
  for (std::size_t c = 0; c < columns.size(); ++c)
    s += fmt::format(R"(<rect x="{}" y="21" width="10" height="8" fill="{}"/><text x="{}" y="29" font-size="10">{}</text>)",
                     legend_x(columns, c), colors[c % 8], legend_x(columns, c) + 13, html(columns[c]));
  s += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#333"/>)", pad_l, y_of(0), w - 10, y_of(0));
  for (const double tick : {top, top / 2})
    s += fmt::format(R"(<text x="4" y="{:.1f}" font-size="10">{:.0f} dB</text>)", y_of(tick) + 4, tick);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int x0 = pad_l + group_w * int(r) + 4;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::optional<double> v = r < values.size() && c < values[r].size() ? values[r][c] : std::nullopt;
      if (!v || !std::isfinite(*v)) continue;
      const double y = y_of(std::max(*v, 0.0)), y0 = y_of(std::min(*v, 0.0));
      s += fmt::format(R"(<rect x="{}" y="{:.1f}" width="8" height="{:.1f}" fill="{}"><title>{}: {} {:.2f} dB</title></rect>)",
                       x0 + 9 * int(c), y, std::max(y0 - y, 0.5), colors[c % 8], html(rows[r]), html(columns[c]), *v);
    }
    s += fmt::format(R"svg(<text x="{}" y="{}" font-size="9" transform="rotate(40 {} {})">{}</text>)svg", x0, h - 48, x0,
                     h - 48, html(rows[r].substr(0, 18)));
  }
  return s + "</svg>";
}

std::string number(std::optional<double> v, const char* format = "{:.2f}") {
  return v && std::isfinite(*v) ? fmt::format(fmt::runtime(format), *v) : std::string("-");
}

bool weighted(const Layer& l) {
  return !l.dynamic && !l.weights.empty() && l.weights.size() == l.qweights.size() &&
         (std::holds_alternative<ConvAttributes>(l.attributes) || std::holds_alternative<DenseAttributes>(l.attributes));
}

// The weights as the engine computes with them: scale of their channel x (q - zero point).
std::vector<float> discretized(const Layer& l) {
  std::vector<float> v(l.qweights.size());
  const std::size_t groups = std::max<std::size_t>(l.weight_scales.size(), 1);
  const std::size_t per = l.qweights.size() / groups;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float scale = l.weight_scales.empty() ? 1.0f : l.weight_scales[std::min(i / std::max<std::size_t>(per, 1), groups - 1)];
    v[i] = scale * float(l.qweights[i] - l.weight_zero_point);
  }
  return v;
}

}  // namespace

std::vector<std::optional<double>> layer_sqnr_on(const LoweredModel& model, const ir::Graph& graph,
                                                 const calib::CalibrationSet& set, std::size_t samples) {
  const std::size_t n = std::min(samples, set.size());
  std::vector<std::vector<LayerSqnr>> per(n);
  const exec::FloatExecutor executor(graph);
  WeightCache cache;
  exec::parallel_for(n, [&](std::size_t s) {
    const exec::Array& x = set.samples[s].inputs.begin()->second;
    exec::RunOptions options;
    options.record_intermediates = true;
    const exec::RunResult fr = executor.run({x}, options);
    per[s] = layer_sqnr(model, simulate(model, x.f.data(), &cache), fr.tensors);
  });
  std::vector<double> sum(model.layers.size(), 0.0);
  std::vector<int> count(model.layers.size(), 0);
  for (const auto& sample : per)
    for (const LayerSqnr& l : sample)
      for (std::size_t k = 0; k < model.layers.size(); ++k)
        if (model.layers[k].name == l.layer && std::isfinite(l.sqnr_db)) sum[k] += l.sqnr_db, ++count[k];
  std::vector<std::optional<double>> out(model.layers.size());
  for (std::size_t k = 0; k < out.size(); ++k)
    if (count[k]) out[k] = sum[k] / count[k];
  return out;
}

std::string report_html(const HtmlReportInputs& in) {
  const LoweredModel& m = in.model;
  std::string s = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>statiq-codegen report</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1400px}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0}td.l,th.l{text-align:left}
.layer{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;border-top:1px solid #ddd;padding:.5em 0}
.layer h3{width:100%;margin:.2em 0;font-size:14px}
.chart{background:#fafafa;border:1px solid #e4e4e4}
.notes{font-size:12px;max-width:520px}
</style></head><body>
)";
  s += fmt::format("<h1>statiq-codegen report: {} for {}</h1>\n", html(m.name), html(m.target));
  const ReportTotals t = report_totals(m, in.packs_sub_byte);
  s += fmt::format("<p>{} layers ({} on the host), {} weight bytes, arena {} bytes.", m.layers.size(), t.host_layers,
                   t.weight_bytes, t.arena_bytes);
  if (in.report.accuracy)
    s += fmt::format(" Accuracy on {} samples: float {:.2f}%, quantized {:.2f}%.", in.report.accuracy->samples,
                     100 * in.report.accuracy->float_model, 100 * in.report.accuracy->quantized_model);
  if (in.report.quality && in.report.quality->mean_cosine)
    s += fmt::format(" Mean output cosine {:.5f}.", *in.report.quality->mean_cosine);
  s += "</p>\n";

  // Per-layer SQNR without and with each post-training method.
  std::vector<std::string> names;
  for (const Layer& l : m.layers) names.push_back(l.name);
  if (!in.methods.empty()) {
    s += "<h2>Per-layer SQNR (dB) without and with each post-training method</h2>\n<table><tr><th class=l>layer</th>";
    std::vector<std::string> columns;
    for (const MethodSqnr& me : in.methods) columns.push_back(me.method), s += "<th>" + html(me.method) + "</th>";
    s += "</tr>\n";
    std::vector<std::string> rows;
    std::vector<std::vector<std::optional<double>>> values;
    for (std::size_t k = 0; k < m.layers.size(); ++k) {
      if (m.layers[k].kind == LayerKind::dequantize) continue;
      rows.push_back(m.layers[k].name);
      values.emplace_back();
      s += "<tr><td class=l>" + html(m.layers[k].name) + "</td>";
      for (const MethodSqnr& me : in.methods) {
        const std::optional<double> v = k < me.sqnr_db.size() ? me.sqnr_db[k] : std::nullopt;
        values.back().push_back(v);
        s += "<td>" + number(v) + "</td>";
      }
      s += "</tr>\n";
    }
    s += "</table>\n" + svg_bars("per-layer SQNR by method", rows, columns, values) + "\n";
  }

  // --budget: the sensitivity table and the choice.
  if (in.mixed) {
    const ptq::MixedPrecision& mp = *in.mixed;
    s += "<h2>Mixed precision (--budget: " + html(ptq::budget_text(mp.budget)) + ")</h2>\n";
    s += fmt::format("<p>Measured on {} evaluation samples; {} configurations. Chosen: {} weight bytes ({:.1f}% of {} at 8 "
                     "bits), output SQNR {:.2f} dB{}; budget {}.</p>\n",
                     mp.samples, mp.measured, mp.chosen.weight_bytes,
                     100.0 * double(mp.chosen.weight_bytes) / double(std::max<std::size_t>(mp.eight_bit_weight_bytes, 1)),
                     mp.eight_bit_weight_bytes, mp.chosen.sqnr_db,
                     mp.chosen.accuracy ? fmt::format(", accuracy {:.2f}%", 100 * *mp.chosen.accuracy) : "",
                     mp.met ? "met" : "NOT met");
    s += "<table><tr><th class=l>layer</th><th>weights</th><th>bits</th><th>bytes</th><th>output SQNR dB</th>"
         "<th>accuracy</th><th>chosen</th></tr>\n";
    std::vector<std::string> rows, columns;
    std::map<int, std::size_t> column_of;
    for (const ptq::LayerSensitivity& l : mp.layers)
      for (const ptq::SensitivityEntry& e : l.entries)
        if (!column_of.count(e.bits)) column_of[e.bits] = 0;
    for (auto it = column_of.rbegin(); it != column_of.rend(); ++it)
      it->second = columns.size(), columns.push_back(fmt::format("{}-bit", it->first));
    std::vector<std::vector<std::optional<double>>> values;
    for (const ptq::LayerSensitivity& l : mp.layers) {
      rows.push_back(l.output ? l.node + " (out)" : l.node);
      values.emplace_back(columns.size());
      for (const ptq::SensitivityEntry& e : l.entries) {
        values.back()[column_of[e.bits]] = e.measure.sqnr_db;
        s += fmt::format("<tr><td class=l>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td></tr>\n",
                         html(l.node), l.output ? " (output)" : "", l.weights, e.bits, e.weight_bytes, e.measure.sqnr_db,
                         e.measure.accuracy ? fmt::format("{:.2f}%", 100 * *e.measure.accuracy) : "-",
                         e.bits == l.chosen ? "&#10004;" : "");
      }
    }
    s += "</table>\n" + svg_bars("output SQNR with only this layer lowered", rows, columns, values) + "\n";
  }

  // Per layer: weights and activations.
  std::map<std::string, std::vector<std::size_t>> layers_of;
  for (std::size_t k = 0; k < m.layers.size(); ++k) layers_of[m.layers[k].output_tensor].push_back(k);
  std::vector<std::vector<float>> observed(m.layers.size());
  {
    const std::size_t n = std::min<std::size_t>(in.samples.size(), 32);
    std::vector<std::vector<std::vector<float>>> per(n, std::vector<std::vector<float>>(m.layers.size()));
    const std::optional<exec::FloatExecutor> executor =
        n ? std::optional<exec::FloatExecutor>(std::in_place, in.graph) : std::nullopt;
    exec::parallel_for(n, [&](std::size_t i) {
      exec::RunOptions options;
      options.observer = [&](const ir::Node&, const std::string& name, const exec::Array& value) {
        if (const auto it = layers_of.find(name); it != layers_of.end() && value.is_float())
          for (const std::size_t k : it->second) {
            // At most ~4096 values a tensor and sample (a large model's maps would take gigabytes),
            // with its extremes, so that the chart's span is the observed one.
            const std::size_t stride = std::max<std::size_t>(1, value.f.size() / 4096);
            std::vector<float>& kept = per[i][k];
            for (std::size_t j = 0; j < value.f.size(); j += stride) kept.push_back(value.f[j]);
            if (stride > 1 && !value.f.empty()) {
              const auto [mn, mx] = std::minmax_element(value.f.begin(), value.f.end());
              kept.push_back(*mn), kept.push_back(*mx);
            }
          }
      };
      executor->run({in.samples.samples[i].inputs.begin()->second}, options);
    });
    for (const auto& sample : per)
      for (std::size_t k = 0; k < m.layers.size(); ++k) observed[k].insert(observed[k].end(), sample[k].begin(), sample[k].end());
  }
  s += "<h2>Layers</h2>\n";
  for (std::size_t k = 0; k < m.layers.size(); ++k) {
    const Layer& l = m.layers[k];
    if (l.kind == LayerKind::dequantize) continue;
    s += fmt::format("<div class=\"layer\"><h3>{} '{}' ({}, {})</h3>\n", k, html(l.name), layer_kind_name(l.kind),
                     l.placement == Placement::host ? "host" : "device");
    if (weighted(l)) {
      const std::vector<float> q = discretized(l);
      float lo = 0, hi = 0;
      for (std::size_t i = 0; i < q.size(); ++i)
        lo = std::min({lo, l.weights[i], q[i]}), hi = std::max({hi, l.weights[i], q[i]});
      const int bits = std::holds_alternative<ConvAttributes>(l.attributes) ? std::get<ConvAttributes>(l.attributes).bits.w
                                                                            : std::get<DenseAttributes>(l.attributes).bits.w;
      s += svg_histogram(fmt::format("weights: float vs {}-bit ({} values)", bits, l.weights.size()), lo, hi,
                         {{"float", "#4e79a7", histogram(l.weights, lo, hi, 80)},
                          {"discretized", "#e15759", histogram(q, lo, hi, 80)}},
                         {}) + "\n";
    }
    if (!observed[k].empty() && l.output.scale > 0) {
      const TensorQuantization& o = l.output;
      const double qmin = o.is_signed ? -std::ldexp(1.0, o.bits - 1) : 0.0;
      const double qmax = o.is_signed ? std::ldexp(1.0, o.bits - 1) - 1 : std::ldexp(1.0, o.bits) - 1;
      const double grid_lo = o.scale * (qmin - o.zero_point), grid_hi = o.scale * (qmax - o.zero_point);
      const auto [mn, mx] = std::minmax_element(observed[k].begin(), observed[k].end());
      const double lo = std::min<double>({*mn, grid_lo}), hi = std::max<double>({*mx, grid_hi});
      std::vector<Marker> markers{{grid_lo, "#e15759", "lowest representable"}, {grid_hi, "#e15759", "highest representable"}};
      const LayerReport* r = k < in.report.layers.size() ? &in.report.layers[k] : nullptr;
      if (r && r->range_min && r->range_max)
        markers.push_back({*r->range_min, "#59a14f", "calibrated min"}), markers.push_back({*r->range_max, "#59a14f", "calibrated max"});
      s += svg_histogram(fmt::format("output: observed (float) vs {}-bit range [{:.3g}, {:.3g}]", o.bits, grid_lo, grid_hi),
                         lo, hi, {{"observed", "#76b7b2", histogram(observed[k], lo, hi, 80)}}, markers) + "\n";
    }
    s += "<div class=\"notes\">";
    if (k < in.report.layers.size() && in.report.layers[k].sqnr_db)
      s += fmt::format("SQNR {:.2f} dB<br>", *in.report.layers[k].sqnr_db);
    if (k < in.report.layers.size())
      for (const std::string& line : in.report.layers[k].ptq) s += html(line) + "<br>";
    s += "</div></div>\n";
  }
  s += "</body></html>\n";
  return s;
}

}  // namespace statiq::codegen
