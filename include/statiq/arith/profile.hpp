// statiq/arith/profile.hpp — what an arithmetic profile provides to the layers: the integer
// output stage of each layer kind. One header per profile (qlinear, pow2, tflite, gemmini)
// implements it; their free functions are the scalar definitions of the arithmetic.
#pragma once

#include <concepts>
#include <cstdint>

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
};

}  // namespace statiq::arith
