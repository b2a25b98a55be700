// codegen/quantize/ptq/adaround.cpp — see the header.
#include "codegen/quantize/ptq/adaround.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace statiq::codegen::ptq {
namespace {

constexpr double zeta = 1.1, gamma_ = -0.1;  // the rectified sigmoid's stretch (the paper's values)

using Matrix = Eigen::MatrixXd;

// Rows of one group: the float weights W, the scales, and the current integers.
struct Group {
  std::size_t first = 0, count = 0;  // output channels
};

Matrix rows(std::span<const float> w, std::size_t first, std::size_t count, std::size_t k) {
  Matrix m(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(k));
  for (std::size_t c = 0; c < count; ++c)
    for (std::size_t i = 0; i < k; ++i) m(Eigen::Index(c), Eigen::Index(i)) = w[(first + c) * k + i];
  return m;
}

// sum_c v_c QQ v_c - 2 v_c QF w_c + w_c FF w_c
double group_error(const Matrix& v, const Matrix& w, const GroupMoments& m) {
  return (v * m.qq).cwiseProduct(v).sum() - 2.0 * (v * m.qf).cwiseProduct(w).sum() + (w * m.ff).cwiseProduct(w).sum();
}

Matrix dequantized(const quant::QuantizedWeights& q, std::size_t first, std::size_t count, std::size_t k) {
  Matrix m(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(k));
  for (std::size_t c = 0; c < count; ++c)
    for (std::size_t i = 0; i < k; ++i)
      m(Eigen::Index(c), Eigen::Index(i)) = double(q.values[(first + c) * k + i]) * q.scale(first + c);
  return m;
}

std::size_t patch_size(const InputStatistics& s) { return s.groups.empty() ? 0 : std::size_t(s.groups[0].qq.rows()); }

}  // namespace

double output_error(std::span<const float> w, const quant::QuantizedWeights& q, const InputStatistics& s) {
  const std::size_t k = patch_size(s);
  if (k == 0 || w.size() % k) return 0;
  const std::size_t channels = w.size() / k, per_group = channels / s.groups.size();
  double e = 0;
  for (std::size_t g = 0; g < s.groups.size(); ++g)
    e += group_error(dequantized(q, g * per_group, per_group, k), rows(w, g * per_group, per_group, k), s.groups[g]);
  return e;
}

AdaRoundResult adaround(std::span<const float> w, const WeightGrid& grid, quant::QuantizedWeights& q,
                        const InputStatistics& s, const AdaRoundOptions& o, calib::ProgressBar* bar) {
  AdaRoundResult r;
  const std::size_t k = patch_size(s);
  if (k == 0 || w.size() % k || s.patches == 0 || grid.hi < 1) return r;
  const std::size_t channels = w.size() / k, per_group = channels / s.groups.size();
  if (per_group == 0) return r;
  r.weights = w.size();
  r.error_before = output_error(w, q, s);
  const double norm = r.error_before > 0 ? r.error_before : 1.0;
  const double lo = grid.lo, hi = grid.hi;
  const std::size_t groups = s.groups.size();

  // Per group: W, per-row scales, floor(W / s), and the relaxation's parameters A.
  std::vector<Matrix> W(groups), base(groups), A(groups), m1(groups), m2(groups);
  std::vector<Eigen::VectorXd> scale(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    W[g] = rows(w, g * per_group, per_group, k);
    scale[g].resize(Eigen::Index(per_group));
    for (std::size_t c = 0; c < per_group; ++c) scale[g][Eigen::Index(c)] = q.scale(g * per_group + c);
    base[g] = (scale[g].cwiseInverse().asDiagonal() * W[g]).array().floor().matrix();
    // h(A) = the fractional part at the start: the relaxation starts at W itself.
    const Matrix rest = (scale[g].cwiseInverse().asDiagonal() * W[g]) - base[g];
    A[g] = rest.unaryExpr([](double f) {
      const double p = std::clamp((f - gamma_) / (zeta - gamma_), 1e-4, 1.0 - 1e-4);
      return -std::log(1.0 / p - 1.0);
    });
    m1[g] = Matrix::Zero(A[g].rows(), A[g].cols());
    m2[g] = m1[g];
  }
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const int warm = int(o.warmup * o.iterations);
  for (int t = 0; t < o.iterations; ++t) {
    const bool regularized = t >= warm;
    const double progress = regularized ? double(t - warm) / std::max(1, o.iterations - warm) : 0.0;
    const double beta = 20.0 + (2.0 - 20.0) * progress;
    for (std::size_t g = 0; g < groups; ++g) {
      const GroupMoments& m = s.groups[g];
      const Matrix sig = A[g].unaryExpr([](double a) { return 1.0 / (1.0 + std::exp(-a)); });
      const Matrix h_raw = sig.array() * (zeta - gamma_) + gamma_;
      const Matrix h = h_raw.cwiseMax(0.0).cwiseMin(1.0);
      const Matrix qint = base[g] + h;
      const Matrix v = scale[g].asDiagonal() * qint.cwiseMax(lo).cwiseMin(hi);
      // d(error / norm)/dV, then through V = s * clamp(base + h): zero where clamped.
      Matrix grad = (2.0 / norm) * (v * m.qq - W[g] * m.qf.transpose());
      grad = scale[g].asDiagonal() * grad;
      for (Eigen::Index i = 0; i < grad.rows(); ++i)
        for (Eigen::Index j = 0; j < grad.cols(); ++j) {
          double d = grad(i, j);
          if (qint(i, j) < lo || qint(i, j) > hi) d = 0;
          const double hv = h(i, j);
          if (regularized) {  // lambda * mean(1 - |2h - 1|^beta)
            const double u = 2.0 * hv - 1.0;
            const double sgn = u > 0 ? 1.0 : (u < 0 ? -1.0 : 0.0);
            d += o.regularization / double(r.weights) * (-beta * std::pow(std::fabs(u), beta - 1.0) * sgn * 2.0);
          }
          const double hr = h_raw(i, j);
          d = (hr <= 0.0 || hr >= 1.0) ? 0.0 : d * (zeta - gamma_) * sig(i, j) * (1.0 - sig(i, j));
          double& a1 = m1[g](i, j);
          double& a2 = m2[g](i, j);
          a1 = beta1 * a1 + (1 - beta1) * d;
          a2 = beta2 * a2 + (1 - beta2) * d * d;
          const double mh = a1 / (1 - std::pow(beta1, t + 1)), vh = a2 / (1 - std::pow(beta2, t + 1));
          A[g](i, j) -= o.learning_rate * mh / (std::sqrt(vh) + eps);
        }
    }
    if (bar) bar->advance();
  }
  // The hard rounding: up where h >= 1/2.
  quant::QuantizedWeights rounded = q;
  for (std::size_t g = 0; g < groups; ++g)
    for (std::size_t c = 0; c < per_group; ++c)
      for (std::size_t i = 0; i < k; ++i) {
        const double a = A[g](Eigen::Index(c), Eigen::Index(i));
        const double h = std::clamp((1.0 / (1.0 + std::exp(-a))) * (zeta - gamma_) + gamma_, 0.0, 1.0);
        const double v = std::clamp(base[g](Eigen::Index(c), Eigen::Index(i)) + (h >= 0.5 ? 1.0 : 0.0), lo, hi);
        rounded.values[(g * per_group + c) * k + i] = static_cast<std::int8_t>(v);
      }
  r.error_after = output_error(w, rounded, s);
  if (r.error_after >= r.error_before) {
    r.kept_given = true;
    r.error_after = r.error_before;
  } else {
    q.values = rounded.values;
  }
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < k; ++i) {
      const double nearest = std::clamp(std::nearbyint(double(w[c * k + i]) / q.scale(c)), lo, hi);
      r.flipped += double(q.values[c * k + i]) != nearest;
    }
  return r;
}

}  // namespace statiq::codegen::ptq
