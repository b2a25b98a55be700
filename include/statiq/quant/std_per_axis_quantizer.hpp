// statiq/quant/std_per_axis_quantizer.hpp — StdPerAxisQuantizer: StdQuantizer's rule applied
// to each output channel on its own (sf_c = kmax / (threshold * std(w_c))).
#pragma once

#include "statiq/quant/std_quantizer.hpp"

namespace statiq::quant {

// The same scale factor rule and threshold; only the group it sees changes.
struct StdPerAxisQuantizer : StdQuantizer {
  static constexpr bool per_axis = true;
  using StdQuantizer::StdQuantizer;
};

}  // namespace statiq::quant
