// codegen/calib/entropy_observer.cpp — KL-divergence threshold search (see entropy_observer.hpp).
#include "codegen/calib/entropy_observer.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace statiq::codegen::calib {

namespace {

// Zeros become eps, nonzero entries lose eps * zeros / nonzeros (so the mass is kept); an all-zero
// distribution has no smoothing (returns false).
bool smooth(const std::vector<double>& in, std::vector<double>& out) {
  constexpr double eps = 0.0001;
  std::size_t zeros = 0;
  for (double v : in) zeros += v == 0;
  const std::size_t nonzeros = in.size() - zeros;
  if (nonzeros == 0) return false;
  const double eps1 = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i] == 0 ? eps : in[i] - eps1;
  return true;
}

// scipy.stats.entropy(p, q): both normalised to sum 1, sum p log(p / q).
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (double v : p) sp += v;
  for (double v : q) sq += v;
  double kl = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq;
    if (pi > 0) kl += pi * std::log(pi / qi);
  }
  return kl;
}

}  // namespace

EntropyObserver::EntropyObserver(std::size_t num_bins, std::size_t num_quantized_bins)
    : num_quantized_bins_(num_quantized_bins) {
  if (num_quantized_bins < 2 || num_bins < num_quantized_bins)
    throw std::invalid_argument("EntropyObserver: needs num_bins >= num_quantized_bins >= 2, got " +
                                std::to_string(num_bins) + " and " + std::to_string(num_quantized_bins));
  num_bins_ = num_bins;
}

Range entropy_range(const Histogram& hist, float min, float max, std::size_t num_quantized_bins) {
  const std::vector<std::int64_t>& h = hist.counts;
  const std::size_t bins = h.size();
  const std::size_t zero = bins / 2, half_q = num_quantized_bins / 2;
  if (num_quantized_bins < 2 || zero < half_q)
    throw std::invalid_argument("entropy_range: a histogram of " + std::to_string(bins) +
                                " bins cannot be searched with " + std::to_string(num_quantized_bins) +
                                " quantized bins");
  std::vector<std::int64_t> prefix(bins + 1, 0);  // prefix[i] = sum h[0, i)
  for (std::size_t i = 0; i < bins; ++i) prefix[i + 1] = prefix[i] + h[i];

  double best_kl = std::numeric_limits<double>::infinity();
  Range best{hist.edges.front(), hist.edges.back()};
  bool have_best = false;
  std::vector<double> p, q, ps, qs;
  for (std::size_t i = half_q; i <= zero; ++i) {
    const std::size_t start = zero - i, end = std::min(zero + i + 1, bins), len = end - start;
    p.assign(h.begin() + static_cast<std::ptrdiff_t>(start), h.begin() + static_cast<std::ptrdiff_t>(end));
    p.front() += static_cast<double>(prefix[start]);
    p.back() += static_cast<double>(prefix[bins] - prefix[end]);

    const std::size_t merged = len / num_quantized_bins;
    q.assign(len, 0.0);
    for (std::size_t k = 0; k < num_quantized_bins; ++k) {
      const std::size_t a = k * merged, b = a + merged;
      // The merged count: the slice without outliers; the last group also takes the remainder.
      std::int64_t count = prefix[start + b] - prefix[start + a];
      if (k + 1 == num_quantized_bins) count += prefix[end] - prefix[start + num_quantized_bins * merged];
      std::size_t nonzero = 0;
      for (std::size_t n = a; n < b; ++n) nonzero += p[n] != 0;
      if (nonzero == 0) continue;
      // onnxruntime stores q in an int64 array: the average is truncated.
      const auto spread = static_cast<double>(static_cast<std::int64_t>(static_cast<double>(count) / static_cast<double>(nonzero)));
      for (std::size_t n = a; n < b; ++n) q[n] = spread;
    }
    double kl = std::numeric_limits<double>::infinity();
    if (smooth(p, ps) && smooth(q, qs)) kl = kl_divergence(ps, qs);
    if (!have_best || kl < best_kl) {
      best_kl = kl;
      best = {hist.edges[start], hist.edges[end]};
      have_best = true;
    }
  }
  if (best.min < min) best.min = min;
  if (best.max > max) best.max = max;
  return best;
}

Range EntropyObserver::range(const std::string& name) const {
  const Stat& s = finished(name, "EntropyObserver");
  return entropy_range(s.hist, s.min, s.max, num_quantized_bins_);
}

}  // namespace statiq::codegen::calib
