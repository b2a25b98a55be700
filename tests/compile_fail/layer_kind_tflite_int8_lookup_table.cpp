// tflite_int8 has no LookupTable layer (TFLite computes Logistic, Tanh, LeakyRelu and HardSwish in
// its own arithmetic, not with onnxruntime's tables); cpu_int8 has it (OK).
#include "statiq/layers/lookup_table.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::tflite_int8;
#else
using target = targets::cpu_int8;
#endif

struct sig : LookupTable<"sig",
                         LookupTableAttributes{.shape = {4, 4, 8}, .function = LookupFunction::sigmoid,
                                               .signed_input = true, .signed_output = true},
                         target> {};
static_assert(sig::valid);
