// statiq/targets/int8_cpu_rules.hpp — the rules of the 8-bit CPU targets (cpu_int8 = ONNX Runtime,
// tflite_int8 = TFLite / CMSIS-NN): every layer kind, any kernel, stride, pads, group and dilation;
// 8-bit tensors; a global average is a layer of its own because both runtimes requantize before it.
#pragma once

#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/copy.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

template <bool SignedActivations>
struct int8_cpu_rules {
  static constexpr bool signed_activations = SignedActivations;  // int8 (TFLite) or as chosen (ONNX Runtime)

  static constexpr Pattern patterns[] = {
      {{"Conv"}, 1},           {{"Conv", "Relu"}, 2},           {{"Conv", "Clip"}, 2},
      {{"Conv", "MaxPool"}, 2}, {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "Clip", "MaxPool"}, 3},
      {{"Gemm"}, 1},           {{"Gemm", "Relu"}, 2},           {{"Gemm", "Clip"}, 2},
      {{"Add"}, 1},            {{"Add", "Relu"}, 2},            {{"Concat"}, 1},
      {{"MaxPool"}, 1},        {{"AveragePool"}, 1},            {{"GlobalAveragePool"}, 1},
      {{"QuantizeLinear"}, 1}, {{"DequantizeLinear"}, 1},
      {{"LeakyRelu"}, 1},      {{"Sigmoid"}, 1},                {{"Tanh"}, 1},
      {{"HardSigmoid"}, 1},    {{"HardSwish"}, 1},              {{"Mul"}, 1},
      {{"Max"}, 1},            {{"Min"}, 1},                    {{"Sub"}, 1},
  };

  static constexpr Violation rules(LayerKind, const ConvAttributes& a) {
    return eight_bit_layer(patterns, fused_pattern("Conv", a.activation, a.pool), a.bits, a.signed_input,
                           a.signed_output, SignedActivations);
  }
  static constexpr Violation rules(LayerKind, const DenseAttributes& a) {
    return eight_bit_layer(patterns, fused_pattern("Gemm", a.activation, no_pool), a.bits, a.signed_input,
                           a.signed_output, SignedActivations);
  }
  static constexpr Violation rules(LayerKind, const QuantizeAttributes& a) {
    return eight_bit_tensors(Bits{8, 8, a.bits}, true, a.signed_output, SignedActivations);
  }
  static constexpr Violation rules(LayerKind, const DequantizeAttributes& a) {
    return eight_bit_tensors(Bits{a.bits, 8, 8}, a.signed_input, true, SignedActivations);
  }
  // A lookup table (LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish) is onnxruntime's QLinear form:
  // statiq builds it as onnxruntime does. TFLite computes these in its own arithmetic (no statiq
  // layer for it yet), so tflite_int8 has none.
  static constexpr Violation rules(LayerKind kind, const LookupTableAttributes& a) {
    if (SignedActivations) return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
    return eight_bit_tensors(Bits{a.bits.in, 8, a.bits.out}, a.signed_input, a.signed_output, SignedActivations);
  }
  // Mul/Max/Min/Sub of two tensors are onnxruntime's QDQ forms; TFLite's MUL ... requantize in its own
  // arithmetic (no statiq layer yet).
  static constexpr Violation rules(LayerKind kind, const ElementwiseAttributes& a) {
    if (SignedActivations) return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
    return eight_bit_tensors(Bits{a.bits.in, 8, a.bits.out}, a.signed_input, a.signed_output, SignedActivations);
  }
  // Add, Concat, MaxPool, AveragePool, GlobalAveragePool: 8-bit tensors.
  template <class Attributes>
  static constexpr Violation rules(LayerKind, const Attributes& a) {
    return eight_bit_tensors(Bits{a.bits.in, 8, a.bits.out}, a.signed_input, a.signed_output, SignedActivations);
  }
};

}  // namespace statiq::targets
