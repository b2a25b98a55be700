// One Conv2D on an MCU-sized cpu_int8: the input (8*8*3 = 192 B), the output (8*8*8 = 512 B) and
// the int32 accumulators (512 * 4 = 2048 B) are all live in step 0, so the arena is
// 192 + 512 + 2048 = 2752 B (16-byte aligned each). 2752 B of memory fit (OK), 2751 do not (KO).
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::with_memory<targets::cpu_int8, 2751>;
#else
using target = targets::with_memory<targets::cpu_int8, 2752>;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 3}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                      target> {};
using model = Sequential<conv1>;
static_assert(model::valid && model::arena_bytes == 2752);
