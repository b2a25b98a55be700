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
  static constexpr std::size_t scratch_words = statiq::scratch_words(base::attributes);
  struct parameters {
    std::span<const typename profile::channel_params, std::size_t(channels)> channel;
    typename profile::output_params output;
    std::int32_t input_zero_point = 0;
  };
  constexpr explicit AveragePool(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const typename base::input_element* x, typename base::output_element* y,
                  std::int32_t* scratch) const {
    compute(base::attributes, x, LayerData<profile>{nullptr, p_.channel.data(), p_.output, p_.input_zero_point, 0},
            y, scratch);
  }

 private:
  parameters p_;
};

}  // namespace statiq
