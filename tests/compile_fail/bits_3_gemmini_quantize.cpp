// The common 1/2/4/8-bit rule on the Quantize boundary layer for Gemmini: 3 bits are rejected
// (the diagnostic shows the one width as Bits{3, 3, 3}).
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/gemmini.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int bits = 3;
#else
inline constexpr int bits = 8;
#endif

struct quant : Quantize<"quant", QuantizeAttributes{.shape = {32, 32, 3}, .bits = bits, .signed_output = true},
                        targets::gemmini> {};
static_assert(quant::valid);
