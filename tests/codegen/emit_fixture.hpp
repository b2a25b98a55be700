// tests/codegen/emit_fixture.hpp — two lowered, quantized models built by hand for the emitter
// tests (cpu_int8 and akida_v2 with 4-bit packed weights), with golden vectors computed by running
// the library's statiq::compute functions layer by layer on run-time attributes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codegen/emit/emit.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::test {

using codegen::GoldenVector;
using codegen::Layer;
using codegen::LoweredModel;
using codegen::ProfileData;

// Deterministic integers in [lo, hi] that include both ends (the packing's sign bit and extremes).
inline std::vector<std::int32_t> integers(std::size_t n, int lo, int hi, unsigned seed) {
  std::vector<std::int32_t> v(n);
  unsigned s = seed;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    v[i] = lo + static_cast<int>((s >> 8) % unsigned(hi - lo + 1));
  }
  if (n >= 2) {
    v[0] = lo;
    v[1] = hi;
  }
  return v;
}

inline Layer make_layer(std::string name, LayerKind kind, std::vector<std::string> nodes, std::vector<int> inputs,
                        codegen::LayerAttributes attributes) {
  Layer l;
  l.name = std::move(name);
  l.kind = kind;
  l.onnx_nodes = std::move(nodes);
  l.inputs = std::move(inputs);
  l.output_tensor = l.onnx_nodes.back() + "_output";
  l.attributes = attributes;
  return l;
}

// cpu_int8: Quantize -> Conv2D 3x3 (relu, maxpool 2) -> Dense (signed) -> Dequantize.
// Names with '/', '.' and upper case exercise the struct names.
inline LoweredModel cpu_int8_model() {
  using P = arith::qlinear;
  LoweredModel m;
  m.name = "tiny_cpu";
  m.target = "cpu_int8";
  m.input_tensor = "image";
  m.output_tensor = "logits";
  m.input_shape = {6, 6, 1};

  Layer q = make_layer("QuantizeInput", LayerKind::quantize, {"QuantizeInput"}, {-1},
                       QuantizeAttributes{.shape = {6, 6, 1}});
  q.output = {.scale = 0.03125f, .zero_point = 10, .bits = 8};

  const ConvAttributes ca{.input = {6, 6, 1}, .filters = 2, .kernel = {3, 3}, .pads = Pads::same,
                          .activation = relu, .pool = max_pool(2, 2)};
  Layer conv = make_layer("/features/conv1/Conv", LayerKind::conv2d,
                          {"/features/conv1/Conv", "/features/relu/Relu", "/features/pool/MaxPool"}, {0}, ca);
  conv.qweights = integers(18, -128, 127, 7);
  conv.qbias = {100, -2000};
  conv.weight_scales = {0.01f, 0.02f};
  conv.input_zero_point = 10;
  conv.output = {.scale = 0.05f, .zero_point = 0, .bits = 8};
  conv.data = ProfileData<P>{.channel = {{0.0021f}, {0.0017f}}, .output = {0, 0, 255}};

  const DenseAttributes da{.input = {3, 3, 2}, .units = 3, .signed_output = true};
  Layer fc = make_layer("fc.0", LayerKind::dense, {"fc.0/Flatten", "fc.0"}, {1}, da);
  fc.qweights = integers(54, -128, 127, 11);
  fc.qbias = {300, -700, 0};
  fc.weight_scales = {0.004f};
  fc.output = {.scale = 0.1f, .zero_point = -5, .bits = 8, .is_signed = true};
  fc.data = ProfileData<P>{.channel = {{0.00031f}, {0.00027f}, {0.00042f}}, .output = {-5, -128, 127}};

  Layer dq = make_layer("logits", LayerKind::dequantize, {"DequantizeLogits"}, {2},
                        DequantizeAttributes{.shape = {1, 1, 3}, .signed_input = true});
  m.layers = {q, conv, fc, dq};
  return m;
}

// akida_v2 (pow2): Quantize -> InputConv2D 3x3 (relu, maxpool 2, 8-bit weights, 4-bit output)
// -> Conv2D 3x3 (relu, 4-bit weights packed two to a byte) -> Dense on the host (4-bit weights)
// -> Dequantize.
inline LoweredModel akida_v2_model() {
  using P = arith::pow2;
  LoweredModel m;
  m.name = "tiny_akida";
  m.target = "akida_v2";
  m.input_tensor = "pixels";
  m.output_tensor = "scores";
  m.input_shape = {8, 8, 1};

  Layer q = make_layer("Quantize", LayerKind::quantize, {"QuantizeLinear_0"}, {-1},
                       QuantizeAttributes{.shape = {8, 8, 1}});
  q.output = {.scale = 1.0f, .zero_point = 0, .bits = 8};

  const ConvAttributes c0{.input = {8, 8, 1}, .filters = 4, .kernel = {3, 3}, .pads = Pads::same,
                          .activation = relu, .pool = max_pool(2, 2), .bits = {8, 8, 4}};
  Layer conv0 = make_layer("conv_0", LayerKind::input_conv2d, {"conv_0", "relu_0", "pool_0"}, {0}, c0);
  conv0.qweights = integers(36, -128, 127, 3);
  conv0.qbias = {0, 500, -500, 1000};
  conv0.output = {.scale = 0.125f, .bits = 4, .frac_bits = 3};
  conv0.data = ProfileData<P>{.channel = {{200, 18}, {160, 17}, {255, 18}, {129, 17}}, .output = {0, 15}};

  const ConvAttributes c1{.input = {4, 4, 4}, .filters = 4, .kernel = {3, 3}, .pads = Pads::same,
                          .activation = relu, .bits = {4, 4, 4}};
  Layer conv1 = make_layer("conv_1", LayerKind::conv2d, {"conv_1", "relu_1"}, {1}, c1);
  conv1.qweights = integers(144, -8, 7, 5);
  conv1.qbias = {20, -10, 0, 5};
  conv1.output = {.scale = 0.25f, .bits = 4, .frac_bits = 2};
  conv1.data = ProfileData<P>{.channel = {{180, 10}, {140, 9}, {250, 10}, {200, 9}}, .output = {0, 15}};

  const DenseAttributes d{.input = {4, 4, 4}, .units = 3, .bits = {4, 4, 8}, .signed_output = true};
  Layer fc = make_layer("dense", LayerKind::dense, {"flatten", "dense"}, {2}, d);
  fc.qweights = integers(192, -8, 7, 9);
  fc.qbias = {-40, 40, 0};
  fc.placement = codegen::Placement::host;
  fc.violation = Violation{.rule = Rule::layer_kind_not_supported_by_target, .kind = LayerKind::dense};
  fc.output = {.scale = 0.0625f, .bits = 8, .is_signed = true, .frac_bits = 4};
  fc.data = ProfileData<P>{.channel = {{150, 10}, {230, 11}, {199, 10}}, .output = {-128, 127}};

  Layer dq = make_layer("scores", LayerKind::dequantize, {"DequantizeLinear_9"}, {3},
                        DequantizeAttributes{.shape = {1, 1, 3}, .signed_input = true});
  m.layers = {q, conv0, conv1, fc, dq};
  return m;
}

// cpu_int8, a DAG of the remaining layer kinds: Quantize -> DepthwiseConv2D (relu) -> Conv2D 1x1
// (relu) -> Add(depthwise, conv) -> MaxPool 2 -> {AveragePool 2, MaxPool 2} -> Concat ->
// GlobalAveragePool -> Dense -> Dequantize.
inline LoweredModel cpu_int8_dag_model() {
  using P = arith::qlinear;
  LoweredModel m;
  m.name = "tiny_dag";
  m.target = "cpu_int8";
  m.input_tensor = "image";
  m.output_tensor = "logits";
  m.input_shape = {8, 8, 3};
  const auto u8 = [](float scale, std::int32_t zp) {
    return codegen::TensorQuantization{.scale = scale, .zero_point = zp, .bits = 8};
  };

  Layer q = make_layer("Quantize", LayerKind::quantize, {"Quantize"}, {-1}, QuantizeAttributes{.shape = {8, 8, 3}});
  q.output = u8(0.02f, 128);

  Layer dw = make_layer("dw", LayerKind::depthwise_conv2d, {"dw", "dw_relu"}, {0},
                        ConvAttributes{.input = {8, 8, 3}, .filters = 3, .kernel = {3, 3}, .pads = Pads::same,
                                       .activation = relu, .group = 3});
  dw.qweights = integers(27, -128, 127, 21);
  dw.qbias = {50, -50, 0};
  dw.input_zero_point = 128;
  dw.output = u8(0.04f, 0);
  dw.data = ProfileData<P>{.channel = {{0.004f}, {0.0035f}, {0.005f}}, .output = {0, 0, 255}};

  Layer pw = make_layer("pw", LayerKind::conv2d, {"pw", "pw_relu"}, {1},
                        ConvAttributes{.input = {8, 8, 3}, .filters = 3, .activation = relu});
  pw.qweights = integers(9, -128, 127, 23);
  pw.qbias = {10, 20, 30};
  pw.output = u8(0.05f, 0);
  pw.data = ProfileData<P>{.channel = {{0.006f}, {0.007f}, {0.005f}}, .output = {0, 0, 255}};

  Layer add = make_layer("residual", LayerKind::add, {"residual", "residual_relu"}, {1, 2},
                         AddAttributes{.shape = {8, 8, 3}, .activation = relu});
  add.output = u8(0.07f, 0);
  add.data = ProfileData<P>{.channel = {}, .output = {}, .add = P::make_add(0.04f, 0, 0.05f, 0, 0.07f, 0, 0, 255)};

  Layer pool = make_layer("pool", LayerKind::max_pool, {"pool"}, {3},
                          PoolAttributes{.input = {8, 8, 3}, .pool = max_pool(2, 2)});
  pool.output = add.output;

  Layer avg = make_layer("avg", LayerKind::average_pool, {"avg"}, {4},
                         PoolAttributes{.input = {4, 4, 3}, .pool = average_pool({2, 2}, {2, 2})});
  avg.output = u8(0.06f, 3);
  avg.data = ProfileData<P>{.channel = {{0.07f / 4 / 0.06f}, {0.07f / 4 / 0.06f}, {0.07f / 4 / 0.06f}},
                            .output = {3, 0, 255}};

  Layer pool2 = make_layer("pool2", LayerKind::max_pool, {"pool2"}, {4},
                           PoolAttributes{.input = {4, 4, 3}, .pool = max_pool(2, 2)});
  pool2.output = add.output;

  Layer cat = make_layer("cat", LayerKind::concat, {"cat"}, {5, 6},
                         ConcatAttributes{.inputs = {{2, 2, 3}, {2, 2, 3}}});
  cat.output = u8(0.08f, 1);
  cat.data = ProfileData<P>{.channel = {}, .output = {}, .add = {}, .rescale = {{{0.06f, 3, 0.08f, 1, 0, 255}, {0.07f, 0, 0.08f, 1, 0, 255}, {}, {}}}};

  Layer gap = make_layer("gap", LayerKind::global_average_pool, {"gap"}, {7},
                         PoolAttributes{.input = {2, 2, 6}, .pool = global_average_pool});
  gap.output = u8(0.05f, 2);
  gap.data = ProfileData<P>{.channel = std::vector<P::channel_params>(6, {0.08f / 4 / 0.05f}), .output = {2, 0, 255}};

  Layer fc = make_layer("fc", LayerKind::dense, {"fc"}, {8},
                        DenseAttributes{.input = {1, 1, 6}, .units = 2, .signed_output = true});
  fc.qweights = integers(12, -128, 127, 29);
  fc.qbias = {-100, 100};
  fc.input_zero_point = 2;
  fc.output = {.scale = 0.25f, .zero_point = 0, .bits = 8, .is_signed = true};
  fc.data = ProfileData<P>{.channel = {{0.0009f}, {0.0011f}}, .output = {0, -128, 127}};

  Layer dq = make_layer("logits", LayerKind::dequantize, {"logits"}, {9},
                        DequantizeAttributes{.shape = {1, 1, 2}, .signed_input = true});
  m.layers = {q, dw, pw, add, pool, avg, pool2, cat, gap, fc, dq};
  return m;
}

// --- the integer simulation, one compute call per layer ------------------------------------

template <class P>
LayerData<P> layer_data(const Layer& l) {
  const auto& d = std::get<ProfileData<P>>(l.data);
  return {l.qbias.data(), d.channel.data(), d.output, l.input_zero_point, l.weight_zero_point};
}

// Runs the model in P's arithmetic on one NHWC input (integers held in int32, whatever the bits).
template <class P>
GoldenVector simulate(const LoweredModel& m, const std::vector<float>& input) {
  std::vector<std::vector<std::int32_t>> t(m.layers.size());
  GoldenVector g;
  g.input = input;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const Layer& l = m.layers[i];
    const std::vector<std::int32_t>* x = l.inputs[0] >= 0 ? &t[std::size_t(l.inputs[0])] : nullptr;
    const auto& d = l.data;
    std::visit(
        [&](const auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, QuantizeAttributes>) {
            t[i].resize(std::size_t(a.shape.size()));
            compute<P>(a, input.data(), l.output.scale, l.output.zero_point, t[i].data());
          } else if constexpr (std::is_same_v<A, ConvAttributes> || std::is_same_v<A, DenseAttributes>) {
            t[i].resize(std::size_t(output_shape(a).size()));
            // the reference kernel on the logical (row-major) weights: an oracle for the generator's simulation
            std::vector<std::int32_t> scratch(scratch_words(a, row_major_layout));
            compute<P>(a, x->data(), l.qweights, layer_data<P>(l), t[i].data(), scratch.data());
          } else if constexpr (std::is_same_v<A, PoolAttributes>) {
            t[i].resize(std::size_t(output_shape(a).size()));
            std::vector<std::int32_t> scratch(scratch_words(a) + 1);
            LayerData<P> ld{};
            if (const auto* pd = std::get_if<ProfileData<P>>(&d)) ld = {nullptr, pd->channel.data(), pd->output, l.input_zero_point, 0};
            compute<P>(a, x->data(), ld, t[i].data(), scratch.data());
          } else if constexpr (std::is_same_v<A, AddAttributes>) {
            t[i].resize(std::size_t(a.shape.size()));
            compute<P>(a, x->data(), t[std::size_t(l.inputs[1])].data(), std::get<ProfileData<P>>(d).add, t[i].data());
          } else if constexpr (std::is_same_v<A, ConcatAttributes>) {
            t[i].resize(std::size_t(output_shape(a).size()));
            std::vector<const std::int32_t*> xs;
            for (const int from : l.inputs) xs.push_back(t[std::size_t(from)].data());
            compute<P>(a, xs.data(), std::get<ProfileData<P>>(d).rescale.data(), t[i].data());
          } else if constexpr (std::is_same_v<A, DequantizeAttributes>) {
            const codegen::TensorQuantization& in = m.layers[std::size_t(l.inputs[0])].output;
            g.output.resize(std::size_t(a.shape.size()));
            compute(a, x->data(), in.scale, in.zero_point, g.output.data());
            g.quantized_output = *x;
          }
        },
        l.attributes);
  }
  return g;
}

// Golden inputs: a ramp with values below, at and above the input range, and a rounding tie.
inline std::vector<std::vector<float>> cpu_int8_inputs() {
  std::vector<float> a(36), b(36);
  for (int i = 0; i < 36; ++i) {
    a[std::size_t(i)] = -0.5f + 0.21f * float(i);                    // -0.5 .. 6.85: saturates at 7.65
    b[std::size_t(i)] = float((i * 7) % 36) / 4.0f - 0.3125f;         // -0.3125 = 10 steps below zero: q = 0
  }
  a[5] = 100.0f;            // saturates to 255
  a[6] = -100.0f;           // saturates to 0
  b[3] = 0.015625f;         // 0.5 steps: ties to even (0 + 10)
  return {a, b};
}

inline std::vector<std::vector<float>> akida_v2_inputs() {
  std::vector<float> a(64), b(64);
  for (int i = 0; i < 64; ++i) {
    a[std::size_t(i)] = float((i * 37) % 256);
    b[std::size_t(i)] = float(255 - (i * 11) % 200);
  }
  a[0] = 300.0f;  // saturates to 255
  a[1] = -3.0f;   // saturates to 0
  return {a, b};
}

inline std::vector<std::vector<float>> dag_inputs() {
  std::vector<float> a(192), b(192);
  for (int i = 0; i < 192; ++i) {
    a[std::size_t(i)] = -2.5f + float((i * 29) % 257) / 51.0f;
    b[std::size_t(i)] = 2.0f * float(i % 7) - 6.0f;  // beyond the range on both sides
  }
  return {a, b};
}

inline codegen::EmitOptions emit_options(const LoweredModel& m) {
  codegen::EmitOptions o;
  o.model_file = m.name + ".onnx";
  o.model_sha256 = std::string(64, 'a');
  if (m.name == "tiny_dag")
    for (const auto& x : dag_inputs()) o.golden.push_back(simulate<arith::qlinear>(m, x));
  else if (m.target == "cpu_int8")
    for (const auto& x : cpu_int8_inputs()) o.golden.push_back(simulate<arith::qlinear>(m, x));
  else
    for (const auto& x : akida_v2_inputs()) o.golden.push_back(simulate<arith::pow2>(m, x));
  o.report.layers.resize(m.layers.size());
  o.report.layers[1] = {.range_min = 0.0f, .range_max = 12.5f, .sqnr_db = 31.25, .ptq = {}};
  o.report.accuracy = codegen::Accuracy{.float_model = 0.985, .quantized_model = 0.98, .samples = 200};
  return o;
}

}  // namespace statiq::test
