// Gemmini Conv -> Relu -> MaxPool 8x8x4 -> 8x8x8 -> 4x4x8: input 256 B, output 128 B, scratch
// (512 accumulators + 128 pooled) * 4 = 2560 B, all live in step 0: 2944 B. 2944 fit (OK), 2943 not (KO).
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::with_memory<targets::gemmini, 2943>;
#else
using target = targets::with_memory<targets::gemmini, 2944>;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 4}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .pool = max_pool(2, 2),
                                              .bits = {8, 8, 8}, .signed_input = true, .signed_output = true},
                      target> {};
using model = Sequential<conv1>;
static_assert(model::valid && model::arena_bytes == 2944);
