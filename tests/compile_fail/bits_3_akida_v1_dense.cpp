// The common 1/2/4/8-bit rule on a Dense layer for Akida 1.0: a 3-bit output is rejected.
#include "statiq/layers/dense.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int output_bits = 3;
#else
inline constexpr int output_bits = 2;
#endif

struct fc1 : Dense<"fc1", DenseAttributes{.input = {1, 1, 256}, .units = 10, .bits = {4, 4, output_bits}},
                   targets::akida_v1> {};
static_assert(fc1::valid);
