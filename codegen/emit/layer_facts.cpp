// codegen/emit/layer_facts.cpp — a lowered layer's geometry and costs from the library's functions.
#include "codegen/emit/layer_facts.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "statiq/engine/arena.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/layer_kind.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"

namespace statiq::codegen {

namespace {

template <class A>
const A& attributes_as(const Layer& layer) {
  if (const A* a = std::get_if<A>(&layer.attributes)) return *a;
  throw std::invalid_argument("layer '" + layer.name + "' (" + std::string(layer_kind_name(layer.kind)) +
                              "): its attributes are of another layer kind");
}

std::string pattern_string(const Pattern& p) { return std::string(pattern_text<64>(p).view()); }

// plan_arena takes its buffer count as a template argument; the sizes past the model's are empty.
struct PlanSummary {
  std::size_t bytes = 0;
  bool in_place = false;
};

template <std::size_t N>
PlanSummary plan_summary(const std::vector<BufferUse>& uses) {
  std::array<BufferUse, N> a{};
  std::copy(uses.begin(), uses.end(), a.begin());
  const ArenaPlan<N> plan = plan_arena(a);
  return {plan.bytes, plan.in_place};
}

PlanSummary plan_summary(const std::vector<BufferUse>& uses) {
  const std::size_t count = uses.size();
  if (count <= 16) return plan_summary<16>(uses);
  if (count <= 128) return plan_summary<128>(uses);
  if (count <= 1024) return plan_summary<1024>(uses);
  if (count <= 4096) return plan_summary<4096>(uses);
  std::size_t total = 0;  // beyond any real network: no reuse, an upper bound
  for (const BufferUse& b : uses) total += align_up(b.bytes);
  return {total, false};
}

template <class D>
struct profile_of_data {};
template <class P>
struct profile_of_data<ProfileData<P>> {
  using type = P;
};

// f(int8 or uint8), the byte storage of a tensor of that signedness (every element-wise layer's).
template <class F>
auto with_byte_type(bool is_signed, F&& f) {
  return is_signed ? f(std::int8_t{}) : f(std::uint8_t{});
}

// The kernel the engine's layer type names for the element-wise layers (statiq/layers/*.hpp, the same
// constexpr decisions, in this generator's build's ISA); those whose choice depends on the profile
// only once the layer's data says which (after quantization).
std::string elementwise_kernel(const Layer& layer) {
  switch (layer.kind) {
    case LayerKind::lookup_table: return std::string(lookup_table_kernel_name());
    case LayerKind::elementwise: return std::string(elementwise_kernel_name(attributes_as<ElementwiseAttributes>(layer).op));
    case LayerKind::copy: return "reference::copy";
    case LayerKind::dequantize: {
      const auto& a = attributes_as<DequantizeAttributes>(layer);
      return with_byte_type(a.signed_input, [&](auto x) {
        return std::string(dequantize_kernel_name<decltype(x)>(a.softmax));
      });
    }
    case LayerKind::concat: {
      const auto& a = attributes_as<ConcatAttributes>(layer);
      return with_byte_type(a.signed_input, [&](auto x) {
        return with_byte_type(a.signed_output, [&](auto y) {
          return std::string(concat_kernel_name(concat_runs_byte_kernel<decltype(x), decltype(y)>(a)));
        });
      });
    }
    default: break;
  }
  return std::visit(
      [&](const auto& data) -> std::string {
        if constexpr (requires { typename profile_of_data<std::decay_t<decltype(data)>>::type; }) {
          using P = typename profile_of_data<std::decay_t<decltype(data)>>::type;
          if (layer.kind == LayerKind::add) {
            const auto& a = attributes_as<AddAttributes>(layer);
            return with_byte_type(a.signed_input, [&](auto x) {
              return with_byte_type(a.second_input_signed(), [&](auto x2) {
                return with_byte_type(a.signed_output, [&](auto y) {
                  return std::string(add_kernel_name<P>(add_kernel<P, decltype(x), decltype(x2), decltype(y)>(a)));
                });
              });
            });
          }
          if (layer.kind == LayerKind::quantize) {
            const auto& a = attributes_as<QuantizeAttributes>(layer);
            return with_byte_type(a.signed_output, [&](auto y) { return std::string(quantize_kernel_name<P, decltype(y)>()); });
          }
          if (layer.kind == LayerKind::max_pool || layer.kind == LayerKind::average_pool ||
              layer.kind == LayerKind::global_average_pool) {
            PoolAttributes a = attributes_as<PoolAttributes>(layer);
            if (layer.kind == LayerKind::max_pool) a.pool.kind = PoolKind::max;
            if (layer.kind == LayerKind::average_pool) a.pool.kind = PoolKind::average;
            if (layer.kind == LayerKind::global_average_pool) a.pool = global_average_pool;
            return with_byte_type(a.signed_input, [&](auto x) {
              return with_byte_type(a.signed_output, [&](auto y) {
                return std::string(pool_kernel_label<P, decltype(x), decltype(y)>(a).view());
              });
            });
          }
        }
        return "";
      },
      layer.data);
}

}  // namespace

LayerFacts facts_of(const Layer& layer, bool packs_sub_byte) {
  LayerFacts f;
  switch (layer.kind) {
    case LayerKind::input_conv2d:
    case LayerKind::conv2d:
    case LayerKind::depthwise_conv2d: {
      ConvAttributes a = attributes_as<ConvAttributes>(layer);
      if (layer.kind == LayerKind::depthwise_conv2d) {
        if (a.group == 1) a.group = a.input.c;  // what statiq::depthwise() fills in
        if (a.filters == 0) a.filters = a.input.c;
      }
      if (a.group <= 0 || a.input.c % a.group != 0)
        throw std::invalid_argument("layer '" + layer.name + "': input channels " + std::to_string(a.input.c) +
                                    " are not a multiple of group " + std::to_string(a.group));
      const Shape conv = conv_output_shape(a);
      f.output = output_shape(a);
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.has_weights = true;
      f.weight_count = weight_count(a);
      f.channels = std::size_t(a.filters);
      if (!layer.dynamic) {
        f.weight_layout = weight_layout(a, !(packs_sub_byte && a.bits.w < 8));
        f.kernel = kernels::conv_kernel_name(conv_kernel(a, f.weight_layout));
      }
      f.scratch_words = scratch_words(a, f.weight_layout);
      f.params = std::int64_t(f.weight_count) + a.filters;
      f.macs = std::int64_t(conv.h) * conv.w * std::int64_t(f.weight_count);
      f.pattern = pattern_string(fused_pattern("Conv", a.activation, a.pool));
      break;
    }
    case LayerKind::dense: {
      const auto& a = attributes_as<DenseAttributes>(layer);
      f.output = output_shape(a);
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.has_weights = true;
      f.weight_count = weight_count(a);
      f.channels = std::size_t(a.units);
      if (!layer.dynamic) {
        f.weight_layout = weight_layout(a, !(packs_sub_byte && a.bits.w < 8));
        f.kernel = kernels::conv_kernel_name(dense_kernel(a, f.weight_layout));
      }
      f.scratch_words = scratch_words(a, f.weight_layout);
      f.params = std::int64_t(f.weight_count) + a.units;
      f.macs = std::int64_t(f.weight_count);
      f.pattern = pattern_string(fused_pattern("Gemm", a.activation, no_pool));
      break;
    }
    case LayerKind::add: {
      const auto& a = attributes_as<AddAttributes>(layer);
      f.output = a.shape;
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.arity = 2;
      f.pattern = pattern_string(fused_pattern("Add", a.activation, no_pool));
      break;
    }
    case LayerKind::concat: {
      const auto& a = attributes_as<ConcatAttributes>(layer);
      f.output = output_shape(a);
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.arity = a.count;
      f.pattern = "Concat";
      break;
    }
    case LayerKind::max_pool:
    case LayerKind::average_pool:
    case LayerKind::global_average_pool: {
      PoolAttributes a = attributes_as<PoolAttributes>(layer);
      // the pool kind is the layer type's (statiq::max_pool_attributes and its siblings)
      if (layer.kind == LayerKind::max_pool) a.pool.kind = PoolKind::max;
      if (layer.kind == LayerKind::average_pool) a.pool.kind = PoolKind::average;
      if (layer.kind == LayerKind::global_average_pool) a.pool = global_average_pool;
      f.output = output_shape(a);
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.channels = layer.kind == LayerKind::max_pool ? 0 : std::size_t(f.output.c);
      f.scratch_words = scratch_words(a);
      f.pattern = std::string(pool_op(a.pool));
      break;
    }
    case LayerKind::quantize: {
      const auto& a = attributes_as<QuantizeAttributes>(layer);
      f.output = a.shape;
      f.bits = Bits{a.bits, a.bits, a.bits};
      f.signed_output = a.signed_output;
      f.float_input = true;
      f.pattern = "QuantizeLinear";
      break;
    }
    case LayerKind::lookup_table: {
      const auto& a = attributes_as<LookupTableAttributes>(layer);
      f.output = a.shape;
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.params = 256;
      f.pattern = std::string(lookup_function_op(a.function));
      break;
    }
    case LayerKind::elementwise: {
      const auto& a = attributes_as<ElementwiseAttributes>(layer);
      f.output = a.shape;
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.arity = 2;
      f.pattern = std::string(elementwise_op_name(a.op));
      break;
    }
    case LayerKind::copy: {
      const auto& a = attributes_as<CopyAttributes>(layer);
      f.output = a.output;
      f.bits = a.bits;
      f.signed_input = a.signed_input;
      f.signed_output = a.signed_output;
      f.params = std::size_t(a.output.size());
      f.pattern = layer.copy_of;
      break;
    }
    case LayerKind::dequantize: {
      const auto& a = attributes_as<DequantizeAttributes>(layer);
      f.output = a.shape;
      f.bits = Bits{a.bits, a.bits, a.bits};
      f.signed_input = a.signed_input;
      f.float_output = true;
      f.pattern = a.softmax ? pattern_string(Pattern{{"DequantizeLinear", "Softmax"}, 2}) : "DequantizeLinear";
      break;
    }
  }
  if (!f.has_weights && !layer.dynamic) f.kernel = elementwise_kernel(layer);
  f.type_name = std::string(layer_kind_name(layer.kind));  // the library's one spelling of the class
  if (layer.dynamic) {  // statiq/layers/dynamic.hpp: DynamicConv2D, DynamicDepthwiseConv2D, DynamicDense, DynamicAdd
    if ((!f.has_weights && layer.kind != LayerKind::add) || layer.kind == LayerKind::input_conv2d)
      throw std::invalid_argument("layer '" + layer.name +
                                  "': only Conv2D, DepthwiseConv2D, Dense and Add have a dynamic form");
    f.type_name = "Dynamic" + f.type_name;
    f.float_input = f.float_output = true;
    f.signed_input = false;
    std::visit(
        [&](const auto& a) {
          if constexpr (requires { dynamic_scratch_words(a); }) {
            f.scratch_words = dynamic_scratch_words(a);
            f.weight_layout = dynamic_weight_layout(a);
            f.kernel = kernels::conv_kernel_name(dynamic_kernel(a));
          }
        },
        layer.attributes);
  }
  return f;
}

namespace {
// The engine's buffers as statiq::Graph lists them: [0] the graph input, [1 + i] node i's output,
// [1 + n + i] node i's scratch, each with the steps it lives.
std::vector<BufferUse> arena_uses(const LoweredModel& model, bool packs_sub_byte, bool in_place = true) {
  const std::size_t n = model.layers.size();
  std::vector<BufferUse> uses(1 + 2 * n);
  const LayerFacts first = facts_of(model.layers[0], packs_sub_byte);
  uses[0].bytes = std::size_t(model.input_shape.size()) * (first.float_input ? sizeof(float) : 1);
  for (std::size_t i = 0; i < n; ++i) {
    const LayerFacts f = facts_of(model.layers[i], packs_sub_byte);
    const int step = int(i);
    uses[1 + i] = BufferUse{std::size_t(f.output.size()) * (f.float_output ? sizeof(float) : 1), step,
                            i + 1 == n ? int(n) - 1 : step};
    uses[1 + n + i] = BufferUse{f.scratch_words * sizeof(std::int32_t), step, step};
  }
  for (std::size_t i = 0; i < n; ++i)
    for (const int from : model.layers[i].inputs) {
      if (from < -1 || from >= int(n)) continue;  // emit() refuses such a model before asking
      BufferUse& b = uses[std::size_t(from + 1)];
      b.last = std::max(b.last, int(i));
    }
  if (in_place)
    for (std::size_t i = 0; i < n; ++i)
      if (runs_in_place(model.layers[i].kind))
        for (const int from : model.layers[i].inputs)
          if (from >= -1 && from < int(n) && share_in_place(uses, 1 + i, std::size_t(from + 1))) break;
  return uses;
}
}  // namespace

std::size_t arena_bytes(const LoweredModel& model, bool packs_sub_byte, bool in_place) {
  if (model.layers.empty()) return 0;
  return plan_summary(arena_uses(model, packs_sub_byte, in_place)).bytes;
}

std::size_t in_place_layers(const LoweredModel& model, bool packs_sub_byte) {
  if (model.layers.empty()) return 0;
  const std::vector<BufferUse> uses = arena_uses(model, packs_sub_byte);
  if (!plan_summary(uses).in_place) return 0;  // the plan keeps every buffer apart: it is smaller
  std::size_t k = 0;
  for (std::size_t i = 0; i < model.layers.size(); ++i) k += uses[1 + i].shares >= 0 ? 1 : 0;
  return k;
}

ArenaBound arena_bound(const LoweredModel& model, bool packs_sub_byte) {
  if (model.layers.empty()) return {};
  return arena_lower_bound(arena_uses(model, packs_sub_byte));
}

}  // namespace statiq::codegen
