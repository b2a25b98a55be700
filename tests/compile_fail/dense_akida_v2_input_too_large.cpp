// Akida 2.0 Dense1D reads at most 2048 inputs (H*W*C): 2x2x512 fits, 2x2x513 = 2052 does not.
#include "statiq/layers/dense.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int channels = 513;
#else
inline constexpr int channels = 512;
#endif

struct fc1 : Dense<"fc1", DenseAttributes{.input = {2, 2, channels}, .units = 10, .bits = {4, 4, 4}},
                   targets::akida_v2> {};
static_assert(fc1::valid);
