// An Elementwise Mul is onnxruntime's QLinearMul: 8-bit inputs and output; a 4-bit output is rejected.
#include "statiq/layers/elementwise.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int output_bits = 4;
#else
inline constexpr int output_bits = 8;
#endif

struct gate : Elementwise<"gate", ElementwiseAttributes{.op = ElementwiseOp::mul, .shape = {4, 4, 8}, .per_channel_second = true, .bits = {8, 8, output_bits}},
                  targets::cpu_int8> {};
static_assert(gate::valid);
static_assert(gate::input_shape(1) == Shape{1, 1, 8});  // the squeeze-excite gate: one value per channel
