// Akida 1.0 FullyConnected reads 1, 2 or 4-bit activations; an 8-bit input is rejected.
#include "statiq/layers/dense.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int input_bits = 8;
#else
inline constexpr int input_bits = 2;
#endif

struct fc1 : Dense<"fc1", DenseAttributes{.input = {1, 1, 256}, .units = 10, .bits = {input_bits, 2, 4}},
                   targets::akida_v1> {};
static_assert(fc1::valid);
