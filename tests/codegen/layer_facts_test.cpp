// The generator's report names the kernel of each element-wise layer as the engine's layer type does
// (facts_of().kernel against the library's kernel_name for the same attributes and target), for the
// ISA the generator is built for; before quantization, where the choice depends on the profile, it
// names none. (kernels/kernel_names_test checks each kernel_name against the kernel that runs.)
#include <catch2/catch.hpp>

#include <string>

#include "codegen/emit/layer_facts.hpp"
#include "statiq/statiq.hpp"

using namespace statiq;
using namespace statiq::codegen;

namespace {
template <class Attributes, class Data>
Layer layer_of(LayerKind kind, const Attributes& a, const Data& data) {
  Layer l;
  l.name = "layer";
  l.kind = kind;
  l.attributes = a;
  l.data = data;
  return l;
}
}  // namespace

TEST_CASE("the report names each element-wise layer's kernel as its layer type does") {
  constexpr AddAttributes add{.shape = {8, 8, 24}, .signed_input = true, .signed_output = true};
  using qlinear_data = ProfileData<arith::qlinear>;
  using tflite_data = ProfileData<arith::tflite>;
  using pow2_data = ProfileData<arith::pow2>;
  CHECK(facts_of(layer_of(LayerKind::add, add, qlinear_data{}), false).kernel ==
        std::string(Add<"a", add, targets::cpu_int8>::kernel_name));
  CHECK(facts_of(layer_of(LayerKind::add, add, tflite_data{}), false).kernel ==
        std::string(Add<"a", add, targets::tflite_int8>::kernel_name));
  constexpr AddAttributes small_add{.shape = {1, 2, 5}};
  CHECK(facts_of(layer_of(LayerKind::add, small_add, pow2_data{}), false).kernel == "reference::add");
  CHECK(facts_of(layer_of(LayerKind::add, add, QuantData{}), false).kernel.empty());  // no profile yet

  constexpr ConcatAttributes cat{.inputs = {{8, 8, 24}, {8, 8, 9}}, .count = 2};
  CHECK(facts_of(layer_of(LayerKind::concat, cat, qlinear_data{}), false).kernel ==
        std::string(Concat<"c", cat, targets::cpu_int8>::kernel_name));

  constexpr PoolAttributes gap{.input = {8, 8, 24}, .signed_input = true, .signed_output = true};
  const std::string tflite_gap = facts_of(layer_of(LayerKind::global_average_pool, gap, tflite_data{}), false).kernel;
  CHECK(tflite_gap == std::string(GlobalAveragePool<"g", gap, targets::tflite_int8>::kernel_name));
  CHECK(tflite_gap.ends_with(" + reference mean"));
  constexpr PoolAttributes mp{.input = {8, 8, 24}, .pool = max_pool(2, 2)};
  CHECK(facts_of(layer_of(LayerKind::max_pool, mp, qlinear_data{}), false).kernel ==
        std::string(MaxPool<"m", mp, targets::cpu_int8>::kernel_name));

  constexpr QuantizeAttributes q{.shape = {8, 8, 3}, .signed_output = true};
  CHECK(facts_of(layer_of(LayerKind::quantize, q, tflite_data{}), false).kernel == "reference::quantize");  // half away
  CHECK(facts_of(layer_of(LayerKind::quantize, q, qlinear_data{}), false).kernel ==
        std::string(Quantize<"q", q, targets::cpu_int8>::kernel_name));

  constexpr LookupTableAttributes lut{.shape = {8, 8, 24}, .bits = {8, 8, 8}};
  CHECK(facts_of(layer_of(LayerKind::lookup_table, lut, QuantData{}), false).kernel ==
        std::string(LookupTable<"l", lut, targets::cpu_int8>::kernel_name));
  constexpr ElementwiseAttributes mul{.op = ElementwiseOp::mul, .shape = {8, 8, 24}, .bits = {8, 8, 8}};
  CHECK(facts_of(layer_of(LayerKind::elementwise, mul, QuantData{}), false).kernel ==
        std::string(Elementwise<"e", mul, targets::cpu_int8>::kernel_name));
  constexpr DequantizeAttributes dq{.shape = {1, 1, 10}, .signed_input = true, .softmax = true};
  CHECK(facts_of(layer_of(LayerKind::dequantize, dq, QuantData{}), false).kernel ==
        std::string(Dequantize<"d", dq, targets::cpu_int8>::kernel_name));
}
