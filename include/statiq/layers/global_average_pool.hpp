// statiq/layers/global_average_pool.hpp — GlobalAveragePool as a layer of its own: the per-channel
// sum of (x - zero_point), requantized with a scale into which the generator folds 1/(H*W).
#pragma once

#include <span>

#include "statiq/layers/pool_layer.hpp"

namespace statiq {

constexpr PoolAttributes global_average_pool_attributes(PoolAttributes a) {
  a.pool = global_average_pool;
  return a;
}

template <fixed_string Name, PoolAttributes A, class Target>
class GlobalAveragePool
    : public PoolLayerBase<LayerKind::global_average_pool, Name, global_average_pool_attributes(A), Target> {
  using base = PoolLayerBase<LayerKind::global_average_pool, Name, global_average_pool_attributes(A), Target>;
  using profile = typename base::profile;
  static constexpr int channels = base::output_shape.c;

 public:
  static constexpr std::size_t scratch_words = statiq::scratch_words(base::attributes);
  struct parameters {
    std::span<const typename profile::channel_params, std::size_t(channels)> channel;
    typename profile::output_params output;
    std::int32_t input_zero_point = 0;
  };
  constexpr explicit GlobalAveragePool(const parameters& p) : p_(p) {}
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
