// statiq/quant/std_quantizer.hpp — StdQuantizer: CNN2SNN's StdWeightQuantizer, per tensor:
// sf = kmax / (threshold * std(w)); weights beyond threshold standard deviations saturate.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "statiq/quant/max_quantizer.hpp"
#include "statiq/quant/weight_quantizer.hpp"

namespace statiq::quant {

namespace detail {

// Population standard deviation (divides by n, like tf.math.reduce_std and numpy.std),
// accumulated in double so the result does not depend on the summation order, then rounded
// once to float32. 0 for an empty span.
inline float std_dev(std::span<const float> w) {
  if (w.empty()) return 0.0f;
  double sum = 0.0;
  for (float v : w) sum += v;
  const double mean = sum / static_cast<double>(w.size());
  double squares = 0.0;
  for (float v : w) squares += (v - mean) * (v - mean);
  return static_cast<float>(std::sqrt(squares / static_cast<double>(w.size())));
}

}  // namespace detail

struct StdQuantizer {
  static constexpr bool per_axis = false;
  float threshold = 3.0f;

  StdQuantizer() = default;
  explicit StdQuantizer(float threshold_in) : threshold(threshold_in) {
    if (!(threshold > 0.0f) || !std::isfinite(threshold))
      throw std::invalid_argument(
          "statiq::quant::StdQuantizer: threshold " + std::to_string(threshold) +
          " must be a finite number of standard deviations > 0 (default 3)");
  }

  // A constant group (std = 0) would give sf = inf; it falls back to MaxQuantizer's rule so a
  // constant non-zero channel keeps its value exactly (c * kmax / |c| = +-kmax). So does a
  // group whose std is so small that sf overflows.
  float scale_factor(std::span<const float> weights, int bits) const {
    const float sd = detail::std_dev(weights);
    const float sf = sd == 0.0f ? 0.0f : static_cast<float>(kmax(bits)) / (threshold * sd);
    return std::isfinite(sf) && sf > 0.0f ? sf : MaxQuantizer{}.scale_factor(weights, bits);
  }
};

}  // namespace statiq::quant
