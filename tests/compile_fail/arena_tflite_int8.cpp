// Two 3x3 convolutions 8x8x4 -> 8x8x8 -> 8x8x8 on tflite_int8. Buffers (bytes, live steps): input
// 256 [0], out1 512 [0,1], out2 512 [1], scratch1 2048 [0], scratch2 2048 [1]. The scratches share
// [0, 2048); out1 follows at 2048, out2 at 2560 (it overlaps out1 in step 1), the input at 2560
// (free in step 0): 3072 B in all, against 5376 without reuse. 3072 fit (OK), 3071 do not (KO).
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/host.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::with_memory<targets::tflite_int8, 3071>;
#else
using target = targets::with_memory<targets::tflite_int8, 3072>;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 4}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = true},
                      target> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {8, 8, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = true},
                      target> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid && model::arena_bytes == 3072 && model::arena_bytes_without_reuse == 5376);
