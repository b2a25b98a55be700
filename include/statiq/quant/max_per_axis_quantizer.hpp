// statiq/quant/max_per_axis_quantizer.hpp — MaxPerAxisQuantizer: MaxQuantizer's rule applied to
// each output channel on its own (sf_c = kmax / max|w_c|), CNN2SNN's MaxPerAxisQuantizer.
#pragma once

#include "statiq/quant/max_quantizer.hpp"

namespace statiq::quant {

// The same scale factor rule; only the group it sees changes (one output channel).
struct MaxPerAxisQuantizer : MaxQuantizer {
  static constexpr bool per_axis = true;
};

}  // namespace statiq::quant
