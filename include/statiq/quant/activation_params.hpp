// statiq/quant/activation_params.hpp — an activation's quantization parameters from its
// calibrated range: qlinear (onnxruntime quant_utils), tflite (asymmetric int8), pow2 (frac_bits).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace statiq::quant {

// Real value = scale * (q - zero_point), q in [qmin, qmax].
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  std::int32_t qmin = 0;
  std::int32_t qmax = 255;
  constexpr bool operator==(const QuantParams&) const = default;
};

// ONNX's two 8-bit activation types (onnxruntime's QuantType.QUInt8 / QInt8).
enum class QuantType { uint8, int8 };

struct QuantRange {
  std::int32_t qmin;
  std::int32_t qmax;
  constexpr bool operator==(const QuantRange&) const = default;
};

// quant_utils.get_qmin_qmax_for_qType: reduce_range (7 bits, for hosts without VNNI) wins over
// symmetric; symmetric int8 drops -128 so that +-absmax map to +-127; uint8 has no symmetric range.
constexpr QuantRange qlinear_range(QuantType type, bool reduce_range = false,
                                   bool symmetric = false) {
  if (type == QuantType::uint8) return reduce_range ? QuantRange{0, 127} : QuantRange{0, 255};
  if (reduce_range) return {-64, 64};
  return symmetric ? QuantRange{-127, 127} : QuantRange{-128, 127};
}

namespace detail {

inline void check_range(const char* who, float rmin, float rmax) {
  if (std::isfinite(rmin) && std::isfinite(rmax)) return;
  throw std::invalid_argument(std::string("statiq::quant::") + who + ": calibrated range [" +
                              std::to_string(rmin) + ", " + std::to_string(rmax) +
                              "] is not finite; recalibrate (a NaN/Inf activation reached the "
                              "calibration statistics)");
}

}  // namespace detail

// onnxruntime quant_utils.compute_scale_zp, step for step:
//   the range is widened to include 0 (so 0 is exact); min_real_range > 0 enforces
//   rmax >= rmin + min_real_range; symmetric uses [-absmax, +absmax];
//   scale = (rmax - rmin) / (qmax - qmin) in double (rmax - rmin itself in float32),
//   zero_point = RNE(qmin - rmin / scale) in double, then scale rounded to float32.
// A scale below FLT_MIN (the range is {0}, or subnormal) gives scale 1, zero point 0.
// [inferred] min_real_range is added in float32 (NumPy 2's promotion of a Python float).
inline QuantParams compute_scale_zp(float rmin, float rmax, std::int32_t qmin, std::int32_t qmax,
                                    bool symmetric = false, float min_real_range = 0.0f) {
  detail::check_range("compute_scale_zp", rmin, rmax);
  if (qmin > 0 || qmax < 0 || qmin >= qmax)
    throw std::invalid_argument(
        "statiq::quant::compute_scale_zp: need qmin <= 0 <= qmax and qmin < qmax, got [" +
        std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  rmin = std::min(rmin, 0.0f);
  rmax = std::max(rmax, 0.0f);
  if (min_real_range > 0.0f) rmax = std::max(rmax, rmin + min_real_range);
  if (symmetric) {
    const float absmax = std::max(std::fabs(rmin), std::fabs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  const double dr = static_cast<double>(rmax - rmin);
  if (!std::isfinite(dr))
    throw std::invalid_argument(
        "statiq::quant::compute_scale_zp: the range width overflows float32");
  const double scale = dr / (static_cast<double>(qmax) - static_cast<double>(qmin));
  if (scale < static_cast<double>(FLT_MIN)) return {1.0f, 0, qmin, qmax};
  const double zp = std::nearbyint(static_cast<double>(qmin) - static_cast<double>(rmin) / scale);
  // The widening to include 0 keeps zp in [qmin, qmax]; the clamp only guards the conversion.
  const auto zero_point = static_cast<std::int32_t>(std::clamp(zp, double(qmin), double(qmax)));
  return {static_cast<float>(scale), zero_point, qmin, qmax};
}

struct QLinearOptions {
  bool symmetric = false;
  bool reduce_range = false;
  float min_real_range = 0.0f;  // 0: none
};

// The qlinear (ONNX Runtime) activation parameters for a calibrated range [rmin, rmax]:
// quant_utils' qmin/qmax for the type, then compute_scale_zp. E.g. [-1, 3] as uint8 gives
// scale 4/255 and zero point RNE(63.75) = 64.
inline QuantParams qlinear_params(float rmin, float rmax, QuantType type,
                                  QLinearOptions options = {}) {
  const QuantRange r = qlinear_range(type, options.reduce_range, options.symmetric);
  return compute_scale_zp(rmin, rmax, r.qmin, r.qmax, options.symmetric, options.min_real_range);
}

// TFLite's asymmetric activation parameters (tflite optimize GetAsymmetricQuantizationParams,
// int8 [-128, 127] by default), all in float32:
//   range widened to include 0; scale = (rmax - rmin) / (qmax - qmin);
//   zero point from the minimum, qmin - rmin / scale, nudged into [qmin, qmax] and rounded
//   half AWAY from zero (std::round).
// A range of {0} gives scale 0 and zero point qmin, exactly as TFLite writes it: a consumer
// that divides by the scale must expect that.
inline QuantParams tflite_params(float rmin, float rmax, std::int32_t qmin = -128,
                                 std::int32_t qmax = 127) {
  detail::check_range("tflite_params", rmin, rmax);
  if (qmin > 0 || qmax < 0 || qmin >= qmax)
    throw std::invalid_argument(
        "statiq::quant::tflite_params: need qmin <= 0 <= qmax and qmin < qmax, got [" +
        std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  const auto qmin_f = static_cast<float>(qmin);
  const auto qmax_f = static_cast<float>(qmax);
  rmin = std::min(rmin, 0.0f);
  rmax = std::max(rmax, 0.0f);
  const float scale = (rmax - rmin) / (qmax_f - qmin_f);
  const float zero_point_from_min = scale != 0.0f ? qmin_f - rmin / scale : qmin_f;
  std::int32_t zero_point;
  if (zero_point_from_min < qmin_f)
    zero_point = qmin;
  else if (zero_point_from_min > qmax_f)
    zero_point = qmax;
  else
    zero_point = static_cast<std::int32_t>(std::round(zero_point_from_min));
  return {scale, zero_point, qmin, qmax};
}

// pow2 (QuantizeML FixedPoint.max_frac_bits): the frac_bits of a tensor whose largest |x| is
// max_abs, stored with value_bits value bits (sign excluded):
//   frac_bits = value_bits - ceil(log2(max_abs)), capped at value_bits when clamp.
// ceil(log2) is computed exactly (frexp), so a power of two gives its own exponent: max_abs = 1
// gives value_bits, and the value 1.0 itself then saturates to 2^vb - 1 (QuantizeML's result).
// max_abs = 0 gives value_bits (log2(0) = -inf, capped). The result may be negative (a range
// above 2^vb). [unverified] QuantizeML computes ceil(log2) in float32 TensorFlow; whether that
// is exact for every power of two was not checked.
inline int pow2_frac_bits(float max_abs, int value_bits, bool clamp = true) {
  if (!std::isfinite(max_abs) || max_abs < 0.0f)
    throw std::invalid_argument(
        "statiq::quant::pow2_frac_bits: max_abs " + std::to_string(max_abs) +
        " must be finite and >= 0 (the largest |x| of the calibrated tensor)");
  if (value_bits < 0)
    throw std::invalid_argument(
        "statiq::quant::pow2_frac_bits: value_bits " + std::to_string(value_bits) +
        " must be >= 0 (b - 1 for a signed b-bit type, b for an unsigned one)");
  if (max_abs == 0.0f) return value_bits;
  int exponent = 0;
  const float mantissa =
      std::frexp(max_abs, &exponent);  // max_abs = mantissa * 2^exponent, mantissa in [0.5, 1)
  const int int_bits = mantissa == 0.5f ? exponent - 1 : exponent;
  const int frac_bits = value_bits - int_bits;
  return clamp ? std::min(frac_bits, value_bits) : frac_bits;
}

}  // namespace statiq::quant
