// mnist8, written by hand as statiq layer types for the cpu_int8 target (ONNX Runtime's
// arithmetic): the float weights of the ONNX model zoo's mnist-8 are quantized by the library's
// quantizers, activation ranges measured on a few hundred digits, and the engine classifies
// real MNIST digits. Usage: mnist8_handwritten <weights dir> <digits.npy> <labels.npy> [min accuracy %]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "statiq/io/npy.hpp"
#include "statiq/quant/activation_params.hpp"
#include "statiq/quant/max_per_axis_quantizer.hpp"
#include "statiq/quant/max_quantizer.hpp"
#include "statiq/quant/quantized_weights.hpp"
#include "statiq/statiq.hpp"

namespace mnist8 {
using namespace statiq;
using target = targets::cpu_int8;

// The network: Conv5x5(8) -> Relu -> MaxPool2 -> Conv5x5(16) -> Relu -> MaxPool3 -> Gemm(10).
// Layer names are the ONNX node names of mnist-8. Bits: 8 everywhere (the target has only 8).
struct input : Quantize<"Input3", QuantizeAttributes{.shape = {28, 28, 1}}, target> { using Quantize::Quantize; };
struct conv28 : Conv2D<"Convolution28", ConvAttributes{.input = {28, 28, 1}, .filters = 8, .kernel = {5, 5},
                                                      .pads = Pads::same, .activation = relu,
                                                      .pool = max_pool(2, 2), .bits = {8, 8, 8}},
                       target> { using Conv2D::Conv2D; };
struct conv110 : Conv2D<"Convolution110", ConvAttributes{.input = {14, 14, 8}, .filters = 16, .kernel = {5, 5},
                                                        .pads = Pads::same, .activation = relu,
                                                        .pool = max_pool(3, 3), .bits = {8, 8, 8}},
                        target> { using Conv2D::Conv2D; };
struct times212 : Dense<"Times212", DenseAttributes{.input = {4, 4, 16}, .units = 10, .bits = {8, 8, 8},
                                                   .signed_output = true},
                        target> { using Dense::Dense; };
struct logits : Dequantize<"Plus214_Output_0", DequantizeAttributes{.shape = {1, 1, 10}, .signed_input = true},
                           target> { using Dequantize::Dequantize; };
using model = Sequential<input, conv28, conv110, times212, logits>;
static_assert(model::valid);

using qch = arith::qlinear::channel_params;

// The float model, NHWC, for calibration and for the float accuracy.
struct FloatModel {
  std::vector<float> w1, b1, w2, b2, w3, b3;  // w1/w2 OHWI, w3 [10][256] in HWC order

  static void conv_same_relu(const float* x, Shape in, const std::vector<float>& w, const std::vector<float>& b,
                             int filters, float* y) {
    for (int oh = 0; oh < in.h; ++oh)
      for (int ow = 0; ow < in.w; ++ow)
        for (int f = 0; f < filters; ++f) {
          float a = b[std::size_t(f)];
          for (int kh = 0; kh < 5; ++kh)
            for (int kw = 0; kw < 5; ++kw) {
              const int ih = oh + kh - 2, iw = ow + kw - 2;
              if (ih < 0 || iw < 0 || ih >= in.h || iw >= in.w) continue;
              for (int c = 0; c < in.c; ++c)
                a += x[(ih * in.w + iw) * in.c + c] * w[std::size_t(((f * 5 + kh) * 5 + kw) * in.c + c)];
            }
          y[(oh * in.w + ow) * filters + f] = std::max(a, 0.0f);
        }
  }
  static void max_pool(const float* x, Shape in, int k, float* y) {
    const int oh_n = (in.h - k) / k + 1, ow_n = (in.w - k) / k + 1;
    for (int oh = 0; oh < oh_n; ++oh)
      for (int ow = 0; ow < ow_n; ++ow)
        for (int c = 0; c < in.c; ++c) {
          float m = x[((oh * k) * in.w + ow * k) * in.c + c];
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) m = std::max(m, x[((oh * k + i) * in.w + ow * k + j) * in.c + c]);
          y[(oh * ow_n + ow) * in.c + c] = m;
        }
  }
  // Runs one digit; records the largest conv outputs and the logits range.
  void run(const float* x, float* logits, float& max1, float& max2, float& min3, float& max3) const {
    std::vector<float> a1(28 * 28 * 8), p1(14 * 14 * 8), a2(14 * 14 * 16), p2(256);
    conv_same_relu(x, {28, 28, 1}, w1, b1, 8, a1.data());
    max1 = std::max(max1, *std::max_element(a1.begin(), a1.end()));
    max_pool(a1.data(), {28, 28, 8}, 2, p1.data());
    conv_same_relu(p1.data(), {14, 14, 8}, w2, b2, 16, a2.data());
    max2 = std::max(max2, *std::max_element(a2.begin(), a2.end()));
    max_pool(a2.data(), {14, 14, 16}, 3, p2.data());
    for (int u = 0; u < 10; ++u) {
      float a = b3[std::size_t(u)];
      for (int i = 0; i < 256; ++i) a += p2[std::size_t(i)] * w3[std::size_t(u * 256 + i)];
      logits[u] = a;
      min3 = std::min(min3, a);
      max3 = std::max(max3, a);
    }
  }
};

// OIHW (ONNX) -> OHWI (statiq).
std::vector<float> to_ohwi(const std::vector<float>& w, int o, int i, int h, int wd) {
  std::vector<float> r(w.size());
  for (int a = 0; a < o; ++a)
    for (int b = 0; b < i; ++b)
      for (int c = 0; c < h; ++c)
        for (int d = 0; d < wd; ++d) r[std::size_t(((a * h + c) * wd + d) * i + b)] = w[std::size_t(((a * i + b) * h + c) * wd + d)];
  return r;
}

// The quantized parameters of every layer, owned here; the layers refer to them.
struct QuantizedModel {
  conv28::weights_array w1;
  conv110::weights_array w2;
  times212::weights_array w3;
  std::vector<std::int32_t> b1, b2, b3;
  std::vector<std::int32_t> s1, s2, s3;  // per output channel, the sum of its weights
  std::vector<qch> m1, m2, m3;
  quant::QuantParams q0, q1, q2, q3;

  // The profile derives the rest from the scales, as statiq-codegen's quantizer does: the bias in
  // int32 at x_scale * w_scale[c], the channel's multiplier, the output's zero point and bounds;
  // and each channel's weight sum (statiq::weight_sums), which the fast kernels start from.
  template <class W>
  static void layer(const quant::QuantizedWeights& qw, const std::vector<float>& bias, float x_scale, float y_scale,
                    W& w, std::vector<std::int32_t>& b, std::vector<qch>& m, std::vector<std::int32_t>& s) {
    for (std::size_t i = 0; i < qw.values.size(); ++i) w.set(i, qw.values[i]);
    s.resize(bias.size());
    weight_sums(w, bias.size(), qw.values.size() / bias.size(), s.data());
    for (std::size_t c = 0; c < bias.size(); ++c) {
      b.push_back(arith::quantize_bias<arith::qlinear>(bias[c], x_scale, qw.scale(c)));
      m.push_back(arith::qlinear::channel(x_scale, qw.scale(c), y_scale));
    }
  }
  static arith::qlinear::output_params output(const quant::QuantParams& y, bool is_signed, Activation activation) {
    return arith::qlinear::output({y.scale, y.zero_point},
                                  arith::bounds_of<arith::qlinear>(y.scale, y.zero_point, 8, is_signed, activation));
  }

  model build() const {
    return model(input({q0.scale, q0.zero_point}),
                 conv28({w1, std::span<const std::int32_t, 8>(b1.data(), 8), std::span<const qch, 8>(m1.data(), 8), std::span<const std::int32_t, 8>(s1.data(), 8),
                         output(q1, false, relu), q0.zero_point, 0}),
                 conv110({w2, std::span<const std::int32_t, 16>(b2.data(), 16), std::span<const qch, 16>(m2.data(), 16), std::span<const std::int32_t, 16>(s2.data(), 16),
                          output(q2, false, relu), q1.zero_point, 0}),
                 times212({w3, std::span<const std::int32_t, 10>(b3.data(), 10),
                           std::span<const qch, 10>(m3.data(), 10), std::span<const std::int32_t, 10>(s3.data(), 10), output(q3, true, no_activation), q2.zero_point, 0}),
                 logits({q3.scale, q3.zero_point}));
  }
};

}  // namespace mnist8

int main(int argc, char** argv) try {
  using namespace mnist8;
  namespace fs = std::filesystem;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <mnist8 weights dir> <digits.npy> <labels.npy> [min accuracy %%]\n", argv[0]);
    return 2;
  }
  const fs::path wdir = argv[1];
  auto load = [&](const char* n) { return io::read_npy(wdir / (std::string(n) + ".npy")).as<float>(); };
  FloatModel fm;
  fm.w1 = to_ohwi(load("Parameter5"), 8, 1, 5, 5);
  fm.b1 = load("Parameter6");
  fm.w2 = to_ohwi(load("Parameter87"), 16, 8, 5, 5);
  fm.b2 = load("Parameter88");
  // Parameter193 is [16, 4, 4, 10] = [c][h][w][unit]: ONNX flattens the pooled map in CHW order,
  // the engine in HWC order, so the Dense weights are gathered in HWC order here, once.
  const auto p193 = load("Parameter193");
  fm.w3.resize(2560);
  for (int u = 0; u < 10; ++u)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 4; ++w)
        for (int c = 0; c < 16; ++c) fm.w3[std::size_t(u * 256 + (h * 4 + w) * 16 + c)] = p193[std::size_t(((c * 4 + h) * 4 + w) * 10 + u)];
  fm.b3 = load("Parameter194");

  const io::NpyArray digits_npy = io::read_npy(argv[2]);
  const std::vector<std::uint8_t> labels = io::read_npy(argv[3]).as<std::uint8_t>();
  if (digits_npy.shape.size() != 3 || digits_npy.shape[1] != 28 || digits_npy.shape[2] != 28 ||
      digits_npy.shape[0] != labels.size()) {
    std::fprintf(stderr, "%s: expected [N, 28, 28] digits and N labels\n", argv[2]);
    return 2;
  }
  const std::vector<std::uint8_t> digits = digits_npy.as<std::uint8_t>();
  const std::size_t n = labels.size();

  // Calibration: activation ranges on 300 digits spread over the set (it is ordered by class).
  float max1 = 0, max2 = 0, min3 = 0, max3 = 0;
  std::vector<float> x(784), out(10);
  const std::size_t calib = std::min<std::size_t>(300, n);
  for (std::size_t k = 0; k < calib; ++k) {
    const std::size_t i = k * n / calib;
    std::copy_n(digits.begin() + std::ptrdiff_t(i * 784), 784, x.begin());
    fm.run(x.data(), out.data(), max1, max2, min3, max3);
  }

  // Quantization, layer by layer: per-channel weights for the convolutions, one scale for the Dense.
  QuantizedModel qm;
  qm.q0 = quant::qlinear_params(0.0f, 255.0f, quant::QuantType::uint8);  // pixels: scale 1, zero point 0
  qm.q1 = quant::qlinear_params(0.0f, max1, quant::QuantType::uint8);
  qm.q2 = quant::qlinear_params(0.0f, max2, quant::QuantType::uint8);
  qm.q3 = quant::qlinear_params(min3, max3, quant::QuantType::int8);
  QuantizedModel::layer(quant::quantize_weights(quant::MaxPerAxisQuantizer{}, fm.w1, 8, 8), fm.b1, qm.q0.scale,
                        qm.q1.scale, qm.w1, qm.b1, qm.m1, qm.s1);
  QuantizedModel::layer(quant::quantize_weights(quant::MaxPerAxisQuantizer{}, fm.w2, 16, 8), fm.b2, qm.q1.scale,
                        qm.q2.scale, qm.w2, qm.b2, qm.m2, qm.s2);
  QuantizedModel::layer(quant::quantize_weights(quant::MaxQuantizer{}, fm.w3, 10, 8), fm.b3, qm.q2.scale,
                        qm.q3.scale, qm.w3, qm.b3, qm.m3, qm.s3);
  static model engine = qm.build();
  std::fputs(summary<model>().c_str(), stdout);

  std::size_t float_right = 0, int_right = 0, agree = 0;
  double seconds = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(digits.begin() + std::ptrdiff_t(i * 784), 784, x.begin());
    float a = 0, b = 0, c = 0, d = 0;
    fm.run(x.data(), out.data(), a, b, c, d);
    const auto fpred = std::size_t(std::max_element(out.begin(), out.end()) - out.begin());
    std::copy(x.begin(), x.end(), engine.input().begin());
    const auto t0 = std::chrono::steady_clock::now();
    engine.run();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto y = engine.output();
    const auto ipred = std::size_t(std::max_element(y.begin(), y.end()) - y.begin());
    float_right += fpred == labels[i];
    int_right += ipred == labels[i];
    agree += fpred == ipred;
  }
  const double facc = 100.0 * double(float_right) / double(n), iacc = 100.0 * double(int_right) / double(n);
  std::printf("digits: %zu   float accuracy: %.2f%%   quantized (cpu_int8) accuracy: %.2f%%   top-1 agreement: %.2f%%\n",
              n, facc, iacc, 100.0 * double(agree) / double(n));
  std::printf("engine latency: %.1f us per digit (reference kernels, 1 thread)\n", 1e6 * seconds / double(n));
  if (argc > 4 && iacc < std::stod(argv[4])) {
    std::fprintf(stderr, "quantized accuracy %.2f%% is below the required %s%%\n", iacc, argv[4]);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "mnist8_handwritten: %s\n", e.what());
  return 1;
}
