// codegen/calib/histogram.hpp — a fixed-range histogram with numpy.histogram's binning rules, and the
// two-pass observer base (extent first, then counts) the percentile and entropy observers share.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "codegen/calib/tensor_observer.hpp"

namespace statiq::codegen::calib {

// numpy.histogram(x, bins, range=(first, last)) semantics: `bins` equal bins, half-open
// [e_i, e_i+1) except the last, closed [e_n-1, e_n]; a degenerate range first == last becomes
// (first - 0.5, last + 0.5) as numpy does. Edges are float32 like the numpy/onnxruntime ones
// (computed as first + i * (last - first) / bins in double, then rounded; numpy's float32
// linspace may differ by one ulp). Values outside the range (impossible when the range came from
// the same data) are counted in the nearest end bin instead of being dropped.
struct Histogram {
  std::vector<std::int64_t> counts;
  std::vector<float> edges;  // counts.size() + 1

  static Histogram with_range(double first, double last, std::size_t bins);
  void add(float x);
  std::int64_t total() const;

 private:
  double first_ = 0, last_ = 0;
};

// Pass 0 records each tensor's min/max (and min/max of |x|); on_begin_pass(1) builds each
// tensor's Histogram from them (histogram_range); pass 1 fills it.
class HistogramObserver : public TensorObserver {
 public:
  int passes() const override { return 2; }
  std::vector<std::string> tensor_names() const override;

 protected:
  struct Stat {
    bool any = false;
    float min = 0, max = 0;    // of x
    float amin = 0, amax = 0;  // of |x|
    Histogram hist;
  };
  // Whether pass 1 histograms |x| (true) or x over (-t, t), t = max(|min|, |max|) (false).
  virtual bool histogram_of_abs() const = 0;
  std::size_t num_bins_ = 2048;

  // The tensor's statistics after both passes; throws naming the tensor otherwise.
  const Stat& finished(const std::string& name, const char* observer) const;

  void on_observe(const std::string& name, std::span<const float> values) override;
  void on_begin_pass(int pass) override;

 private:
  std::map<std::string, Stat> stats_;
};

}  // namespace statiq::codegen::calib
