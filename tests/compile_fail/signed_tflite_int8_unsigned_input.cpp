// TFLite int8 activations are signed with weights' zero point 0: a uint8 input (fine for
// cpu_int8, ONNX Runtime's QLinearConv) is rejected on tflite_int8.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr bool signed_input = false;
#else
inline constexpr bool signed_input = true;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = signed_input, .signed_output = true},
                      targets::tflite_int8> {};
static_assert(conv1::valid);
