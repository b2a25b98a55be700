// statiq/quant/quantized_weights.hpp — QuantizedWeights (int8 values + one scale per output
// channel or per tensor) and quantize_weights, which runs any WeightQuantizer over a tensor.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "statiq/core/diagnostics.hpp"
#include "statiq/quant/weight_quantizer.hpp"

namespace statiq::quant {

// Quantized weights, laid out like the float tensor they came from: output channel first
// ([O][...]: OIHW or OHWI), so channel c owns values[c * n, (c + 1) * n).
// Real weight = values[i] * scales[c] (scales has one entry per output channel when per_axis,
// else a single one). For the akida_v1 quantizers scales[c] = float32(1 / sf_c): the exact
// dequantized weight of that rule is values[i] / sf_c, which this can differ from by one ulp.
struct QuantizedWeights {
  std::vector<std::int8_t> values;
  std::vector<float> scales;
  int bits = 8;
  bool per_axis = false;

  // Scale of output channel c, whether the scales are per axis or per tensor.
  float scale(std::size_t channel) const { return per_axis ? scales.at(channel) : scales.at(0); }
};

namespace detail {

inline std::string to_string(float x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// Shared argument checks of every weight quantization entry point (`who` names it in the
// message). Throws std::invalid_argument saying what is wrong and what to do.
inline void check_weight_args(const char* who, std::span<const float> w, int out_channels, int bits,
                              int min_bits) {
  const std::string fn = std::string("statiq::quant::") + who + ": ";
  if (out_channels <= 0)
    throw std::invalid_argument(
        fn + "out_channels is " + std::to_string(out_channels) +
        "; pass the number of output channels (dimension 0 of the weights)");
  if (w.empty()) throw std::invalid_argument(fn + "the weight tensor is empty");
  if (w.size() % static_cast<std::size_t>(out_channels) != 0)
    throw std::invalid_argument(fn + std::to_string(w.size()) + " weights do not split into " +
                                std::to_string(out_channels) +
                                " output channels; weights must be laid out output channel first "
                                "([O][...], OIHW or OHWI)");
  if (bits < min_bits || bits > 8)
    throw std::invalid_argument(fn + "bits is " + std::to_string(bits) + "; weights take " +
                                std::to_string(min_bits) + " to 8 bits" +
                                (bits == 1 && min_bits == 2
                                     ? " (1-bit weights have kmax = 2^0 - 1 = 0: nothing to scale)"
                                     : ""));
  const std::size_t per_channel = w.size() / static_cast<std::size_t>(out_channels);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (std::isfinite(w[i])) continue;
    throw std::invalid_argument(
        fn + "output channel " + std::to_string(i / per_channel) + " has " +
        (std::isnan(w[i]) ? "a NaN" : "an infinite") + " weight (flat index " + std::to_string(i) +
        "); the float model is broken there: fix or retrain it (or replace the NaN/Inf "
        "weights) before quantizing");
  }
}

inline bool all_zero(std::span<const float> w) {
  return std::all_of(w.begin(), w.end(), [](float v) { return v == 0.0f; });
}

}  // namespace detail

// Quantizes w ([O][...], output channel first) with `quantizer`:
//   w_int = sat(RNE(w * sf), -kmax, kmax), kmax = 2^(bits-1) - 1, scale = 1 / sf,
// all in float32, with sf asked once per output channel (per_axis) or once for the tensor.
// A group whose weights are all zero is not shown to the quantizer: its integers are 0 and its
// scale is zero_channel_scale. Throws std::invalid_argument on NaN/Inf weights, a shape that
// does not split into out_channels, bits outside [2, 8], or a scale factor that is not
// finite and > 0.
template <class Q>
QuantizedWeights quantize_weights(const Q& quantizer, std::span<const float> w, int out_channels,
                                  int bits) {
  if constexpr (!WeightQuantizer<Q>) {
    // Instantiating the diagnostic fires its one static_assert (see core/diagnostics.hpp).
    (void)diag::weight_quantizer_needs_per_axis_and_scale_factor<Q>::ok;
    return {};
  } else {
    detail::check_weight_args("quantize_weights", w, out_channels, bits, 2);
    QuantizedWeights out;
    out.bits = bits;
    out.per_axis = Q::per_axis;
    out.values.resize(w.size());
    const auto k = static_cast<float>(kmax(bits));
    const std::size_t groups = Q::per_axis ? static_cast<std::size_t>(out_channels) : 1;
    const std::size_t group_size = w.size() / groups;
    for (std::size_t g = 0; g < groups; ++g) {
      const std::span<const float> group = w.subspan(g * group_size, group_size);
      if (detail::all_zero(group)) {
        std::fill_n(out.values.begin() + g * group_size, group_size, std::int8_t{0});
        out.scales.push_back(zero_channel_scale);
        continue;
      }
      const float sf = quantizer.scale_factor(group, bits);
      if (!(std::isfinite(sf) && sf > 0.0f))
        throw std::invalid_argument(
            "statiq::quant::quantize_weights: the quantizer returned scale factor " +
            detail::to_string(sf) +
            (Q::per_axis ? " for output channel " + std::to_string(g)
                         : std::string(" for the tensor")) +
            "; a scale factor must be finite and > 0 (check the quantizer's scale_factor)");
      for (std::size_t i = 0; i < group_size; ++i) {
        // Saturate before converting: w * sf may be far outside int8 (or +-inf).
        const float q = std::clamp(detail::round_half_even(group[i] * sf), -k, k);
        out.values[g * group_size + i] = static_cast<std::int8_t>(q);
      }
      out.scales.push_back(1.0f / sf);
    }
    return out;
  }
}

}  // namespace statiq::quant
