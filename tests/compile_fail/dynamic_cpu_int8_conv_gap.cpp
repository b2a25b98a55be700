// A dynamic convolution fuses MaxPool (OK) but not GlobalAveragePool (KO): the float average's
// summation order would be a guess at onnxruntime's.
#include "statiq/layers/dynamic.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
constexpr Pool pool = global_average_pool;
#else
constexpr Pool pool = max_pool({2, 2}, {2, 2});
#endif

struct conv1 : DynamicConv2D<"conv1", ConvAttributes{.input = {8, 8, 3}, .filters = 8, .kernel = {3, 3},
                                                     .pads = Pads::same, .activation = relu, .pool = pool},
                             targets::cpu_int8> {};
static_assert(conv1::valid);
