// ONNX Runtime requantizes before a GlobalAveragePool, so cpu_int8 has no fused
// Conv -> GlobalAveragePool (KO fuses it; OK keeps the convolution alone).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pool pool = global_average_pool;
#else
inline constexpr Pool pool = no_pool;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .pool = pool, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
static_assert(conv1::valid);
