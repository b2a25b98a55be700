// A small DAG on cpu_int8 with random data, shared by the engine tests:
//   q -> c1 -> c2 ----+
//          +-> c3 ---- add -> cat(add, c1) -> gap -> fc -> dq
#pragma once

#include <array>
#include <random>
#include <span>
#include <vector>

#include "statiq/statiq.hpp"

namespace fixture {
using namespace statiq;
using T = targets::cpu_int8;
using qch = arith::qlinear::channel_params;

struct q : Quantize<"input_q", QuantizeAttributes{.shape = {10, 10, 3}}, T> { using Quantize::Quantize; };
struct c1 : Conv2D<"conv1", ConvAttributes{.input = {10, 10, 3}, .filters = 8, .kernel = {3, 3}, .strides = {2, 2},
                                         .pads = Pads::same, .activation = relu}, T> { using Conv2D::Conv2D; };
struct c2 : Conv2D<"conv2", ConvAttributes{.input = {5, 5, 8}, .filters = 8, .kernel = {3, 3}, .pads = Pads::same,
                                         .activation = relu}, T> { using Conv2D::Conv2D; };
struct c3 : DepthwiseConv2D<"conv3_dw", ConvAttributes{.input = {5, 5, 8}, .kernel = {3, 3}, .pads = Pads::same}, T> {
  using DepthwiseConv2D::DepthwiseConv2D;
};
struct add : Add<"add", AddAttributes{.shape = {5, 5, 8}, .activation = relu}, T> { using Add::Add; };
struct cat : Concat<"concat", ConcatAttributes{.inputs = {{5, 5, 8}, {5, 5, 8}}, .count = 2}, T> { using Concat::Concat; };
struct gap : GlobalAveragePool<"gap", PoolAttributes{.input = {5, 5, 16}}, T> { using GlobalAveragePool::GlobalAveragePool; };
struct fc : Dense<"fc", DenseAttributes{.input = {1, 1, 16}, .units = 4, .signed_output = true}, T> { using Dense::Dense; };
struct dq : Dequantize<"output_dq", DequantizeAttributes{.shape = {1, 1, 4}, .signed_input = true}, T> {
  using Dequantize::Dequantize;
};

using model = Graph<node<q>, node<c1>, node<c2>, node<c3, 1>, node<add, 2, 3>, node<cat, 4, 1>, node<gap>,
                    node<fc>, node<dq>>;

// Weights and parameters (random but fixed), owned here so the layers can refer to them.
struct data {
  std::mt19937 rng{42};
  typename c1::weights_array w1;
  typename c2::weights_array w2;
  typename c3::weights_array w3;
  typename fc::weights_array w4;
  std::vector<std::int32_t> b1 = std::vector<std::int32_t>(8), b2 = b1, b3 = b1, b4 = std::vector<std::int32_t>(4);
  std::vector<qch> m1 = std::vector<qch>(8, {0.004f}), m2 = std::vector<qch>(8, {0.002f}),
                   m3 = std::vector<qch>(8, {0.01f}), m4 = std::vector<qch>(4, {0.03f});
  std::vector<qch> mg = std::vector<qch>(16, {1.0f / 25});
  // Each output channel's weight sum (statiq::weight_sums), as the generator supplies them.
  std::array<std::int32_t, 8> s1{}, s2{}, s3{};
  std::array<std::int32_t, 4> s4{};

  template <class A>
  void fill(A& a, int n) {
    for (int i = 0; i < n; ++i) a.set(std::size_t(i), std::uniform_int_distribution<int>(-100, 100)(rng));
  }
  data() {
    fill(w1, c1::weight_count); fill(w2, c2::weight_count); fill(w3, c3::weight_count); fill(w4, fc::weight_count);
    for (auto* b : {&b1, &b2, &b3, &b4})
      for (auto& v : *b) v = std::uniform_int_distribution<int>(-500, 500)(rng);
    s1 = weight_sums<8>(typename c1::weights_view(w1));
    s2 = weight_sums<8>(typename c2::weights_view(w2));
    s3 = weight_sums<8>(typename c3::weights_view(w3));
    s4 = weight_sums<4>(typename fc::weights_view(w4));
  }

  template <class L, class W, std::size_t N>
  static typename L::parameters conv(const W& w, const std::vector<std::int32_t>& b, const std::vector<qch>& m,
                                     const std::array<std::int32_t, N>& sums, arith::qlinear::output_params o, int x_zp) {
    return {w, std::span<const std::int32_t, N>(b.data(), N), std::span<const qch, N>(m.data(), N), sums, o, x_zp, 0};
  }

  model make() const {
    cat::parameters cp;
    cp.rescale[0] = {0.05f, 10, 0.05f, 10, 0, 255};
    cp.rescale[1] = {0.04f, 5, 0.05f, 10, 0, 255};
    return model(q({0.02f, 128}),
                 c1(conv<c1, decltype(w1), 8>(w1, b1, m1, s1, {5, 5, 255}, 128)),
                 c2(conv<c2, decltype(w2), 8>(w2, b2, m2, s2, {10, 10, 255}, 5)),
                 c3(conv<c3, decltype(w3), 8>(w3, b3, m3, s3, {128, 0, 255}, 5)),
                 add({arith::qlinear::make_add(0.05f, 10, 0.05f, 128, 0.05f, 10, 10, 255)}),
                 cat(cp),
                 gap({std::span<const qch, 16>(mg.data(), 16), {3, 0, 255}, 10}),
                 fc(conv<fc, decltype(w4), 4>(w4, b4, m4, s4, {0, -128, 127}, 3)),
                 dq({0.1f, 0}));
  }
};
}  // namespace fixture
