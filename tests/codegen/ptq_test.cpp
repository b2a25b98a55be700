// tests/codegen/ptq_test.cpp — the post-training methods of codegen/quantize/ptq: each on a case
// small enough to work out by hand, then on mnist8 over the 10,000 shared digits: akida-v2 with
// 4-bit weights and activations before and after each method, akida-v1 at 4 bits and with 2-bit
// weights, the methods off by default, and a cpu-int8 model refined by them still bit-exact in
// onnxruntime (its QDQ export).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "codegen/calib/mse_observer.hpp"
#include "codegen/compare/compare.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/quantize/ptq/adaround.hpp"
#include "codegen/quantize/ptq/bias_correction.hpp"
#include "codegen/quantize/ptq/cross_layer_equalization.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/quantize/ptq/input_statistics.hpp"
#include "codegen/quantize/ptq/weight_scale_search.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"
#include "statiq/quant/activation_params.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::quant::QuantizedWeights;

namespace {

// One group of K = 2 inputs with the given moments (x_f = x_q unless qf/ff are given).
ptq::InputStatistics moments(Eigen::Matrix2d qq, Eigen::Vector2d mean_q, Eigen::Vector2d mean_f) {
  ptq::InputStatistics s;
  s.patches = 1;
  ptq::GroupMoments m;
  m.qq = qq;
  m.qf = qq;
  m.ff = qq;
  m.mean_q = mean_q;
  m.mean_f = mean_f;
  s.groups.push_back(m);
  return s;
}

}  // namespace

TEST_CASE("weight scale search: the MSE scale of a channel with one outlier", "[codegen][ptq]") {
  // 2-bit akida_v1 weights take -1, 0, 1. w = (1, .4, .4, .4): max|w| gives s = 1 and (1, 0, 0, 0),
  // error 3 * .16 = .48. Every s in (.4, 1) rounds all to 1 (1/s >= 1.5 clamps to 1): error
  // (1 - s)^2 + 3 (.4 - s)^2, least at s = .55 (derivative 8s - 4.4 = 0): .2025 + .0675 = .27.
  const std::vector<float> w{1.0f, 0.4f, 0.4f, 0.4f};
  QuantizedWeights q;
  q.values = {1, 0, 0, 0};
  q.scales = {1.0f};
  q.bits = 2;
  q.per_axis = true;
  const ptq::ScaleSearchResult r = ptq::search_weight_scales(w, WeightGrid{-1, 1, true}, q);
  CHECK(q.scales[0] == Approx(0.55).epsilon(1e-6));
  CHECK(q.values == std::vector<std::int8_t>{1, 1, 1, 1});
  CHECK(r.error_before == Approx(0.48));
  CHECK(r.error_after == Approx(0.27));
  CHECK(r.changed_groups == 1);
  CHECK(r.clipped_groups == 1);  // 1.0 > .55 * 1

  // A channel the max rule already fits best stays as it is: (1, -1, 1, -1) at s = 1 has error 0.
  const std::vector<float> exact{1.0f, -1.0f, 1.0f, -1.0f};
  QuantizedWeights e{{1, -1, 1, -1}, {1.0f}, 2, true};
  const ptq::ScaleSearchResult re = ptq::search_weight_scales(exact, WeightGrid{-1, 1, true}, e);
  CHECK(e.scales[0] == 1.0f);
  CHECK(re.changed_groups == 0);
  CHECK(re.error_after == 0.0);
}

TEST_CASE("input statistics: patch moments of a 2x2 convolution over a 3x3 map", "[codegen][ptq]") {
  Layer l;
  l.name = "conv";
  statiq::ConvAttributes a;
  a.input = {3, 3, 1};
  a.filters = 1;
  a.kernel = {2, 2};
  l.attributes = a;
  l.weights.assign(4, 0.5f);
  ptq::InputStatisticsBuilder b(l, 1000);
  std::vector<float> x(9), xf(9);
  std::iota(x.begin(), x.end(), 1.0f);  // 1..9, row-major: patches (1,2,4,5) (2,3,5,6) (4,5,7,8) (5,6,8,9)
  for (std::size_t i = 0; i < 9; ++i) xf[i] = 2 * x[i];
  b.add(x, xf);
  const ptq::InputStatistics s = b.finish();
  REQUIRE(s.groups.size() == 1);
  CHECK(s.patches == 4);
  CHECK(s.has_float);
  const ptq::GroupMoments& m = s.groups[0];
  CHECK(m.mean_q[0] == Approx(3.0));  // (1 + 2 + 4 + 5) / 4
  CHECK(m.mean_q[3] == Approx(7.0));  // (5 + 6 + 8 + 9) / 4
  CHECK(m.mean_f[1] == Approx(8.0));  // 2 * (2 + 3 + 5 + 6) / 4
  CHECK(m.qq(0, 0) == Approx(11.5));  // (1 + 4 + 16 + 25) / 4
  CHECK(m.qq(0, 3) == Approx((5 + 12 + 32 + 45) / 4.0));
  CHECK(m.qf(0, 0) == Approx(23.0));
  CHECK(m.ff(0, 0) == Approx(46.0));
}

TEST_CASE("bias correction: the mean shift of the quantized weights, or against float", "[codegen][ptq]") {
  // w = (.3, .6) quantized to (1, 1) * .5 = (.5, .5); E[x_q] = (1, 1): shift (.2) + (-.1) = .1.
  const std::vector<float> w{0.3f, 0.6f};
  const QuantizedWeights q{{1, 1}, {0.5f}, 4, true};
  const ptq::InputStatistics s = moments(Eigen::Matrix2d::Identity(), Eigen::Vector2d(1, 1), Eigen::Vector2d(2, 0));
  std::vector<float> bias{1.0f};
  const ptq::BiasCorrectionResult r = ptq::correct_bias(w, q, s, bias);
  CHECK(bias[0] == Approx(0.9));
  CHECK(r.max_abs_shift == Approx(0.1));
  // Against float: v . E[x_q] - w . E[x_f] = (.5 + .5) - (.3 * 2) = .4.
  std::vector<float> bias_f{1.0f};
  ptq::correct_bias(w, q, s, bias_f, ptq::BiasReference::float_input);
  CHECK(bias_f[0] == Approx(0.6));
  // A layer without bias gets one.
  std::vector<float> none;
  ptq::correct_bias(w, q, s, none);
  REQUIRE(none.size() == 1);
  CHECK(none[0] == Approx(-0.1));
}

TEST_CASE("adaround: two equal inputs, where rounding to nearest is the worst choice", "[codegen][ptq]") {
  // x1 = x2 always (second moments all 1): the output is (w1 + w2) x. w = (.45, .3) at scale 1
  // rounds to (0, 0), output error .75^2 = .5625; rounding the larger one up, (1, 0), leaves
  // .25^2 = .0625 (and (1, 1) 1.25^2).
  const std::vector<float> w{0.45f, 0.3f};
  QuantizedWeights q{{0, 0}, {1.0f}, 4, true};
  Eigen::Matrix2d ones;
  ones << 1, 1, 1, 1;
  const ptq::InputStatistics s = moments(ones, Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 1));
  CHECK(ptq::output_error(w, q, s) == Approx(0.5625));
  ptq::AdaRoundOptions o;
  o.iterations = 300;
  const ptq::AdaRoundResult r = ptq::adaround(w, WeightGrid{-8, 7, true}, q, s, o, nullptr);
  CHECK(q.values == std::vector<std::int8_t>{1, 0});
  CHECK(r.flipped == 1);
  CHECK(r.error_before == Approx(0.5625));
  CHECK(r.error_after == Approx(0.0625));
  CHECK_FALSE(r.kept_given);
}

TEST_CASE("mse activation range: a pow2 step that clips the rare large values", "[codegen][ptq]") {
  // Unsigned 4 bits (levels 0..15), values 1 (bin centre 1.05) and one 100 (centre 99.95). max 100
  // gives F = 4 - 7 = -3, step 8: each 1 becomes 0 (1.05^2), the 100 becomes 96 (3.95^2). F = 0,
  // step 1, clipping at 15: each 1 exact to .05, the 100 costs 84.95^2 = 7216. With 1000 ones
  // F = -3 wins (1118 against 7219, the others between are worse); with 100000 ones F = 0 wins
  // (7466 against 110266; F = -1: 95143, F = 1: 8797).
  auto h = calib::Histogram::with_range(-100, 100, 2000);  // bins of .1: centres at 1.05 and 99.95
  for (int i = 0; i < 1000; ++i) h.add(1.0f);
  h.add(100.0f);
  const Range r = calib::mse_range(h, 0.0f, 100.0f, calib::MseGrid{4, true});
  CHECK(r.min == 0.0f);
  CHECK(r.max == 100.0f);  // the calibrated range stays
  auto h2 = calib::Histogram::with_range(-100, 100, 2000);
  for (int i = 0; i < 100000; ++i) h2.add(1.0f);
  h2.add(100.0f);
  const Range r2 = calib::mse_range(h2, 0.0f, 100.0f, calib::MseGrid{4, true});
  CHECK(r2.max == 16.0f);  // max|x| = 2^(4 - 0): quantize() derives F = 0 from it
  CHECK(statiq::quant::pow2_frac_bits(r2.max, 4) == 0);
}

TEST_CASE("ptq: every method is off by default", "[codegen][ptq]") {
  const GenerateOptions o;
  CHECK_FALSE(o.ptq.any());
  CHECK(o.calibration.method == calib::CalibrationMethod::min_max);
  CHECK_FALSE(o.quantize.refine_weights);
}

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

}  // namespace

TEST_CASE("ptq: the CLI, the report and the generated engine (golden vectors bit for bit)", "[codegen][ptq]") {
  statiq::test::ScratchDir dir("statiq_ptq_cli");
  const std::string base = std::string("'") + STATIQ_CODEGEN_EXE + "' '" +
                           (shared / "models" / "mnist8" / "model.onnx").string() + "' --calib '" +
                           (shared / "models" / "mnist8" / "inputs.npy").string() + "'";
  // A value that is not one of the choices: a usage error naming them.
  CHECK(statiq::test::run_command(base + " --weight-scale-search max", dir.path / "bad.log") == 2);
  CHECK_THAT(statiq::test::slurp(dir.path / "bad.log"), Catch::Contains("'max' is not one of weight|output"));
  CHECK(statiq::test::run_command(base + " --bias-correction", dir.path / "bad2.log") == 2);  // needs its value
  const fs::path out = dir.path / "out";
  REQUIRE(statiq::test::run_command(base + " --target akida-v2 --unmapped host --weight-bits 4 --activation-bits 4 "
                                           "--calib-method mse --weight-scale-search output --adaround "
                                           "--adaround-iterations 100 --bias-correction float -o '" + out.string() + "'",
                                    dir.path / "run.log") == 0);
  const std::string text = statiq::test::slurp(out / "mnist8_report.txt");
  CHECK_THAT(text, Catch::Contains("layer 2 'Convolution110' post-training weight scale search (output error)"));
  CHECK_THAT(text, Catch::Contains("post-training adaround:"));
  CHECK_THAT(text, Catch::Contains("post-training bias correction (against float)"));
  CHECK_THAT(statiq::test::slurp(out / "mnist8_report.json"), Catch::Contains("\"post_training\""));
  const std::string selftest = statiq::test::compile_and_self_test(out, "mnist8");
  INFO(selftest);
  CHECK(selftest.empty());
}

TEST_CASE("ptq: refused with --dynamic, named", "[codegen][ptq]") {
  GenerateOptions o;
  o.model = shared / "models" / "mnist8" / "model.onnx";
  o.target = "cpu-int8";
  o.calib = shared / "models" / "mnist8" / "inputs.npy";
  o.dynamic = true;
  o.ptq.adaround = true;
  CHECK_THROWS_WITH(generate(o), Catch::Contains("--dynamic with a post-training method") &&
                                     Catch::Contains("drop --dynamic or the method"));
}

namespace {

// mnist8 on the 10,000 digits (ordered by class: every one is evaluated), calibrated on the 13 digits
// shipped with the model, as the baseline.
GenerateOptions mnist8(const std::string& target) {
  GenerateOptions o;
  o.model = shared / "models" / "mnist8" / "model.onnx";
  o.target = target;
  o.calib = shared / "models" / "mnist8" / "inputs.npy";
  o.eval = shared / "data" / "mnist_10k_u8.npy";
  o.labels = shared / "data" / "mnist_10k_labels.npy";
  o.policy = UnmappedPolicy::host;  // akida: the 3x3/3 MaxPool runs on the host
  o.golden = 0;
  o.ptq.progress = calib::ProgressBar::Mode::never;
  return o;
}

// Correct digits of 10,000.
long correct(const GenerateOptions& o) {
  const GenerateResult r = generate(o);
  REQUIRE(r.accuracy);
  REQUIRE(r.accuracy->samples == 10000u);
  CHECK(std::lround(r.accuracy->float_model * 10000) == 9933);
  return std::lround(r.accuracy->quantized_model * 10000);
}

}  // namespace

TEST_CASE("ptq: mnist8 on akida-v2, 4-bit weights and activations, each method's contribution", "[codegen][ptq][mnist8]") {
  GenerateOptions o = mnist8("akida-v2");
  o.lower.weight_bits = 4;
  o.lower.activation_bits = 4;
  CHECK(correct(o) == 9813);  // the baseline: max|w| weights, minmax ranges
  o.calibration.method = calib::CalibrationMethod::mse;
  CHECK(correct(o) == 9840);  // activation ranges by MSE at 4 bits (pow2 steps that clip)
  {
    GenerateOptions b = o;
    b.ptq.bias_correction = true;
    b.ptq.bias_reference = ptq::BiasReference::float_input;
    CHECK(correct(b) == 9860);
  }
  {
    GenerateOptions a = o;
    a.ptq.adaround = true;
    CHECK(correct(a) == 9858);
  }
  {
    GenerateOptions s = o;
    s.ptq.weight_scale_search = ptq::ScaleSearch::output_error;
    CHECK(correct(s) == 9855);
  }
  // The best combination: 98.67%, 0.54 points recovered of the 1.20 lost, 0.16 short of the issue's
  // 98.83% (the int4 logits of the last layer tie: with 8 output bits there it reaches 99.21%).
  o.ptq.adaround = true;
  o.ptq.bias_correction = true;
  o.ptq.bias_reference = ptq::BiasReference::float_input;
  const GenerateResult r = generate(o);
  CHECK(std::lround(r.accuracy->quantized_model * 10000) == 9867);
  // Each refined layer says what changed, in the text and JSON reports.
  std::size_t noted = 0;
  for (const LayerReport& l : r.report.layers) noted += !l.ptq.empty();
  CHECK(noted == 3);  // the two convolutions and the dense layer
  CHECK_THAT(r.report.layers.at(2).ptq.at(0), Catch::Contains("adaround:"));
  CHECK_THAT(r.report.layers.at(2).ptq.at(1), Catch::Contains("bias correction (against float)"));
}

TEST_CASE("ptq: mnist8 on akida-v2 w4/a4 calibrated on 300 digits, ranges chosen by error", "[codegen][ptq][mnist8]") {
  // 300 digits spread over the classes (every 33rd: the file is ordered by class).
  statiq::test::ScratchDir dir("statiq_ptq_300");
  const std::vector<std::uint8_t> all = statiq::io::read_npy(shared / "data" / "mnist_10k_u8.npy").as<std::uint8_t>();
  std::vector<std::uint8_t> x;
  for (std::size_t i = 0; i < 300; ++i)
    x.insert(x.end(), all.begin() + long(i * 33 * 784), all.begin() + long((i * 33 + 1) * 784));
  statiq::io::write_npy(dir.path / "calib.npy", {300, 28, 28}, std::span<const std::uint8_t>(x));
  GenerateOptions o = mnist8("akida-v2");
  o.calib = dir.path / "calib.npy";
  o.lower.weight_bits = 4;
  o.lower.activation_bits = 4;
  CHECK(correct(o) == 9645);  // minmax ranges over 300 digits: wide, 4-bit steps too coarse
  GenerateOptions mse = o;
  mse.calibration.method = calib::CalibrationMethod::mse;
  CHECK(correct(mse) == 9840);
  o.ptq.activation_range_search = true;  // the model's output error decides each layer's range
  const GenerateResult r = generate(o);
  CHECK(std::lround(r.accuracy->quantized_model * 10000) == 9840);
  std::size_t narrowed = 0;
  for (const LayerReport& l : r.report.layers)
    for (const std::string& line : l.ptq) narrowed += line.find("activation range search (output error): range x0.5") == 0;
  CHECK(narrowed >= 1);
}

TEST_CASE("ptq: mnist8 on akida-v1, 4 bits within a point of float, 2-bit weights recovered", "[codegen][ptq][mnist8]") {
  GenerateOptions o = mnist8("akida-v1");  // its default: 4-bit weights and activations
  CHECK(correct(o) == 9867);
  GenerateOptions w2 = o;
  w2.lower.weight_bits = 2;
  CHECK(correct(w2) == 5042);
  w2.ptq.weight_scale_search = ptq::ScaleSearch::output_error;
  CHECK(correct(w2) == 9413);
  w2.ptq.adaround = true;
  w2.ptq.bias_correction = true;
  w2.ptq.bias_reference = ptq::BiasReference::float_input;
  CHECK(correct(w2) == 9535);
}

TEST_CASE("cross-layer equalization: mlperf_kws's depthwise-separable chains, the float model unchanged",
          "[codegen][ptq]") {
  ir::Graph g = load_onnx(shared / "models" / "mlperf_kws" / "model.onnx");
  normalize::normalize(g);
  const std::vector<float> all = statiq::io::read_npy(shared / "models" / "mlperf_kws" / "inputs.npy").as<float>();
  const ir::Tensor& in = g.tensor(g.inputs.at(0));
  const std::size_t n = std::size_t(ir::element_count(*in.shape));
  exec::Array x;
  x.dtype = ir::DataType::float32;
  x.shape = *in.shape;
  x.f.assign(all.begin(), all.begin() + long(n));
  const std::vector<float> before = exec::FloatExecutor(g).run({x}).outputs.at(0).f;
  const std::vector<ptq::EqualizedPair> pairs = ptq::equalize_cross_layer(g);
  // conv -> depthwise and depthwise -> pointwise, four blocks: 8 pairs of 64 channels.
  REQUIRE(pairs.size() == 8);
  for (const ptq::EqualizedPair& p : pairs) {
    INFO(p.first << " -> " << p.second);
    CHECK(p.channels == 64);
    CHECK(p.max_ratio_after < p.max_ratio_before);
    CHECK(p.max_ratio_after < 2.0);
  }
  const std::vector<float> after = exec::FloatExecutor(g).run({x}).outputs.at(0).f;
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i] == Approx(before[i]).epsilon(1e-4).margin(1e-6));
}

TEST_CASE("ptq: mlperf_kws on akida-v2 at 4 bits, output cosine on its 5 samples", "[codegen][ptq]") {
  // No labels: the engine's output against the float model's, on the 5 samples it is calibrated on.
  GenerateOptions o;
  o.model = shared / "models" / "mlperf_kws" / "model.onnx";
  o.target = "akida-v2";
  o.calib = shared / "models" / "mlperf_kws" / "inputs.npy";
  o.legalize = legalize::LegalizeOptions{};
  o.policy = UnmappedPolicy::host;
  o.lower.weight_bits = 4;
  o.lower.activation_bits = 4;
  o.golden = 0;
  o.ptq.progress = calib::ProgressBar::Mode::never;
  const auto cosine = [](const GenerateOptions& g) {
    const GenerateResult r = generate(g);
    REQUIRE(r.mean_cosine);
    return *r.mean_cosine;
  };
  // The engine's output is the model's: its final Softmax is the engine's (issue 12), so the cosine
  // compares probabilities (on the logits before: 0.82945, 0.88229, 0.99322).
  CHECK(cosine(o) == Approx(0.74136).margin(5e-6));
  o.calibration.method = calib::CalibrationMethod::mse;
  CHECK(cosine(o) == Approx(0.88154).margin(5e-6));
  o.ptq.adaround = true;
  o.ptq.adaround_options.iterations = 300;
  CHECK(cosine(o) == Approx(0.99999).margin(5e-6));
}

#ifdef STATIQ_COMPARE_WITH_ORT
TEST_CASE("ptq: a cpu-int8 model refined by the methods is still bit-exact in onnxruntime", "[codegen][ptq][ort]") {
  GenerateOptions o;
  o.model = shared / "models" / "mnist8" / "model.onnx";
  o.target = "cpu-int8";
  o.calib = shared / "models" / "mnist8" / "inputs.npy";
  o.golden = 0;
  const LoweredModel plain = generate(o).model;
  o.ptq.progress = calib::ProgressBar::Mode::never;
  o.ptq.weight_scale_search = ptq::ScaleSearch::output_error;
  o.ptq.adaround = true;
  o.ptq.adaround_options.iterations = 200;
  o.ptq.bias_correction = true;
  const LoweredModel refined = generate(o).model;
  // The methods changed numbers (weights and biases), not the model's structure.
  REQUIRE(refined.layers.size() == plain.layers.size());
  bool changed = false;
  for (std::size_t k = 0; k < plain.layers.size(); ++k)
    changed = changed || refined.layers[k].qweights != plain.layers[k].qweights ||
              refined.layers[k].qbias != plain.layers[k].qbias;
  CHECK(changed);
  const std::vector<float> all = statiq::io::read_npy(o.calib).as<float>();
  for (std::size_t row : {0u, 5u}) {
    const std::vector<float> x(all.begin() + long(row * 784), all.begin() + long((row + 1) * 784));
    const Comparison c = compare_with_onnxruntime(refined, x.data());
    for (const LayerComparison& l : c.layers) {
      INFO("row " << row << " layer '" << l.name << "'");
      REQUIRE(l.mismatches.has_value());
      CHECK(*l.mismatches == 0);
    }
    CHECK_FALSE(c.first_difference.has_value());
  }
}
#endif
