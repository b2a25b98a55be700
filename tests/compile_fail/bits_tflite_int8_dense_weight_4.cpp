// tflite_int8 weights are int8; 4-bit weights (TFLite's experimental int4) are rejected.
#include "statiq/layers/dense.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int weight_bits = 4;
#else
inline constexpr int weight_bits = 8;
#endif

struct fc1 : Dense<"fc1", DenseAttributes{.input = {1, 1, 256}, .units = 10, .bits = {8, weight_bits, 8},
                                          .signed_input = true, .signed_output = true},
                   targets::tflite_int8> {};
static_assert(fc1::valid);
