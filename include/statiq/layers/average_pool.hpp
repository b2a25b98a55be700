// statiq/layers/average_pool.hpp — AveragePool: the window sum of (x - zero_point), requantized
// with a per-channel scale into which the generator folds 1/(window size).
#pragma once

#include <span>

#include "statiq/layers/pool_layer.hpp"

namespace statiq {

constexpr PoolAttributes average_pool_attributes(PoolAttributes a) {
  a.pool.kind = PoolKind::average;
  return a;
}

template <fixed_string Name, PoolAttributes A, class Target>
class AveragePool : public PoolLayerBase<LayerKind::average_pool, Name, average_pool_attributes(A), Target> {
  using base = PoolLayerBase<LayerKind::average_pool, Name, average_pool_attributes(A), Target>;
  using profile = typename base::profile;
  static constexpr int channels = base::output_shape.c;

 public:
  static constexpr std::size_t scratch_words = std::size_t(base::output_shape.size());
  struct parameters {
    std::span<const typename profile::channel_params, std::size_t(channels)> channel;
    typename profile::output_params output;
    std::int32_t input_zero_point = 0;
  };
  constexpr explicit AveragePool(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const typename base::input_element* x, typename base::output_element* y,
                  std::int32_t* scratch) const {
    kernels::reference::window_sum(base::input_shape, base::output_shape, A.pool.kernel, A.pool.stride, base::pads,
                                   x, p_.input_zero_point, scratch);
    for (int i = 0; i < base::output_shape.size(); ++i)
      y[i] = static_cast<typename base::output_element>(
          profile::requantize(scratch[i], p_.channel[std::size_t(i % channels)], p_.output));
  }

 private:
  parameters p_;
};

}  // namespace statiq
