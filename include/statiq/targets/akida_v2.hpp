// statiq/targets/akida_v2.hpp — BrainChip Akida 2.0: the pow2 (QuantizeML) arithmetic, its
// pattern table and the per-layer limits of TARGETS.md, checked at compile time.
#pragma once

#include "statiq/arith/pow2.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

struct akida_v2 {
  static constexpr fixed_string name{"akida_v2"};
  using profile = arith::pow2;
  static constexpr bool packs_sub_byte = true;  // 4-bit weights two to a byte
  static constexpr std::size_t memory_bytes = 0;  // not modelled: no arena limit
  // A Conv2D/DepthwiseConv2D with a fused MaxPool must feed a convolution (TARGETS.md); the Graph
  // checks it (diag::max_pool_must_feed_a_convolution).
  static constexpr bool max_pool_must_feed_convolution = true;

  // QuantizeML's pattern table (newer release; TARGETS.md), Flatten folded into Gemm.
  static constexpr Pattern patterns[] = {
      {{"Conv", "Relu", "GlobalAveragePool"}, 3}, {{"Conv", "Relu", "MaxPool"}, 3},
      {{"Conv", "GlobalAveragePool"}, 2},         {{"Conv", "Relu"}, 2},
      {{"Conv", "Clip", "GlobalAveragePool"}, 3}, {{"Conv", "Clip", "MaxPool"}, 3},
      {{"Conv", "Clip"}, 2},                      {{"Conv"}, 1},
      {{"Gemm", "Relu"}, 2},                      {{"Gemm", "Clip"}, 2},
      {{"Gemm"}, 1},                              {{"Add", "Relu"}, 2},
      {{"Add"}, 1},                               {{"Concat"}, 1},
      // The boundaries: the uint8 image enters as is, a final Dequantizer gives floats.
      {{"QuantizeLinear"}, 1},                    {{"DequantizeLinear"}, 1},
  };

  static constexpr bool bits_4_or_8(int b) { return b == 4 || b == 8; }

  template <fixed_string Name, LayerKind Kind, auto A>
  static constexpr bool check() {
    using namespace diag;
    if constexpr (Kind == LayerKind::input_conv2d || Kind == LayerKind::conv2d ||
                  Kind == LayerKind::depthwise_conv2d) {
      constexpr Pattern p = fused_pattern("Conv", A.activation, A.pool);
      constexpr Shape in = A.input;
      constexpr Kernel k = A.kernel;
      constexpr Stride s = A.strides;
      constexpr Pads same = resolve_pads(Pads::same, in, k, s);
      constexpr Pads found = resolve_pads(A.pads, in, k, s);
      constexpr Shape conv_out = window_output_shape(in, A.filters, k, s, A.pads);
      if constexpr (Kind == LayerKind::input_conv2d) {
        constexpr bool square = k.h == k.w;
        constexpr int max_stride = k.h == 3 ? 3 : k.h == 4 ? 4 : k.h == 5 ? 5 : k.h == 7 ? 6 : 0;
        constexpr bool pool_ok = A.pool.kind == PoolKind::none ||
                                 (A.pool.kind == PoolKind::max && A.pool.kernel.h == A.pool.kernel.w &&
                                  A.pool.stride.h == A.pool.stride.w &&
                                  ((A.pool.kernel.h == 2 && A.pool.stride.h == 2) ||
                                   (A.pool.kernel.h == 3 && A.pool.stride.h == 2)));
        return report_first<
            rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
            rule<A.bits.in == 8 && !A.signed_input, input_must_be_unsigned_8_bit<Name, name, A.bits.in, A.signed_input>>,
            rule<in.c == 1 || in.c == 3, input_channels_not_supported<Name, name, in.c>>,
            rule<(in.w >= 5 && in.h >= 5 && in.h <= 384), input_size_out_of_range<Name, name, in, 5, 384>>,
            rule<(square && max_stride > 0), kernel_size_not_supported<Name, name, Kind, k>>,
            rule<(s.h == s.w && s.h >= 1 && s.h <= max_stride), stride_not_supported_for_kernel<Name, name, k, s, max_stride>>,
            rule<pads_are_same_or_valid(A.pads, in, k, s, true), expects_pads<Name, name, pads_text(same), pads_text(found)>>,
            rule<A.dilations == Dilation{1, 1}, dilation_not_supported<Name, name, A.dilations>>,
            rule<A.group == 1, groups_not_supported<Name, name, A.group>>,
            rule<A.filters <= 512, too_many_filters<Name, name, A.filters, 512>>,
            rule<pool_ok, pool_not_supported<Name, name, A.pool>>,
            rule<A.bits.w == 8, weight_bits_not_supported<Name, name, A.bits.w, text_of("{8}")>>,
            rule<bits_4_or_8(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{4, 8}")>>>();
      } else {
        constexpr bool kernel_ok = k.h == k.w && (k.h == 3 || k.h == 5 || k.h == 7 ||
                                                  (k.h == 1 && Kind == LayerKind::conv2d));
        constexpr bool pool_ok =
            A.pool.kind == PoolKind::none ||
            (A.pool.kind == PoolKind::max && A.pool.kernel == Kernel{2, 2} && A.pool.stride.h == A.pool.stride.w &&
             (A.pool.stride.h == 1 || A.pool.stride.h == 2)) ||
            A.pool.kind == PoolKind::global_average;
        constexpr bool gap_ok = A.pool.kind != PoolKind::global_average ||
                                (conv_out.w <= 64 && conv_out.w * conv_out.h < 144);
        return report_first<
            rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
            rule<in.h <= 4096 && in.w <= 4096 && in.c <= 2048, tensor_too_large<Name, name, in, 4096, 2048>>,
            rule<kernel_ok, kernel_size_not_supported<Name, name, Kind, k>>,
            rule<s.h == s.w && (s.h == 1 || s.h == 2), stride_not_supported_for_kernel<Name, name, k, s, 2>>,
            rule<s.h == 1 || k == Kernel{3, 3}, stride_2_only_with_3x3_kernels<Name, name, k, s>>,
            rule<pads_are_same_or_valid(A.pads, in, k, s, k == Kernel{1, 1}),
                 expects_pads<Name, name, pads_text(same), pads_text(found)>>,
            rule<A.dilations == Dilation{1, 1}, dilation_not_supported<Name, name, A.dilations>>,
            rule<A.group == 1 || Kind == LayerKind::depthwise_conv2d, groups_not_supported<Name, name, A.group>>,
            rule<pool_ok, pool_not_supported<Name, name, A.pool>>,
            rule<gap_ok, global_average_pool_input_too_large<Name, name, conv_out, 64, 144>>,
            rule<bits_4_or_8(A.bits.in), input_bits_not_supported<Name, name, A.bits.in, text_of("{4, 8}")>>,
            rule<bits_4_or_8(A.bits.w), weight_bits_not_supported<Name, name, A.bits.w, text_of("{4, 8}")>>,
            rule<bits_4_or_8(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{4, 8}")>>>();
      }
    } else if constexpr (Kind == LayerKind::dense) {
      constexpr Pattern p = fused_pattern("Gemm", A.activation, no_pool);
      return report_first<
          rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
          rule<A.input.size() <= 2048, dense_input_too_large<Name, name, A.input.size(), 2048>>,
          rule<bits_4_or_8(A.bits.in), input_bits_not_supported<Name, name, A.bits.in, text_of("{4, 8}")>>,
          rule<bits_4_or_8(A.bits.w), weight_bits_not_supported<Name, name, A.bits.w, text_of("{4, 8}")>>,
          rule<bits_4_or_8(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{4, 8}")>>>();
    } else if constexpr (Kind == LayerKind::add) {
      constexpr Pattern p = fused_pattern("Add", A.activation, no_pool);
      return report_first<rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>>();
    } else if constexpr (Kind == LayerKind::concat || Kind == LayerKind::quantize || Kind == LayerKind::dequantize) {
      return true;
    } else {
      return report_first<rule<false, layer_kind_not_supported_by_target<Name, name, Kind>>>();
    }
  }
};

}  // namespace statiq::targets
