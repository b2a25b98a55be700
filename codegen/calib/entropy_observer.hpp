// codegen/calib/entropy_observer.hpp — EntropyObserver: the clipping threshold whose 8-bit
// quantization loses the least information (KL divergence), TensorRT's method as onnxruntime does it.
#pragma once

#include <cstddef>

#include "codegen/calib/histogram.hpp"

namespace statiq::codegen::calib {

// onnxruntime calibrate.py HistogramCollector.get_entropy_threshold (after NVIDIA's "8-bit
// inference with TensorRT", GTC 2017), on a histogram of x over (-m, m), m = max(|min|, |max|):
// with B bins, z = B / 2 (zero bin) and h = Q / 2 (Q quantized bins, default 128), for every
// i in [h, z]:
//   slice [s, e) = [z - i, min(z + i + 1, B)), candidate range (edges[s], edges[e]);
//   p = hist[s, e) with everything left of s added to p's first bin, right of e to its last;
//   the slice (without outliers) merged into Q bins of floor(len / Q) bins each (the remainder
//   joins the last); each merged count spread back, truncated to an integer, as
//   count / (number of nonzero p bins in the group) over the whole group -> q;
//   p and q smoothed (zeros become eps = 1e-4, the nonzero entries lose eps * zeros / nonzeros);
//   KL(p || q) = sum p_n log(p_n / q_n) after normalising both (natural log, double precision);
//   a q that is all zero scores +inf.
// The first candidate with the least KL wins, clipped to the observed [min, max].
// onnxruntime's default num_bins is 128, which leaves a single candidate (i = z = h: the full
// range); we default to TensorRT's 2048 bins so that the search has 961 candidates.
class EntropyObserver final : public HistogramObserver {
 public:
  explicit EntropyObserver(std::size_t num_bins = 2048, std::size_t num_quantized_bins = 128);
  Range range(const std::string& name) const override;

 protected:
  bool histogram_of_abs() const override { return false; }

 private:
  std::size_t num_quantized_bins_;
};

// The search above on a finished histogram (exposed for tests).
Range entropy_range(const Histogram& hist, float min, float max, std::size_t num_quantized_bins);

}  // namespace statiq::codegen::calib
