// statiq/layers/max_pool.hpp — MaxPool on quantized values: the maximum commutes with any
// monotonic quantization, so input and output share their scale and zero point.
#pragma once

#include "statiq/layers/pool_layer.hpp"

namespace statiq {

constexpr PoolAttributes max_pool_attributes(PoolAttributes a) {
  a.pool.kind = PoolKind::max;
  return a;
}

template <fixed_string Name, PoolAttributes A, class Target>
class MaxPool : public PoolLayerBase<LayerKind::max_pool, Name, max_pool_attributes(A), Target> {
  using base = PoolLayerBase<LayerKind::max_pool, Name, max_pool_attributes(A), Target>;

 public:
  static constexpr std::size_t scratch_words = 0;
  struct parameters {};
  constexpr MaxPool() = default;
  constexpr explicit MaxPool(const parameters&) {}

  void operator()(const typename base::input_element* x, typename base::output_element* y, std::int32_t*) const {
    compute(base::attributes, x, LayerData<typename base::profile>{}, y, nullptr);
  }
};

}  // namespace statiq
