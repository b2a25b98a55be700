// codegen/emit/layer_facts.hpp — what a lowered layer's attributes imply (output shape, weight count,
// MACs, scratch, bits, the ONNX pattern it fuses), from the library's own shape functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "codegen/model/lowered_model.hpp"
#include "statiq/engine/arena.hpp"

namespace statiq::codegen {

struct LayerFacts {
  Shape output{};
  Bits bits{};                      // .w unused by layers without weights
  bool signed_input = false;
  bool signed_output = false;
  bool float_input = false;         // Quantize, dynamic layers
  bool float_output = false;        // Dequantize, dynamic layers
  bool has_weights = false;         // conv, dense
  std::size_t weight_count = 0;
  std::size_t channels = 0;         // bias / channel_params entries (filters, units, pooled channels)
  std::size_t scratch_words = 0;    // int32 words, as the layer types declare them (this build's kernels)
  WeightLayout weight_layout{};     // where the engine stores each weight (kernels/select.hpp)
  std::string kernel;               // the kernel this build's ISA runs: "x86::conv2d (avx512_vnni)", "reference::add"
  std::int64_t params = 0;          // weights + biases
  std::int64_t macs = 0;
  int arity = 1;                    // inputs the layer reads
  std::string pattern;              // "Conv -> Relu -> MaxPool"
  std::string type_name;            // the statiq class template: "Conv2D"
};

// Throws std::invalid_argument naming the layer when its attributes do not suit its kind.
// packs_sub_byte: the target stores weights narrower than 8 bits several to a byte.
LayerFacts facts_of(const Layer& layer, bool packs_sub_byte);

// The engine's static arena in bytes as statiq::Graph plans it (liveness, reuse, 16-byte alignment,
// elementwise layers in place unless `in_place` is false).
std::size_t arena_bytes(const LoweredModel& model, bool packs_sub_byte, bool in_place = true);
// The layers that write their output over an input's buffer (engine/arena.hpp, share_in_place).
std::size_t in_place_layers(const LoweredModel& model, bool packs_sub_byte);
// Its lower bound (statiq::arena_lower_bound): the most bytes live at one step of the schedule.
ArenaBound arena_bound(const LoweredModel& model, bool packs_sub_byte);

}  // namespace statiq::codegen
