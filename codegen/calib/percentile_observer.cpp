// codegen/calib/percentile_observer.cpp — percentile range selection (see percentile_observer.hpp).
#include "codegen/calib/percentile_observer.hpp"

#include <stdexcept>

namespace statiq::codegen::calib {

namespace {

// numpy.searchsorted(cdf, v, side="left"): the first index with cdf[i] >= v, or cdf.size().
std::size_t first_at_least(const std::vector<double>& cdf, double v) {
  std::size_t i = 0;
  while (i < cdf.size() && cdf[i] < v) ++i;
  return i;
}

}  // namespace

PercentileObserver::PercentileObserver(double percentile, bool symmetric, std::size_t num_bins)
    : percentile_(percentile), symmetric_(symmetric) {
  if (!(percentile >= 0 && percentile <= 100))
    throw std::invalid_argument("PercentileObserver: percentile " + std::to_string(percentile) +
                                " is outside [0, 100]");
  if (num_bins == 0) throw std::invalid_argument("PercentileObserver: num_bins must be positive");
  num_bins_ = num_bins;
}

Range percentile_range(const Histogram& hist, float min, float max, double percentile, bool symmetric) {
  const double total = static_cast<double>(hist.total());
  std::vector<double> cdf(hist.counts.size());
  double acc = 0;
  for (std::size_t i = 0; i < cdf.size(); ++i) {
    acc += total > 0 ? static_cast<double>(hist.counts[i]) / total : 0.0;  // cumsum(hist / total)
    cdf[i] = acc;
  }
  Range r;
  if (symmetric) {
    const float t = hist.edges[first_at_least(cdf, percentile / 100.0)];
    r = {-t, t};
  } else {
    const double cut = (100.0 - percentile) / 200.0;
    r = {hist.edges[first_at_least(cdf, cut)], hist.edges[first_at_least(cdf, 1.0 - cut)]};
  }
  if (r.min < min) r.min = min;
  if (r.max > max) r.max = max;
  return r;
}

Range PercentileObserver::range(const std::string& name) const {
  const Stat& s = finished(name, "PercentileObserver");
  return percentile_range(s.hist, s.min, s.max, percentile_, symmetric_);
}

}  // namespace statiq::codegen::calib
