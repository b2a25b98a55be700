// codegen/quantize/ptq/weight_scale_search.cpp — per-group scale search (see the header).
#include "codegen/quantize/ptq/weight_scale_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "codegen/quantize/ptq/input_statistics.hpp"

namespace statiq::codegen::ptq {
namespace {

double round_even(double x) { return std::nearbyint(x); }  // the FPU's default mode: half to even

// The error of channels [first, first + count) (k weights each) quantized at scale s (or, when
// `given` is set, as the given integers are).
struct Scorer {
  std::span<const float> w;
  std::size_t k;
  const InputStatistics* stats;
  std::size_t per_group;  // output channels per conv group (stats)
  WeightGrid grid;

  double operator()(std::size_t first, std::size_t count, double s, const std::int8_t* given) const {
    double e = 0;
    Eigen::VectorXd v(static_cast<Eigen::Index>(k)), f(static_cast<Eigen::Index>(k));
    for (std::size_t c = first; c < first + count; ++c) {
      for (std::size_t i = 0; i < k; ++i) {
        const double x = w[c * k + i];
        const double q = given ? double(given[(c - first) * k + i])
                               : std::clamp(round_even(x / s), double(grid.lo), double(grid.hi));
        v[Eigen::Index(i)] = q * s;
        f[Eigen::Index(i)] = x;
      }
      if (!stats) {
        e += (v - f).squaredNorm();
      } else {
        const GroupMoments& m = stats->groups[c / per_group];
        e += v.dot(m.qq * v) - 2.0 * v.dot(m.qf * f) + f.dot(m.ff * f);
      }
    }
    return e;
  }
};

}  // namespace

ScaleSearchResult search_weight_scales(std::span<const float> w, const WeightGrid& grid,
                                       quant::QuantizedWeights& weights, const InputStatistics* stats) {
  ScaleSearchResult r;
  const std::size_t groups = weights.per_axis ? weights.scales.size() : 1;
  if (groups == 0 || w.size() % groups != 0 || grid.hi < 1) return r;
  const std::size_t n = w.size() / groups;  // weights per scale group
  std::size_t k = n, per_group = 1;
  if (stats) {
    if (stats->groups.empty() || stats->patches == 0) return r;
    k = std::size_t(stats->groups[0].qq.rows());
    if (k == 0 || w.size() % k) return r;
    per_group = (w.size() / k) / stats->groups.size();
    if (per_group == 0) return r;
  }
  const std::size_t channels_per_scale = n / k;
  const Scorer score{w, k, stats, per_group, grid};
  r.groups = int(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t first = g * channels_per_scale;
    const double s0 = weights.scales[g];
    double best_s = s0;
    double best = score(first, channels_per_scale, s0, weights.values.data() + g * n);  // as the quantizer chose
    r.error_before += best;
    if (s0 > 0) {
      for (int step = 99; step >= 50; --step) {
        const double s = double(float(s0 * step / 100.0));  // the scale as the model will carry it
        const double e = score(first, channels_per_scale, s, nullptr);
        if (e < best) best = e, best_s = s;
      }
    }
    r.error_after += best;
    if (best_s == s0) continue;
    ++r.changed_groups;
    weights.scales[g] = float(best_s);
    float max_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float x = w[g * n + i];
      weights.values[g * n + i] =
          static_cast<std::int8_t>(std::clamp(round_even(x / best_s), double(grid.lo), double(grid.hi)));
      max_abs = std::max(max_abs, std::fabs(x));
    }
    if (max_abs > best_s * grid.hi) ++r.clipped_groups;
  }
  return r;
}

}  // namespace statiq::codegen::ptq
