// codegen/quantize/ptq/weight_scale_search.cpp — per-group MSE scale search (see the header).
#include "codegen/quantize/ptq/weight_scale_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>


namespace statiq::codegen::ptq {
namespace {

double round_even(double x) { return std::nearbyint(x); }  // the FPU's default mode: half to even

double group_error(std::span<const float> w, double s, const WeightGrid& grid) {
  double e = 0;
  for (const float v : w) {
    const double q = std::clamp(round_even(v / s), double(grid.lo), double(grid.hi));
    const double d = v - q * s;
    e += d * d;
  }
  return e;
}

}  // namespace

ScaleSearchResult search_weight_scales(std::span<const float> w, const WeightGrid& grid,
                                       quant::QuantizedWeights& weights) {
  ScaleSearchResult r;
  const std::size_t groups = weights.per_axis ? weights.scales.size() : 1;
  if (groups == 0 || w.size() % groups != 0 || grid.hi < 1) return r;
  const std::size_t n = w.size() / groups;
  r.groups = int(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::span<const float> group = w.subspan(g * n, n);
    const double s0 = weights.scales[g];
    double best_s = s0;
    double best = 0;
    for (std::size_t i = 0; i < n; ++i) {  // the error of the integers the quantizer chose
      const double d = group[i] - double(weights.values[g * n + i]) * s0;
      best += d * d;
    }
    r.mse_before += best;
    if (s0 > 0) {
      for (int step = 99; step >= 50; --step) {
        const double s = double(float(s0 * step / 100.0));  // the scale as the model will carry it
        const double e = group_error(group, s, grid);
        if (e < best) best = e, best_s = s;
      }
    }
    r.mse_after += best;
    if (best_s == s0) continue;
    weights.scales[g] = float(best_s);
    float max_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      weights.values[g * n + i] = static_cast<std::int8_t>(
          std::clamp(round_even(group[i] / best_s), double(grid.lo), double(grid.hi)));
      max_abs = std::max(max_abs, std::fabs(group[i]));
    }
    if (max_abs > best_s * grid.hi) ++r.clipped_groups;
  }
  return r;
}

}  // namespace statiq::codegen::ptq
