// statiq/targets/gemmini.hpp — the Gemmini systolic array (DIM 16): int8 x int8 -> int32, zero
// points 0, one scale per tensor, optional ReLU/ReLU6 and fused max pooling; the rest is host work.
#pragma once

#include "statiq/arith/gemmini.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

struct gemmini {
  static constexpr fixed_string name{"gemmini"};
  using profile = arith::gemmini;
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;  // DRAM-backed; give a limit with with_memory<>
  static constexpr int dim = 16;                  // the systolic array is DIM x DIM

  static constexpr Pattern patterns[] = {
      {{"Conv"}, 1},        {{"Conv", "Relu"}, 2},        {{"Conv", "Clip"}, 2},
      {{"Conv", "MaxPool"}, 2}, {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "Clip", "MaxPool"}, 3},
      {{"Gemm"}, 1},        {{"Gemm", "Relu"}, 2},        {{"Gemm", "Clip"}, 2},
      {{"Add"}, 1},         {{"Add", "Relu"}, 2},  // resadd
      {{"QuantizeLinear"}, 1}, {{"DequantizeLinear"}, 1},
  };

  template <fixed_string Name, LayerKind Kind, auto A>
  static constexpr bool check() {
    using namespace diag;
    constexpr auto eight = text_of("{8}");
    if constexpr (Kind == LayerKind::input_conv2d || Kind == LayerKind::conv2d ||
                  Kind == LayerKind::depthwise_conv2d || Kind == LayerKind::dense) {
      constexpr Pattern p = Kind == LayerKind::dense ? fused_pattern("Gemm", A.activation, no_pool)
                                                     : fused_pattern("Conv", A.activation, pool_of(A));
      return report_first<
          rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
          rule<A.bits.in == 8, input_bits_not_supported<Name, name, A.bits.in, eight>>,
          rule<A.bits.w == 8, weight_bits_not_supported<Name, name, A.bits.w, eight>>,
          rule<A.bits.out == 8, output_bits_not_supported<Name, name, A.bits.out, eight>>,
          rule<A.signed_input && A.signed_output, activations_must_be_signed<Name, name>>>();
    } else if constexpr (Kind == LayerKind::add) {
      constexpr Pattern p = fused_pattern("Add", A.activation, no_pool);
      return report_first<rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
                          rule<A.bits.in == 8 && A.bits.out == 8, input_bits_not_supported<Name, name, A.bits.in, eight>>,
                          rule<A.signed_input && A.signed_output, activations_must_be_signed<Name, name>>>();
    } else if constexpr (Kind == LayerKind::quantize || Kind == LayerKind::dequantize) {
      return true;
    } else {
      return report_first<rule<false, layer_kind_not_supported_by_target<Name, name, Kind>>>();
    }
  }

 private:
  template <class A>
  static constexpr Pool pool_of(const A& a) {
    if constexpr (requires { a.pool; }) return a.pool;
    else return no_pool;
  }
};

}  // namespace statiq::targets
