// codegen/calib/mse_observer.hpp — MseObserver: per tensor, the range whose quantization (at the bits
// and in the scale rule the tensor will have) gives the least mean squared error over the
// calibrated values, from a histogram: the range may clip the rare large values to get a finer step.
#pragma once

#include <map>
#include <string>

#include "codegen/calib/histogram.hpp"

namespace statiq::codegen::calib {

// The quantizer the range is chosen for.
struct MseGrid {
  int bits = 8;       // of the tensor (MseObserver: `bits_by_tensor`, else the default)
  bool pow2 = false;  // power-of-two steps (pow2 profile): step 2^-F, F from quant::pow2_frac_bits
};

// Each value of the histogram (its bin's centre, weighted by the count) against its quantized value.
// pow2: the candidates are the power-of-two steps from the one that covers max|x| (no clipping) to
// the finest the format allows (F at most its value bits), signed when min < 0 (levels -2^vb ..
// 2^vb - 1, vb = bits - 1), else unsigned (0 .. 2^bits - 1); the range returned has max|x| = 2^(vb - F),
// so that quantize() derives that very F. Uniform: the observed [min, max] (widened to hold 0)
// scaled by a in [0.3, 1] in steps of 0.01, 2^bits levels. Exposed for tests.
Range mse_range(const Histogram& hist, float min, float max, const MseGrid& grid);

class MseObserver final : public HistogramObserver {
 public:
  MseObserver(MseGrid default_grid, std::map<std::string, int> bits_by_tensor = {}, std::size_t num_bins = 2048);
  Range range(const std::string& name) const override;

 protected:
  bool histogram_of_abs() const override { return false; }

 private:
  MseGrid grid_;
  std::map<std::string, int> bits_;
};

}  // namespace statiq::codegen::calib
