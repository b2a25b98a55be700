// codegen/emit/report.cpp — the quantization report as a text table and as JSON (nlohmann-json).
#include "codegen/emit/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/emit/layer_facts.hpp"
#include "statiq/targets/describe.hpp"

namespace statiq::codegen {

namespace {

using nlohmann::json;

// Names as the text report shows them: display_name() (a newline or escape sequence in a node name
// must not break the table or reach a terminal).
std::string join_names(const std::vector<std::string>& items, std::string_view sep) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : std::string(sep)) + display_name(i);
  return s;
}

const LayerReport* layer_report(const Report& r, std::size_t i) { return i < r.layers.size() ? &r.layers[i] : nullptr; }

std::string placement_name(Placement p) { return p == Placement::host ? "host" : "device"; }

// Why a layer runs on the host, as the library's rule text.
std::string host_reason(const Layer& l) {
  if (l.placement != Placement::host) return {};
  return l.violation.broken() ? describe(l.violation) : "placed on the host";
}

std::string quantization_text(const TensorQuantization& q, bool float_output) {
  if (float_output) return "float";
  std::string s = fmt::format("{}{} scale {:.6g}", q.is_signed ? "int" : "uint", q.bits, q.scale);
  if (q.zero_point != 0) s += fmt::format(" zp {}", q.zero_point);
  if (q.frac_bits != 0) s += fmt::format(" (2^-{})", q.frac_bits);
  return s;
}

std::string weight_scales_text(const Layer& l) {
  if (l.weight_scales.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(l.weight_scales.begin(), l.weight_scales.end());
  std::string s = l.weight_scales.size() == 1 ? fmt::format("{:.6g}", *lo)
                                              : fmt::format("{:.4g}..{:.4g} ({} ch)", *lo, *hi, l.weight_scales.size());
  if (l.weight_zero_point != 0) s += fmt::format(" zp {}", l.weight_zero_point);
  return s;
}

std::string bits_text(const LayerFacts& f) {
  return fmt::format("{}/{}/{}", f.float_input ? "f32" : std::to_string(f.bits.in),
                     f.has_weights ? std::to_string(f.bits.w) : "-", f.float_output ? "f32" : std::to_string(f.bits.out));
}

std::string shape_text(Shape s) { return fmt::format("{}x{}x{}", s.h, s.w, s.c); }

}  // namespace

ReportTotals report_totals(const LoweredModel& model, bool packs_sub_byte) {
  ReportTotals t;
  for (const Layer& l : model.layers) {
    const LayerFacts f = facts_of(l, packs_sub_byte);
    t.params += f.params;
    t.macs += f.macs;
    if (f.has_weights) {
      const std::size_t per_byte = packs_sub_byte && f.bits.w < 8 ? std::size_t(8 / f.bits.w) : 1;
      t.weight_bytes += (f.weight_count + per_byte - 1) / per_byte;
    }
    t.host_layers += l.placement == Placement::host;
  }
  t.arena_bytes = arena_bytes(model, packs_sub_byte);
  t.arena_bound = arena_bound(model, packs_sub_byte);
  t.in_place_layers = in_place_layers(model, packs_sub_byte);
  t.arena_bytes_without_in_place = arena_bytes(model, packs_sub_byte, false);
  return t;
}

namespace {
// The arena against its lower bound, and where it is larger, why: each buffer's 16-byte alignment,
// then the gaps the greedy placement leaves (largest first, no backtracking).
std::string arena_bound_text(const LoweredModel& model, const ReportTotals& t) {
  const ArenaBound& b = t.arena_bound;
  if (model.layers.empty()) return {};
  std::string s = fmt::format("arena lower bound: {} bytes live at step {} (layer '{}': its inputs, output and scratch, "
                              "and the tensors still to be read)",
                              b.bytes, b.step, display_name(model.layers[std::size_t(b.step)].name));
  if (t.arena_bytes <= b.bytes) return s + "; the arena equals it\n";
  s += fmt::format("; the arena is {} bytes larger:", t.arena_bytes - b.bytes);
  const std::size_t alignment = std::min(t.arena_bytes, b.aligned_bytes) - b.bytes;
  if (alignment > 0) s += fmt::format(" {} bytes of 16-byte alignment of the buffers live at the worst step", alignment);
  if (t.arena_bytes > b.aligned_bytes)
    s += fmt::format("{} {} bytes of gaps left by the greedy placement (largest buffer first, no backtracking)",
                     alignment > 0 ? "," : "", t.arena_bytes - b.aligned_bytes);
  return s + "\n";
}
}  // namespace

std::string quality_text(const Quality& q) {
  std::string s = fmt::format("evaluated on {} samples:", q.samples);
  if (q.top1_agreement) s += fmt::format(" top-1 agreement with float {:.2f}%", 100 * *q.top1_agreement);
  if (q.mean_cosine) s += fmt::format("{} mean output cosine {:.5f}", q.top1_agreement ? "," : "", *q.mean_cosine);
  if (!q.not_compared.empty()) s += fmt::format("{} {}", q.top1_agreement || q.mean_cosine ? ";" : "", q.not_compared);
  return s + "\n";
}

std::string report_text(const LoweredModel& model, const Report& report, const Provenance& provenance,
                        const std::vector<std::string>& struct_names) {
  std::string s = fmt::format("statiq-codegen report: {} for target {}\n", model.name, model.target);
  if (!provenance.model_file.empty())
    s += fmt::format("model: {}{}\n", printable(shorten(provenance.model_file, 400)),
                     provenance.model_sha256.empty() ? "" : " (sha256 " + provenance.model_sha256 + ")");
  s += fmt::format("input: {} (NHWC {}), output: {}\n\n", display_name(model.input_tensor),
                   shape_text(model.input_shape), display_name(model.output_tensor));

  // one row per layer, columns as wide as their widest cell
  std::vector<std::vector<std::string>> rows{{"#", "struct", "ONNX nodes", "pattern", "placement", "bits i/w/o",
                                              "output", "weight scale", "output quantization", "range", "SQNR dB"}};
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const LayerFacts f = facts_of(l, provenance.packs_sub_byte);
    const LayerReport* r = layer_report(report, i);
    std::string range = "-", sqnr = "-";
    if (r && r->range_min && r->range_max) range = fmt::format("[{:.4g}, {:.4g}]", *r->range_min, *r->range_max);
    if (r && r->sqnr_db) sqnr = fmt::format("{:.1f}", *r->sqnr_db);
    rows.push_back({std::to_string(i), i < struct_names.size() ? struct_names[i] : display_name(l.name),
                    join_names(l.onnx_nodes, ", "),
                    f.pattern, placement_name(l.placement), bits_text(f), shape_text(f.output), weight_scales_text(l),
                    l.dynamic ? "float (input uint8 at run time)" : quantization_text(l.output, f.float_output), range,
                    sqnr});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c)
      line += row[c] + (c + 1 < row.size() ? std::string(width[c] - row[c].size() + 2, ' ') : "");
    s += line + "\n";
  }

  for (std::size_t i = 0; i < model.layers.size(); ++i)
    if (model.layers[i].placement == Placement::host)
      s += fmt::format("layer {} '{}' runs on the host: {}\n", i, display_name(model.layers[i].name),
                       printable(host_reason(model.layers[i])));

  for (std::size_t i = 0; i < model.layers.size(); ++i)
    if (const LayerReport* r = layer_report(report, i))
      for (const std::string& line : r->ptq)
        s += fmt::format("layer {} '{}' post-training {}\n", i, display_name(model.layers[i].name), line);

  const ReportTotals t = report_totals(model, provenance.packs_sub_byte);
  s += fmt::format("\ntotals: {} layers ({} on the host), {} parameters, {} weight bytes, {} MACs, arena {} bytes\n",
                   model.layers.size(), t.host_layers, t.params, t.weight_bytes, t.macs, t.arena_bytes);
  if (t.in_place_layers > 0)
    s += fmt::format("in place: {} elementwise layers write over an input no later layer reads, saving {} bytes of arena\n",
                     t.in_place_layers, t.arena_bytes_without_in_place - std::min(t.arena_bytes_without_in_place, t.arena_bytes));
  s += arena_bound_text(model, t);
  if (model.unmapped.empty()) {
    s += "unmapped nodes: none\n";
  } else {
    s += fmt::format("unmapped nodes ({}):\n", model.unmapped.size());
    for (const Unmapped& u : model.unmapped)
      s += fmt::format("  {} ({}): {}\n", display_name(u.node), display_name(u.op_type), printable(u.reason));
  }
  if (!model.float_tail.empty()) s += "float tail, run on the host after the engine: " + join_names(model.float_tail, ", ") + "\n";
  if (report.quality) s += quality_text(*report.quality);
  if (report.accuracy) {
    const Accuracy& a = *report.accuracy;
    s += fmt::format("accuracy ({}, {} samples): float {:.2f}%, quantized {:.2f}%\n", a.metric, a.samples,
                     100.0 * a.float_model, 100.0 * a.quantized_model);
  }
  s += report.mixed_precision_text;  // names already shown with display_name()
  for (const std::string& n : report.notes) s += "note: " + printable(n) + "\n";
  return s;
}

std::string report_json(const LoweredModel& model, const Report& report, const Provenance& provenance,
                        const std::vector<std::string>& struct_names) {
  json j;
  j["model"] = model.name;
  j["target"] = model.target;
  j["source"] = {{"file", provenance.model_file}, {"sha256", provenance.model_sha256}};
  j["input"] = {{"tensor", model.input_tensor},
                {"shape_nhwc", {model.input_shape.h, model.input_shape.w, model.input_shape.c}}};
  j["output"] = {{"tensor", model.output_tensor}};
  json layers = json::array();
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const LayerFacts f = facts_of(l, provenance.packs_sub_byte);
    const LayerReport* r = layer_report(report, i);
    json o;
    o["index"] = i;
    o["name"] = l.name;
    if (!f.kernel.empty()) {
      if (f.has_weights) o["weight_layout"] = weight_order_name(f.weight_layout.order);
      o["kernel"] = f.kernel;  // as this generator's build would run it; the engine's summary() names its own
    }
    o["struct"] = i < struct_names.size() ? struct_names[i] : "";
    o["kind"] = std::string(layer_kind_name(l.kind));
    o["pattern"] = f.pattern;
    o["onnx_nodes"] = l.onnx_nodes;
    o["inputs"] = l.inputs;
    o["output_tensor"] = l.output_tensor;
    o["placement"] = placement_name(l.placement);
    if (l.placement == Placement::host) o["host_reason"] = host_reason(l);
    o["bits"] = {{"input", f.float_input ? 32 : f.bits.in},
                 {"weights", f.has_weights ? json(f.bits.w) : json(nullptr)},
                 {"output", f.float_output ? 32 : f.bits.out}};
    o["output_shape_nhwc"] = {f.output.h, f.output.w, f.output.c};
    o["params"] = f.params;
    o["macs"] = f.macs;
    o["weight_scales"] = l.weight_scales;
    o["weight_zero_point"] = l.weight_zero_point;
    o["input_zero_point"] = l.input_zero_point;
    o["quantization"] = l.dynamic ? "dynamic" : "static";
    if (f.float_output) {
      o["output"] = "float";
    } else {
      o["output"] = {{"scale", l.output.scale},
                     {"zero_point", l.output.zero_point},
                     {"bits", l.output.bits},
                     {"signed", l.output.is_signed},
                     {"frac_bits", l.output.frac_bits}};
    }
    o["range"] = r && r->range_min && r->range_max ? json{{"min", *r->range_min}, {"max", *r->range_max}} : json(nullptr);
    o["sqnr_db"] = r && r->sqnr_db && std::isfinite(*r->sqnr_db) ? json(*r->sqnr_db) : json(nullptr);
    if (r && !r->ptq.empty()) o["post_training"] = r->ptq;  // only with --weight-scale-search etc.
    layers.push_back(std::move(o));
  }
  j["layers"] = std::move(layers);
  const ReportTotals t = report_totals(model, provenance.packs_sub_byte);
  j["totals"] = {{"layers", model.layers.size()}, {"host_layers", t.host_layers}, {"params", t.params},
                 {"weight_bytes", t.weight_bytes}, {"macs", t.macs}, {"arena_bytes", t.arena_bytes},
                 {"arena_lower_bound", {{"bytes", t.arena_bound.bytes}, {"aligned_bytes", t.arena_bound.aligned_bytes},
                                        {"step", t.arena_bound.step}}},
                 {"arena_in_place", {{"layers", t.in_place_layers},
                                     {"bytes_without_in_place", t.arena_bytes_without_in_place}}}};
  json unmapped = json::array();
  for (const Unmapped& u : model.unmapped)
    unmapped.push_back({{"node", u.node}, {"op_type", u.op_type}, {"reason", u.reason}});
  j["unmapped"] = std::move(unmapped);
  j["float_tail"] = model.float_tail;
  if (report.quality) {
    const Quality& q = *report.quality;
    j["quality"] = {{"samples", q.samples},
                    {"top1_agreement", q.top1_agreement ? json(*q.top1_agreement) : json(nullptr)},
                    {"mean_cosine", q.mean_cosine ? json(*q.mean_cosine) : json(nullptr)},
                    {"not_compared", q.not_compared}};
  } else {
    j["quality"] = nullptr;
  }
  if (report.accuracy) {
    const Accuracy& a = *report.accuracy;
    j["accuracy"] = {{"metric", a.metric}, {"float", a.float_model}, {"quantized", a.quantized_model},
                     {"samples", a.samples}};
  } else {
    j["accuracy"] = nullptr;
  }
  j["notes"] = report.notes;
  if (!report.mixed_precision_json.empty()) j["mixed_precision"] = json::parse(report.mixed_precision_json);
  // Names are kept whole; bytes that are not UTF-8 become U+FFFD (JSON text is UTF-8).
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace statiq::codegen
