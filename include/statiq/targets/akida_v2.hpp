// statiq/targets/akida_v2.hpp — BrainChip Akida 2.0: the pow2 (QuantizeML) arithmetic, its
// pattern table and the per-layer limits of TARGETS.md, as constexpr rules.
#pragma once

#include "statiq/arith/pow2.hpp"
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

struct akida_v2 : target_rules<akida_v2> {
  static constexpr fixed_string name{"akida_v2"};
  using profile = arith::pow2;
  static constexpr bool packs_sub_byte = true;  // 4-bit weights two to a byte
  static constexpr std::size_t memory_bytes = 0;  // not modelled: no arena limit
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "BrainChip Akida 2.0 (QuantizeML): power-of-two fixed point, 4 or 8 bits";
  static constexpr bool hardware = true;
  static constexpr bool akida_conventions = true;
  static constexpr bool signed_activations = false;
  static constexpr int default_bits = 8;

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

  // InputConv2D: W >= 5, H in [5, 384], C in {1, 3}, uint8; 3x3 s1-3, 4x4 s1-4, 5x5 s1-5, 7x7 s1-6;
  // same or valid; <= 512 filters; no dilation or groups; MaxPool (2,2) or (3,2), pads same or
  // valid; bits 8/8/(4|8).
  // Conv2D / DepthwiseConv2D: W, H <= 4096, C <= 2048; 1x1 (Conv2D only), 3x3, 5x5, 7x7; stride 1
  // or 2, 2 only with 3x3; same only; MaxPool 2x2 stride 1 or 2, pads same; GAP with width <= 64 and
  // W*H < 144; bits (4|8)/(4|8)/(4|8).
  static constexpr Violation rules(LayerKind kind, const ConvAttributes& a) {
    const Pattern p = fused_pattern("Conv", a.activation, a.pool);
    const Shape in = a.input;
    const Kernel k = a.kernel;
    const Stride s = a.strides;
    const Pads same = resolve_pads(Pads::same, in, k, s);
    const Pads found = resolve_pads(a.pads, in, k, s);
    const Shape conv_out = window_output_shape(in, a.filters, k, s, a.pads);
    if (!table_has(patterns, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
    if (kind == LayerKind::input_conv2d) {
      const int max_stride = k.h != k.w ? 0 : k.h == 3 ? 3 : k.h == 4 ? 4 : k.h == 5 ? 5 : k.h == 7 ? 6 : 0;
      const bool pool_ok = a.pool.kind == PoolKind::none ||
                           (a.pool.kind == PoolKind::max && a.pool.kernel.h == a.pool.kernel.w &&
                            a.pool.strides.h == a.pool.strides.w &&
                            ((a.pool.kernel.h == 2 && a.pool.strides.h == 2) ||
                             (a.pool.kernel.h == 3 && a.pool.strides.h == 2)));
      if (a.bits.in != 8 || a.signed_input)
        return {.rule = Rule::input_must_be_unsigned_8_bit, .value = a.bits.in, .flag = a.signed_input};
      if (in.c != 1 && in.c != 3) return {.rule = Rule::input_channels_not_supported, .value = in.c};
      if (in.w < 5 || in.h < 5 || in.h > 384)
        return {.rule = Rule::input_size_out_of_range, .shape = in, .limit = 5, .limit2 = 384};
      if (max_stride == 0) return {.rule = Rule::kernel_size_not_supported, .kind = kind, .kernel = k};
      if (s.h != s.w || s.h < 1 || s.h > max_stride)
        return {.rule = Rule::stride_not_supported_for_kernel, .kernel = k, .strides = s, .limit = max_stride};
      if (!pads_are_same_or_valid(a.pads, in, k, s, true))
        return {.rule = Rule::expects_pads, .text1 = pads_text(same), .text2 = pads_text(found)};
      if (a.dilations != Dilation{1, 1}) return {.rule = Rule::dilation_not_supported, .dilations = a.dilations};
      if (a.group != 1) return {.rule = Rule::groups_not_supported, .value = a.group};
      if (a.filters > 512) return {.rule = Rule::too_many_filters, .value = a.filters, .limit = 512};
      if (!pool_ok) return {.rule = Rule::pool_not_supported, .pool = a.pool};
      if (const Violation v = pool_pads(a.pool, conv_out, true); v.broken()) return v;
      return check_bits(a.bits, any_bits, {8}, {4, 8});
    }
    const bool kernel_ok =
        k.h == k.w && (k.h == 3 || k.h == 5 || k.h == 7 || (k.h == 1 && kind == LayerKind::conv2d));
    const bool pool_ok = a.pool.kind == PoolKind::none ||
                         (a.pool.kind == PoolKind::max && a.pool.kernel == Kernel{2, 2} &&
                          a.pool.strides.h == a.pool.strides.w && (a.pool.strides.h == 1 || a.pool.strides.h == 2)) ||
                         a.pool.kind == PoolKind::global_average;
    const bool gap_ok =
        a.pool.kind != PoolKind::global_average || (conv_out.w <= 64 && conv_out.w * conv_out.h < 144);
    if (in.h > 4096 || in.w > 4096 || in.c > 2048)
      return {.rule = Rule::tensor_too_large, .shape = in, .limit = 4096, .limit2 = 2048};
    if (!kernel_ok) return {.rule = Rule::kernel_size_not_supported, .kind = kind, .kernel = k};
    if (s.h != s.w || (s.h != 1 && s.h != 2))
      return {.rule = Rule::stride_not_supported_for_kernel, .kernel = k, .strides = s, .limit = 2};
    if (s.h != 1 && k != Kernel{3, 3}) return {.rule = Rule::stride_2_only_with_3x3_kernels, .kernel = k, .strides = s};
    if (!pads_are_same_or_valid(a.pads, in, k, s, k == Kernel{1, 1}))
      return {.rule = Rule::expects_pads, .text1 = pads_text(same), .text2 = pads_text(found)};
    if (a.dilations != Dilation{1, 1}) return {.rule = Rule::dilation_not_supported, .dilations = a.dilations};
    if (a.group != 1 && kind != LayerKind::depthwise_conv2d) return {.rule = Rule::groups_not_supported, .value = a.group};
    if (!pool_ok) return {.rule = Rule::pool_not_supported, .pool = a.pool};
    if (const Violation v = pool_pads(a.pool, conv_out, false); v.broken()) return v;
    if (!gap_ok) return {.rule = Rule::global_average_pool_input_too_large, .shape = conv_out, .limit = 64, .limit2 = 144};
    return check_bits(a.bits, {4, 8}, {4, 8}, {4, 8});
  }

  // A fused MaxPool pads as Keras does for the layer's padding: "same" (the odd pixel at the end),
  // or none where the layer may be "valid" (the input layer). ONNX's symmetric [1, 1, 1, 1] of a 3x3
  // stride-2 pool on an even map moves every window one pixel: refused, not silently shifted.
  static constexpr Violation pool_pads(const Pool& pool, Shape conv_out, bool valid_allowed) {
    if (pool.kind != PoolKind::max || pads_are_same_or_valid(pool.pads, conv_out, pool.kernel, pool.strides, valid_allowed))
      return {};
    return {.rule = Rule::pool_expects_pads,
            .text1 = pads_text(resolve_pads(Pads::same, conv_out, pool.kernel, pool.strides)),
            .text2 = pads_text(resolve_pads(pool.pads, conv_out, pool.kernel, pool.strides))};
  }

  // TARGETS.md: a Conv2D/Depthwise with a fused MaxPool "must feed a Conv/Depthwise" (the graph's
  // output, read by nothing, is fine).
  static constexpr Violation connects(const Connection& c) {
    // (the InputConv2D's pool is not bound by it: TARGETS.md states it for Conv2D/Depthwise)
    const bool convolution = c.producer == LayerKind::conv2d || c.producer == LayerKind::depthwise_conv2d;
    const bool feeds_convolution = c.consumer == LayerKind::conv2d || c.consumer == LayerKind::depthwise_conv2d;
    if (convolution && c.producer_pool.kind == PoolKind::max && !feeds_convolution)
      return {.rule = Rule::max_pool_must_feed_a_convolution, .kind = c.consumer};
    return no_violation;
  }

  // Dense1D: W = H = 1 after Flatten, W*H*C <= 2048, bits (4|8)/(4|8)/(4|8).
  static constexpr Violation rules(LayerKind, const DenseAttributes& a) {
    const Pattern p = fused_pattern("Gemm", a.activation, no_pool);
    if (!table_has(patterns, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
    if (a.input.size() > 2048) return {.rule = Rule::dense_input_too_large, .value = a.input.size(), .limit = 2048};
    return check_bits(a.bits, {4, 8}, {4, 8}, {4, 8});
  }

  static constexpr Violation rules(LayerKind, const AddAttributes& a) {
    const Pattern p = fused_pattern("Add", a.activation, no_pool);
    if (!table_has(patterns, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
    return no_violation;
  }
  static constexpr Violation rules(LayerKind, const ConcatAttributes&) { return no_violation; }
  static constexpr Violation rules(LayerKind, const QuantizeAttributes&) { return no_violation; }
  static constexpr Violation rules(LayerKind, const DequantizeAttributes&) { return no_violation; }
  // No stand-alone pooling: only fused into a convolution.
  static constexpr Violation rules(LayerKind kind, const PoolAttributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
  // No lookup-table activations (LeakyRelu, Sigmoid ...) on Akida 2.0.
  static constexpr Violation rules(LayerKind kind, const LookupTableAttributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
  static constexpr Violation rules(LayerKind kind, const ElementwiseAttributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
  // No Resize on Akida 2.0: the copy runs on the host (exact in any arithmetic).
  static constexpr Violation rules(LayerKind kind, const CopyAttributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
};

}  // namespace statiq::targets
