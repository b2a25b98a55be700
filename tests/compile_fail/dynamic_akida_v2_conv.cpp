// Dynamic quantization is onnxruntime's CPU scheme: a DynamicConv2D on cpu_int8 compiles (OK); the
// same layer on akida_v2 (KO) is refused naming the layer and the target.
#include "statiq/layers/dynamic.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::akida_v2;
#else
using target = targets::cpu_int8;
#endif

struct conv1 : DynamicConv2D<"conv1", ConvAttributes{.input = {8, 8, 3}, .filters = 8, .kernel = {3, 3},
                                                     .pads = Pads::same, .activation = relu}, target> {};
static_assert(conv1::valid && conv1::scratch_words == 8 * 8 * 8 + 48);
