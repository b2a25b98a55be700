// codegen/calib/range.hpp — the calibrated range of a tensor: what calibration measures and
// quantization turns into scales and zero points.
#pragma once

#include <map>
#include <string>

namespace statiq::codegen {

// min/max over the calibration samples (or the observer's clipped estimate), in real units.
struct Range {
  float min = 0.0f;
  float max = 0.0f;
};

// Keyed by ONNX tensor name.
using Ranges = std::map<std::string, Range>;

}  // namespace statiq::codegen
