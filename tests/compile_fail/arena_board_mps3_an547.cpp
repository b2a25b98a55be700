// Two 3x3 convolutions 80x80x16 -> 80x80x16 -> 80x80x16 on tflite_int8, the target on a board
// (statiq/targets/boards.hpp). Buffers (bytes): input and outputs 102400 each, an int32 accumulator
// map of 409600 per convolution (the reference kernels'); the scratches share [0, 409600), out1
// follows, out2 and the input share the next 102400: 614400 in all. The Cortex-M4 board's data
// memory leaves 4194304 - 65536 (stack) - 4096 = 4124672 for the arena (OK); the Cortex-M55 board's
// DTCM 524288 - 32768 - 4096 = 487424 (KO): the error names the model, the board and both sizes.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/boards.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::on_board<targets::tflite_int8, boards::mps3_an547, "two_convs">;
#else
using target = targets::on_board<targets::tflite_int8, boards::mps2_an386, "two_convs">;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {80, 80, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = true},
                      target> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {80, 80, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = true},
                      target> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid && model::arena_bytes == 614400);
static_assert(boards::mps2_an386::arena_bytes == 4124672 && boards::mps3_an547::arena_bytes == 487424);
