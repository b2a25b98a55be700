// codegen/quantize/ptq/input_statistics.cpp — patch moments of a conv or dense layer's input.
#include "codegen/quantize/ptq/input_statistics.hpp"

#include <algorithm>
#include <stdexcept>
#include <variant>

namespace statiq::codegen::ptq {
namespace {

// The geometry every weighted layer reduces to (a dense layer is a 1x1 convolution of a 1x1xN input).
kernels::reference::Conv2DGeometry geometry_of(const Layer& l) {
  if (const auto* c = std::get_if<ConvAttributes>(&l.attributes)) return conv_geometry(*c);
  if (const auto* d = std::get_if<DenseAttributes>(&l.attributes)) return conv_geometry(*d);
  throw std::logic_error("ptq: layer '" + l.name + "' has no weights");
}

}  // namespace

InputStatisticsBuilder::InputStatisticsBuilder(const Layer& layer, std::size_t max_patches)
    : layer_(layer), max_patches_(std::max<std::size_t>(max_patches, 1)) {
  const auto g = geometry_of(layer);
  groups_ = g.group;
  k_ = g.kernel.h * g.kernel.w * g.in_channels_per_group();
  sums_.resize(std::size_t(groups_));
  for (GroupMoments& m : sums_) {
    m.mean_q = Eigen::VectorXd::Zero(k_);
    m.mean_f = Eigen::VectorXd::Zero(k_);
    m.qq = Eigen::MatrixXd::Zero(k_, k_);
    m.qf = Eigen::MatrixXd::Zero(k_, k_);
    m.ff = Eigen::MatrixXd::Zero(k_, k_);
  }
}

void InputStatisticsBuilder::add(const std::vector<float>& x_q, const std::vector<float>& x_f) {
  const auto g = geometry_of(layer_);
  if (x_q.size() != std::size_t(g.in.size()))
    throw std::logic_error("ptq: layer '" + layer_.name + "' input has " + std::to_string(x_q.size()) +
                           " values, expected " + std::to_string(g.in.size()));
  const bool with_float = x_f.size() == x_q.size();
  all_float_ = all_float_ && with_float;
  const std::size_t positions = std::size_t(g.out.h) * std::size_t(g.out.w);
  const std::size_t step = (positions + max_patches_ - 1) / max_patches_;
  std::vector<std::size_t> used;
  for (std::size_t p = 0; p < positions; p += step) used.push_back(p);
  const int cg = g.in_channels_per_group();
  Eigen::MatrixXf pq(Eigen::Index(used.size()), k_), pf(Eigen::Index(used.size()), k_);
  for (int grp = 0; grp < groups_; ++grp) {
    pq.setZero();
    pf.setZero();
    for (std::size_t r = 0; r < used.size(); ++r) {
      const int oy = int(used[r] / std::size_t(g.out.w)), ox = int(used[r] % std::size_t(g.out.w));
      for (int ky = 0; ky < g.kernel.h; ++ky) {
        const int iy = oy * g.strides.h - g.pads.top + ky * g.dilations.h;
        if (iy < 0 || iy >= g.in.h) continue;  // padding: real 0
        for (int kx = 0; kx < g.kernel.w; ++kx) {
          const int ix = ox * g.strides.w - g.pads.left + kx * g.dilations.w;
          if (ix < 0 || ix >= g.in.w) continue;
          const std::size_t base = (std::size_t(iy) * std::size_t(g.in.w) + std::size_t(ix)) * std::size_t(g.in.c) +
                                   std::size_t(grp * cg);
          const int k0 = (ky * g.kernel.w + kx) * cg;  // OHWI: the weights' order within a channel
          for (int ci = 0; ci < cg; ++ci) {
            pq(Eigen::Index(r), k0 + ci) = x_q[base + std::size_t(ci)];
            pf(Eigen::Index(r), k0 + ci) = with_float ? x_f[base + std::size_t(ci)] : x_q[base + std::size_t(ci)];
          }
        }
      }
    }
    GroupMoments& m = sums_[std::size_t(grp)];
    m.mean_q += pq.colwise().sum().transpose().cast<double>();
    m.mean_f += pf.colwise().sum().transpose().cast<double>();
    m.qq += (pq.transpose() * pq).cast<double>();
    m.qf += (pq.transpose() * pf).cast<double>();
    m.ff += (pf.transpose() * pf).cast<double>();
  }
  count_ += used.size();
}

InputStatistics InputStatisticsBuilder::finish() {
  InputStatistics s;
  s.patches = count_;
  s.has_float = all_float_ && count_ > 0;
  const double inv = count_ ? 1.0 / double(count_) : 0.0;
  for (GroupMoments& m : sums_) {
    m.mean_q *= inv;
    m.mean_f *= inv;
    m.qq *= inv;
    m.qf *= inv;
    m.ff *= inv;
  }
  s.groups = std::move(sums_);
  return s;
}

}  // namespace statiq::codegen::ptq
