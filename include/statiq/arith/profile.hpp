// statiq/arith/profile.hpp — what an arithmetic profile provides to the layers: the integer
// output stage of each layer kind. One header per profile (qlinear, pow2, tflite, gemmini)
// implements it; their free functions are the scalar definitions of the arithmetic.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <stdexcept>

#include "statiq/core/activation.hpp"
#include "statiq/core/fail.hpp"
#include "statiq/core/qint.hpp"

namespace statiq::arith {

// Every layer accumulates the same way (kernels/reference):
//   acc[c] = bias[c] + sum (x - x_zero_point) * (w - w_zero_point)
// in Profile::accumulator. The profile then says how an accumulator becomes an output
// integer (requantize), how Add combines two quantized tensors, and how a Concat input is
// brought to the output's quantization (rescale).
template <class P>
concept ArithmeticProfile = requires(std::int64_t acc, std::int32_t q,
                                     const typename P::channel_params& ch,
                                     const typename P::output_params& out,
                                     const typename P::add_params& add,
                                     const typename P::rescale_params& rs) {
  { P::name } -> std::convertible_to<const char*>;
  { P::accumulator_bits } -> std::convertible_to<int>;
  // Per output channel (multiplier, shift ...) and per tensor (zero point, clamp bounds
  // that include a fused ReLU / clipped ReLU).
  { P::requantize(acc, ch, out) } -> std::same_as<std::int32_t>;
  { P::add(q, q, add) } -> std::same_as<std::int32_t>;
  { P::rescale(q, rs) } -> std::same_as<std::int32_t>;
  { P::supports_zero_points } -> std::convertible_to<bool>;
  { P::supports_per_channel } -> std::convertible_to<bool>;
  // How the profile's converter rounds a real number to an integer (a bias, a clip bound).
  { P::round_real(1.0f) } -> std::same_as<std::int64_t>;
};

// A profile whose target runs its GEMM operators (a group-1 convolution, a Dense layer) through a
// library with an output stage of its own (TFLite on x86-64: ruy) declares
//   static std::int32_t requantize_gemm(std::int64_t acc, const channel_params&, const output_params&);
// requantize_gemm<P> is that stage, or P::requantize in every other profile.
template <class P>
concept HasGemmRequantize = requires(std::int64_t acc, const typename P::channel_params& ch,
                                     const typename P::output_params& out) {
  { P::requantize_gemm(acc, ch, out) } -> std::same_as<std::int32_t>;
};

template <class P>
constexpr std::int32_t requantize_gemm(std::int64_t acc, const typename P::channel_params& ch,
                                       const typename P::output_params& out) {
  if constexpr (HasGemmRequantize<P>)
    return P::requantize_gemm(acc, ch, out);
  else
    return P::requantize(acc, ch, out);
}

// The parameters of profile P as C++ source (designated initializers with the fields' names), for
// generated code: specialised in statiq/arith/<profile>_cpp.hpp, one of() per parameter struct.
template <class P>
struct cpp_initializers;

// --- parameters from real scales and zero points, the same in every profile's rounding --------
// (statiq-codegen and hand-written models alike; each profile's own derivations are in its header)

// The bias of a layer in int32 at x_scale * w_scale (a float32 product and division, as the
// converters compute it). Throws std::out_of_range when it does not fit (the weights are tiny
// next to the bias: a BatchNorm with a near-zero variance).
template <class P>
std::int32_t quantize_bias(float bias, float x_scale, float w_scale) {
  const float s = x_scale * w_scale;
  if (bias == 0.0f || s == 0.0f) return 0;
  const float q = bias / s;
  if (!std::isfinite(q) || std::fabs(q) >= 2147483520.0f)
    STATIQ_FAIL(std::out_of_range, "the bias does not fit int32 at input scale x weight scale");
  return static_cast<std::int32_t>(P::round_real(q));
}

// A tensor's quantization: real = scale * (q - zero_point); the input of the derivations below.
struct scale_zero_point {
  float scale;
  std::int32_t zero_point = 0;
};

// The range of a layer's output integers: the type's, narrowed by a fused ReLU (to the zero
// point) and a clipped ReLU (to zero_point + clip / scale), unless the clip acts on the
// accumulator (pow2 before a fused average).
struct output_bounds {
  std::int32_t lo;
  std::int32_t hi;
};

template <class P>
output_bounds bounds_of(float scale, std::int32_t zero_point, int bits, bool is_signed, Activation activation,
                        float clip = 0.0f, bool clip_in_accumulator = false) {
  std::int32_t lo = qmin(bits, is_signed), hi = qmax(bits, is_signed);
  if (activation.kind != ActivationKind::none) lo = std::max(lo, zero_point);
  if (activation.kind == ActivationKind::clipped_relu && clip > 0.0f && !clip_in_accumulator) {
    const std::int64_t top = zero_point + P::round_real(clip / scale);
    hi = static_cast<std::int32_t>(std::clamp<std::int64_t>(top, lo, hi));
  }
  return {lo, hi};
}

}  // namespace statiq::arith
