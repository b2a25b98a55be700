// statiq/layers/global_average_pool.hpp — GlobalAveragePool as a layer of its own: the per-channel
// sum of (x - zero_point), requantized with a scale into which the generator folds 1/(H*W).
#pragma once

#include "statiq/layers/pool_layer.hpp"

namespace statiq {

constexpr PoolAttributes global_average_pool_attributes(PoolAttributes a) {
  a.pool = global_average_pool;
  return a;
}

template <fixed_string Name, PoolAttributes A, class Target>
struct GlobalAveragePool
    : RequantizedPool<LayerKind::global_average_pool, Name, global_average_pool_attributes(A), Target> {
  using RequantizedPool<LayerKind::global_average_pool, Name, global_average_pool_attributes(A),
                        Target>::RequantizedPool;
};

}  // namespace statiq
