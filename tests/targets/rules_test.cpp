// The targets' rules as the generator calls them, at run time: the same verdicts as the compiler's
// (tests/compile_fail), with the rule named and the numbers in the text.
#include <catch2/catch.hpp>

#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/describe.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;
using namespace statiq::targets;

TEST_CASE("mnist8's second convolution with its 3x3/3 MaxPool breaks Akida 2.0's pooling rule") {
  ConvAttributes a{.input = {14, 14, 8}, .filters = 16, .kernel = {5, 5}, .pads = Pads::same,
                   .activation = relu, .pool = max_pool(3, 3), .bits = {8, 8, 8}};
  const Violation v = akida_v2::rules(LayerKind::conv2d, a);
  CHECK(v.rule == Rule::pool_not_supported);
  CHECK(describe(v) == "pool_not_supported: this pooling (size, stride) cannot be fused on the target "
                       "(MaxPool 3x3 stride 3x3)");
  a.pool = max_pool(2, 2);
  CHECK_FALSE(akida_v2::rules(LayerKind::conv2d, a).broken());
  // The same layer on cpu_int8 is fine; on akida_v1 its 8-bit input is not.
  a.pool = max_pool(3, 3);
  CHECK_FALSE(cpu_int8::rules(LayerKind::conv2d, a).broken());
  CHECK(akida_v1::rules(LayerKind::conv2d, a).rule == Rule::pool_not_supported);
}

TEST_CASE("run-time verdicts name the rule and the numbers") {
  const ConvAttributes stem{.input = {224, 224, 3}, .filters = 64, .kernel = {7, 7}, .strides = {2, 2},
                            .pads = Pads{3, 3, 3, 3}, .activation = relu};
  CHECK(describe(akida_v2::rules(LayerKind::input_conv2d, stem)) ==
        "expects_pads: padding must follow the target's \"same\" convention (odd pixel at the end): expects pads "
        "[top, left, bottom, right]; pre-pad the input or let statiq-codegen legalize it (expects pads "
        "[2, 2, 3, 3], found [3, 3, 3, 3])");
  const ConvAttributes s2{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5}, .strides = {2, 2},
                          .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}};
  CHECK(describe(akida_v2::rules(LayerKind::conv2d, s2)) ==
        "stride_2_only_with_3x3_kernels: stride 2 only with 3x3 kernels (kernel 5x5, strides 2x2)");
  ConvAttributes b = s2;
  b.strides = {1, 1};
  b.bits.w = 2;
  CHECK(describe(akida_v2::rules(LayerKind::conv2d, b)) ==
        "weight_bits_not_supported: weight bits not supported by the target (2 not in {4, 8})");
  const DenseAttributes fc{.input = {1, 1, 4096}, .units = 10, .bits = {8, 8, 8}};
  CHECK(describe(akida_v2::rules(LayerKind::dense, fc)) ==
        "dense_input_too_large: Dense input (H*W*C) above the target's limit (4096 inputs, at most 2048)");
  const PoolAttributes mp{.input = {8, 8, 4}, .pool = max_pool(2, 2)};
  CHECK(gemmini::rules(LayerKind::max_pool, mp).rule == Rule::layer_kind_not_supported_by_target);
  CHECK(describe(gemmini::rules(LayerKind::max_pool, mp)).find("(MaxPool)") != std::string::npos);
  CHECK(tflite_int8::rules(LayerKind::max_pool, mp).rule == Rule::activations_must_be_signed);
  CHECK_FALSE(cpu_int8::rules(LayerKind::max_pool, mp).broken());
  const AddAttributes add{.shape = {4, 4, 8}, .activation = relu};
  CHECK(akida_v1::rules(LayerKind::add, add).rule == Rule::layer_kind_not_supported_by_target);
  CHECK_FALSE(akida_v2::rules(LayerKind::add, add).broken());
}

TEST_CASE("the compiler and the run time agree: one verdict, two readers") {
  constexpr ConvAttributes a{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5}, .strides = {2, 2},
                             .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}};
  constexpr Violation at_compile_time = akida_v2::rules(LayerKind::conv2d, a);
  STATIC_REQUIRE(at_compile_time.rule == Rule::stride_2_only_with_3x3_kernels);
  STATIC_REQUIRE(name_of(Rule::too_many_filters) == "too_many_filters");
  STATIC_REQUIRE(message_of(Rule::groups_not_supported) == "the target has no grouped convolution (only depthwise)");
}
