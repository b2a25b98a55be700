// cpu_int8 Dense, uint8 input (|x - zero_point| <= 255) x int8 weights (|w| <= 128): 255 * 128 =
// 32'640 per input. 65'793 inputs give 2'147'483'520 <= 2^31 - 1 (OK); 65'794 give 2'147'516'160 (KO).
#include "statiq/layers/dense.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int inputs = 65'794;
#else
inline constexpr int inputs = 65'793;
#endif

struct fc1 : Dense<"fc1", DenseAttributes{.input = {1, 1, inputs}, .units = 10, .bits = {8, 8, 8}},
                   targets::cpu_int8> {};
static_assert(fc1::valid);
