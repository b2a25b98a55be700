// statiq/core/bits.hpp — bit-widths of a layer's input, weights and output.
#pragma once

namespace statiq {

struct Bits {
  int in = 8;
  int w = 8;
  int out = 8;
  constexpr bool operator==(const Bits&) const = default;
};

}  // namespace statiq
