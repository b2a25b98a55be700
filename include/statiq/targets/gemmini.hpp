// statiq/targets/gemmini.hpp — the Gemmini systolic array (DIM 16): int8 x int8 -> int32, zero
// points 0, one scale per tensor, optional ReLU/ReLU6 and fused max pooling; the rest is host work.
#pragma once

#include "statiq/arith/gemmini.hpp"
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

struct gemmini : target_rules<gemmini> {
  static constexpr fixed_string name{"gemmini"};
  using profile = arith::gemmini;
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;  // DRAM-backed; give a limit with with_memory<>
  static constexpr int dim = 16;                  // the systolic array is DIM x DIM
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "the Gemmini systolic array: int8, zero points 0, one scale per layer";
  static constexpr bool hardware = true;
  static constexpr bool akida_conventions = false;
  static constexpr bool signed_activations = true;
  static constexpr int default_bits = 8;

  static constexpr Pattern patterns[] = {
      {{"Conv"}, 1},           {{"Conv", "Relu"}, 2},           {{"Conv", "Clip"}, 2},
      {{"Conv", "MaxPool"}, 2}, {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "Clip", "MaxPool"}, 3},
      {{"Gemm"}, 1},           {{"Gemm", "Relu"}, 2},           {{"Gemm", "Clip"}, 2},
      {{"Add"}, 1},            {{"Add", "Relu"}, 2},  // resadd
      {{"QuantizeLinear"}, 1}, {{"DequantizeLinear"}, 1},
  };

  static constexpr Violation rules(LayerKind, const ConvAttributes& a) {
    return eight_bit_layer(patterns, fused_pattern("Conv", a.activation, a.pool), a.bits, a.signed_input,
                           a.signed_output, true);
  }
  static constexpr Violation rules(LayerKind, const DenseAttributes& a) {
    return eight_bit_layer(patterns, fused_pattern("Gemm", a.activation, no_pool), a.bits, a.signed_input,
                           a.signed_output, true);
  }
  static constexpr Violation rules(LayerKind, const AddAttributes& a) {
    return eight_bit_layer(patterns, fused_pattern("Add", a.activation, no_pool), Bits{a.bits.in, 8, a.bits.out},
                           a.signed_input, a.signed_output, true);
  }
  static constexpr Violation rules(LayerKind, const QuantizeAttributes&) { return no_violation; }
  static constexpr Violation rules(LayerKind, const DequantizeAttributes&) { return no_violation; }
  // No Concat or stand-alone pooling on the array: host work.
  template <class Attributes>
  static constexpr Violation rules(LayerKind kind, const Attributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
};

}  // namespace statiq::targets
