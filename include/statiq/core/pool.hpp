// statiq/core/pool.hpp — pooling fused after a convolution (Conv -> [ReLU] -> MaxPool / GAP),
// or standing alone as a pooling layer.
#pragma once

#include "statiq/core/pads.hpp"
#include "statiq/core/shape.hpp"

namespace statiq {

enum class PoolKind { none, max, average, global_average };

struct Pool {
  PoolKind kind = PoolKind::none;
  Kernel kernel{1, 1};
  Stride strides{1, 1};
  Pads pads{};

  constexpr bool operator==(const Pool&) const = default;

  constexpr Shape output_shape(Shape in) const {
    switch (kind) {
      case PoolKind::none: return in;
      case PoolKind::global_average: return Shape{1, 1, in.c};
      default: return window_output_shape(in, in.c, kernel, strides, pads);
    }
  }
};

inline constexpr Pool no_pool{};
inline constexpr Pool global_average_pool{PoolKind::global_average};

constexpr Pool max_pool(Kernel k, Stride s, Pads p = Pads::valid) { return Pool{PoolKind::max, k, s, p}; }
constexpr Pool max_pool(int size, int stride) { return max_pool(Kernel{size, size}, Stride{stride, stride}); }
constexpr Pool average_pool(Kernel k, Stride s, Pads p = Pads::valid) { return Pool{PoolKind::average, k, s, p}; }

}  // namespace statiq
