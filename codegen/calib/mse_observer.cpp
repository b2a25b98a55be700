// codegen/calib/mse_observer.cpp — see the header.
#include "codegen/calib/mse_observer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "statiq/quant/activation_params.hpp"

namespace statiq::codegen::calib {
namespace {

// sum count * (v - q(v))^2 over the bins, q = clamp(RNE((v - lo) / step)) * step + lo on [lo, hi].
double error(const Histogram& h, double lo, double step, double levels) {
  double e = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    if (!h.counts[i]) continue;
    const double v = 0.5 * (double(h.edges[i]) + double(h.edges[i + 1]));
    const double q = std::clamp(std::nearbyint((v - lo) / step), 0.0, levels) * step + lo;
    e += double(h.counts[i]) * (v - q) * (v - q);
  }
  return e;
}

}  // namespace

Range mse_range(const Histogram& hist, float min, float max, const MseGrid& grid) {
  const Range observed{min, max};
  const double m = std::max(std::fabs(double(min)), std::fabs(double(max)));
  if (!(m > 0) || grid.bits < 1 || grid.bits > 16) return observed;
  if (grid.pow2) {
    const bool is_signed = min < 0.0f;
    const int vb = is_signed ? grid.bits - 1 : grid.bits;
    const int f0 = quant::pow2_frac_bits(float(m), vb);
    int best_f = f0;
    double best = std::numeric_limits<double>::infinity();
    for (int f = f0; f <= vb; ++f) {
      const double step = std::ldexp(1.0, -f);
      const double lo = is_signed ? -std::ldexp(1.0, vb) * step : 0.0;
      const double levels = is_signed ? std::ldexp(1.0, vb + 1) - 1 : std::ldexp(1.0, vb) - 1;
      const double e = error(hist, lo, step, levels);
      if (e < best) best = e, best_f = f;
    }
    if (best_f == f0) return observed;
    const float clip = float(std::ldexp(1.0, vb - best_f));
    Range r{std::max(min, -clip), std::min(max, clip)};
    if (std::fabs(double(max)) >= std::fabs(double(min))) r.max = clip;
    else r.min = -clip;
    return r;
  }
  const double lo0 = std::min(0.0, double(min)), hi0 = std::max(0.0, double(max));
  const double levels = std::ldexp(1.0, grid.bits) - 1;
  double best_a = 1.0, best = std::numeric_limits<double>::infinity();
  for (int step = 100; step >= 30; --step) {
    const double a = step / 100.0;
    const double e = error(hist, lo0 * a, (hi0 - lo0) * a / levels, levels);
    if (e < best) best = e, best_a = a;
  }
  if (best_a == 1.0) return observed;
  return Range{float(min < 0 ? lo0 * best_a : min), float(hi0 * best_a)};
}

MseObserver::MseObserver(MseGrid default_grid, std::map<std::string, int> bits_by_tensor, std::size_t num_bins)
    : grid_(default_grid), bits_(std::move(bits_by_tensor)) {
  if (num_bins == 0) throw std::invalid_argument("MseObserver: num_bins must be positive");
  num_bins_ = num_bins;
}

Range MseObserver::range(const std::string& name) const {
  const Stat& s = finished(name, "MseObserver");
  MseGrid g = grid_;
  if (const auto it = bits_.find(name); it != bits_.end()) g.bits = it->second;
  return mse_range(s.hist, s.min, s.max, g);
}

}  // namespace statiq::codegen::calib
