// statiq/layers/accumulator.hpp — the worst-case accumulator bound of a layer: from the
// bit-widths alone, or tighter from weight statistics (sum |w|) that the generator emits.
#pragma once

#include <cstdint>

namespace statiq {

// What the generator knows about a layer's weights, as constexpr numbers: the largest per-output-
// channel sum of |w - w_zero_point| and the largest |bias|. Unknown sums (-1) fall back to bits.
struct WeightStats {
  std::int64_t max_sum_abs_weights = -1;
  std::int64_t max_abs_bias = 0;
  constexpr bool operator==(const WeightStats&) const = default;
};

// Largest |x - zero_point| for an input element of `bits` bits: an unsigned value with its zero
// point anywhere in range differs by at most 2^b - 1; a signed one (zero point 0) by 2^(b-1).
constexpr std::int64_t max_abs_input(int bits, bool is_signed) {
  return is_signed ? (std::int64_t{1} << (bits - 1)) : (std::int64_t{1} << bits) - 1;
}

// Largest |w| of a signed weight of `bits` bits.
constexpr std::int64_t max_abs_weight(int bits) { return std::int64_t{1} << (bits - 1); }

// Largest |accumulator| over `taps` products, `sums` accumulators added (a fused global pool).
constexpr std::int64_t accumulator_bound(std::int64_t taps, int in_bits, bool in_signed, int w_bits,
                                         WeightStats stats, std::int64_t sums = 1) {
  const std::int64_t x = max_abs_input(in_bits, in_signed);
  const std::int64_t per_sum = stats.max_sum_abs_weights >= 0
                                   ? stats.max_sum_abs_weights * x + stats.max_abs_bias
                                   : taps * x * max_abs_weight(w_bits) + stats.max_abs_bias;
  return per_sum * sums;
}

constexpr std::int64_t accumulator_limit(int accumulator_bits) {
  return (std::int64_t{1} << (accumulator_bits - 1)) - 1;
}

}  // namespace statiq
