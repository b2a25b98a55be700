// statiq/core/weight_sums.hpp — the per-output-channel sum of a layer's weights: the one definition
// used by the generator (it emits the sums with the layer's data), by statiq-codegen's simulation, by
// the layers when no sums were supplied, and by the tests.
//
// Why: a fast convolution reads x + flip (x shifted to the bytes its instruction multiplies) and
// starts each channel at bias - (x_zero_point + flip) * sum(w), a term that depends on constants
// only. Computed here once per layer, the kernel does O(output channels) work for it per call
// instead of reading every weight once more (for Dense, a GEMV, that was half its memory traffic).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace statiq {

// sums[c] = sum over i < per_channel of w[c * per_channel + i], for c < channels: the logical
// (signed, stored) weights of output channel c, the weight zero point not subtracted (the kernels
// subtract w_zero_point * sum(x - x_zero_point) separately). W is indexed in logical order (OHWI, or
// [units][inputs] for Dense): a qview, a weight_view, or the generator's std::vector of weights.
// Wraps mod 2^32 like the accumulators, so it is exact whenever they are.
template <class W>
constexpr void weight_sums(const W& w, std::size_t channels, std::size_t per_channel, std::int32_t* sums) {
  for (std::size_t c = 0; c < channels; ++c) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i < per_channel; ++i) s += static_cast<std::uint32_t>(static_cast<std::int32_t>(w[c * per_channel + i]));
    sums[c] = static_cast<std::int32_t>(s);
  }
}

// The same as an array, for hand-written layers (a layer's parameters take a span of Channels sums):
//   constexpr auto sums = statiq::weight_sums<Layer::filters>(Layer::weights_view(weights));
template <std::size_t Channels, class W>
constexpr std::array<std::int32_t, Channels> weight_sums(const W& w) {
  std::array<std::int32_t, Channels> sums{};
  weight_sums(w, Channels, W::size() / Channels, sums.data());
  return sums;
}

}  // namespace statiq
