// codegen/calib/histogram.cpp — numpy-compatible fixed-range histogram and the two-pass observer base.
#include "codegen/calib/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace statiq::codegen::calib {

Histogram Histogram::with_range(double first, double last, std::size_t bins) {
  if (bins == 0) throw std::invalid_argument("Histogram: bins must be positive");
  if (!(first <= last)) throw std::invalid_argument("Histogram: range must satisfy first <= last");
  if (first == last) {  // numpy widens an empty range by 0.5 on each side
    first -= 0.5;
    last += 0.5;
  }
  Histogram h;
  h.first_ = first;
  h.last_ = last;
  h.counts.assign(bins, 0);
  h.edges.resize(bins + 1);
  const double step = (last - first) / static_cast<double>(bins);
  for (std::size_t i = 0; i <= bins; ++i) h.edges[i] = static_cast<float>(first + static_cast<double>(i) * step);
  h.edges[bins] = static_cast<float>(last);  // exact end point, as numpy.linspace
  return h;
}

void Histogram::add(float x) {
  const auto bins = static_cast<std::int64_t>(counts.size());
  // numpy: index from the linear map, then corrected against the (rounded) edges so that a value
  // equal to an edge lands in the bin that starts there.
  const double f = (static_cast<double>(x) - first_) * (static_cast<double>(bins) / (last_ - first_));
  std::int64_t i = f <= 0 ? 0 : f >= static_cast<double>(bins) ? bins - 1 : static_cast<std::int64_t>(f);
  if (i > 0 && x < edges[static_cast<std::size_t>(i)]) --i;
  else if (i < bins - 1 && x >= edges[static_cast<std::size_t>(i + 1)]) ++i;
  ++counts[static_cast<std::size_t>(i)];
}

std::int64_t Histogram::total() const {
  std::int64_t t = 0;
  for (auto c : counts) t += c;
  return t;
}

std::vector<std::string> HistogramObserver::tensor_names() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : stats_) out.push_back(name);
  return out;
}

void HistogramObserver::on_observe(const std::string& name, std::span<const float> values) {
  if (pass() == 0) {
    Stat& s = stats_[name];
    for (float v : values) {
      const float a = std::fabs(v);
      if (!s.any) {
        s.min = s.max = v;
        s.amin = s.amax = a;
        s.any = true;
      } else {
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        s.amin = std::min(s.amin, a);
        s.amax = std::max(s.amax, a);
      }
    }
    return;
  }
  const auto it = stats_.find(name);
  if (it == stats_.end())
    throw std::logic_error("histogram observer: tensor '" + name + "' appears in pass 1 but was not seen in pass 0; "
                           "feed the same data in both passes");
  const bool abs = histogram_of_abs();
  for (float v : values) it->second.hist.add(abs ? std::fabs(v) : v);
}

void HistogramObserver::on_begin_pass(int pass) {
  if (pass != 1) return;
  for (auto& [name, s] : stats_) {
    if (histogram_of_abs()) {
      s.hist = Histogram::with_range(s.amin, s.amax, num_bins_);
    } else {
      const double t = std::max(std::fabs(static_cast<double>(s.min)), std::fabs(static_cast<double>(s.max)));
      s.hist = Histogram::with_range(-t, t, num_bins_);
    }
  }
}

const HistogramObserver::Stat& HistogramObserver::finished(const std::string& name, const char* observer) const {
  const auto it = stats_.find(name);
  if (it == stats_.end())
    throw std::out_of_range(std::string(observer) + ": tensor '" + name + "' was never observed");
  if (pass() != 1)
    throw std::logic_error(std::string(observer) + ": range('" + name +
                           "') needs both passes: observe the data, begin_pass(1), observe it again (calibrate() "
                           "does this)");
  return it->second;
}

}  // namespace statiq::codegen::calib
