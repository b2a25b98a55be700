// Akida 2.0 Conv2D 8x8x4 -> 8x8x8 then Dense -> 10 (one byte per activation, unpacked). Buffers
// (bytes, live steps): scratch1 2048 [0], out1 512 [0,1], input 256 [0], scratch2 40 [1], out2 10 [1].
// scratch1 at 0, out1 at 2048, the input at 2560, scratch2 at 0 and out2 at 48 (step 1 reuses the
// space of scratch1): 2816 B. 2816 fit (OK), 2815 do not (KO).
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::with_memory<targets::akida_v2, 2815>;
#else
using target = targets::with_memory<targets::akida_v2, 2816>;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 4}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 4, 4}},
                      target> {};
struct fc1 : Dense<"fc1", DenseAttributes{.input = {8, 8, 8}, .units = 10, .bits = {4, 4, 8}}, target> {};
using model = Sequential<conv1, fc1>;
static_assert(model::valid && model::arena_bytes == 2816);
