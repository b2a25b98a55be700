// codegen/emit/report_html.hpp — --report-html: the quantization report as one self-contained
// HTML page (inline SVG charts, no script, nothing fetched), for choosing quantizers by looking:
// per layer the float weights against their discretized values, the activation range chosen
// against the distribution the float model shows, the per-layer SQNR without and with each
// post-training method, and --budget's sensitivity table and chosen bits.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codegen/calib/calibration_set.hpp"
#include "codegen/emit/report.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/model/lowered_model.hpp"
#include "codegen/quantize/ptq/mixed_precision.hpp"

namespace statiq::codegen {

// Per-layer output SQNR (by LoweredModel::layers index) of one quantization of the same model.
struct MethodSqnr {
  std::string method;  // "none", "adaround", ..., "all" (the generated model)
  std::vector<std::optional<double>> sqnr_db;
};

// Per-layer SQNR of a quantized model against the float graph, averaged over the first `samples`
// of `set` (as the text report's column).
std::vector<std::optional<double>> layer_sqnr_on(const LoweredModel& model, const ir::Graph& graph,
                                                 const calib::CalibrationSet& set, std::size_t samples);

struct HtmlReportInputs {
  const LoweredModel& model;
  const ir::Graph& graph;            // the float graph it was lowered from
  const Report& report;
  const calib::CalibrationSet& samples;  // the activation distributions are observed on (up to 32 of) these
  std::vector<MethodSqnr> methods;   // empty without post-training methods
  const ptq::MixedPrecision* mixed = nullptr;
  bool packs_sub_byte = false;
};

std::string report_html(const HtmlReportInputs& in);

}  // namespace statiq::codegen
