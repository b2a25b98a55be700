// codegen/model/lowered_model.hpp — the network as statiq layers: what pattern matching produces
// from the normalised ONNX graph, quantization completes, the integer simulation runs (through
// statiq::compute, the engine's own functions) and the emitter writes as C++ types and data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/copy.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"
#include "statiq/targets/target_list.hpp"

namespace statiq::codegen {

// A layer's attributes: exactly those of the library's layer types (one per kind family).
using LayerAttributes = std::variant<ConvAttributes, DenseAttributes, AddAttributes, ConcatAttributes, PoolAttributes,
                                     QuantizeAttributes, DequantizeAttributes, LookupTableAttributes,
                                     ElementwiseAttributes, CopyAttributes>;

// What a layer outputs: shape (NHWC) and integer type (a Dequantize outputs float: bits 32, signed).
struct OutputType {
  Shape shape{};
  int bits = 8;
  bool is_signed = false;
};

inline OutputType output_type(const LayerAttributes& attributes) {
  struct Visitor {
    OutputType operator()(const ConvAttributes& a) const { return {output_shape(a), a.bits.out, a.signed_output}; }
    OutputType operator()(const DenseAttributes& a) const { return {output_shape(a), a.bits.out, a.signed_output}; }
    OutputType operator()(const AddAttributes& a) const { return {a.shape, a.bits.out, a.signed_output}; }
    OutputType operator()(const ConcatAttributes& a) const { return {output_shape(a), a.bits.out, a.signed_output}; }
    OutputType operator()(const PoolAttributes& a) const { return {output_shape(a), a.bits.out, a.signed_output}; }
    OutputType operator()(const QuantizeAttributes& a) const { return {a.shape, a.bits, a.signed_output}; }
    OutputType operator()(const DequantizeAttributes& a) const { return {a.shape, 32, true}; }
    OutputType operator()(const LookupTableAttributes& a) const { return {a.shape, a.bits.out, a.signed_output}; }
    OutputType operator()(const ElementwiseAttributes& a) const { return {a.shape, a.bits.out, a.signed_output}; }
    OutputType operator()(const CopyAttributes& a) const { return {a.output, a.bits.out, a.signed_output}; }
  };
  return std::visit(Visitor{}, attributes);
}

// Where a layer runs. host: the target cannot execute it, so it runs on the host CPU in the
// target's arithmetic (integer, bit-exact; statiq::targets::host<T> in the generated code).
enum class Placement { device, host };

// How one tensor (a layer's output) is quantized: real = scale * (q - zero_point); pow2 targets
// have scale = 2^-frac_bits.
struct TensorQuantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  int bits = 8;
  bool is_signed = false;
  int frac_bits = 0;  // pow2 / akida only
};

// A layer's integers in one profile's terms (filled by quantization).
template <class Profile>
struct ProfileData {
  std::vector<typename Profile::channel_params> channel;  // per output channel (conv, dense, pools)
  typename Profile::output_params output{};
  typename Profile::add_params add{};                     // Add only
  std::array<typename Profile::rescale_params, 4> rescale{};  // Concat only, one per input
};

namespace detail {
// std::variant<Done..., each of Rest once>: two targets may share a profile.
template <class Done, class... Rest>
struct unique_alternatives {
  using type = Done;
};
template <class... Done, class First, class... Rest>
struct unique_alternatives<std::variant<Done...>, First, Rest...>
    : std::conditional_t<(std::is_same_v<First, Done> || ...), unique_alternatives<std::variant<Done...>, Rest...>,
                         unique_alternatives<std::variant<Done..., First>, Rest...>> {};

template <class List>
struct quant_data_of;
template <class... T>
struct quant_data_of<targets::type_list<T...>> {
  using type = typename unique_alternatives<std::variant<std::monostate>, ProfileData<typename T::profile>...>::type;
};
}  // namespace detail

// Nothing yet, or the data of one profile of the library's targets (statiq::targets::target_list).
using QuantData = detail::quant_data_of<targets::target_list>::type;

struct Layer {
  std::string name;                     // ONNX name of the node that heads it (the Conv of Conv->Relu->MaxPool)
  LayerKind kind = LayerKind::conv2d;
  std::vector<std::string> onnx_nodes;  // every ONNX node folded into it, in graph order
  std::vector<int> inputs;              // producing layers' indices, -1 for the graph input
  std::string output_tensor;            // the ONNX tensor this layer's output stands for (its last node's)
  LayerAttributes attributes;
  Placement placement = Placement::device;
  Violation violation{};                // why it is on the host (placement == host)
  // Dynamic quantization (statiq/layers/dynamic.hpp; conv and dense only): the layer reads and
  // writes float, quantizes its input at run time; qweights are int8 with zero point 0,
  // weight_scales one or per channel, `bias` stays float, qbias / output / data are unused.
  bool dynamic = false;

  // Float parameters, in statiq's layouts: conv weights OHWI, dense weights [units][inputs] with the
  // inputs in NHWC flattening order; bias per output channel (zeros where the model has none).
  std::vector<float> weights;
  std::vector<float> bias;
  float clip_max = 0.0f;  // a clipped ReLU's bound in real units (0: none)
  // A Copy made from an ONNX Pad: its pads (NCHW begins, then ends; negative crops), mode and
  // constant in real units, which the exports write back as a Pad.
  struct PadSource {
    std::vector<std::int64_t> pads;
    std::string mode = "constant";
    float value = 0.0f;
  };
  std::optional<PadSource> pad;
  std::string copy_of = "Resize";  // a Copy's ONNX op, for the reports: Resize, Pad, or a layout op that moves values

  // Integers (filled by quantization).
  std::vector<std::int32_t> qweights;   // same layout as weights, in the weight bits; a LookupTable's 256 output codes
  std::vector<float> weight_scales;     // per output channel (or one)
  std::vector<std::int32_t> qbias;      // int32 at input scale x weight scale
  std::int32_t input_zero_point = 0;
  std::int32_t weight_zero_point = 0;
  std::int32_t fill = 0;                // a Copy's value where its index is -1: the Pad's constant, quantized
  TensorQuantization output;            // of this layer's output tensor
  QuantData data;
};

// A node the target's pattern table or rules do not accept.
struct Unmapped {
  std::string node;      // ONNX node name
  std::string op_type;
  std::string reason;    // the rule it breaks (describe(Violation)) or "pattern not found"
  bool no_layer = false; // no statiq layer computes it, not even on the host
};

struct LoweredModel {
  std::string name;                // C++ namespace of the generated code
  std::string target;              // "cpu_int8", "akida_v2", ...
  std::string input_tensor;        // ONNX graph input
  std::string output_tensor;       // ONNX graph output the engine produces
  Shape input_shape{};             // NHWC (the ONNX input is NCHW: the layout changes once, at the boundary)
  std::vector<Layer> layers;       // in execution order; the first reads the graph input
  std::vector<Unmapped> unmapped;  // reported; empty when everything maps
  // Nodes after the integer engine, run in float on the host (e.g. Softmax), in graph order.
  std::vector<std::string> float_tail;
  // Every layer dynamic (quantize/dynamic.hpp): float input and output, no Quantize / Dequantize.
  bool dynamic = false;
};

// A layer's output type: a dynamic layer outputs float (bits 32, signed), like a Dequantize.
inline OutputType output_type(const Layer& layer) {
  OutputType t = output_type(layer.attributes);
  if (layer.dynamic) t.bits = 32, t.is_signed = true;
  return t;
}

}  // namespace statiq::codegen
