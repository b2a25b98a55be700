// statiq/layers/average_pool.hpp — AveragePool: the window sum of (x - zero_point), requantized
// with a per-channel scale into which the generator folds 1/(window size).
#pragma once

#include "statiq/layers/pool_layer.hpp"

namespace statiq {

constexpr PoolAttributes average_pool_attributes(PoolAttributes a) {
  a.pool.kind = PoolKind::average;
  return a;
}

template <fixed_string Name, PoolAttributes A, class Target>
struct AveragePool : RequantizedPool<LayerKind::average_pool, Name, average_pool_attributes(A), Target> {
  using RequantizedPool<LayerKind::average_pool, Name, average_pool_attributes(A), Target>::RequantizedPool;
};

}  // namespace statiq
