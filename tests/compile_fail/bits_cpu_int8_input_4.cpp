// cpu_int8 (ONNX Runtime QLinear ops) computes on 8-bit tensors; a 4-bit input is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int input_bits = 4;
#else
inline constexpr int input_bits = 8;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .bits = {input_bits, 8, 8}},
                      targets::cpu_int8> {};
static_assert(conv1::valid);
