// codegen/quantize/ptq/bias_correction.cpp — see the header.
#include "codegen/quantize/ptq/bias_correction.hpp"

#include <algorithm>
#include <cmath>

namespace statiq::codegen::ptq {

BiasCorrectionResult correct_bias(std::span<const float> w, const quant::QuantizedWeights& q,
                                  const InputStatistics& stats, std::vector<float>& bias,
                                  BiasReference reference) {
  BiasCorrectionResult r;
  if (stats.groups.empty() || stats.patches == 0) return r;
  const std::size_t k = std::size_t(stats.groups[0].mean_q.size());
  if (k == 0 || w.size() % k != 0) return r;
  const std::size_t channels = w.size() / k;
  const std::size_t per_group = channels / stats.groups.size();
  if (per_group == 0) return r;
  if (bias.empty()) bias.assign(channels, 0.0f);
  r.channels = int(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const GroupMoments& m = stats.groups[c / per_group];
    const Eigen::VectorXd& mean_w = reference == BiasReference::float_input ? m.mean_f : m.mean_q;
    const double s = q.scale(c);
    double shift = 0;
    for (std::size_t i = 0; i < k; ++i)
      shift += double(q.values[c * k + i]) * s * m.mean_q[Eigen::Index(i)] - double(w[c * k + i]) * mean_w[Eigen::Index(i)];
    bias[c] = float(double(bias[c]) - shift);
    r.mean_abs_shift += std::fabs(shift);
    r.max_abs_shift = std::max(r.max_abs_shift, std::fabs(shift));
  }
  r.mean_abs_shift /= double(channels);
  return r;
}

}  // namespace statiq::codegen::ptq
