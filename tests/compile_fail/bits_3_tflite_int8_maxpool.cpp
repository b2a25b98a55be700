// The common 1/2/4/8-bit rule on a stand-alone MaxPool for tflite_int8: a 3-bit output is rejected.
#include "statiq/layers/max_pool.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int output_bits = 3;
#else
inline constexpr int output_bits = 8;
#endif

struct pool1 : MaxPool<"pool1", PoolAttributes{.input = {8, 8, 8}, .pool = max_pool(2, 2), .bits = {8, 8, output_bits},
                                               .signed_input = true, .signed_output = true},
                       targets::tflite_int8> {};
static_assert(pool1::valid);
