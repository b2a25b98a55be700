// akida_v1 quantization in statiq-codegen: thresholds and steps of a hand-built model worked out by
// hand, its simulation against the float ceiling quantizer evaluated in double, the 20-bit register
// refusals, and mnist8 end to end (generate(), accuracy on 1000 digits, the generated engine
// compiled and its self-test run).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "codegen/generate/generate.hpp"
#include "codegen/quantize/quantize.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using namespace statiq;
using namespace statiq::codegen;
using ChannelParams = arith::akida_v1::channel_params;

namespace {

// Quantize (5x5x1 pixels) -> InputConv2D (3x3 valid, 2 filters, ReLU, 8-bit weights, 4-bit out)
// -> Dense (18 -> 2, no activation, 4/4/4) -> Dequantize. Every weight is k / 2^n with max |k| = kmax,
// so the scale factors are powers of two and every number below is exact in double.
//   conv filter 0: w = k / 128, max |k| = 127 -> sf = 127 / (127/128) = 128, bias  0.5
//   conv filter 1: w = k / 256, max |k| = 127 -> sf = 256,                   bias -0.25
//   dense unit 0:  w = k / 8,   max |k| = 7   -> sf = 8,                     bias  0.75
//   dense unit 1:  w = k / 16,  max |k| = 7   -> sf = 16,                    bias -0.125
const std::vector<int> conv_k = {127, -64, 32, 5, -3, 0, 100, -127, 17,    // filter 0 (HWI, I = 1)
                                 -127, 90, 4, 0, 63, -31, 8, 120, -2};     // filter 1
const std::vector<int> dense_k0 = {7, -7, 3, 0, 5, -2, 1, 6, -4, 2, -1, 4, -6, 3, 0, 7, -3, 1};
const std::vector<int> dense_k1 = {-7, 2, 6, -5, 1, 0, 3, -2, 7, -4, 5, -1, 2, 6, -3, 4, 0, -6};

LoweredModel hand_model() {
  LoweredModel m;
  m.name = "hand";
  m.target = "akida_v1";
  m.input_tensor = "x";
  m.output_tensor = "y";
  m.input_shape = Shape{5, 5, 1};
  Layer q;
  q.name = "x";
  q.kind = LayerKind::quantize;
  q.inputs = {-1};
  q.output_tensor = "x";
  q.attributes = QuantizeAttributes{.shape = {5, 5, 1}, .bits = 8, .signed_output = false};
  Layer c;
  c.name = "conv";
  c.kind = LayerKind::input_conv2d;
  c.onnx_nodes = {"conv", "relu"};
  c.inputs = {0};
  c.output_tensor = "conv_out";
  c.attributes = ConvAttributes{.input = {5, 5, 1}, .filters = 2, .kernel = {3, 3}, .activation = relu,
                                .bits = {8, 8, 4}, .signed_input = false, .signed_output = false};
  for (std::size_t i = 0; i < conv_k.size(); ++i) c.weights.push_back(float(conv_k[i]) / (i < 9 ? 128.0f : 256.0f));
  c.bias = {0.5f, -0.25f};
  Layer f;
  f.name = "fc";
  f.kind = LayerKind::dense;
  f.onnx_nodes = {"fc"};
  f.inputs = {1};
  f.output_tensor = "fc_out";
  // signed, as the lowering declares a layer without activation; quantize() makes it unsigned levels
  f.attributes = DenseAttributes{.input = {3, 3, 2}, .units = 2, .bits = {4, 4, 4}, .signed_input = false,
                                 .signed_output = true};
  for (int k : dense_k0) f.weights.push_back(float(k) / 8.0f);
  for (int k : dense_k1) f.weights.push_back(float(k) / 16.0f);
  f.bias = {0.75f, -0.125f};
  Layer d;
  d.name = "dq";
  d.kind = LayerKind::dequantize;
  d.inputs = {2};
  d.output_tensor = "fc_out";
  d.attributes = DequantizeAttributes{.shape = {1, 1, 2}, .bits = 4, .signed_input = true};
  m.layers = {q, c, f, d};
  return m;
}

// Pixels 0..255 -> step 1; ReLU output up to 30 -> step 30 / 15 = 2; logits in [-3, 4.5] ->
// step 7.5 / 15 = 0.5, zero point 3 / 0.5 = 6.
Ranges hand_ranges() { return {{"x", {0.0f, 255.0f}}, {"conv_out", {-4.0f, 30.0f}}, {"fc_out", {-3.0f, 4.5f}}}; }

const arith::akida_v1::channel_params& channel(const Layer& l, std::size_t c) {
  return std::get<ProfileData<arith::akida_v1>>(l.data).channel.at(c);
}

std::string quantize_error(LoweredModel m, const Ranges& r) {
  try {
    quantize(m, r);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

// The ceiling quantizer of ARITHMETIC.md section 3 in double: sat(ceil((x - step/2) / step), 0, 15).
int ceiling_level(double x, double step) { return int(std::clamp(std::ceil((x - step / 2) / step), 0.0, 15.0)); }

}  // namespace

TEST_CASE("akida_v1: thresholds and steps of a hand-built model, by hand", "[codegen][akida_v1]") {
  LoweredModel m = hand_model();
  quantize(m, hand_ranges());
  const Layer &q = m.layers[0], &c = m.layers[1], &f = m.layers[2], &d = m.layers[3];

  // uint8 pixels, step 1
  CHECK(q.output.scale == 1.0f);
  CHECK(q.output.zero_point == 0);
  CHECK_FALSE(q.output.is_signed);

  // Weights: sat(RNE(w * sf), -kmax, kmax) gives back the k of the construction.
  REQUIRE(c.qweights.size() == conv_k.size());
  CHECK(std::equal(c.qweights.begin(), c.qweights.end(), conv_k.begin()));
  CHECK(c.weight_scales == std::vector<float>{1.0f / 128, 1.0f / 256});
  REQUIRE(f.qweights.size() == 36);
  CHECK(std::equal(dense_k0.begin(), dense_k0.end(), f.qweights.begin()));
  CHECK(std::equal(dense_k1.begin(), dense_k1.end(), f.qweights.begin() + 18));

  // ReLU output: 4-bit levels of step 30 / 15 = 2, zero point 0 (the calibrated -4 is below the ReLU).
  CHECK(c.output.scale == 2.0f);
  CHECK(c.output.zero_point == 0);
  CHECK(c.output.bits == 4);
  // Akida 1.0 has no bias register: the bias is in the threshold, the accumulator has none.
  CHECK(c.qbias == std::vector<std::int32_t>{0, 0});
  // Filter 0: one accumulator unit = 1 (pixel) x 1/128. step D = 2 * 128 = 256, bias 0.5 * 128 = 64,
  // threshold = floor(256 / 2) - 64 = 64.
  CHECK(channel(c, 0).step == 256);
  CHECK(channel(c, 0).threshold == 64);
  // Filter 1: unit 1/256: D = 512, bias -0.25 * 256 = -64, threshold 256 + 64 = 320.
  CHECK(channel(c, 1).step == 512);
  CHECK(channel(c, 1).threshold == 320);
  CHECK(arith::akida_v1::fits_20_bits(channel(c, 0)));
  const auto& co = std::get<ProfileData<arith::akida_v1>>(c.data).output;
  CHECK(co.lo == 0);
  CHECK(co.hi == 15);

  // Dense without activation: unsigned levels with a zero point, step (4.5 + 3) / 15 = 0.5, zp 6.
  const auto& fa = std::get<DenseAttributes>(f.attributes);
  CHECK_FALSE(fa.signed_output);
  CHECK(fa.bits.in == 4);
  CHECK(f.output.scale == 0.5f);
  CHECK(f.output.zero_point == 6);
  CHECK_FALSE(f.output.is_signed);
  // Unit 0: input step 2 x 1/8 = 0.25 per accumulator unit: D = 0.5 / 0.25 = 2, bias 0.75 -> 3;
  // threshold floor(2/2) - 3 - zp * D = 1 - 3 - 12 = -14 (no fire register on the chip: no 20-bit check).
  CHECK(channel(f, 0).step == 2);
  CHECK(channel(f, 0).threshold == -14);
  // Unit 1: 2 x 1/16 = 0.125: D = 4, bias -0.125 -> -1; threshold 2 + 1 - 24 = -21.
  CHECK(channel(f, 1).step == 4);
  CHECK(channel(f, 1).threshold == -21);
  const auto& fo = std::get<ProfileData<arith::akida_v1>>(f.data).output;
  CHECK(fo.lo == 0);
  CHECK(fo.hi == 15);

  // The Dequantize reads unsigned 4-bit levels.
  const auto& da = std::get<DequantizeAttributes>(d.attributes);
  CHECK(da.bits == 4);
  CHECK_FALSE(da.signed_input);
}

TEST_CASE("akida_v1: the simulation equals the float ceiling quantizer, ties included", "[codegen][akida_v1]") {
  LoweredModel m = hand_model();
  quantize(m, hand_ranges());
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pixel(0, 255);
  int conv_ties = 0, dense_ties = 0, dense_saturated = 0, dense_zero = 0;
  for (int sample = 0; sample < 400; ++sample) {
    std::vector<float> x(25);
    // Small inputs keep the levels off the top; every few samples goes dark to reach level 0.
    for (auto& v : x) v = float(sample % 5 == 0 ? pixel(rng) % 8 : pixel(rng) % 40);
    const SimulationResult r = simulate(m, x.data());  // one channel: NCHW = NHWC
    REQUIRE(r.layers[0] == std::vector<std::int32_t>(x.begin(), x.end()));

    // Conv in double: x = sum(pixel * k / 2^n) + bias; level = ceil((x - 1) / 2) at step 2.
    std::vector<int> conv(18);
    for (int oh = 0; oh < 3; ++oh)
      for (int ow = 0; ow < 3; ++ow)
        for (int fi = 0; fi < 2; ++fi) {
          double a = fi == 0 ? 0.5 : -0.25;
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw)
              a += double(x[std::size_t((oh + kh) * 5 + ow + kw)]) * conv_k[std::size_t(fi * 9 + kh * 3 + kw)] /
                   (fi == 0 ? 128.0 : 256.0);
          conv_ties += std::fmod(a - 1.0, 2.0) == 0.0 && a > 1.0;
          conv[std::size_t((oh * 3 + ow) * 2 + fi)] = ceiling_level(a, 2.0);
        }
    REQUIRE(r.layers[1] == std::vector<std::int32_t>(conv.begin(), conv.end()));

    // Dense in double on the real values 2 * level; the zero point shifts the range: level =
    // sat(ceil((x + 6 * 0.5 - 0.25) / 0.5)), the value (level - 6) * 0.5.
    std::vector<std::int32_t> fc(2);
    for (int u = 0; u < 2; ++u) {
      const std::vector<int>& k = u == 0 ? dense_k0 : dense_k1;
      double a = u == 0 ? 0.75 : -0.125;
      for (std::size_t i = 0; i < 18; ++i) a += 2.0 * conv[i] * k[i] / (u == 0 ? 8.0 : 16.0);
      dense_ties += std::fmod(a + 3.0 - 0.25, 0.5) == 0.0;
      fc[std::size_t(u)] = ceiling_level(a + 3.0, 0.5);
      dense_saturated += fc[std::size_t(u)] == 15;
      dense_zero += fc[std::size_t(u)] == 0;
    }
    REQUIRE(r.output == fc);
    REQUIRE(r.dequantized == std::vector<float>{float(fc[0] - 6) * 0.5f, float(fc[1] - 6) * 0.5f});
  }
  // The edges were exercised: exact ties of the ceiling, both saturations of the output.
  CHECK(conv_ties > 0);
  CHECK(dense_ties > 0);
  CHECK(dense_saturated > 0);
  CHECK(dense_zero > 0);
}

TEST_CASE("akida_v1: thresholds and steps beyond the 20-bit registers are refused", "[codegen][akida_v1]") {
  SECTION("tiny weights: the step is too many accumulator units") {
    LoweredModel m = hand_model();
    m.layers[1].weights[0] = 1e-6f;  // filter 0: max |w| 1e-6 (the others are set to smaller)
    for (std::size_t i = 1; i < 9; ++i) m.layers[1].weights[i] = 1e-7f;
    // sf = 127 / 1e-6 in float32, one unit = 1 / sf, D = 2 / unit.
    const float sf = 127.0f / 1e-6f;
    const long long d = std::llrint(2.0 / double(1.0f / sf));
    REQUIRE(d >= (1 << 20));
    const std::string e = quantize_error(m, hand_ranges());
    CHECK_THAT(e, Catch::StartsWith("node 'conv' (InputConv2D): output channel 0: threshold"));
    CHECK_THAT(e, Catch::Contains("and step " + std::to_string(d)));
    CHECK_THAT(e, Catch::Contains("20-bit unsigned registers"));
    CHECK_THAT(e, Catch::Contains("BatchNorm"));
  }
  SECTION("a bias over half a step: the threshold is negative") {
    LoweredModel m = hand_model();
    m.layers[1].bias[0] = 5.0f;  // 5 * 128 = 640 units: threshold 128 - 640 = -512
    const std::string e = quantize_error(m, hand_ranges());
    CHECK_THAT(e, Catch::StartsWith("node 'conv' (InputConv2D): output channel 0: threshold -512 and step 256"));
    CHECK_THAT(e, Catch::Contains("negative"));
  }
  SECTION("on the host the same numbers are fine (int32, no NSoC register)") {
    LoweredModel m = hand_model();
    m.layers[1].bias[0] = 5.0f;
    m.layers[1].placement = Placement::host;
    quantize(m, hand_ranges());
    CHECK(channel(m.layers[1], 0).threshold == -512);
    CHECK(channel(m.layers[1], 0).step == 256);
  }
}

TEST_CASE("akida_v1: inputs that are not pixels and 1-bit weights are refused", "[codegen][akida_v1]") {
  Ranges r = hand_ranges();
  r["x"] = Range{-1.0f, 1.0f};
  CHECK_THAT(quantize_error(hand_model(), r),
             Catch::Contains("node 'x' (Quantize): its output tensor 'x' is uint8 pixels on akida_v1") &&
                 Catch::Contains("[-1.000000, 1.000000]"));
  LoweredModel m = hand_model();
  std::get<DenseAttributes>(m.layers[2].attributes).bits.w = 1;
  CHECK_THAT(quantize_error(m, hand_ranges()), Catch::StartsWith("node 'fc' (Dense): ") && Catch::Contains("kmax"));
}

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("statiq_akida_v1_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Rows `first, first + stride, ...` (count of them) of the shared digits, which are ordered by class.
void write_digits(const fs::path& images, const fs::path& labels, std::size_t first, std::size_t stride,
                  std::size_t count) {
  const fs::path data = fs::path(STATIQ_SHARED_DIR) / "data";
  const std::vector<std::uint8_t> all = io::read_npy(data / "mnist_10k_u8.npy").as<std::uint8_t>();
  const std::vector<std::uint8_t> all_labels = io::read_npy(data / "mnist_10k_labels.npy").as<std::uint8_t>();
  REQUIRE(all.size() == 10000u * 784u);
  std::vector<std::uint8_t> x, y;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t row = first + i * stride;
    REQUIRE(row < 10000);
    x.insert(x.end(), all.begin() + std::ptrdiff_t(row * 784), all.begin() + std::ptrdiff_t((row + 1) * 784));
    y.push_back(all_labels[row]);
  }
  io::write_npy(images, {count, 28, 28}, std::span<const std::uint8_t>(x));
  if (!labels.empty()) io::write_npy(labels, {count}, std::span<const std::uint8_t>(y));
}

const Layer& layer_named(const LoweredModel& m, const std::string& name) {
  for (const Layer& l : m.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return m.layers.front();
}

std::size_t index_of(const LoweredModel& m, const std::string& name) {
  return std::size_t(&layer_named(m, name) - m.layers.data());
}

}  // namespace

TEST_CASE("akida_v1: mnist8 end to end, 4-bit, policy host", "[codegen][akida_v1][mnist8]") {
  TempDir dir("mnist8");
  // Calibration: 300 digits spread over the classes; evaluation: 1000 other digits (every 10th, from 5).
  write_digits(dir.path / "calib.npy", {}, 0, 33, 300);
  write_digits(dir.path / "eval.npy", dir.path / "eval_labels.npy", 5, 10, 1000);

  GenerateOptions o;
  o.model = fs::path(STATIQ_SHARED_DIR) / "models" / "mnist8" / "model.onnx";
  o.target = "akida-v1";
  o.name = "mnist8";
  o.calib = dir.path / "calib.npy";
  o.eval = dir.path / "eval.npy";
  o.labels = dir.path / "eval_labels.npy";
  o.policy = UnmappedPolicy::host;
  o.lower.weight_bits = 4;
  o.lower.activation_bits = 4;
  o.output_dir = dir.path / "out";
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  REQUIRE(m.target == "akida_v1");

  // The layers: uint8 pixels -> InputConv2D 8/8/4 on the chip -> Conv2D on the chip -> its MaxPool
  // 3x3 on the host (not a 1.0 pooling, so not fused) -> Dense 4/4/4 without activation -> Dequantize.
  const Layer& input = m.layers.front();
  const Layer& conv1 = layer_named(m, "Convolution28");
  const Layer& conv2 = layer_named(m, "Convolution110");
  const Layer& fc = layer_named(m, "Times212");
  CHECK(conv1.kind == LayerKind::input_conv2d);
  CHECK(conv1.placement == Placement::device);
  CHECK(std::get<ConvAttributes>(conv1.attributes).bits == Bits{8, 8, 4});
  CHECK(conv2.placement == Placement::device);
  CHECK(layer_named(m, "Pooling160").placement == Placement::host);
  CHECK(std::get<ConvAttributes>(conv2.attributes).bits == Bits{4, 4, 4});
  CHECK(fc.placement == Placement::device);
  CHECK(std::get<DenseAttributes>(fc.attributes).bits == Bits{4, 4, 4});

  // Pixels 0..255 (the calibrated maximum is 255): step 1.
  CHECK(input.output.scale == 1.0f);

  // conv1 by hand from the float model and the calibrated range of its ReLU output: per filter
  // sf = 127 / max|w| (float32), one accumulator unit = 1 (pixel step) / sf, step = max / 15;
  // D = RNE(step / unit), B = RNE(bias / unit), threshold = floor(D / 2) - B.
  {
    const auto& rep = r.report.layers.at(index_of(m, "Convolution28"));
    REQUIRE(rep.range_max);
    const float step = float(double(*rep.range_max) / 15.0);
    CHECK(conv1.output.scale == step);
    const std::size_t per_filter = conv1.weights.size() / 8;
    for (std::size_t c = 0; c < 8; ++c) {
      float max_abs = 0.0f;
      for (std::size_t i = 0; i < per_filter; ++i)
        max_abs = std::max(max_abs, std::fabs(conv1.weights[c * per_filter + i]));
      const double unit = double(1.0f / (127.0f / max_abs));
      const long long d = std::llrint(double(step) / unit);
      const long long b = std::llrint(double(conv1.bias[c]) / unit);
      INFO("filter " << c);
      CHECK(channel(conv1, c).step == d);
      CHECK(channel(conv1, c).threshold == d / 2 - b);
      CHECK(arith::akida_v1::fits_20_bits(channel(conv1, c)));
    }
  }
  // The logits: levels over [min, max] with a zero point; unit 0's threshold by hand.
  {
    const auto& rep = r.report.layers.at(index_of(m, "Times212"));
    REQUIRE(rep.range_min);
    REQUIRE(rep.range_max);
    REQUIRE(*rep.range_min < 0.0f);
    const float step = float((double(*rep.range_max) - *rep.range_min) / 15.0);
    CHECK(fc.output.scale == step);
    const long long zp = std::llrint(-double(*rep.range_min) / double(step));
    CHECK(fc.output.zero_point == zp);
    const std::size_t inputs = fc.weights.size() / 10;
    float max_abs = 0.0f;
    for (std::size_t i = 0; i < inputs; ++i) max_abs = std::max(max_abs, std::fabs(fc.weights[i]));
    const double unit = double(conv2.output.scale) * double(1.0f / (7.0f / max_abs));
    const long long d = std::llrint(double(step) / unit), b = std::llrint(double(fc.bias[0]) / unit);
    CHECK(channel(fc, 0).step == d);
    CHECK(channel(fc, 0).threshold == d / 2 - b - zp * d);
  }

  REQUIRE(r.accuracy);
  CHECK(r.accuracy->samples == 1000);
  std::cout << "akida_v1 mnist8 (4-bit, input layer weights 8): float " << 100 * r.accuracy->float_model
            << "%, quantized " << 100 * r.accuracy->quantized_model << "% on 1000 digits; top-1 agreement "
            << 100 * r.top1_agreement.value_or(0) << "%\n";
  CHECK(r.accuracy->float_model > 0.98);
  CHECK(r.accuracy->quantized_model > 0.97);  // measured 0.981 (float 0.993)

  // The generated engine compiles without warnings and reproduces its golden vectors bit for bit.
  const fs::path out = dir.path / "out";
  REQUIRE(fs::exists(out / "mnist8.hpp"));
  const fs::path exe = dir.path / "selftest";
  const std::string compile = std::string(STATIQ_CXX_COMPILER) + " -std=c++20 -O1 -ffp-contract=off -Wall -Wextra " +
                              "-Werror -I " + STATIQ_SOURCE_DIR + "/include -I " + out.string() + " " +
                              (out / "mnist8_data.cpp").string() + " " + (out / "mnist8_selftest.cpp").string() +
                              " -o " + exe.string();
  INFO(compile);
  REQUIRE(std::system(compile.c_str()) == 0);
  CHECK(std::system(exe.string().c_str()) == 0);
}
