// TFLite's Mean is a layer of its own: Conv -> Relu -> GlobalAveragePool cannot be fused on
// tflite_int8 (KO), Conv -> Relu -> MaxPool can (OK).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pool pool = global_average_pool;
#else
inline constexpr Pool pool = max_pool(2, 2);
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .pool = pool,
                                              .bits = {8, 8, 8}, .signed_input = true, .signed_output = true},
                      targets::tflite_int8> {};
static_assert(conv1::valid);
