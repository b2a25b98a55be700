// OK: a quantizer with both members quantizes. KO: one without `per_axis` is rejected with the
// single diagnostic naming both required members, not a wall of template errors.
#include <span>
#include <vector>

#include "statiq/quant/quantized_weights.hpp"

#ifdef STATIQ_KO
struct Quantizer {
  float scale_factor(std::span<const float>, int) const { return 1.0f; }
};
#else
struct Quantizer {
  static constexpr bool per_axis = false;
  float scale_factor(std::span<const float>, int) const { return 1.0f; }
};
#endif

int main() {
  const std::vector<float> w{1.0f, -1.0f};
  const auto q = statiq::quant::quantize_weights(Quantizer{}, w, 1, 8);
  return q.values.empty() ? 1 : 0;
}
