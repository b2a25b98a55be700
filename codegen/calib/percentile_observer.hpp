// codegen/calib/percentile_observer.hpp — PercentileObserver: the range that keeps a percentile of
// the values (of |x|, or of both tails), from a histogram, as onnxruntime's PercentileCalibrater.
#pragma once

#include <cstddef>

#include "codegen/calib/histogram.hpp"

namespace statiq::codegen::calib {

// onnxruntime calibrate.py (HistogramCollector.collect_absolute_value / collect_value and
// compute_percentile), defaults as its create_calibrator: percentile 99.999, symmetric, 2048 bins.
//
// symmetric (percentile of |x|): hist = histogram of |x| over [min|x|, max|x|] (numpy's default
// range); cdf_i = sum_{j<=i} hist_j / total (accumulated in double); i* = the first bin with
// cdf_i >= p / 100 (numpy.searchsorted, left), or the bin count if none; t = edges[i*] (the LEFT
// edge of that bin, as onnxruntime takes it); range = (-t, t).
// both tails: hist = histogram of x over (-m, m), m = max(|min|, |max|); cut = (100 - p) / 200;
// range = (edges[i_left], edges[i_right]) with i_left the first bin with cdf >= cut and i_right
// the first with cdf >= 1 - cut.
// Finally the range is clipped to the observed [min, max] (so a ReLU output keeps min 0).
class PercentileObserver final : public HistogramObserver {
 public:
  explicit PercentileObserver(double percentile = 99.999, bool symmetric = true, std::size_t num_bins = 2048);
  Range range(const std::string& name) const override;

 protected:
  bool histogram_of_abs() const override { return symmetric_; }

 private:
  double percentile_;
  bool symmetric_;
};

// The computation above on a finished histogram (exposed for tests).
Range percentile_range(const Histogram& hist, float min, float max, double percentile, bool symmetric);

}  // namespace statiq::codegen::calib
