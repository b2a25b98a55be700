// quantize() and simulate() on LoweredModels built by hand: quantized numbers checked against hand
// values, simulate() against the library's compile-time layer types bit for bit, the dequantized
// output against a float computation of the same network (SQNR), and the diagnostics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "codegen/quantize/quantize.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;
using namespace statiq::codegen;

namespace {

std::mt19937 rng(20240611);
float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

// Float parameters of Quantize -> Conv(3x3 "same", ReLU, MaxPool 2x2) -> Dense -> Dequantize.
struct Net {
  Shape in;
  int filters = 0;
  int units = 0;
  std::vector<float> conv_w, conv_b, fc_w, fc_b;  // OHWI; [units][inputs in NHWC order]
};

Net random_net(Shape in, int filters, int units) {
  Net n{in, filters, units, {}, {}, {}, {}};
  n.conv_w.resize(std::size_t(filters * 9 * in.c));
  for (auto& v : n.conv_w) v = uniform(-0.5f, 0.5f);
  for (int f = 0; f < filters; ++f) n.conv_b.push_back(uniform(-0.2f, 0.2f));
  const int inputs = (in.h / 2) * (in.w / 2) * filters;
  n.fc_w.resize(std::size_t(units * inputs));
  for (auto& v : n.fc_w) v = uniform(-0.3f, 0.3f);
  for (int u = 0; u < units; ++u) n.fc_b.push_back(uniform(-0.1f, 0.1f));
  return n;
}

struct FloatTensors {
  std::vector<float> conv;  // after ReLU and MaxPool, NHWC
  std::vector<float> fc;
};

// The float network, written out in double (NHWC, pads 1 on every side, floor-mode 2x2 pooling).
FloatTensors forward(const Net& n, const std::vector<float>& x) {
  const Shape in = n.in;
  std::vector<double> conv(std::size_t(in.h * in.w * n.filters));
  for (int oh = 0; oh < in.h; ++oh)
    for (int ow = 0; ow < in.w; ++ow)
      for (int f = 0; f < n.filters; ++f) {
        double a = n.conv_b[std::size_t(f)];
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw) {
            const int ih = oh - 1 + kh, iw = ow - 1 + kw;
            if (ih < 0 || iw < 0 || ih >= in.h || iw >= in.w) continue;
            for (int c = 0; c < in.c; ++c)
              a += double(x[std::size_t((ih * in.w + iw) * in.c + c)]) *
                   n.conv_w[std::size_t(((f * 3 + kh) * 3 + kw) * in.c + c)];
          }
        conv[std::size_t((oh * in.w + ow) * n.filters + f)] = std::max(a, 0.0);
      }
  FloatTensors t;
  const int ph = in.h / 2, pw = in.w / 2;
  for (int oh = 0; oh < ph; ++oh)
    for (int ow = 0; ow < pw; ++ow)
      for (int f = 0; f < n.filters; ++f) {
        double m = 0.0;
        for (int dh = 0; dh < 2; ++dh)
          for (int dw = 0; dw < 2; ++dw)
            m = std::max(m, conv[std::size_t(((oh * 2 + dh) * in.w + ow * 2 + dw) * n.filters + f)]);
        t.conv.push_back(float(m));
      }
  for (int u = 0; u < n.units; ++u) {
    double a = n.fc_b[std::size_t(u)];
    for (std::size_t i = 0; i < t.conv.size(); ++i) a += double(t.conv[i]) * n.fc_w[std::size_t(u) * t.conv.size() + i];
    t.fc.push_back(float(a));
  }
  return t;
}

std::vector<float> nhwc_to_nchw(const std::vector<float>& v, Shape s) {
  std::vector<float> out(v.size());
  for (int h = 0; h < s.h; ++h)
    for (int w = 0; w < s.w; ++w)
      for (int c = 0; c < s.c; ++c)
        out[std::size_t((c * s.h + h) * s.w + w)] = v[std::size_t((h * s.w + w) * s.c + c)];
  return out;
}

LoweredModel make_model(const std::string& target, const Net& n, QuantizeAttributes qa, LayerKind conv_kind,
                        ConvAttributes ca, DenseAttributes da, DequantizeAttributes dqa) {
  LoweredModel m;
  m.name = "net";
  m.target = target;
  m.input_tensor = "x";
  m.output_tensor = "y";
  m.input_shape = n.in;
  Layer q;
  q.name = "x";
  q.kind = LayerKind::quantize;
  q.inputs = {-1};
  q.output_tensor = "x";
  q.attributes = qa;
  Layer c;
  c.name = "conv";
  c.kind = conv_kind;
  c.onnx_nodes = {"conv", "relu", "pool"};
  c.inputs = {0};
  c.output_tensor = "conv_out";
  c.attributes = ca;
  c.weights = n.conv_w;
  c.bias = n.conv_b;
  Layer f;
  f.name = "fc";
  f.kind = LayerKind::dense;
  f.onnx_nodes = {"fc"};
  f.inputs = {1};
  f.output_tensor = "fc_out";
  f.attributes = da;
  f.weights = n.fc_w;
  f.bias = n.fc_b;
  Layer d;
  d.name = "dq";
  d.kind = LayerKind::dequantize;
  d.inputs = {2};
  d.output_tensor = "y";
  d.attributes = dqa;
  m.layers = {q, c, f, d};
  return m;
}

// min/max of every tensor over the calibration samples (NHWC inputs).
Ranges calibrate(const Net& n, const std::vector<std::vector<float>>& samples) {
  Ranges r;
  auto widen = [&r](const std::string& name, const std::vector<float>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    auto it = r.find(name);
    if (it == r.end()) r[name] = Range{*lo, *hi};
    else it->second = Range{std::min(it->second.min, *lo), std::max(it->second.max, *hi)};
  };
  for (const auto& x : samples) {
    const FloatTensors t = forward(n, x);
    widen("x", x);
    widen("conv_out", t.conv);
    widen("fc_out", t.fc);
  }
  return r;
}

std::vector<std::vector<float>> random_inputs(Shape s, int count, float lo, float hi) {
  std::vector<std::vector<float>> out(std::size_t(count), std::vector<float>(std::size_t(s.size())));
  for (auto& x : out)
    for (auto& v : x) v = uniform(lo, hi);
  return out;
}

template <class L, class Array>
Array weights_of(const Layer& l) {
  Array w;
  REQUIRE(l.qweights.size() == L::weight_count);
  for (std::size_t i = 0; i < l.qweights.size(); ++i) w.set(i, l.qweights[i]);
  return w;
}

// Runs the chain through the library's compile-time layer types with the quantized model's data
// and compares every tensor with simulate(), bit for bit; returns the SQNR of the final output
// against the float network over all the inputs (5 outputs a sample are too few for one SQNR each).
template <class T, LayerKind ConvKind, QuantizeAttributes QA, ConvAttributes CA, DenseAttributes DA,
          DequantizeAttributes DQA>
double check_against_layer_types(const LoweredModel& m, const Net& n, const std::vector<std::vector<float>>& inputs) {
  using P = typename T::profile;
  using Q = statiq::Quantize<"x", QA, T>;
  using C = Convolution<ConvKind, "conv", CA, T>;
  using D = Dense<"fc", DA, T>;
  using DQ = Dequantize<"dq", DQA, T>;
  static_assert(Q::valid && C::valid && D::valid && DQ::valid);
  // quantize()'s choices of signedness are those the types were written with.
  REQUIRE(std::get<QuantizeAttributes>(m.layers[0].attributes) == QA);
  REQUIRE(std::get<ConvAttributes>(m.layers[1].attributes) == CA);
  REQUIRE(std::get<DenseAttributes>(m.layers[2].attributes) == DA);
  REQUIRE(std::get<DequantizeAttributes>(m.layers[3].attributes) == DQA);

  const Layer &lq = m.layers[0], &lc = m.layers[1], &lf = m.layers[2], &ld = m.layers[3];
  const auto& dc = std::get<ProfileData<P>>(lc.data);
  const auto& df = std::get<ProfileData<P>>(lf.data);
  const Q quantize_layer({lq.output.scale, lq.output.zero_point});
  const auto cw = weights_of<C, typename C::weights_array>(lc);
  const auto csums = weight_sums<C::filters>(typename C::weights_view(cw));  // as the generator emits them
  const C conv({typename C::weights_view(cw), std::span<const std::int32_t, C::filters>(lc.qbias.data(), C::filters),
                std::span<const typename P::channel_params, C::filters>(dc.channel.data(), C::filters),
                std::span<const std::int32_t, C::filters>(csums), dc.output, lc.input_zero_point, lc.weight_zero_point});
  const auto fw = weights_of<D, typename D::weights_array>(lf);
  const auto fsums = weight_sums<D::units>(typename D::weights_view(fw));
  const D dense({typename D::weights_view(fw), std::span<const std::int32_t, D::units>(lf.qbias.data(), D::units),
                 std::span<const typename P::channel_params, D::units>(df.channel.data(), D::units),
                 std::span<const std::int32_t, D::units>(fsums), df.output, lf.input_zero_point, lf.weight_zero_point});
  const DQ dequantize_layer({ld.output.scale, ld.output.zero_point});

  std::vector<float> reference, simulated;
  for (const auto& x : inputs) {
    const std::vector<float> nchw = nhwc_to_nchw(x, n.in);
    const SimulationResult r = simulate(m, nchw.data());
    REQUIRE(r.layers.size() == 4);

    std::vector<typename Q::output_element> q(std::size_t(QA.shape.size()));
    quantize_layer(x.data(), q.data(), nullptr);
    std::vector<typename C::output_element> c(std::size_t(C::output_shape.size()));
    std::vector<std::int32_t> scratch(C::scratch_words);
    conv(q.data(), c.data(), scratch.data());
    std::vector<typename D::output_element> f(std::size_t(D::units));
    std::vector<std::int32_t> scratch_fc(D::scratch_words);
    dense(c.data(), f.data(), scratch_fc.data());
    std::vector<float> y(std::size_t(D::units));
    dequantize_layer(f.data(), y.data(), nullptr);

    CHECK(r.layers[0] == std::vector<std::int32_t>(q.begin(), q.end()));
    CHECK(r.layers[1] == std::vector<std::int32_t>(c.begin(), c.end()));
    CHECK(r.layers[2] == std::vector<std::int32_t>(f.begin(), f.end()));
    CHECK(r.output == r.layers[2]);
    CHECK(r.output_shape == Shape{1, 1, n.units});
    REQUIRE(r.dequantized.size() == y.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(r.dequantized[i] == y[i]);  // bit for bit

    const std::vector<float> fc = forward(n, x).fc;
    reference.insert(reference.end(), fc.begin(), fc.end());
    simulated.insert(simulated.end(), r.dequantized.begin(), r.dequantized.end());
  }
  return sqnr_db(reference, simulated);
}

// Tiny cpu_int8 model with hand-chosen weights: 3x3x1 input, a valid 3x3 conv with 2 filters and
// ReLU (output 1x1x2), a Dense to 1 unit.
LoweredModel tiny_model(const std::string& target, bool conv_output_signed, bool dense_output_signed) {
  LoweredModel m;
  m.name = "tiny";
  m.target = target;
  m.input_tensor = "x";
  m.output_tensor = "y";
  m.input_shape = {3, 3, 1};
  Layer q;
  q.name = "x";
  q.kind = LayerKind::quantize;
  q.inputs = {-1};
  q.output_tensor = "x";
  q.attributes = QuantizeAttributes{.shape = {3, 3, 1}};
  Layer c;
  c.name = "conv";
  c.kind = LayerKind::conv2d;
  c.onnx_nodes = {"conv", "relu"};
  c.inputs = {0};
  c.output_tensor = "conv_out";
  c.attributes = ConvAttributes{.input = {3, 3, 1}, .filters = 2, .kernel = {3, 3}, .activation = relu,
                                .signed_output = conv_output_signed};
  c.weights = {0.25f, -0.5f, 0.1f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.25f,   // filter 0: max |w| 0.5
               1.0f, -0.3f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};   // filter 1: max |w| 1
  c.bias = {0.1f, -0.2f};
  Layer f;
  f.name = "fc";
  f.kind = LayerKind::dense;
  f.onnx_nodes = {"fc"};
  f.inputs = {1};
  f.output_tensor = "fc_out";
  f.attributes = DenseAttributes{.input = {1, 1, 2}, .units = 1, .signed_output = dense_output_signed};
  f.weights = {0.5f, -1.0f};
  f.bias = {0.05f};
  Layer d;
  d.name = "dq";
  d.kind = LayerKind::dequantize;
  d.inputs = {2};
  d.output_tensor = "y";
  d.attributes = DequantizeAttributes{.shape = {1, 1, 1}};
  m.layers = {q, c, f, d};
  return m;
}

const Ranges tiny_ranges{{"x", {-1.0f, 3.0f}}, {"conv_out", {-2.0f, 6.0f}}, {"fc_out", {-3.0f, 1.5f}}};

}  // namespace

TEST_CASE("cpu_int8: hand-checked scales, zero points, weights, biases and multipliers") {
  LoweredModel m = tiny_model("cpu_int8", false, false);
  quantize(m, tiny_ranges);
  const Layer &q = m.layers[0], &c = m.layers[1], &f = m.layers[2], &d = m.layers[3];
  using qlinear = arith::qlinear;

  // Input [-1, 3] as uint8: scale 4/255, zero point RNE(1 / (4/255)) = RNE(63.75) = 64.
  CHECK(q.output.scale == float(4.0 / 255.0));
  CHECK(q.output.zero_point == 64);
  CHECK_FALSE(q.output.is_signed);

  // Conv weights, max-per-axis: sf = 127 / 0.5 = 254 for filter 0: 0.25 -> RNE(63.5) = 64,
  // -0.5 -> -127, 0.1 -> 25.4 -> 25; filter 1: sf = 127: 1 -> 127, -0.3 -> -38.1 -> -38.
  CHECK(c.qweights == std::vector<std::int32_t>{64, -127, 25, 0, 0, 0, 0, 0, 64, 127, -38, 0, 0, 0, 0, 0, 0, 0});
  CHECK(c.weight_scales == std::vector<float>{1.0f / 254.0f, 1.0f / 127.0f});
  CHECK(c.input_zero_point == 64);
  // Biases at x_scale * w_scale: 0.1 * 255 * 254 / 4 = 1619.25 -> 1619, -0.2 * 255 * 127 / 4 = -1619.25.
  CHECK(c.qbias == std::vector<std::int32_t>{1619, -1619});
  // ReLU output range [0, 6]: scale 6/255, zero point 0, lower bound at the zero point.
  CHECK(c.output.scale == float(6.0 / 255.0));
  CHECK(c.output.zero_point == 0);
  const auto& dc = std::get<ProfileData<qlinear>>(c.data);
  REQUIRE(dc.channel.size() == 2);
  // m = x_s * w_s / y_s = (4/255)(1/254) / (6/255) = 4 / 1524, in float32 as ORT computes it.
  CHECK(dc.channel[0].multiplier == Approx(4.0 / 1524.0).epsilon(1e-6));
  CHECK(dc.channel[1].multiplier == Approx(4.0 / 762.0).epsilon(1e-6));
  CHECK(dc.channel[0].multiplier == (float(4.0 / 255.0) * (1.0f / 254.0f)) / float(6.0 / 255.0));
  CHECK(dc.output.zero_point == 0);
  CHECK(dc.output.lo == 0);
  CHECK(dc.output.hi == 255);

  // Dense: 0.5 * 127 = 63.5 -> 64, -1 -> -127; bias 0.05 * 255 * 127 / 6 = 269.875 -> 270.
  CHECK(f.qweights == std::vector<std::int32_t>{64, -127});
  CHECK(f.qbias == std::vector<std::int32_t>{270});
  CHECK(f.input_zero_point == 0);
  // Output [-3, 1.5]: scale 4.5/255, zero point RNE(3 / (4.5/255)) = 170.
  CHECK(f.output.scale == float(4.5 / 255.0));
  CHECK(f.output.zero_point == 170);
  const auto& df = std::get<ProfileData<qlinear>>(f.data);
  CHECK(df.channel[0].multiplier == Approx(6.0 / (127.0 * 4.5)).epsilon(1e-6));
  CHECK(df.output.lo == 0);  // no activation: the whole uint8 range
  CHECK(df.output.hi == 255);
  CHECK(df.output.zero_point == 170);
  // The Dequantize uses the last layer's quantization.
  CHECK(d.output.scale == f.output.scale);
  CHECK(d.output.zero_point == 170);
  CHECK(std::get<DequantizeAttributes>(d.attributes).signed_input == false);
}

TEST_CASE("cpu_int8: int8 activations (asymmetric and symmetric) and reduce_range") {
  SECTION("int8 asymmetric: [-1, 3] gives zero point RNE(-128 + 63.75) = -64") {
    LoweredModel m = tiny_model("cpu_int8", true, true);
    QuantizeOptions o;
    o.activations = ActivationType::int8_asymmetric;
    quantize(m, tiny_ranges, o);
    CHECK(m.layers[0].output.scale == float(4.0 / 255.0));
    CHECK(m.layers[0].output.zero_point == -64);
    CHECK(m.layers[0].output.is_signed);
    CHECK(std::get<QuantizeAttributes>(m.layers[0].attributes).signed_output);
    // The ReLU output [0, 6] starts at qmin: zero point -128, the ReLU bound there too.
    CHECK(m.layers[1].output.zero_point == -128);
    const auto& dc = std::get<ProfileData<arith::qlinear>>(m.layers[1].data);
    CHECK(dc.output.lo == -128);
    CHECK(dc.output.hi == 127);
    CHECK(std::get<ConvAttributes>(m.layers[1].attributes).signed_input);
  }
  SECTION("int8 symmetric: +-3 over [-127, 127], zero point 0") {
    LoweredModel m = tiny_model("cpu_int8", true, true);
    QuantizeOptions o;
    o.activations = ActivationType::int8_symmetric;
    quantize(m, tiny_ranges, o);
    CHECK(m.layers[0].output.scale == float(6.0 / 254.0));
    CHECK(m.layers[0].output.zero_point == 0);
    // ReLU output [0, 6] symmetric: scale 12/254, the ReLU bound at 0.
    CHECK(m.layers[1].output.scale == float(12.0 / 254.0));
    CHECK(std::get<ProfileData<arith::qlinear>>(m.layers[1].data).output.lo == 0);
  }
  SECTION("reduce_range: 7-bit weights, max |w| maps to 63") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    QuantizeOptions o;
    o.reduce_range = true;
    quantize(m, tiny_ranges, o);
    CHECK(m.layers[1].qweights[1] == -63);
    CHECK(m.layers[1].qweights[9] == 63);
    CHECK(m.layers[2].qweights == std::vector<std::int32_t>{32, -63});  // 0.5 * 63 = 31.5 -> 32
  }
  SECTION("a per-node override: per-tensor max quantizer for the conv only") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    QuantizeOptions o;
    o.weight_overrides = {{"relu", WeightQuantizerKind::max}};  // a node folded into the conv
    quantize(m, tiny_ranges, o);
    // One scale for both filters: sf = 127 / 1; filter 0's 0.25 -> 31.75 -> 32, -0.5 -> -63.5 -> -64.
    CHECK(m.layers[1].weight_scales == std::vector<float>{1.0f / 127.0f, 1.0f / 127.0f});
    CHECK(m.layers[1].qweights[0] == 32);
    CHECK(m.layers[1].qweights[1] == -64);
    CHECK(m.layers[2].weight_scales == std::vector<float>{1.0f / 127.0f});  // Dense keeps the default
  }
}

TEST_CASE("akida_v2 (pow2): hand-checked frac_bits, mantissa/shift, bias and clipped ReLU bound") {
  LoweredModel m = tiny_model("akida_v2", false, true);
  auto& ca = std::get<ConvAttributes>(m.layers[1].attributes);
  ca.activation = clipped_relu;
  m.layers[1].clip_max = 6.0f;
  m.layers[1].weights[0] = 0.2f;  // 0.2 * 254 = 50.8 -> 51 (no tie)
  const Ranges ranges{{"x", {0.0f, 1.0f}}, {"conv_out", {-1.0f, 6.0f}}, {"fc_out", {-3.0f, 1.5f}}};
  quantize(m, ranges);
  const Layer &q = m.layers[0], &c = m.layers[1], &f = m.layers[2];
  // Input [0, 1] unsigned 8 value bits: F = 8 - ceil(log2 1) = 8, scale 2^-8.
  CHECK(q.output.frac_bits == 8);
  CHECK(q.output.scale == 1.0f / 256.0f);
  CHECK(q.output.zero_point == 0);
  // Clipped ReLU [0, 6], unsigned: F = 8 - ceil(log2 6) = 5; the clip bound is 6 * 2^5 = 192.
  CHECK(c.output.frac_bits == 5);
  CHECK_FALSE(c.output.is_signed);
  const auto& dc = std::get<ProfileData<arith::pow2>>(c.data);
  CHECK(dc.output.lo == 0);
  CHECK(dc.output.hi == 192);
  CHECK(dc.output.accumulator_clip == arith::pow2::no_accumulator_clip);
  // pow2_weights: s_0 = 0.5 / 127, 0.2 / s_0 = 50.8 -> 51, -0.5 -> -127.
  CHECK(c.weight_scales[0] == 0.5f / 127.0f);
  CHECK(c.qweights[0] == 51);
  CHECK(c.qweights[1] == -127);
  // Bias at 2^-8 * s_0: 0.1 * 256 * 254 = 6502.4 -> 6502.
  CHECK(c.qbias[0] == 6502);
  // Requantization 2^-8 * s_0 / 2^-5 = 0.5 / 1016 = 129.0079 * 2^-18: mantissa 129, shift 18.
  CHECK(int(dc.channel[0].mantissa) == 129);
  CHECK(dc.channel[0].shift == 18);
  // Dense output [-3, 1.5], signed (7 value bits): F = 7 - ceil(log2 3) = 5.
  CHECK(f.output.frac_bits == 5);
  CHECK(f.output.is_signed);
  const auto& df = std::get<ProfileData<arith::pow2>>(f.data);
  CHECK(df.output.lo == -128);
  CHECK(df.output.hi == 127);
  CHECK(m.layers[3].output.scale == 1.0f / 32.0f);
}

TEST_CASE("cpu_int8: simulate() equals the compile-time layer types bit for bit, SQNR > 30 dB") {
  constexpr Shape in{6, 6, 3};
  constexpr QuantizeAttributes qa{.shape = in, .bits = 8, .signed_output = false};
  constexpr ConvAttributes ca{.input = in, .filters = 4, .kernel = {3, 3}, .pads = Pads{1, 1, 1, 1},
                              .activation = relu, .pool = max_pool(2, 2)};
  constexpr DenseAttributes da{.input = {3, 3, 4}, .units = 5};
  constexpr DequantizeAttributes dqa{.shape = {1, 1, 5}, .bits = 8, .signed_input = false};
  const Net n = random_net(in, 4, 5);
  LoweredModel m = make_model("cpu_int8", n, qa, LayerKind::conv2d, ca, da, dqa);
  quantize(m, calibrate(n, random_inputs(in, 32, -1.0f, 1.0f)));
  const double sqnr = check_against_layer_types<targets::cpu_int8, LayerKind::conv2d, qa, ca, da, dqa>(
      m, n, random_inputs(in, 8, -1.0f, 1.0f));
  CHECK(sqnr > 30.0);

  SECTION("layer_sqnr compares each layer with the float executor's NCHW tensors") {
    const auto x = random_inputs(in, 1, -1.0f, 1.0f)[0];
    const FloatTensors t = forward(n, x);
    const std::vector<float> nchw = nhwc_to_nchw(x, in);
    const SimulationResult r = simulate(m, nchw.data());
    std::map<std::string, exec::Array> tensors;
    tensors["x"] = exec::Array::floats({1, 3, 6, 6}, nchw);
    tensors["conv_out"] = exec::Array::floats({1, 4, 3, 3}, nhwc_to_nchw(t.conv, {3, 3, 4}));
    tensors["fc_out"] = exec::Array::floats({1, 5}, t.fc);
    const auto s = layer_sqnr(m, r, tensors);
    REQUIRE(s.size() == 3);
    CHECK(s[0].layer == "x");
    CHECK(s[1].tensor == "conv_out");
    CHECK(s[2].tensor == "fc_out");
    for (const auto& e : s) CHECK(e.sqnr_db > 30.0);
    // The conv entry equals the SQNR computed here from the NHWC float tensor.
    CHECK(s[1].sqnr_db == sqnr_db(t.conv, dequantize(m.layers[1].output, r.layers[1])));
  }
}

TEST_CASE("akida_v2: simulate() equals InputConv2D/Dense of the pow2 profile bit for bit, SQNR > 30 dB") {
  constexpr Shape in{8, 8, 3};
  constexpr QuantizeAttributes qa{.shape = in, .bits = 8, .signed_output = false};
  constexpr ConvAttributes ca{.input = in, .filters = 4, .kernel = {3, 3}, .pads = Pads::same,
                              .activation = relu, .pool = max_pool(2, 2)};
  constexpr DenseAttributes da{.input = {4, 4, 4}, .units = 5, .signed_input = false, .signed_output = true};
  constexpr DequantizeAttributes dqa{.shape = {1, 1, 5}, .bits = 8, .signed_input = true};
  const Net n = random_net(in, 4, 5);
  LoweredModel m = make_model("akida_v2", n, qa, LayerKind::input_conv2d, ca, da, dqa);
  quantize(m, calibrate(n, random_inputs(in, 32, 0.0f, 1.0f)));
  const double sqnr = check_against_layer_types<targets::akida_v2, LayerKind::input_conv2d, qa, ca, da, dqa>(
      m, n, random_inputs(in, 8, 0.0f, 1.0f));
  CHECK(sqnr > 30.0);
}

TEST_CASE("tflite_int8 and gemmini: simulate() equals the layer types bit for bit, SQNR > 30 dB") {
  constexpr Shape in{6, 6, 3};
  constexpr QuantizeAttributes qa{.shape = in, .bits = 8, .signed_output = true};
  constexpr ConvAttributes ca{.input = in, .filters = 4, .kernel = {3, 3}, .pads = Pads{1, 1, 1, 1},
                              .activation = relu, .pool = max_pool(2, 2), .signed_input = true,
                              .signed_output = true};
  constexpr DenseAttributes da{.input = {3, 3, 4}, .units = 5, .signed_input = true, .signed_output = true};
  constexpr DequantizeAttributes dqa{.shape = {1, 1, 5}, .bits = 8, .signed_input = true};
  const Net n = random_net(in, 4, 5);
  const Ranges ranges = calibrate(n, random_inputs(in, 32, -1.0f, 1.0f));
  SECTION("tflite_int8") {
    LoweredModel m = make_model("tflite_int8", n, qa, LayerKind::conv2d, ca, da, dqa);
    quantize(m, ranges);
    // TFLite's ReLU: the lower bound is the zero point of a range starting at 0, i.e. -128.
    CHECK(m.layers[1].output.zero_point == -128);
    const double sqnr = check_against_layer_types<targets::tflite_int8, LayerKind::conv2d, qa, ca, da, dqa>(
        m, n, random_inputs(in, 8, -1.0f, 1.0f));
    CHECK(sqnr > 30.0);
  }
  SECTION("gemmini: one scale and one multiplier per layer, zero points 0") {
    LoweredModel m = make_model("gemmini", n, qa, LayerKind::conv2d, ca, da, dqa);
    quantize(m, ranges);
    const auto& scales = m.layers[1].weight_scales;
    CHECK(std::all_of(scales.begin(), scales.end(), [&](float s) { return s == scales[0]; }));
    const auto& ch = std::get<ProfileData<arith::gemmini>>(m.layers[1].data).channel;
    CHECK(std::all_of(ch.begin(), ch.end(), [&](auto c) { return c.multiplier == ch[0].multiplier; }));
    for (const auto& l : m.layers) CHECK(l.output.zero_point == 0);
    const double sqnr = check_against_layer_types<targets::gemmini, LayerKind::conv2d, qa, ca, da, dqa>(
        m, n, random_inputs(in, 8, -1.0f, 1.0f));
    CHECK(sqnr > 30.0);
  }
}

TEST_CASE("quantize() diagnostics name the ONNX node and say what to do") {
  SECTION("a zero calibrated range") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    Ranges r = tiny_ranges;
    r["conv_out"] = {0.0f, 0.0f};
    CHECK_THROWS_WITH(quantize(m, r), "calibrated range of tensor 'conv_out' (node 'conv') is zero: check the "
                                      "calibration samples");
  }
  SECTION("a missing range") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    Ranges r = tiny_ranges;
    r.erase("fc_out");
    CHECK_THROWS_WITH(quantize(m, r), Catch::Contains("tensor 'fc_out' (node 'fc')"));
  }
  SECTION("a NaN weight") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    m.layers[1].weights[10] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(quantize(m, tiny_ranges),
                      Catch::Contains("node 'conv' (Conv2D): weight 10 (output channel 1) is NaN") &&
                          Catch::Contains("fix or retrain"));
  }
  SECTION("bit-widths the profile does not support") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    std::get<ConvAttributes>(m.layers[1].attributes).bits.w = 4;
    CHECK_THROWS_WITH(quantize(m, tiny_ranges),
                      Catch::Contains("node 'conv'") && Catch::Contains("4-bit weights are not supported by the "
                                                                        "qlinear profile"));
  }
  SECTION("an unsigned pow2 input with negative calibrated values") {
    LoweredModel m = tiny_model("akida_v2", false, true);
    CHECK_THROWS_WITH(quantize(m, tiny_ranges), Catch::Contains("node 'x'") && Catch::Contains("negative"));
  }
  SECTION("simulate() refuses a model quantized for another target") {
    LoweredModel m = tiny_model("cpu_int8", false, false);
    quantize(m, tiny_ranges);
    m.target = "gemmini";
    const std::vector<float> x(9, 0.5f);
    CHECK_THROWS_WITH(simulate(m, x.data()), Catch::Contains("node 'x'") && Catch::Contains("quantize the model"));
  }
}

TEST_CASE("sqnr_db and nchw_to_nhwc") {
  const std::vector<float> ref{1.0f, -2.0f, 2.0f};
  CHECK(sqnr_db(ref, ref) == std::numeric_limits<double>::infinity());
  // signal 9, noise 0.01 + 0 + 0.0: 10 log10(900) = 29.54 dB
  CHECK(sqnr_db(ref, std::vector<float>{1.1f, -2.0f, 2.0f}) == Approx(10.0 * std::log10(9.0 / 0.01)).epsilon(1e-4));
  const std::vector<float> nchw{0, 1, 2, 3, 10, 11, 12, 13};  // C=2, H=2, W=2
  CHECK(nchw_to_nhwc(nchw.data(), {2, 2, 2}) == std::vector<float>{0, 10, 1, 11, 2, 12, 3, 13});
}

namespace {

// Quantize -> AveragePool 1x1 (a requantization) -> Add(x, avg) -> Concat(x, add) -> GlobalAveragePool
// -> Dequantize: the value is concat(x, 2x) averaged per channel.
LoweredModel join_model(const std::string& target) {
  constexpr Shape s{4, 4, 2};
  LoweredModel m;
  m.name = "join";
  m.target = target;
  m.input_tensor = "x";
  m.output_tensor = "y";
  m.input_shape = s;
  auto add_layer = [&m](const std::string& name, LayerKind kind, std::vector<int> inputs, LayerAttributes a) {
    Layer l;
    l.name = name;
    l.kind = kind;
    l.onnx_nodes = {name};
    l.inputs = std::move(inputs);
    l.output_tensor = name == "x" ? "x" : name + "_out";
    l.attributes = a;
    m.layers.push_back(l);
  };
  add_layer("x", LayerKind::quantize, {-1}, QuantizeAttributes{.shape = s, .signed_output = true});
  add_layer("avg", LayerKind::average_pool, {0},
            PoolAttributes{.input = s, .pool = average_pool({1, 1}, {1, 1}), .signed_input = true,
                           .signed_output = true});
  add_layer("add", LayerKind::add, {0, 1}, AddAttributes{.shape = s, .signed_input = true, .signed_output = true});
  add_layer("cat", LayerKind::concat, {0, 2},
            ConcatAttributes{.inputs = {s, s}, .count = 2, .signed_input = true, .signed_output = true});
  add_layer("gap", LayerKind::global_average_pool, {3},
            PoolAttributes{.input = {4, 4, 4}, .pool = global_average_pool, .signed_input = true,
                           .signed_output = true});
  add_layer("dq", LayerKind::dequantize, {4}, DequantizeAttributes{.shape = {1, 1, 4}, .signed_input = true});
  return m;
}

// avg's range is wider than its values (x) so that Add and Concat see different scales.
const Ranges join_ranges{{"x", {-1.0f, 1.0f}},      {"avg_out", {-4.0f, 4.0f}}, {"add_out", {-2.0f, 2.0f}},
                         {"cat_out", {-2.0f, 2.0f}}, {"gap_out", {-1.0f, 1.0f}}};

// The float value of join_model: per channel, the mean of x (channels 0, 1) and of 2x (2, 3).
std::vector<float> join_reference(const std::vector<float>& x_nhwc) {
  std::vector<float> g(4, 0.0f);
  for (std::size_t i = 0; i < x_nhwc.size(); ++i) {
    g[i % 2] += x_nhwc[i] / 16.0f;
    g[2 + i % 2] += 2.0f * x_nhwc[i] / 16.0f;
  }
  return g;
}

double join_sqnr(const LoweredModel& m) {
  std::vector<float> reference, simulated;
  for (const auto& x : random_inputs({4, 4, 2}, 16, -1.0f, 1.0f)) {
    const SimulationResult r = simulate(m, nhwc_to_nchw(x, {4, 4, 2}).data());
    const std::vector<float> g = join_reference(x);
    reference.insert(reference.end(), g.begin(), g.end());
    simulated.insert(simulated.end(), r.dequantized.begin(), r.dequantized.end());
  }
  return sqnr_db(reference, simulated);
}

}  // namespace

TEST_CASE("akida_v2: Add and Concat align frac_bits by shifts, pools fold 1/count") {
  LoweredModel m = join_model("akida_v2");
  quantize(m, join_ranges);
  using pow2 = arith::pow2;
  // Signed 8 bits (7 value bits): x [-1, 1] F = 7, avg [-4, 4] F = 5, add [-2, 2] F = 6,
  // cat [-2, 2] F = 6, gap [-1, 1] F = 7.
  CHECK(m.layers[0].output.frac_bits == 7);
  CHECK(m.layers[1].output.frac_bits == 5);
  CHECK(m.layers[2].output.frac_bits == 6);
  CHECK(m.layers[3].output.frac_bits == 6);
  CHECK(m.layers[4].output.frac_bits == 7);
  // Add: x (F 7) as is, avg (F 5) shifted left by 2, the sum (F 7) right by 1 to F 6.
  const auto& add = std::get<ProfileData<pow2>>(m.layers[2].data).add;
  CHECK(add.a_shift == 0);
  CHECK(add.b_shift == 2);
  CHECK(int(add.output.mantissa) == 1);
  CHECK(add.output.shift == 1);
  CHECK(add.lo == -128);
  CHECK(add.hi == 127);
  // Concat to F 6: x right by 1, add already at F 6.
  const auto& rs = std::get<ProfileData<pow2>>(m.layers[3].data).rescale;
  CHECK(rs[0].shift == 0);
  CHECK(rs[0].output.shift == 1);
  CHECK(rs[1].shift == 0);
  CHECK(rs[1].output.shift == 0);
  CHECK(int(rs[1].output.mantissa) == 1);
  // GAP: 2^-6 / 2^-7 / 16 = 1/8, an exact power of two: QuantizeML's mantissa RNE(256) clips to 255,
  // shift 8 - log2(1/8) = 11.
  const auto& gap = std::get<ProfileData<pow2>>(m.layers[4].data).channel;
  REQUIRE(gap.size() == 4);
  CHECK(int(gap[0].mantissa) == 255);
  CHECK(gap[0].shift == 11);
  CHECK(join_sqnr(m) > 30.0);
}

TEST_CASE("cpu_int8: Add, Concat and pools carry the qlinear scales, SQNR > 30 dB") {
  LoweredModel m = join_model("cpu_int8");
  QuantizeOptions o;
  o.activations = ActivationType::int8_symmetric;
  quantize(m, join_ranges, o);
  using qlinear = arith::qlinear;
  // Symmetric int8: scale = absmax / 127.
  const float xs = float(2.0 / 254.0), as = float(8.0 / 254.0), ss = float(4.0 / 254.0), cs = float(4.0 / 254.0);
  CHECK(m.layers[0].output.scale == xs);
  CHECK(m.layers[2].output.scale == ss);
  const auto& add = std::get<ProfileData<qlinear>>(m.layers[2].data).add;
  CHECK(add.a_scale == xs);
  CHECK(add.b_scale == as);
  CHECK(add.y_scale == ss);
  CHECK(add.a_ratio == xs / ss);
  const auto& rs = std::get<ProfileData<qlinear>>(m.layers[3].data).rescale;
  CHECK(rs[0].in_scale == xs);
  CHECK(rs[1].in_scale == ss);
  CHECK(rs[1].out_scale == cs);
  // GAP over 16 pixels: (x_s / y_s) / 16 = (4/254) / (2/254) / 16 = 1/8.
  const auto& gap = std::get<ProfileData<qlinear>>(m.layers[4].data).channel;
  REQUIRE(gap.size() == 4);
  CHECK(gap[3].multiplier == Approx(0.125).epsilon(1e-6));
  CHECK(std::get<ProfileData<qlinear>>(m.layers[4].data).output.zero_point == 0);
  // 1x1 average: x_s / a_s = 1/4.
  CHECK(std::get<ProfileData<qlinear>>(m.layers[1].data).channel[0].multiplier == Approx(0.25).epsilon(1e-6));
  CHECK(join_sqnr(m) > 30.0);
}
