// codegen/exec/resize_nearest.hpp — ONNX Resize in "nearest" mode along one axis: which input
// index an output index copies. One definition for the float executor (exec/ops_shape.cpp) and the
// lowering's Copy index table (lower/lower.cpp), so the engine and the float model agree.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

namespace statiq::codegen::exec {

inline bool resize_nearest_supported(const std::string& transform, const std::string& nearest) {
  const bool t = transform == "half_pixel" || transform == "asymmetric" || transform == "align_corners" ||
                 transform == "pytorch_half_pixel" || transform == "tf_half_pixel_for_nn";
  const bool n = nearest == "round_prefer_floor" || nearest == "round_prefer_ceil" || nearest == "floor" ||
                 nearest == "ceil";
  return t && n;
}

// The coordinate transform in float32 (scale = output / input length, or the `scales` value), the
// nearest mode, then clamped into the input.
inline int resize_nearest_source(int y, int length_in, int length_out, float scale, const std::string& transform,
                                 const std::string& nearest) {
  const float fy = static_cast<float>(y);
  float x = 0.0f;
  if (transform == "half_pixel") x = (fy + 0.5f) / scale - 0.5f;
  else if (transform == "pytorch_half_pixel") x = length_out > 1 ? (fy + 0.5f) / scale - 0.5f : 0.0f;
  else if (transform == "asymmetric") x = fy / scale;
  else if (transform == "tf_half_pixel_for_nn") x = (fy + 0.5f) / scale;
  else x = length_out > 1 ? fy * static_cast<float>(length_in - 1) / static_cast<float>(length_out - 1) : 0.0f;
  float r = 0.0f;
  if (nearest == "floor") r = std::floor(x);
  else if (nearest == "ceil") r = std::ceil(x);
  else if (x == std::floor(x) + 0.5f) r = nearest == "round_prefer_floor" ? std::floor(x) : std::ceil(x);
  else r = std::round(x);
  return std::clamp(static_cast<int>(r), 0, length_in - 1);
}

}  // namespace statiq::codegen::exec
