// codegen/calib/tensor_observer.cpp — TensorObserver pass bookkeeping and MinMaxObserver.
#include "codegen/calib/tensor_observer.hpp"

#include <algorithm>
#include <stdexcept>

namespace statiq::codegen::calib {

void TensorObserver::begin_pass(int pass) {
  if (pass != pass_ + 1 || pass >= passes())
    throw std::logic_error("observer: begin_pass(" + std::to_string(pass) + ") after pass " + std::to_string(pass_) +
                           " of " + std::to_string(passes()));
  pass_ = pass;
  on_begin_pass(pass);
}

void TensorObserver::observe(const std::string& name, const exec::Array& tensor) {
  if (!tensor.is_float())
    throw std::invalid_argument("observer: tensor '" + name + "' is " + std::string(ir::to_string(tensor.dtype)) +
                                ", only float tensors are calibrated");
  on_observe(name, tensor.f);
}

void MinMaxObserver::on_observe(const std::string& name, std::span<const float> values) {
  Stat& s = stats_[name];
  if (values.empty()) return;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  if (!s.any) {
    s.r = {*lo, *hi};
    s.any = true;
  } else {
    s.r.min = std::min(s.r.min, *lo);
    s.r.max = std::max(s.r.max, *hi);
  }
}

void MinMaxObserver::merge(const MinMaxObserver& later) {
  for (const auto& [name, l] : later.stats_) {
    Stat& s = stats_[name];  // a tensor observed only empty is still known
    if (!l.any) continue;
    if (!s.any) {
      s = l;
    } else {
      s.r.min = std::min(s.r.min, l.r.min);
      s.r.max = std::max(s.r.max, l.r.max);
    }
  }
}

Range MinMaxObserver::range(const std::string& name) const {
  const auto it = stats_.find(name);
  if (it == stats_.end()) throw std::out_of_range("MinMaxObserver: tensor '" + name + "' was never observed");
  return it->second.r;
}

std::vector<std::string> MinMaxObserver::tensor_names() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : stats_) out.push_back(name);
  return out;
}

}  // namespace statiq::codegen::calib
