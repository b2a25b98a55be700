// codegen/quantize/ptq/input_statistics.hpp — what the data-driven post-training methods know of a
// conv or dense layer's input on the calibration samples: per weight group (a conv group; one for
// dense) the mean patch and the second moments of the patches the quantized model feeds the layer
// (x_q) and of those the float model feeds it (x_f). A layer's output channel c computes w_c . x
// over such patches, so E[(w_c . x_f - v_c . x_q)^2] is a quadratic form in these moments: bias
// correction and AdaRound need nothing else.
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Dense>

#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen::ptq {

struct GroupMoments {
  Eigen::VectorXd mean_q;  // E[x_q], K values (K = the patch size: kh * kw * input channels per group)
  Eigen::VectorXd mean_f;  // E[x_f]
  Eigen::MatrixXd qq;      // E[x_q x_q^T], K x K
  Eigen::MatrixXd qf;      // E[x_q x_f^T]
  Eigen::MatrixXd ff;      // E[x_f x_f^T]
};

struct InputStatistics {
  std::vector<GroupMoments> groups;  // conv: `group` of them (output channel c is in c / (filters / group))
  std::size_t patches = 0;           // patches averaged per group
  bool has_float = false;            // x_f was available (else qf = ff = qq: x_f taken as x_q)
};

// Accumulates the moments of layer `layer` (conv or dense) over samples. Inputs are NHWC real
// values of the layer's input tensor, quantized (dequantized integers) and float; a sample's float
// input may be empty (not measured). At most `max_patches` patch positions per sample are used
// (evenly spaced), which bounds the time on large maps.
class InputStatisticsBuilder {
 public:
  InputStatisticsBuilder(const Layer& layer, std::size_t max_patches);
  void add(const std::vector<float>& x_q, const std::vector<float>& x_f);
  InputStatistics finish();

  int groups() const { return groups_; }
  int patch_size() const { return k_; }

 private:
  const Layer& layer_;
  int groups_ = 1;
  int k_ = 0;
  std::size_t max_patches_;
  std::size_t count_ = 0;
  bool all_float_ = true;
  std::vector<GroupMoments> sums_;
};

}  // namespace statiq::codegen::ptq
