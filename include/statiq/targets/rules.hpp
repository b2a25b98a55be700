// statiq/targets/rules.hpp — the vocabulary the targets state their limits in: pattern tables,
// and Violation, what a target's rules() returns for a layer. The same constexpr rules run in
// the compiler (report_violation: one diag:: error naming layer, target and numbers) and in
// statiq-codegen at run time (describe: the same rule, as text for its report).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>

#include "statiq/core/bits.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/pads.hpp"
#include "statiq/core/pool.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/layers/layer_kind.hpp"

namespace statiq {

constexpr bool table_has(std::span<const Pattern> table, const Pattern& p) {
  for (const Pattern& q : table)
    if (q == p) return true;
  return false;
}

// "[t, l, b, r]" for a diagnostic.
constexpr text<> pads_text(Pads p) {
  text<> t;
  auto num = [&t](int v) {
    char buf[12]{};
    int n = 0;
    bool neg = v < 0;
    unsigned u = neg ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
    do { buf[n++] = static_cast<char>('0' + u % 10); u /= 10; } while (u);
    if (neg) buf[n++] = '-';
    char out[12]{};
    for (int i = 0; i < n; ++i) out[i] = buf[n - 1 - i];
    t.append(std::string_view(out, static_cast<std::size_t>(n)));
  };
  t.append("[");
  num(p.top); t.append(", ");
  num(p.left); t.append(", ");
  num(p.bottom); t.append(", ");
  num(p.right);
  t.append("]");
  return t;
}

// Whether explicit pads equal the target's "same" convention (or none at all, "valid").
constexpr bool pads_are_same_or_valid(Pads given, Shape in, Kernel k, Stride s, bool valid_allowed) {
  const Pads r = resolve_pads(given, in, k, s);
  const Pads same = resolve_pads(Pads::same, in, k, s);
  const bool is_same = r.top == same.top && r.left == same.left && r.bottom == same.bottom && r.right == same.right;
  const bool is_valid = r.top == 0 && r.left == 0 && r.bottom == 0 && r.right == 0;
  return is_same || (valid_allowed && is_valid);
}

// Every hardware rule a target can state. Each has a diag:: class template of the same name
// (below), whose parameters are the layer, the target and the numbers of that rule.
enum class Rule {
  none,
  pattern_not_in_target_table,
  layer_kind_not_supported_by_target,
  kernel_size_not_supported,
  stride_2_only_with_3x3_kernels,
  stride_not_supported_for_kernel,
  expects_pads,
  pool_expects_pads,
  input_bits_not_supported,
  weight_bits_not_supported,
  output_bits_not_supported,
  input_must_be_unsigned_8_bit,
  activations_must_be_signed,
  input_channels_not_supported,
  input_size_out_of_range,
  tensor_too_large,
  too_many_filters,
  dilation_not_supported,
  groups_not_supported,
  pool_not_supported,
  global_average_pool_input_too_large,
  dense_input_too_large,
  output_rows_too_few,
  global_average_before_relu_on_akida_v1,
  depthwise_is_fused_with_pointwise_on_akida_v1,
  max_pool_must_feed_a_convolution,
  count_
};

// A broken rule and its numbers: which fields are meaningful depends on the rule (see describe()).
struct Violation {
  Rule rule = Rule::none;
  LayerKind kind = LayerKind::conv2d;
  Kernel kernel{};
  Stride strides{};
  Dilation dilations{};
  Shape shape{};
  Pool pool{};
  int value = 0;
  int limit = 0;
  int limit2 = 0;
  bool flag = false;
  text<> text1{};
  text<> text2{};

  constexpr bool broken() const { return rule != Rule::none; }
};

inline constexpr Violation no_violation{};

// An edge of the network as a target's connection rules see it: what the producing layer is and
// fuses, and what kind of layer reads its output. A target states its rules about edges in
// `static constexpr Violation connects(const Connection&)` (target_rules gives the default: any
// edge is fine); the Graph checks every edge at compile time and statiq-codegen asks the same
// function before fusing.
struct Connection {
  LayerKind producer = LayerKind::conv2d;
  Pool producer_pool{};
  LayerKind consumer = LayerKind::conv2d;
};

template <Rule R>
inline constexpr std::string_view rule_message = "";
template <Rule R>
inline constexpr std::string_view rule_name = "none";

}  // namespace statiq

// Declares a rule's message (for run-time reports) and its diag:: class template (for the
// compiler) from one text.
#define STATIQ_RULE(NAME, MESSAGE, ...)                                                     \
  template <>                                                                               \
  inline constexpr std::string_view rule_message<Rule::NAME> = MESSAGE;                     \
  template <>                                                                               \
  inline constexpr std::string_view rule_name<Rule::NAME> = #NAME;                          \
  namespace diag {                                                                          \
  STATIQ_DIAGNOSTIC(NAME, MESSAGE, __VA_ARGS__);                                            \
  }

namespace statiq {

STATIQ_RULE(pattern_not_in_target_table,
            "this operator sequence is not one of the target's fused patterns: change the fusion, "
            "place the layer on the host (statiq::targets::host<...>) or let statiq-codegen legalize it",
            fixed_string Layer, fixed_string Target, text<> ops)
STATIQ_RULE(layer_kind_not_supported_by_target,
            "the target has no layer of this kind: place it on the host (statiq::targets::host<...>)",
            fixed_string Layer, fixed_string Target, LayerKind kind)
STATIQ_RULE(kernel_size_not_supported, "kernel size not supported by the target", fixed_string Layer,
            fixed_string Target, LayerKind kind, Kernel kernel)
STATIQ_RULE(stride_2_only_with_3x3_kernels, "stride 2 only with 3x3 kernels", fixed_string Layer,
            fixed_string Target, Kernel kernel, Stride strides)
STATIQ_RULE(stride_not_supported_for_kernel, "stride not supported for this kernel size", fixed_string Layer,
            fixed_string Target, Kernel kernel, Stride strides, int max_stride)
STATIQ_RULE(expects_pads,
            "padding must follow the target's \"same\" convention (odd pixel at the end): "
            "expects pads [top, left, bottom, right]; pre-pad the input or let statiq-codegen legalize it",
            fixed_string Layer, fixed_string Target, text<> expected, text<> found)
STATIQ_RULE(pool_expects_pads,
            "a fused MaxPool's padding must follow the target's \"same\" convention (odd pixel at the end) or be "
            "valid: expects pool pads [top, left, bottom, right]; change the pool's pads or run it on the host",
            fixed_string Layer, fixed_string Target, text<> expected, text<> found)
STATIQ_RULE(input_bits_not_supported, "input bits not supported by the target", fixed_string Layer,
            fixed_string Target, int bits, text<> allowed)
STATIQ_RULE(weight_bits_not_supported, "weight bits not supported by the target", fixed_string Layer,
            fixed_string Target, int bits, text<> allowed)
STATIQ_RULE(output_bits_not_supported, "output bits not supported by the target", fixed_string Layer,
            fixed_string Target, int bits, text<> allowed)
STATIQ_RULE(input_must_be_unsigned_8_bit, "the input layer reads unsigned 8-bit pixels", fixed_string Layer,
            fixed_string Target, int bits, bool signed_input)
STATIQ_RULE(activations_must_be_signed, "the target's activations are signed integers (zero point 0)",
            fixed_string Layer, fixed_string Target)
STATIQ_RULE(input_channels_not_supported, "input layer channels must be 1 or 3", fixed_string Layer,
            fixed_string Target, int channels)
STATIQ_RULE(input_size_out_of_range, "input height/width outside the target's range", fixed_string Layer,
            fixed_string Target, Shape input, int min_size, int max_height)
STATIQ_RULE(tensor_too_large, "height, width or channels above the target's limit", fixed_string Layer,
            fixed_string Target, Shape input, int max_hw, int max_channels)
STATIQ_RULE(too_many_filters, "more filters than the target's layer allows", fixed_string Layer,
            fixed_string Target, int filters, int max_filters)
STATIQ_RULE(dilation_not_supported, "the target has no dilated convolution", fixed_string Layer,
            fixed_string Target, Dilation dilations)
STATIQ_RULE(groups_not_supported, "the target has no grouped convolution (only depthwise)", fixed_string Layer,
            fixed_string Target, int group)
STATIQ_RULE(pool_not_supported, "this pooling (size, stride) cannot be fused on the target", fixed_string Layer,
            fixed_string Target, Pool pool)
STATIQ_RULE(global_average_pool_input_too_large, "GlobalAveragePool input too large for the target",
            fixed_string Layer, fixed_string Target, Shape input, int max_width, int max_pixels_exclusive)
STATIQ_RULE(dense_input_too_large, "Dense input (H*W*C) above the target's limit", fixed_string Layer,
            fixed_string Target, int inputs, int max_inputs)
STATIQ_RULE(output_rows_too_few, "the layer must produce at least 3 rows on this target", fixed_string Layer,
            fixed_string Target, int rows)
STATIQ_RULE(global_average_before_relu_on_akida_v1,
            "Akida 1.0 averages before the ReLU (Conv -> GAP -> ReLU); Conv -> ReLu -> GAP is a 2.0 pattern",
            fixed_string Layer, fixed_string Target)
STATIQ_RULE(depthwise_is_fused_with_pointwise_on_akida_v1,
            "Akida 1.0 has no stand-alone depthwise layer: it fuses depthwise and pointwise "
            "(SeparableConvolutional)",
            fixed_string Layer, fixed_string Target)
STATIQ_RULE(max_pool_must_feed_a_convolution,
            "on this target a convolution with a fused MaxPool must feed a Conv/Depthwise layer: run the MaxPool "
            "as a layer of its own (on the host) or change what reads it",
            fixed_string Layer, fixed_string Target, fixed_string Consumer, LayerKind consumer_kind)

// The message and the identifier of a rule at run time.
constexpr std::string_view message_of(Rule r) {
  std::string_view m;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((r == static_cast<Rule>(I) ? (m = rule_message<static_cast<Rule>(I)>, 0) : 0), ...);
  }(std::make_index_sequence<static_cast<std::size_t>(Rule::count_)>{});
  return m;
}
constexpr std::string_view name_of(Rule r) {
  std::string_view m = "none";
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((r == static_cast<Rule>(I) ? (m = rule_name<static_cast<Rule>(I)>, 0) : 0), ...);
  }(std::make_index_sequence<static_cast<std::size_t>(Rule::count_)>{});
  return m;
}

// A set of allowed bit-widths, shown as "{4, 8}" in diagnostics.
struct BitSet {
  int values[4]{};
  int count = 0;
  constexpr BitSet(std::initializer_list<int> v) {
    for (int b : v) values[count++] = b;
  }
  constexpr bool has(int b) const {
    for (int i = 0; i < count; ++i)
      if (values[i] == b) return true;
    return false;
  }
  constexpr text<> str() const {
    text<> t;
    t.append("{");
    for (int i = 0; i < count; ++i) {
      if (i) t.append(", ");
      const char digit[2] = {static_cast<char>('0' + values[i]), '\0'};
      t.append(std::string_view(digit, 1));
    }
    t.append("}");
    return t;
  }
};

inline constexpr BitSet any_bits{1, 2, 4, 8};

// The first of input, weight and output bit-widths outside its allowed set.
constexpr Violation check_bits(Bits b, BitSet in, BitSet w, BitSet out) {
  if (!in.has(b.in)) return {.rule = Rule::input_bits_not_supported, .value = b.in, .text1 = in.str()};
  if (!w.has(b.w)) return {.rule = Rule::weight_bits_not_supported, .value = b.w, .text1 = w.str()};
  if (!out.has(b.out)) return {.rule = Rule::output_bits_not_supported, .value = b.out, .text1 = out.str()};
  return no_violation;
}

// The tensors of an 8-bit target: 8-bit input, weights and output, and signed activations where
// the target (TFLite, Gemmini) requires them.
constexpr Violation eight_bit_tensors(Bits b, bool signed_in, bool signed_out, bool signed_required) {
  if (const Violation v = check_bits(b, {8}, {8}, {8}); v.broken()) return v;
  if (signed_required && !(signed_in && signed_out)) return {.rule = Rule::activations_must_be_signed};
  return no_violation;
}

// A fused layer of an 8-bit target: its op sequence in the target's table, then its tensors.
constexpr Violation eight_bit_layer(std::span<const Pattern> table, const Pattern& p, Bits b, bool signed_in,
                                    bool signed_out, bool signed_required) {
  if (!table_has(table, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
  return eight_bit_tensors(b, signed_in, signed_out, signed_required);
}

// The compiler's side of a Violation: instantiates the rule's diag:: template with the layer, the
// target and the numbers (one error), or does nothing when no rule is broken. Returns whether the
// layer is valid.
template <fixed_string Layer, fixed_string Target, Violation V>
constexpr auto report_violation() {
  using namespace diag;
  constexpr Rule r = V.rule;
  if constexpr (r == Rule::none) return holds;
  else if constexpr (r == Rule::pattern_not_in_target_table) return verdict<pattern_not_in_target_table<Layer, Target, V.text1>>{};
  else if constexpr (r == Rule::layer_kind_not_supported_by_target) return verdict<layer_kind_not_supported_by_target<Layer, Target, V.kind>>{};
  else if constexpr (r == Rule::kernel_size_not_supported) return verdict<kernel_size_not_supported<Layer, Target, V.kind, V.kernel>>{};
  else if constexpr (r == Rule::stride_2_only_with_3x3_kernels) return verdict<stride_2_only_with_3x3_kernels<Layer, Target, V.kernel, V.strides>>{};
  else if constexpr (r == Rule::stride_not_supported_for_kernel) return verdict<stride_not_supported_for_kernel<Layer, Target, V.kernel, V.strides, V.limit>>{};
  else if constexpr (r == Rule::expects_pads) return verdict<expects_pads<Layer, Target, V.text1, V.text2>>{};
  else if constexpr (r == Rule::pool_expects_pads) return verdict<pool_expects_pads<Layer, Target, V.text1, V.text2>>{};
  else if constexpr (r == Rule::input_bits_not_supported) return verdict<input_bits_not_supported<Layer, Target, V.value, V.text1>>{};
  else if constexpr (r == Rule::weight_bits_not_supported) return verdict<weight_bits_not_supported<Layer, Target, V.value, V.text1>>{};
  else if constexpr (r == Rule::output_bits_not_supported) return verdict<output_bits_not_supported<Layer, Target, V.value, V.text1>>{};
  else if constexpr (r == Rule::input_must_be_unsigned_8_bit) return verdict<input_must_be_unsigned_8_bit<Layer, Target, V.value, V.flag>>{};
  else if constexpr (r == Rule::activations_must_be_signed) return verdict<activations_must_be_signed<Layer, Target>>{};
  else if constexpr (r == Rule::input_channels_not_supported) return verdict<input_channels_not_supported<Layer, Target, V.value>>{};
  else if constexpr (r == Rule::input_size_out_of_range) return verdict<input_size_out_of_range<Layer, Target, V.shape, V.limit, V.limit2>>{};
  else if constexpr (r == Rule::tensor_too_large) return verdict<tensor_too_large<Layer, Target, V.shape, V.limit, V.limit2>>{};
  else if constexpr (r == Rule::too_many_filters) return verdict<too_many_filters<Layer, Target, V.value, V.limit>>{};
  else if constexpr (r == Rule::dilation_not_supported) return verdict<dilation_not_supported<Layer, Target, V.dilations>>{};
  else if constexpr (r == Rule::groups_not_supported) return verdict<groups_not_supported<Layer, Target, V.value>>{};
  else if constexpr (r == Rule::pool_not_supported) return verdict<pool_not_supported<Layer, Target, V.pool>>{};
  else if constexpr (r == Rule::global_average_pool_input_too_large) return verdict<global_average_pool_input_too_large<Layer, Target, V.shape, V.limit, V.limit2>>{};
  else if constexpr (r == Rule::dense_input_too_large) return verdict<dense_input_too_large<Layer, Target, V.value, V.limit>>{};
  else if constexpr (r == Rule::output_rows_too_few) return verdict<output_rows_too_few<Layer, Target, V.value>>{};
  else if constexpr (r == Rule::global_average_before_relu_on_akida_v1) return verdict<global_average_before_relu_on_akida_v1<Layer, Target>>{};
  else if constexpr (r == Rule::depthwise_is_fused_with_pointwise_on_akida_v1) return verdict<depthwise_is_fused_with_pointwise_on_akida_v1<Layer, Target>>{};
  else static_assert(diag::always_false<decltype(V)>, "statiq: internal: a Rule without a diagnostic");
}

// The compiler's side of a broken connection rule: the producing layer, the target, the consumer.
template <fixed_string Layer, fixed_string Target, fixed_string Consumer, Violation V>
constexpr auto report_connection_violation() {
  using namespace diag;
  constexpr Rule r = V.rule;
  if constexpr (r == Rule::none) return holds;
  else if constexpr (r == Rule::max_pool_must_feed_a_convolution) return verdict<max_pool_must_feed_a_convolution<Layer, Target, Consumer, V.kind>>{};
  else static_assert(diag::always_false<decltype(V)>, "statiq: internal: a connection Rule without a diagnostic");
}

// The adapter every target uses: its constexpr rules(kind, attributes) checked at compile time.
template <class Derived>
struct target_rules {
  template <fixed_string Name, LayerKind Kind, auto A>
  static constexpr auto check() {
    return report_violation<Name, Derived::name, Derived::rules(Kind, A)>();
  }
  // No rule about how layers connect unless the target states one (it hides this).
  static constexpr Violation connects(const Connection&) { return no_violation; }
};

}  // namespace statiq
