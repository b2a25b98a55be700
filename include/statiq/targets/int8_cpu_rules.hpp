// statiq/targets/int8_cpu_rules.hpp — the rules of the 8-bit CPU targets (cpu_int8 = ONNX Runtime,
// tflite_int8 = TFLite / CMSIS-NN): every layer kind, any kernel, stride, pads, group and dilation;
// 8-bit tensors; a global average is a layer of its own because both runtimes requantize before it.
#pragma once

#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets::detail {

inline constexpr Pattern int8_cpu_patterns[] = {
    {{"Conv"}, 1},        {{"Conv", "Relu"}, 2},        {{"Conv", "Clip"}, 2},
    {{"Conv", "MaxPool"}, 2}, {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "Clip", "MaxPool"}, 3},
    {{"Gemm"}, 1},        {{"Gemm", "Relu"}, 2},        {{"Gemm", "Clip"}, 2},
    {{"Add"}, 1},         {{"Add", "Relu"}, 2},         {{"Concat"}, 1},
    {{"MaxPool"}, 1},     {{"AveragePool"}, 1},         {{"GlobalAveragePool"}, 1},
    {{"QuantizeLinear"}, 1}, {{"DequantizeLinear"}, 1},
};

template <fixed_string Name, fixed_string Target, LayerKind Kind, auto A, bool SignedActivations>
constexpr bool check_int8_cpu() {
  using namespace diag;
  constexpr auto eight = text_of("{8}");
  if constexpr (Kind == LayerKind::input_conv2d || Kind == LayerKind::conv2d ||
                Kind == LayerKind::depthwise_conv2d) {
    constexpr Pattern p = fused_pattern("Conv", A.activation, A.pool);
    return report_first<
        rule<table_has(int8_cpu_patterns, p), pattern_not_in_target_table<Name, Target, pattern_text(p)>>,
        rule<A.bits.in == 8, input_bits_not_supported<Name, Target, A.bits.in, eight>>,
        rule<A.bits.w == 8, weight_bits_not_supported<Name, Target, A.bits.w, eight>>,
        rule<A.bits.out == 8, output_bits_not_supported<Name, Target, A.bits.out, eight>>,
        rule<!SignedActivations || (A.signed_input && A.signed_output), activations_must_be_signed<Name, Target>>>();
  } else if constexpr (Kind == LayerKind::dense) {
    constexpr Pattern p = fused_pattern("Gemm", A.activation, no_pool);
    return report_first<
        rule<table_has(int8_cpu_patterns, p), pattern_not_in_target_table<Name, Target, pattern_text(p)>>,
        rule<A.bits.in == 8, input_bits_not_supported<Name, Target, A.bits.in, eight>>,
        rule<A.bits.w == 8, weight_bits_not_supported<Name, Target, A.bits.w, eight>>,
        rule<A.bits.out == 8, output_bits_not_supported<Name, Target, A.bits.out, eight>>,
        rule<!SignedActivations || (A.signed_input && A.signed_output), activations_must_be_signed<Name, Target>>>();
  } else if constexpr (Kind == LayerKind::quantize) {
    return report_first<rule<A.bits == 8, output_bits_not_supported<Name, Target, A.bits, eight>>,
                        rule<!SignedActivations || A.signed_output, activations_must_be_signed<Name, Target>>>();
  } else if constexpr (Kind == LayerKind::dequantize) {
    return report_first<rule<A.bits == 8, input_bits_not_supported<Name, Target, A.bits, eight>>,
                        rule<!SignedActivations || A.signed_input, activations_must_be_signed<Name, Target>>>();
  } else {
    // Add, Concat, MaxPool, AveragePool, GlobalAveragePool: 8-bit tensors.
    return report_first<
        rule<A.bits.in == 8, input_bits_not_supported<Name, Target, A.bits.in, eight>>,
        rule<A.bits.out == 8, output_bits_not_supported<Name, Target, A.bits.out, eight>>,
        rule<!SignedActivations || (A.signed_input && A.signed_output), activations_must_be_signed<Name, Target>>>();
  }
}

}  // namespace statiq::targets::detail
