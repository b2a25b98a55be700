// codegen/emit/emit.cpp — the generated C++: header (types), data TU (weights, golden vectors,
// make_model, self_test), self-test main; and the all-or-nothing writing of every file.
#include "codegen/emit/emit.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/emit/cpp_literals.hpp"
#include "codegen/emit/layer_facts.hpp"
#include "codegen/lower/target_registry.hpp"
#include "codegen/quantize/elementwise_params.hpp"
#include "statiq/arith/akida_v1_cpp.hpp"
#include "statiq/arith/gemmini_cpp.hpp"
#include "statiq/arith/pow2_cpp.hpp"
#include "statiq/arith/qlinear_cpp.hpp"
#include "statiq/arith/tflite_cpp.hpp"
#include "statiq/core/weight_sums.hpp"
#include "statiq/io/cpp_literal.hpp"
#include "statiq/targets/boards.hpp"
#include "statiq/targets/describe.hpp"

namespace statiq::codegen {

namespace {

namespace fs = std::filesystem;

// --- the target -------------------------------------------------------------------------------

// The library's target of a name (statiq::targets::target_list): its C++ name, profile, packing.
const TargetInfo& target_spec(const std::string& target) {
  if (const TargetInfo* t = lookup_target(target)) return *t;
  throw EmitError("unknown target '" + target + "': the generated code can name " + target_names(TargetSpelling::cpp));
}

// --- numbers ----------------------------------------------------------------------------------

std::string int_literal(std::int64_t v) { return io::cpp_literal(v); }

template <class T>
std::string list(const std::vector<T>& values, auto&& format, std::size_t per_line = 16,
                 std::string_view indent = "    ") {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += (i % per_line == 0) ? ",\n" + std::string(indent) : ", ";
    s += format(values[i]);
  }
  return s;
}

// --- attributes as designated initializers, only the fields that differ from the defaults -----

std::string shape_init(Shape s) { return fmt::format("{{{}, {}, {}}}", s.h, s.w, s.c); }

std::string pads_expr(const Pads& p) {
  if (p == Pads::same) return "statiq::Pads::same";
  if (p == Pads::valid) return "statiq::Pads::valid";
  return fmt::format("statiq::Pads{{.top = {}, .left = {}, .bottom = {}, .right = {}}}", p.top, p.left, p.bottom,
                     p.right);
}

std::string activation_expr(Activation a) {
  switch (a.kind) {
    case ActivationKind::relu: return "statiq::relu";
    case ActivationKind::clipped_relu: return "statiq::clipped_relu";
    default: return "statiq::no_activation";
  }
}

std::string pool_expr(const Pool& p) {
  const bool square = p.kernel.h == p.kernel.w && p.strides.h == p.strides.w;
  const std::string window = fmt::format("statiq::Kernel{{{}, {}}}, statiq::Stride{{{}, {}}}", p.kernel.h,
                                         p.kernel.w, p.strides.h, p.strides.w);
  const std::string pads = p.pads == Pads::valid ? "" : ", " + pads_expr(p.pads);
  switch (p.kind) {
    case PoolKind::none: return "statiq::no_pool";
    case PoolKind::global_average: return "statiq::global_average_pool";
    case PoolKind::max:
      if (square && p.pads == Pads::valid) return fmt::format("statiq::max_pool({}, {})", p.kernel.h, p.strides.h);
      return "statiq::max_pool(" + window + pads + ")";
    case PoolKind::average: return "statiq::average_pool(" + window + pads + ")";
  }
  return "statiq::no_pool";
}

std::string bits_init(Bits b) { return fmt::format("{{{}, {}, {}}}", b.in, b.w, b.out); }

std::string stats_init(WeightStats s) {
  return fmt::format("{{.max_sum_abs_weights = {}, .max_abs_bias = {}}}", s.max_sum_abs_weights, s.max_abs_bias);
}

struct Fields {
  std::vector<std::string> items;
  void add(std::string_view field, const std::string& value) { items.push_back(fmt::format(".{} = {}", field, value)); }
};

std::vector<std::string> attribute_fields(const ConvAttributes& a, LayerKind kind) {
  const ConvAttributes d{};
  const bool depthwise = kind == LayerKind::depthwise_conv2d;
  Fields f;
  if (a.input != d.input) f.add("input", shape_init(a.input));
  // statiq::depthwise() fills filters and group with the input channels
  if (a.filters != d.filters && !(depthwise && a.filters == a.input.c)) f.add("filters", std::to_string(a.filters));
  if (a.kernel != d.kernel) f.add("kernel", fmt::format("{{{}, {}}}", a.kernel.h, a.kernel.w));
  if (a.strides != d.strides) f.add("strides", fmt::format("{{{}, {}}}", a.strides.h, a.strides.w));
  if (a.pads != d.pads) f.add("pads", pads_expr(a.pads));
  if (a.activation != d.activation) f.add("activation", activation_expr(a.activation));
  if (a.pool != d.pool) f.add("pool", pool_expr(a.pool));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  if (a.dilations != d.dilations) f.add("dilations", fmt::format("{{{}, {}}}", a.dilations.h, a.dilations.w));
  if (a.group != d.group && !(depthwise && a.group == a.input.c)) f.add("group", std::to_string(a.group));
  if (a.weight_stats != d.weight_stats) f.add("weight_stats", stats_init(a.weight_stats));
  return f.items;
}

std::vector<std::string> attribute_fields(const DenseAttributes& a, LayerKind) {
  const DenseAttributes d{};
  Fields f;
  if (a.input != d.input) f.add("input", shape_init(a.input));
  if (a.units != d.units) f.add("units", std::to_string(a.units));
  if (a.activation != d.activation) f.add("activation", activation_expr(a.activation));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  if (a.weight_stats != d.weight_stats) f.add("weight_stats", stats_init(a.weight_stats));
  return f.items;
}

std::vector<std::string> attribute_fields(const AddAttributes& a, LayerKind) {
  const AddAttributes d{};
  Fields f;
  if (a.shape != d.shape) f.add("shape", shape_init(a.shape));
  if (a.activation != d.activation) f.add("activation", activation_expr(a.activation));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  // a residual Add joining a ReLU output and a convolution without one (akida-v2: mlperf_resnet8)
  if (a.signed_second_input != d.signed_second_input) f.add("signed_second_input", std::to_string(a.signed_second_input));
  return f.items;
}

std::vector<std::string> attribute_fields(const ConcatAttributes& a, LayerKind) {
  const ConcatAttributes d{};
  Fields f;
  std::string inputs;
  for (int i = 0; i < a.count && i < 4; ++i) inputs += (i ? ", " : "") + shape_init(a.inputs[i]);
  f.add("inputs", fmt::format("{{{}}}", inputs));
  if (a.count != d.count) f.add("count", std::to_string(a.count));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const PoolAttributes& a, LayerKind kind) {
  const PoolAttributes d{};
  Fields f;
  if (a.input != d.input) f.add("input", shape_init(a.input));
  // the layer type sets the pool kind; only the window is the layer's own
  if (kind != LayerKind::global_average_pool && a.pool != d.pool) f.add("pool", pool_expr(a.pool));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  if (a.count_include_pad) f.add("count_include_pad", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const QuantizeAttributes& a, LayerKind) {
  const QuantizeAttributes d{};
  Fields f;
  if (a.shape != d.shape) f.add("shape", shape_init(a.shape));
  if (a.bits != d.bits) f.add("bits", std::to_string(a.bits));
  if (a.signed_output) f.add("signed_output", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const DequantizeAttributes& a, LayerKind) {
  const DequantizeAttributes d{};
  Fields f;
  if (a.shape != d.shape) f.add("shape", shape_init(a.shape));
  if (a.bits != d.bits) f.add("bits", std::to_string(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.softmax) f.add("softmax", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const ElementwiseAttributes& a, LayerKind) {
  const ElementwiseAttributes d{};
  Fields f;
  if (a.op != d.op) f.add("op", fmt::format("statiq::ElementwiseOp::{}", [&] {
                            switch (a.op) {
                              case ElementwiseOp::mul: return "mul";
                              case ElementwiseOp::max: return "max";
                              case ElementwiseOp::min: return "min";
                              case ElementwiseOp::sub: return "sub";
                            }
                            return "mul";
                          }()));
  if (a.shape != d.shape) f.add("shape", shape_init(a.shape));
  if (a.per_channel_second) f.add("per_channel_second", "true");
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const CopyAttributes& a, LayerKind) {
  const CopyAttributes d{};
  Fields f;
  if (a.input != d.input) f.add("input", shape_init(a.input));
  if (a.output != d.output) f.add("output", shape_init(a.output));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  return f.items;
}

std::vector<std::string> attribute_fields(const LookupTableAttributes& a, LayerKind) {
  const LookupTableAttributes d{};
  Fields f;
  if (a.shape != d.shape) f.add("shape", shape_init(a.shape));
  f.add("function", fmt::format("statiq::LookupFunction::{}", [&] {
          switch (a.function) {
            case LookupFunction::leaky_relu: return "leaky_relu";
            case LookupFunction::sigmoid: return "sigmoid";
            case LookupFunction::tanh: return "tanh";
            case LookupFunction::hard_sigmoid: return "hard_sigmoid";
            case LookupFunction::hard_swish: return "hard_swish";
            case LookupFunction::max_constant: return "max_constant";
            case LookupFunction::min_constant: return "min_constant";
            case LookupFunction::add_constant: return "add_constant";
            case LookupFunction::sub_constant: return "sub_constant";
            case LookupFunction::constant_sub: return "constant_sub";
            case LookupFunction::mul_constant: return "mul_constant";
            case LookupFunction::div_constant: return "div_constant";
            case LookupFunction::clip: return "clip";
          }
          return "leaky_relu";
        }()));
  if (a.alpha != d.alpha) f.add("alpha", float_literal(a.alpha));
  if (a.beta != d.beta) f.add("beta", float_literal(a.beta));
  if (a.bits != d.bits) f.add("bits", bits_init(a.bits));
  if (a.signed_input) f.add("signed_input", "true");
  if (a.signed_output) f.add("signed_output", "true");
  return f.items;
}

// Joins items with ", ", wrapping before `width` columns; continuation lines start at `indent`.
constexpr std::size_t line_width = 120;

std::string wrap(const std::vector<std::string>& items, std::size_t first_column, std::size_t indent,
                 std::size_t width = line_width) {
  std::string s;
  std::size_t column = first_column;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string piece = items[i] + (i + 1 < items.size() ? "," : "");
    if (i && column + 1 + piece.size() > width) {
      s += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (i) {
      s += ' ';
      ++column;
    }
    s += piece;
    column += piece.size();
  }
  return s;
}

// A designated initializer ("{.a = 1, .b = {...}}") that would pass line_width broken at its
// top-level fields, continuation lines starting at `indent`.
std::string wrap_initializer(const std::string& init, std::size_t first_column, std::size_t indent) {
  if (first_column + init.size() <= line_width || init.size() < 2) return init;
  std::vector<std::string> fields;
  int depth = 0;
  std::size_t start = 1;
  for (std::size_t i = 0; i < init.size(); ++i) {
    if (init[i] == '{') ++depth;
    if (init[i] == '}') --depth;
    if (depth == 1 && init[i] == ',') {
      fields.push_back(init.substr(start, i - start));
      start = i + 2;  // past ", "
    }
  }
  fields.push_back(init.substr(start, init.size() - 1 - start));
  return "{" + wrap(fields, first_column + 1, indent) + "}";
}

std::string_view attributes_type(LayerKind kind) {
  switch (kind) {
    case LayerKind::input_conv2d:
    case LayerKind::conv2d:
    case LayerKind::depthwise_conv2d: return "ConvAttributes";
    case LayerKind::dense: return "DenseAttributes";
    case LayerKind::add: return "AddAttributes";
    case LayerKind::concat: return "ConcatAttributes";
    case LayerKind::max_pool:
    case LayerKind::average_pool:
    case LayerKind::global_average_pool: return "PoolAttributes";
    case LayerKind::quantize: return "QuantizeAttributes";
    case LayerKind::dequantize: return "DequantizeAttributes";
    case LayerKind::lookup_table: return "LookupTableAttributes";
    case LayerKind::elementwise: return "ElementwiseAttributes";
    case LayerKind::copy: return "CopyAttributes";
  }
  return "?";
}

// --- the model, checked and completed for emission --------------------------------------------

struct LayerPlan {
  const Layer* layer = nullptr;
  std::string id;        // the struct's name
  LayerFacts facts;
  LayerAttributes attributes;  // with the weight statistics computed here
  std::vector<std::uint8_t> weight_bytes;
};

struct Plan {
  const LoweredModel* model = nullptr;
  const TargetInfo* target = nullptr;
  std::vector<LayerPlan> layers;
  std::size_t quantized_output_node = 0;  // the last integer tensor
  bool float_output = false;              // the engine ends in a Dequantize, or is dynamic
  bool dynamic = false;                   // every layer dynamic: float in and out, no integer output
  TensorQuantization input_quantization;
  TensorQuantization output_quantization;
  const EmitOptions* options = nullptr;
};

template <class T>
struct profile_of {};
template <class P>
struct profile_of<ProfileData<P>> {
  using type = P;
};

std::string_view profile_name_of(const QuantData& data) {
  return std::visit(
      [](const auto& d) -> std::string_view {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::monostate>) return "";
        else return profile_of<D>::type::name;
      },
      data);
}

[[noreturn]] void refuse(const Layer& layer, const std::string& what) {
  std::string nodes;
  for (const std::string& n : layer.onnx_nodes) nodes += (nodes.empty() ? "" : ", ") + display_name(n);
  throw EmitError("layer '" + display_name(layer.name) + "' (" + std::string(layer_kind_name(layer.kind)) +
                  (nodes.empty() ? "" : "; ONNX " + nodes) + "): " + what);
}

// The largest per-output-channel sum of |w - weight_zero_point| and the largest |bias|: the tight
// accumulator bound the layer types check instead of the worst case of the bit-widths.
WeightStats weight_stats(const Layer& layer, std::size_t channels) {
  WeightStats s{0, 0};
  const std::size_t per_channel = channels ? layer.qweights.size() / channels : 0;
  for (std::size_t c = 0; c < channels; ++c) {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < per_channel; ++i)
      sum += std::llabs(std::int64_t{layer.qweights[c * per_channel + i]} - layer.weight_zero_point);
    s.max_sum_abs_weights = std::max(s.max_sum_abs_weights, sum);
  }
  for (const std::int32_t b : layer.qbias) s.max_abs_bias = std::max<std::int64_t>(s.max_abs_bias, std::llabs(b));
  return s;
}

Plan make_plan(const LoweredModel& model, const EmitOptions& options) {
  Plan plan;
  plan.model = &model;
  plan.options = &options;
  plan.target = &target_spec(model.target);
  if (model.name.empty() || cpp_identifier(model.name) != model.name)
    throw EmitError("model name '" + display_name(model.name) + "' is not a C++ namespace name; use e.g. '" +
                    cpp_identifier(model.name.empty() ? "model" : model.name) + "'");
  if (!options.board.empty() &&
      std::find(std::begin(boards::board_names), std::end(boards::board_names), options.board) ==
          std::end(boards::board_names)) {
    std::string known;
    for (const std::string_view b : boards::board_names) known += (known.empty() ? "" : ", ") + std::string(b);
    throw EmitError("board '" + display_name(options.board) + "' is not one of statiq/targets/boards.hpp: choose " +
                    known);
  }
  if (model.layers.empty()) throw EmitError("model '" + display_name(model.name) + "' has no layers to emit");

  std::vector<std::string> onnx_names;
  for (const Layer& l : model.layers) onnx_names.push_back(l.name);
  const std::vector<std::string> ids = unique_identifiers(onnx_names);

  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    LayerPlan lp;
    lp.layer = &layer;
    lp.id = ids[i];
    try {
      lp.facts = facts_of(layer, plan.target->packs_sub_byte);
    } catch (const std::invalid_argument& e) {
      refuse(layer, e.what());
    }
    const LayerFacts& f = lp.facts;
    lp.attributes = layer.attributes;
    if (layer.dynamic)  // the integer part's stand-in output signedness is the layer type's business
      std::visit([](auto& a) { if constexpr (requires { a.signed_output; }) a.signed_output = false; }, lp.attributes);

    if (layer.inputs.size() != std::size_t(f.arity))
      refuse(layer, fmt::format("it reads {} inputs, a {} reads {}", layer.inputs.size(), f.type_name, f.arity));
    for (const int from : layer.inputs)
      if (from < -1 || from >= int(i)) refuse(layer, fmt::format("input {} is not an earlier layer", from));

    if (layer.dynamic != model.dynamic)
      refuse(layer, model.dynamic ? "a dynamic model's layers are all dynamic" : "a dynamic layer in a static model");
    const std::string_view profile = profile_name_of(layer.data);
    const bool needs_data = layer.kind != LayerKind::quantize && layer.kind != LayerKind::dequantize &&
                            layer.kind != LayerKind::max_pool && !layer.dynamic;
    if (needs_data && profile.empty()) refuse(layer, "it has no quantized parameters: quantize the model first");
    if (!profile.empty() && profile != plan.target->profile)
      refuse(layer, fmt::format("its parameters are in the {} arithmetic, target {} computes in {}", profile,
                                plan.target->name, plan.target->profile));

    if (f.has_weights) {
      if (layer.qweights.size() != f.weight_count)
        refuse(layer, fmt::format("{} quantized weights, its attributes need {}", layer.qweights.size(), f.weight_count));
      if (layer.dynamic) {
        if (layer.bias.size() != f.channels)
          refuse(layer, fmt::format("{} biases, {} output channels", layer.bias.size(), f.channels));
        if (layer.weight_scales.size() != 1 && layer.weight_scales.size() != f.channels)
          refuse(layer, fmt::format("{} weight scales, {} output channels: one or one per channel",
                                    layer.weight_scales.size(), f.channels));
        if (layer.weight_zero_point != 0 || f.bits.w != 8) refuse(layer, "dynamic weights are int8 with zero point 0");
      } else if (layer.qbias.size() != f.channels) {
        refuse(layer, fmt::format("{} quantized biases, {} output channels", layer.qbias.size(), f.channels));
      }
      try {
        // In the order the engine's kernels read (statiq/core/weight_layout.hpp), padding zero.
        const WeightLayout& wl = f.weight_layout;
        // Checked in the model's order first, so that a refusal names the weight as the model holds it.
        (void)pack_weights(layer.qweights, f.bits.w, plan.target->packs_sub_byte);
        std::vector<std::int32_t> stored(wl.stored(layer.qweights.size()), 0);
        for (std::size_t k = 0; k < layer.qweights.size(); ++k) stored[wl.index(k)] = layer.qweights[k];
        lp.weight_bytes = pack_weights(stored, f.bits.w, plan.target->packs_sub_byte);
      } catch (const std::exception& e) {
        refuse(layer, e.what());
      }
      const WeightStats stats = weight_stats(layer, f.channels);
      std::visit(
          [&](auto& a) {
            if constexpr (requires { a.weight_stats; }) a.weight_stats = stats;
          },
          lp.attributes);
    }
    if (f.channels > 0 && !layer.dynamic) {
      const std::size_t n = std::visit(
          [](const auto& d) -> std::size_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) return 0;
            else return d.channel.size();
          },
          layer.data);
      if (n != f.channels)
        refuse(layer, fmt::format("{} channel requantization parameters, {} output channels", n, f.channels));
    }
    if (layer.kind == LayerKind::dequantize && layer.inputs[0] < 0)
      refuse(layer, "a Dequantize reading the graph input has no quantization to undo");
    plan.layers.push_back(std::move(lp));
  }

  const Layer& last = model.layers.back();
  plan.dynamic = model.dynamic;
  plan.float_output = last.kind == LayerKind::dequantize || plan.dynamic;
  plan.quantized_output_node = last.kind == LayerKind::dequantize ? std::size_t(last.inputs[0]) : model.layers.size() - 1;
  plan.output_quantization = model.layers[plan.quantized_output_node].output;
  plan.input_quantization = model.layers[0].output;
  if (plan.layers[0].facts.float_input == false && model.layers[0].inputs == std::vector<int>{-1}) {
    // an integer graph input: its quantization is the first layer's input, which the model does
    // not carry separately; report the first layer's zero point
    plan.input_quantization.zero_point = model.layers[0].input_zero_point;
  }

  const std::size_t in_size = std::size_t(model.input_shape.size());
  const std::size_t q_size =
      plan.dynamic ? 0 : std::size_t(plan.layers[plan.quantized_output_node].facts.output.size());
  const std::size_t out_size = std::size_t(plan.layers.back().facts.output.size());
  for (std::size_t g = 0; g < options.golden.size(); ++g) {
    const GoldenVector& v = options.golden[g];
    if (v.input.size() != in_size || v.quantized_output.size() != q_size ||
        (plan.float_output && v.output.size() != out_size))
      throw EmitError(fmt::format("golden vector {}: {} inputs, {} integer outputs, {} float outputs; the engine "
                                  "takes {} and produces {} integers{}",
                                  g, v.input.size(), v.quantized_output.size(), v.output.size(), in_size, q_size,
                                  plan.float_output ? fmt::format(" and {} floats", out_size) : std::string()));
  }
  return plan;
}

// --- the files --------------------------------------------------------------------------------

// `text` as // comment lines of at most line_width columns, broken at spaces. Every comment of the
// generated files is made here, so this is where names from the model become printable(): a
// newline or a trailing backslash in a node name cannot end the comment or splice the next line.
// Names in `text` are shorten()ed by the caller (a long one is cut, not the sentence around it).
std::string comment(std::string_view raw_text, std::string_view indent = "") {
  const std::string text = printable(raw_text);
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::string out, line;
  for (const std::string& w : words) {
    if (!line.empty() && indent.size() + 3 + line.size() + 1 + w.size() > line_width) {
      out += std::string(indent) + "// " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) out += std::string(indent) + "// " + line + "\n";
  return out;
}

std::string banner(const Plan& plan, std::string_view file, std::string_view what) {
  const EmitOptions& o = *plan.options;
  std::string s = comment(fmt::format("{} — {}", file, what)) +
                  comment(fmt::format("Generated by statiq-codegen from {}, target {}. Do not edit: regenerate.",
                                      o.model_file.empty() ? "an ONNX model" : shorten(o.model_file, 400),
                                      plan.target->name));
  if (!o.model_sha256.empty()) s += comment("Model sha256 " + o.model_sha256);
  return s;
}

std::string layer_target(const Layer& layer) {
  return layer.placement == Placement::host ? "statiq::targets::host<target>" : "target";
}

std::string self_test_definition(const Plan& plan);

std::string header(const Plan& plan) {
  const LoweredModel& m = *plan.model;
  std::string s = banner(plan, m.name + ".hpp", "the network as statiq layer types.");
  s += "#pragma once\n\n#include <bit>\n#include <cstddef>\n#include <cstdint>\n#include <cstdio>\n#include <iterator>\n\n"
       "#include <statiq/runtime.hpp>\n\n";
  if (plan.options->board.empty()) {
    s += fmt::format("namespace {} {{\n\nusing target = statiq::targets::{};\n\n", m.name, plan.target->name);
  } else {
    // The board's data memory bounds the arena at compile time; the error names this model.
    std::string board = plan.options->board;
    std::replace(board.begin(), board.end(), '-', '_');
    s += fmt::format("namespace {} {{\n\nusing target = statiq::targets::on_board<statiq::targets::{}, statiq::boards::{}, "
                     "\"{}\">;\n\n",
                     m.name, plan.target->name, board, m.name);
  }
  s += comment("One struct per layer, named after the ONNX node that heads it. The weights are data (" + m.name +
               "_data.cpp); what depends on their values (weight_stats: the tight accumulator bound) is in the "
               "attributes.");
  for (const LayerPlan& lp : plan.layers) {
    const Layer& l = *lp.layer;
    std::string nodes;
    for (const std::string& n : l.onnx_nodes) nodes += (nodes.empty() ? "" : ", ") + shorten(n);
    s += "\n" + comment(fmt::format("{}: {}{}", shorten(l.name), lp.facts.pattern, nodes.empty() ? "" : " (ONNX " + nodes + ")"));
    if (l.placement == Placement::host)
      s += comment("Runs on the host: " + (l.violation.broken() ? describe(l.violation) : std::string("host layer")));
    const std::string open = fmt::format("struct {} : statiq::{}<{}, statiq::{}{{", lp.id, lp.facts.type_name,
                                         string_literal(shorten(l.name)), attributes_type(l.kind));
    const std::vector<std::string> fields =
        std::visit([&](const auto& a) { return attribute_fields(a, l.kind); }, lp.attributes);
    const std::string close = "}, " + layer_target(l) + "> {";
    std::string one_line;
    for (const std::string& field : fields) one_line += (one_line.empty() ? "" : ", ") + field;
    if (open.size() + one_line.size() + close.size() <= line_width) {
      s += open + one_line + close + "\n";
    } else {  // the fields on their own lines, indented by 4
      const std::string body = "    " + wrap(fields, 4, 4);
      const std::size_t last_line = body.size() - std::min(body.size(), body.rfind('\n') + 1);
      s += open + "\n" + body + (last_line + close.size() <= line_width ? close : "\n    " + close) + "\n";
    }
    s += fmt::format("  using {0}::{0};\n}};\n", lp.facts.type_name);
  }
  s += "\n// The graph: each node is a layer and the nodes it reads (-1: the graph input).\nusing model = statiq::Graph<";
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    std::string inputs;
    for (const int from : plan.layers[i].layer->inputs) inputs += ", " + std::to_string(from);
    s += fmt::format("{}\n    statiq::node<{}{}>", i ? "," : "", plan.layers[i].id, inputs);
  }
  s += ">;\n\n";

  const TensorQuantization& in = plan.input_quantization;
  const TensorQuantization& out = plan.output_quantization;
  if (plan.dynamic) {
    s += "// Dynamic quantization: float input and output; every layer quantizes its input at run time.\n";
    s += "inline constexpr bool dynamic = true;\n\n";
  } else {
  s += "// The engine's input and output quantization: real = scale * (q - zero_point).\n";
  s += fmt::format("inline constexpr float input_scale = {};\n", float_literal(in.scale));
  s += fmt::format("inline constexpr std::int32_t input_zero_point = {};\n", int_literal(in.zero_point));
  s += fmt::format("inline constexpr float output_scale = {};\n", float_literal(out.scale));
  s += fmt::format("inline constexpr std::int32_t output_zero_point = {};\n", int_literal(out.zero_point));
  s += fmt::format("// The node whose integers are the quantized output ({}).\n",
                   plan.float_output ? "the final Dequantize's input" : "the last node");
  s += fmt::format("inline constexpr std::size_t quantized_output_node = {};\n\n", plan.quantized_output_node);
  }

  s += "// The engine with its data. The arena is inside the object: keep it static, not on a small stack.\n";
  s += "model make_model();\n\n";
  const std::size_t count = plan.options->golden.size();
  s += "// Golden vectors from the generator's integer simulation: NHWC inputs and the exact outputs.\n";
  s += fmt::format("inline constexpr std::size_t golden_count = {};\n", count);
  if (count > 0) {
    s += fmt::format("extern const float golden_inputs[golden_count][{}];\n", m.input_shape.size());
    if (!plan.dynamic)
      s += fmt::format("extern const std::int32_t golden_quantized_outputs[golden_count][{}];\n",
                       plan.layers[plan.quantized_output_node].facts.output.size());
    if (plan.float_output)
      s += fmt::format("extern const float golden_outputs[golden_count][{}];\n", plan.layers.back().facts.output.size());
  }
  s += "\n// Runs the engine on every golden vector; true when every output is bit-exact. The first\n"
       "// difference, if any, is described on `log` when one is given. A template, so the engine's kernels\n"
       "// are compiled in the translation unit that calls it, not in " + m.name + "_data.cpp.\n";
  s += self_test_definition(plan) + "\n";
  s += fmt::format("}}  // namespace {}\n", m.name);
  return s;
}

// Where the weights go: string literals in the data TU, or (incbin) the bytes of <name>_weights.bin,
// each array at a 64-byte boundary and followed by a NUL like a string literal, so both encodings
// declare the same types.
struct WeightSink {
  WeightsEncoding encoding = WeightsEncoding::literal;
  std::string model;  // the model's name: a checked identifier
  std::string blob;   // incbin: the file's bytes
  struct Symbol {
    std::string name;
    std::size_t offset = 0, size = 0;
  };
  std::vector<Symbol> symbols;

  // The assembler symbol of a layer's weights: only identifier characters (names checked by
  // make_plan), so nothing from the model reaches the assembler.
  std::string symbol(const std::string& id) const {
    std::string s = "statiq_" + model + "_" + id + "_weights";
    for (const char c : s)
      if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        throw EmitError("weights symbol '" + printable(s) + "' is not an identifier (emitter bug)");
    return s;
  }
  std::string add(const std::string& id, std::span<const std::uint8_t> bytes) {
    blob.resize((blob.size() + 63) / 64 * 64, '\0');
    symbols.push_back({symbol(id), blob.size(), bytes.size() + 1});
    blob.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    blob += '\0';
    return symbols.back().name;
  }
};

// A layer's weights array: plain bytes when row-major, else with its layout in the type, so that
// weights laid out for another layer do not compile. With incbin, the same type declared over a
// symbol of <name>_weights.bin. 64-byte aligned in both encodings (a cache line, an AVX-512 vector),
// so a kernel's first load of each layer's weights never straddles two lines.
std::string weights_array(const LayerPlan& lp, WeightSink& sink) {
  const WeightLayout& wl = lp.facts.weight_layout;
  const std::string type =
      wl.order == WeightOrder::row_major
          ? std::string()
          : fmt::format("statiq::weight_bytes<statiq::WeightLayout{{statiq::WeightOrder::{}, {}, {}, {}{}}}, {}>",
                        weight_order_name(wl.order), wl.rows, wl.cols, wl.segment,
                        wl.groups > 1 ? fmt::format(", {}", wl.groups) : "", lp.weight_bytes.size());
  if (sink.encoding == WeightsEncoding::incbin) {
    const std::string symbol = sink.add(lp.id, lp.weight_bytes);
    const std::string declarator = type.empty() ? fmt::format("const char {}_weights[{}]", lp.id, lp.weight_bytes.size() + 1)
                                                : fmt::format("const {} {}_weights", type, lp.id);
    return fmt::format("alignas(64) extern {}\n    __asm__(\"{}\") __attribute__((visibility(\"hidden\")));\n", declarator, symbol);
  }
  if (type.empty())
    return fmt::format("alignas(64) const char {}_weights[] =\n    {};\n", lp.id, bytes_literal(lp.weight_bytes));
  return fmt::format("alignas(64) const {} {}_weights = {{\n    {}}};\n", type, lp.id, bytes_literal(lp.weight_bytes));
}

template <class P>
const ProfileData<P>& data_of(const Layer& l) {
  return std::get<ProfileData<P>>(l.data);
}

// The data arrays of one layer and its constructor call in make_model(), for profile P.
template <class P>
void layer_data(const Plan& plan, const LayerPlan& lp, WeightSink& sink, std::string& arrays, std::string& construct) {
  const Layer& l = *lp.layer;
  const LayerFacts& f = lp.facts;
  const std::string profile = "statiq::arith::" + std::string(plan.target->profile);
  const std::string ind(6 + lp.id.size() + 2, ' ');  // under the first field: "      id({"
  using initializers = arith::cpp_initializers<P>;  // the profile writes its own parameters
  const auto params = [](const auto& p) { return initializers::of(p); };
  auto channel_array = [&](const ProfileData<P>& d) {
    std::vector<std::string> items;
    for (const auto& c : d.channel) items.push_back(params(c));
    arrays += fmt::format("const {}::channel_params {}_channel[{}] = {{\n    {}}};\n", profile, lp.id, d.channel.size(),
                          wrap(items, 4, 4));
  };
  switch (l.kind) {
    case LayerKind::input_conv2d:
    case LayerKind::conv2d:
    case LayerKind::depthwise_conv2d:
    case LayerKind::dense: {
      const ProfileData<P>& d = data_of<P>(l);
      const bool packed = plan.target->packs_sub_byte && f.bits.w < 8;
      const WeightLayout& wl = f.weight_layout;
      arrays += "\n" + comment(fmt::format("{}: {} weights of {} bits{}, {}{}", shorten(l.name), f.weight_count, f.bits.w,
                                          packed ? fmt::format(" ({} to a byte, low bits first)", 8 / f.bits.w) : "",
                                          l.kind == LayerKind::dense ? "[units][inputs], inputs in NHWC order" : "OHWI",
                                          wl.order == WeightOrder::row_major
                                              ? ""
                                              : fmt::format(", stored {}", weight_order_name(wl.order))));
      arrays += weights_array(lp, sink);
      arrays += fmt::format("const std::int32_t {}_bias[{}] = {{\n    {}}};\n", lp.id, l.qbias.size(),
                            list(l.qbias, [](std::int32_t v) { return int_literal(v); }));
      channel_array(d);
      // Each output channel's sum of its weights, once here rather than at every call: a fast
      // kernel starts the channel at bias - (x_zero_point + flip) * sum (core/weight_sums.hpp).
      std::vector<std::int32_t> sums(f.channels, 0);
      if (f.channels > 0) weight_sums(l.qweights, f.channels, l.qweights.size() / f.channels, sums.data());
      arrays += fmt::format("const std::int32_t {}_weight_sums[{}] = {{\n    {}}};\n", lp.id, sums.size(),
                            list(sums, [](std::int32_t v) { return int_literal(v); }));
      construct += fmt::format(
          "{}({{.weights = data::{}_weights,\n{}.bias = data::{}_bias,\n{}.channel = data::{}_channel,\n"
          "{}.weight_sums = data::{}_weight_sums,\n{}.output = {},\n"
          "{}.input_zero_point = {},\n{}.weight_zero_point = {}}})",
          lp.id, lp.id, ind, lp.id, ind, lp.id, ind, lp.id, ind, params(d.output), ind, int_literal(l.input_zero_point),
          ind, int_literal(l.weight_zero_point));
      break;
    }
    case LayerKind::average_pool:
    case LayerKind::global_average_pool: {
      const ProfileData<P>& d = data_of<P>(l);
      arrays += "\n" + comment(shorten(l.name));
      channel_array(d);
      construct += fmt::format("{}({{.channel = data::{}_channel,\n{}.output = {},\n{}.input_zero_point = {}}})", lp.id,
                               lp.id, ind, params(d.output), ind, int_literal(l.input_zero_point));
      break;
    }
    case LayerKind::add:
      construct += fmt::format("{}({{.add = {}}})", lp.id,
                               wrap_initializer(params(data_of<P>(l).add), 6 + lp.id.size() + 9, 10));
      break;
    case LayerKind::concat: {
      std::vector<std::string> r;
      for (const auto& x : data_of<P>(l).rescale) r.push_back(params(x));
      construct += fmt::format("{}({{.rescale = {{{{{}}}}}}})", lp.id, wrap(r, 30, 10));
      break;
    }
    case LayerKind::lookup_table: {
      if (l.qweights.size() != 256)
        refuse(l, fmt::format("its table has {} entries, not 256: quantize the model again", l.qweights.size()));
      arrays += "\n" + comment(fmt::format("{}: {} as a table of output codes, indexed by the input byte",
                                           shorten(l.name), lookup_function_op(std::get<LookupTableAttributes>(l.attributes).function)));
      arrays += fmt::format("const std::{}int8_t {}_table[256] = {{\n    {}}};\n", f.signed_output ? "" : "u", lp.id,
                            list(l.qweights, [](std::int32_t v) { return int_literal(v); }));
      construct += fmt::format("{}({{.table = data::{}_table}})", lp.id, lp.id);
      break;
    }
    case LayerKind::copy: {
      arrays += "\n" + comment(fmt::format("{}: the input offset of each output value (NHWC), -1: the fill", shorten(l.name)));
      arrays += fmt::format("const std::int32_t {}_index[{}] = {{\n    {}}};\n", lp.id, l.qweights.size(),
                            list(l.qweights, [](std::int32_t v) { return int_literal(v); }));
      construct += fmt::format("{}({{.index = data::{}_index, .fill = {}}})", lp.id, lp.id, int_literal(l.fill));
      break;
    }
    case LayerKind::elementwise: {
      const ElementwiseParams p = elementwise_params(*plan.model, l);
      if (std::get<ElementwiseAttributes>(l.attributes).op == ElementwiseOp::mul)
        construct += fmt::format("{}({{.mul = {}}})", lp.id,
                                 io::designated_initializer()("ratio", p.mul.ratio)("a_zero_point", p.mul.a_zero_point)(
                                     "b_zero_point", p.mul.b_zero_point)("y_zero_point", p.mul.y_zero_point)(
                                     "lo", p.mul.lo)("hi", p.mul.hi).str());
      else
        construct += fmt::format("{}({{.qdq = {}}})", lp.id,
                                 io::designated_initializer()("a_scale", p.qdq.a_scale)("a_zero_point", p.qdq.a_zero_point)(
                                     "b_scale", p.qdq.b_scale)("b_zero_point", p.qdq.b_zero_point)("y_scale", p.qdq.y_scale)(
                                     "y_zero_point", p.qdq.y_zero_point)("lo", p.qdq.lo)("hi", p.qdq.hi).str());
      break;
    }
    case LayerKind::max_pool: construct += lp.id + "{}"; break;
    case LayerKind::quantize:
    case LayerKind::dequantize: break;  // no profile data: written by the caller
  }
}

// A dynamic layer's arrays (int8 weights, float bias and weight scales) and constructor call.
void dynamic_layer_data(const LayerPlan& lp, WeightSink& sink, std::string& arrays, std::string& construct) {
  const Layer& l = *lp.layer;
  const LayerFacts& f = lp.facts;
  const std::string ind(6 + lp.id.size() + 2, ' ');
  const auto floats = [](float v) { return float_literal(v); };
  arrays += "\n" + comment(fmt::format("{}: {} int8 weights (zero point 0), {}{}; float bias; weight scale {}",
                                      shorten(l.name), f.weight_count,
                                      l.kind == LayerKind::dense ? "[units][inputs], inputs in NHWC order" : "OHWI",
                                      f.weight_layout.order == WeightOrder::row_major
                                          ? ""
                                          : fmt::format(", stored {}", weight_order_name(f.weight_layout.order)),
                                      l.weight_scales.size() == 1 ? "per tensor" : "per output channel"));
  arrays += weights_array(lp, sink);
  arrays += fmt::format("const float {}_bias[{}] = {{\n    {}}};\n", lp.id, l.bias.size(), list(l.bias, floats, 8));
  arrays += fmt::format("const float {}_weight_scale[{}] = {{\n    {}}};\n", lp.id, l.weight_scales.size(),
                        list(l.weight_scales, floats, 8));
  construct += fmt::format("{}({{.weights = data::{}_weights,\n{}.bias = data::{}_bias,\n{}.weight_scale = data::{}_weight_scale,\n"
                           "{}.clip_max = {}}})",
                           lp.id, lp.id, ind, lp.id, ind, lp.id, ind, float_literal(l.clip_max));
}

// The assembler block that defines every weights symbol over <name>_weights.bin: one read-only
// section, 64-byte aligned, each symbol typed and sized; the file's size is checked, so a
// weights file from another generation does not assemble. Only identifiers and numbers are
// written (the file name is the model's identifier), so nothing from the model reaches the assembler.
std::string incbin_block(const WeightSink& sink) {
  const std::string base = "statiq_" + sink.model + "_weights";
  const std::string file = sink.model + "_weights.bin";
  auto line = [](const std::string& text) { return "    \"" + text + "\\n\"\n"; };
  std::string s = comment(fmt::format("The weights: {} ({} bytes).", file, sink.blob.size()));
  s += "__asm__(\n";
  s += line(fmt::format("  .pushsection .rodata.{},\\\"a\\\"", base));
  s += line("  .balign 64");
  s += line(base + ":");
  s += line(fmt::format("  .incbin \\\"{}\\\"", file));
  s += line(base + "_end:");
  s += line(fmt::format("  .if {0}_end - {0} - {1}", base, sink.blob.size()));
  s += line(fmt::format("  .error \\\"statiq: {} is not the {} bytes {}_data.cpp was generated with: regenerate "
                        "both\\\"",
                        file, sink.blob.size(), sink.model));
  s += line("  .endif");
  for (const WeightSink::Symbol& w : sink.symbols) {
    // global but hidden: one shared object's symbols, as LTO partitions may need them
    s += line("  .globl " + w.name);
    s += line("  .hidden " + w.name);
    s += line(fmt::format("  .set {}, {} + {}", w.name, base, w.offset));
    s += line(fmt::format("  .type {}, %object", w.name));
    s += line(fmt::format("  .size {}, {}", w.name, w.size));
  }
  s += line("  .popsection");
  s += ");\n";
  return s;
}

// The real value of the layer's output integers, as a comment line (without its newline) that
// holds only the layer's identifier and plain decimal numbers.
std::string quantization_comment(const LayerPlan& lp) {
  const Layer& l = *lp.layer;
  if (l.kind == LayerKind::dequantize || l.dynamic) return fmt::format("\n// {}: float output", lp.id);
  return fmt::format("\n// {}: output scale {}, zero point {} (real = scale * (q - zero_point))", lp.id,
                     l.output.scale, l.output.zero_point);
}

std::string data_source(const Plan& plan, WeightSink& sink) {
  const LoweredModel& m = *plan.model;
  std::string s = banner(plan, m.name + "_data.cpp", "weights, requantization parameters, golden vectors.");
  s += fmt::format("#include \"{}.hpp\"\n\n#include <bit>\n#include <cstdint>\n#include <cstdio>\n#include <iterator>\n\n", m.name);
  if (sink.encoding == WeightsEncoding::incbin) {
    s += comment(fmt::format("The weights are the bytes of {0}_weights.bin, assembled into this object by the .incbin "
                             "at the end (written by statiq-codegen --weights-encoding incbin). Compile this file with "
                             "its folder on the include path (-I), which the assembler searches for {0}_weights.bin "
                             "too; statiq_add_model() does. --weights-encoding literal writes them as string literals "
                             "for any compiler.",
                             m.name));
    s += fmt::format("#if !defined(__ELF__) || !defined(__GNUC__)\n"
                     "#error \"statiq: {0}_data.cpp takes its weights from {0}_weights.bin with the GNU assembler's "
                     ".incbin (ELF, g++ or clang); regenerate with --weights-encoding literal for this compiler\"\n"
                     "#endif\n\n",
                     m.name);
  }
  s += fmt::format("namespace {} {{\n\nnamespace data {{\n", m.name);
  std::vector<std::string> constructs;
  for (const LayerPlan& lp : plan.layers) {
    const Layer& l = *lp.layer;
    s += quantization_comment(lp);
    std::string construct;
    if (l.kind == LayerKind::quantize) {
      construct = fmt::format("{}({{.scale = {}, .zero_point = {}}})", lp.id, float_literal(l.output.scale),
                              int_literal(l.output.zero_point));
    } else if (l.kind == LayerKind::dequantize) {
      // (q - zero_point) * scale of the tensor it reads
      const TensorQuantization& q = m.layers[std::size_t(l.inputs[0])].output;
      construct = fmt::format("{}({{.scale = {}, .zero_point = {}}})", lp.id, float_literal(q.scale),
                              int_literal(q.zero_point));
    } else if (l.dynamic && l.kind == LayerKind::add) {
      construct = lp.id + "{}";  // a float Add has no data
    } else if (l.dynamic) {
      dynamic_layer_data(lp, sink, s, construct);
    } else {
      std::visit(
          [&](const auto& d) {
            using D = std::decay_t<decltype(d)>;
            if constexpr (std::is_same_v<D, std::monostate>) {
              if (l.kind == LayerKind::max_pool) construct = lp.id + "{}";
            } else {
              layer_data<typename profile_of<D>::type>(plan, lp, sink, s, construct);
            }
          },
          l.data);
      if (construct.empty() && l.kind == LayerKind::max_pool) construct = lp.id + "{}";
    }
    constructs.push_back(construct);
  }
  s += "\n\n}  // namespace data\n\n";
  if (sink.encoding == WeightsEncoding::incbin) s += incbin_block(sink);

  s += "model make_model() {\n  return model(";
  for (std::size_t i = 0; i < constructs.size(); ++i) s += (i ? ",\n      " : "\n      ") + constructs[i];
  s += ");\n}\n";

  const std::vector<GoldenVector>& golden = plan.options->golden;
  if (!golden.empty()) {
    auto rows = [&](auto member, auto&& format) {
      std::string r;
      for (std::size_t g = 0; g < golden.size(); ++g)
        r += fmt::format("{}    {{{}}}", g ? ",\n" : "", list(golden[g].*member, format, 8, "     "));
      return r;
    };
    const auto floats = [](float v) { return float_literal(v); };
    const auto ints = [](std::int32_t v) { return int_literal(v); };
    s += fmt::format("\nconst float golden_inputs[golden_count][{}] = {{\n{}}};\n", m.input_shape.size(),
                     rows(&GoldenVector::input, floats));
    if (!plan.dynamic)
      s += fmt::format("const std::int32_t golden_quantized_outputs[golden_count][{}] = {{\n{}}};\n",
                       plan.layers[plan.quantized_output_node].facts.output.size(),
                       rows(&GoldenVector::quantized_output, ints));
    if (plan.float_output)
      s += fmt::format("const float golden_outputs[golden_count][{}] = {{\n{}}};\n",
                       plan.layers.back().facts.output.size(), rows(&GoldenVector::output, floats));
  }

  s += fmt::format("\n}}  // namespace {}\n", m.name);
  return s;
}

// The body of self_test(), in the header: a template, so the engine's kernels are compiled only in
// the translation unit that calls it (the self-test main, or the application next to its own run()),
// not in the data TU, which then holds data only and compiles in seconds whatever the model.
std::string self_test_definition(const Plan& plan) {
  const std::vector<GoldenVector>& golden = plan.options->golden;
  std::string s = "template <class = void>\nbool self_test(std::FILE* log = nullptr) {\n";
  if (golden.empty()) {
    s += "  if (log) std::fprintf(log, \"no golden vectors were generated\\n\");\n  return true;\n}\n";
  } else {
    // Golden vectors that expect one value everywhere would pass an engine that ignores its input.
    const char* expected = plan.float_output ? "golden_outputs" : "golden_quantized_outputs";
    const char* element = plan.float_output ? "std::bit_cast<std::uint32_t>" : "";
    s += fmt::format(
        "  // Degenerate golden vectors (one value everywhere) cannot tell a working engine from a stuck one.\n"
        "  bool varies = golden_count * std::size({0}[0]) < 2;\n"
        "  for (std::size_t g = 0; g < golden_count && !varies; ++g)\n"
        "    for (std::size_t i = 0; i < std::size({0}[0]) && !varies; ++i)\n"
        "      varies = {1}({0}[g][i]) != {1}({0}[0][0]);\n"
        "  if (!varies) {{\n"
        "    if (log) std::fprintf(log, \"the golden vectors expect the same output value everywhere: they cannot check the "
        "engine (regenerate with other --golden samples)\\n\");\n"
        "    return false;\n"
        "  }}\n",
        expected, element);
    s += "  static model engine = make_model();\n"
         "  for (std::size_t g = 0; g < golden_count; ++g) {\n"
         "    const auto input = engine.input();\n"
         "    for (std::size_t i = 0; i < input.size(); ++i)\n"
         "      input[i] = static_cast<model::input_element>(golden_inputs[g][i]);\n"
         "    engine.run();\n";
    if (!plan.dynamic)
      s += "    const auto q = engine.tensor<quantized_output_node>();\n"
         "    for (std::size_t i = 0; i < q.size(); ++i)\n"
         "      if (static_cast<std::int32_t>(q[i]) != golden_quantized_outputs[g][i]) {\n"
         "        if (log)\n"
         "          std::fprintf(log, \"golden vector %zu, integer output %zu: engine %d, expected %d\\n\", g, i,\n"
         "                       static_cast<int>(q[i]), static_cast<int>(golden_quantized_outputs[g][i]));\n"
         "        return false;\n"
         "      }\n";
    if (plan.float_output)
      s += "    const auto y = engine.output();\n"
           "    for (std::size_t i = 0; i < y.size(); ++i)\n"
           "      if (std::bit_cast<std::uint32_t>(y[i]) != std::bit_cast<std::uint32_t>(golden_outputs[g][i])) {\n"
           "        if (log)\n"
           "          std::fprintf(log, \"golden vector %zu, output %zu: engine %a, expected %a\\n\", g, i,\n"
           "                       static_cast<double>(y[i]), static_cast<double>(golden_outputs[g][i]));\n"
           "        return false;\n"
           "      }\n";
    s += "  }\n  return true;\n}\n";
  }
  return s;
}

std::string selftest_source(const Plan& plan) {
  const LoweredModel& m = *plan.model;
  std::string s = banner(plan, m.name + "_selftest.cpp", "runs the engine on the golden vectors; exit 1 on a difference.");
  s += fmt::format("#include <cstdio>\n\n#include \"{}.hpp\"\n\n", m.name);
  s += "int main() {\n";
  s += fmt::format("  const bool ok = {}::self_test(stderr);\n", m.name);
  s += fmt::format("  std::printf(\"{} self-test ({}): %zu golden vectors, %s\\n\", {}::golden_count,\n"
                   "              ok ? \"bit-exact\" : \"MISMATCH\");\n",
                   m.name, plan.target->name, m.name);
  // Which kernels this build of the engine ran (kernels/isa.hpp: chosen by the compiler's target flags).
  s += fmt::format("  std::printf(\"{} kernels: %s\\n\", statiq::kernels::isa_name(statiq::kernels::isa));\n", m.name);
  s += "  return ok ? 0 : 1;\n}\n";
  return s;
}

// --- writing, all or nothing ------------------------------------------------------------------

std::string error_text(const std::error_code& ec) { return ec.message(); }

void remove_quietly(const fs::path& p) {
  std::error_code ignored;
  fs::remove(p, ignored);
}

}  // namespace

WeightsEncoding parse_weights_encoding(const std::string& name) {
  if (name == "literal") return WeightsEncoding::literal;
  if (name == "incbin") return WeightsEncoding::incbin;
  throw std::invalid_argument("--weights-encoding '" + printable(name) +
                              "': choose literal (string literals, any compiler) or incbin (a .bin file beside the "
                              "data TU, GNU toolchains on ELF)");
}

std::vector<std::string> emitted_file_names(const std::string& name, bool with_reports, WeightsEncoding encoding) {
  std::vector<std::string> files{name + ".hpp", name + "_data.cpp", name + "_selftest.cpp"};
  if (with_reports) {
    files.push_back(name + "_report.txt");
    files.push_back(name + "_report.json");
  }
  if (encoding == WeightsEncoding::incbin) files.push_back(name + "_weights.bin");
  return files;
}

std::vector<std::string> render(const LoweredModel& model, const EmitOptions& options) {
  const Plan plan = make_plan(model, options);
  WeightSink sink;
  sink.encoding = options.weights_encoding;
  sink.model = model.name;
  std::vector<std::string> texts{header(plan), data_source(plan, sink), selftest_source(plan)};
  if (options.write_reports) {
    std::vector<std::string> ids;
    for (const LayerPlan& lp : plan.layers) ids.push_back(lp.id);
    const Provenance provenance{options.model_file, options.model_sha256, plan.target->packs_sub_byte};
    texts.push_back(report_text(model, options.report, provenance, ids));
    texts.push_back(report_json(model, options.report, provenance, ids));
  }
  if (options.weights_encoding == WeightsEncoding::incbin) texts.push_back(std::move(sink.blob));
  return texts;
}

std::vector<fs::path> emit(const LoweredModel& model, const EmitOptions& options, const fs::path& out_dir) {
  // Everything is rendered before the first byte is written: a model that cannot be emitted
  // leaves the folder as it was.
  const std::vector<std::string> texts = render(model, options);
  const std::vector<std::string> names =
      emitted_file_names(model.name, options.write_reports, options.weights_encoding);

  std::error_code ec;
  // The folders this run creates, deepest first: removed again (when still empty) on failure, so
  // a full disk does not leave an empty output folder behind.
  std::vector<fs::path> created;
  for (fs::path p = fs::absolute(out_dir, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  auto remove_created = [&] {
    for (const fs::path& d : created) remove_quietly(d);
  };
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir)) {
    remove_created();
    throw EmitError("cannot create the output folder '" + printable(out_dir.string()) + "': " +
                    (ec ? error_text(ec) : std::string("a file of that name is in the way")) +
                    "; choose an output folder that can be created and written");
  }

  std::vector<fs::path> temps, finals;
  auto fail = [&](const std::string& message) -> void {
    for (const fs::path& t : temps) remove_quietly(t);
    remove_created();
    throw EmitError(message);
  };
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const fs::path final_path = out_dir / names[i];
    // in the same folder, so the rename below cannot cross file systems
    const fs::path temp = out_dir / ("." + names[i] + ".statiq-tmp");
    if (fs::is_directory(final_path, ec))
      fail("cannot write '" + final_path.string() + "': a folder of that name is in the way");
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      fail("cannot write '" + final_path.string() + "' (as '" + temp.string() + "'): " + std::strerror(errno) +
           "; choose an output folder that can be written");
    temps.push_back(temp);
    out.write(texts[i].data(), std::streamsize(texts[i].size()));
    out.close();
    if (!out)
      fail("cannot write '" + printable(final_path.string()) + "' (as '" + printable(temp.string()) +
           "'): " + std::strerror(errno) + "; free space in the output folder or choose another one");
    finals.push_back(final_path);
  }
  for (std::size_t i = 0; i < temps.size(); ++i) {
    fs::rename(temps[i], finals[i], ec);
    if (ec) {
      // all or nothing: the files renamed so far are removed with the rest
      const std::string message = "cannot move '" + printable(temps[i].string()) + "' to '" +
                                  printable(finals[i].string()) + "': " + error_text(ec);
      for (std::size_t k = 0; k < i; ++k) remove_quietly(finals[k]);
      temps.erase(temps.begin(), temps.begin() + std::ptrdiff_t(i));
      fail(message);
    }
  }
  return finals;
}

}  // namespace statiq::codegen
