// Google Benchmark microbenchmarks of statiq's layer types (Conv2D 3x3, DepthwiseConv2D 3x3, Dense,
// Add) at MobileNet/VWW-like shapes, once per arithmetic profile, reporting MAC/s (elements/s for Add).
//
// Each case is one layer type, checked by its target like any user's layer, fed fixed random data
// (std::mt19937) and parameters that keep the outputs inside the range (no all-saturated maps).
// Names read kind/shape/profile, e.g. "conv3x3/24x24x32->64/tflite", so a filter picks a row.
#include <benchmark/benchmark.h>

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI) || defined(STATIQ_KERNELS_AVX2)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/depthwise_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

namespace {

// What a post-ReLU activation looks like on each target, and how a real scale becomes the
// profile's channel parameters: the same choices a converter would make, so the requantization
// does its ordinary work (no shortcut through saturation).
template <class Target>
struct setup;

template <>
struct setup<targets::cpu_int8> {  // ONNX Runtime QDQ: uint8 activations, zero point after ReLU
  using P = arith::qlinear;
  static constexpr bool signed_activations = false;
  static constexpr std::int32_t input_zero_point = 5;
  static P::channel_params channel(double scale) { return {static_cast<float>(scale)}; }
  static P::output_params output(int bits) { return {3, 3, qmax(bits, false)}; }  // ReLU: nothing below zp
  static P::add_params add(int bits) { return P::make_add(0.05f, 5, 0.04f, 5, 0.1f, 3, 3, qmax(bits, false)); }
};

template <>
struct setup<targets::akida_v2> {  // pow2: unsigned activations after ReLU, no zero points
  using P = arith::pow2;
  static constexpr bool signed_activations = false;
  static constexpr std::int32_t input_zero_point = 0;
  static P::channel_params channel(double scale) { return P::from_scale(scale); }
  static P::output_params output(int bits) { return {0, qmax(bits, false)}; }
  // Inputs at 4 and 5 fractional bits, aligned to 5, the sum brought to 3 (64 * 2^-8 = 1/4).
  static P::add_params add(int bits) { return P::make_add(4, 5, {64, 8}, 0, qmax(bits, false)); }
};

template <>
struct setup<targets::tflite_int8> {  // TFLite int8: signed activations, zero point -128 after ReLU
  using P = arith::tflite;
  static constexpr bool signed_activations = true;
  static constexpr std::int32_t input_zero_point = -128;
  static P::channel_params channel(double scale) { return P::quantize_multiplier(scale); }
  static P::output_params output(int) { return {-128, -128, 127}; }
  static P::add_params add(int) { return P::make_add(0.05f, -128, 0.04f, -128, 0.1f, -128, -128, 127); }
};

template <>
struct setup<targets::gemmini> {  // Gemmini: int8, zero points 0, ReLU as lo = 0
  using P = arith::gemmini;
  static constexpr bool signed_activations = true;
  static constexpr std::int32_t input_zero_point = 0;
  static P::channel_params channel(double scale) { return {static_cast<float>(scale)}; }
  static P::output_params output(int) { return {0, P::int8_max}; }
  static P::add_params add(int) { return P::make_add(0.05f, 0.04f, 0.1f, true); }
};

// The layer types benchmarked: every one fuses a ReLU, "same" pads (Akida accepts no other).
template <class T, Shape In, int Filters, Bits B = Bits{}>
using Conv3x3 = Conv2D<"conv3x3",
                       ConvAttributes{.input = In, .filters = Filters, .kernel = {3, 3}, .pads = Pads::same,
                                      .activation = relu, .bits = B,
                                      .signed_input = setup<T>::signed_activations,
                                      .signed_output = setup<T>::signed_activations},
                       T>;

// A grouped convolution (ResNeXt-like: group < channels, not depthwise).
template <class T, Shape In, int Filters, int Group>
using Grouped3x3 = Conv2D<"grouped3x3",
                          ConvAttributes{.input = In, .filters = Filters, .kernel = {3, 3}, .pads = Pads::same,
                                         .activation = relu, .signed_input = setup<T>::signed_activations,
                                         .signed_output = setup<T>::signed_activations, .group = Group},
                          T>;

template <class T, Shape In, Bits B = Bits{}>
using Depthwise3x3 = DepthwiseConv2D<"depthwise3x3",
                                     ConvAttributes{.input = In, .kernel = {3, 3}, .pads = Pads::same,
                                                    .activation = relu, .bits = B,
                                                    .signed_input = setup<T>::signed_activations,
                                                    .signed_output = setup<T>::signed_activations},
                                     T>;

template <class T, int Inputs, int Units, Bits B = Bits{}>
using Fc = Dense<"dense",
                 DenseAttributes{.input = {1, 1, Inputs}, .units = Units, .activation = relu, .bits = B,
                                 .signed_input = setup<T>::signed_activations,
                                 .signed_output = setup<T>::signed_activations},
                 T>;

template <class T, Shape S, Bits B = Bits{}>
using Residual = Add<"add",
                     AddAttributes{.shape = S, .activation = relu, .bits = B,
                                   .signed_input = setup<T>::signed_activations,
                                   .signed_output = setup<T>::signed_activations},
                     T>;

template <class Element>
std::vector<Element> random_tensor(std::mt19937& rng, int size, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<Element> v(static_cast<std::size_t>(size));
  for (auto& e : v) e = static_cast<Element>(d(rng));
  return v;
}

// Conv2D, DepthwiseConv2D and Dense share the parameter layout (weights, bias, channel, output,
// zero points), so one runner times all three.
template <class L>
void run_weighted(benchmark::State& state) {
  static_assert(L::valid, "a benchmarked layer must pass its target's rules");
  using S = setup<typename L::target>;
  using channel_params = typename L::profile::channel_params;
  constexpr auto n = static_cast<std::size_t>(L::output_shape.c);  // filters or units
  constexpr std::size_t taps = L::weight_count / n;
  using W = typename L::weight_type;
  using In = typename L::input_type;
  using Out = typename L::output_type;

  std::mt19937 rng(2024);
  // On the heap: the largest weight tensor here is 36 KiB.
  auto w = std::make_unique<typename L::weights_array>();
  std::uniform_int_distribution<int> wd(-W::max, W::max);  // symmetric, as the converters quantize weights
  for (std::size_t i = 0; i < L::weight_count; ++i) w->set(i, wd(rng));
  std::vector<std::int32_t> bias = random_tensor<std::int32_t>(rng, int(n), -1000, 1000);
  // A scale that maps the typical accumulator (about sqrt(taps) * |x| * |w|) to a quarter of the
  // output range, varied per channel where the profile has per-channel scales.
  const double spread = std::sqrt(double(taps)) * (In::max - In::min) / 2.0 * (W::max - W::min) / 2.0;
  const double base = (Out::max - Out::min) / 4.0 / spread;
  std::uniform_real_distribution<double> vary(0.5, 1.5);
  std::vector<channel_params> channel;
  for (std::size_t c = 0; c < n; ++c)
    channel.push_back(S::channel(L::profile::supports_per_channel ? base * vary(rng) : base));

  std::vector<std::int32_t> sums(n);  // each channel's weight sum, as the generator supplies them
  weight_sums(typename L::weights_view(*w), n, taps, sums.data());
  const L layer({*w, std::span<const std::int32_t, n>(bias.data(), n),
                 std::span<const channel_params, n>(channel.data(), n),
                 std::span<const std::int32_t, n>(sums.data(), n), S::output(Out::bits), S::input_zero_point, 0});
  const auto x = random_tensor<typename L::input_element>(rng, L::input_shape.size(), In::min, In::max);
  std::vector<typename L::output_element> y(static_cast<std::size_t>(L::output_shape.size()));
  std::vector<std::int32_t> scratch(L::scratch_words);

  for (auto _ : state) {
    layer(x.data(), y.data(), scratch.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(double(L::macs), benchmark::Counter::kIsIterationInvariantRate);
}

template <class L>
void run_add(benchmark::State& state) {
  static_assert(L::valid, "a benchmarked layer must pass its target's rules");
  using In = typename L::input_type;
  std::mt19937 rng(2025);
  const L layer({setup<typename L::target>::add(L::output_type::bits)});
  const auto a = random_tensor<typename L::input_element>(rng, L::input_shape.size(), In::min, In::max);
  const auto b = random_tensor<typename L::input_element>(rng, L::input_shape.size(), In::min, In::max);
  std::vector<typename L::output_element> y(static_cast<std::size_t>(L::output_shape.size()));

  for (auto _ : state) {
    layer(a.data(), b.data(), y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["elements/s"] =
      benchmark::Counter(double(L::output_shape.size()), benchmark::Counter::kIsIterationInvariantRate);
}

#if defined(STATIQ_KERNELS_AVX512_VNNI)
// The machine's int8 peak, measured in the same run: vpdpbusd and nothing else, 24 independent
// accumulators in registers (written in assembly so no compiler spills them), 512-bit and 256-bit
// forms (some cores, AMD Zen 4 among them, run the 256-bit form at more MACs per cycle). The
// kernels are read against the faster of the two.
#define STATIQ_DP24(r)                                                                                           \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "0\n vpdpbusd %%" r "30, %%" r "31, %%" r "1\n"                      \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "2\n vpdpbusd %%" r "30, %%" r "31, %%" r "3\n"                      \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "4\n vpdpbusd %%" r "30, %%" r "31, %%" r "5\n"                      \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "6\n vpdpbusd %%" r "30, %%" r "31, %%" r "7\n"                      \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "8\n vpdpbusd %%" r "30, %%" r "31, %%" r "9\n"                      \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "10\n vpdpbusd %%" r "30, %%" r "31, %%" r "11\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "12\n vpdpbusd %%" r "30, %%" r "31, %%" r "13\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "14\n vpdpbusd %%" r "30, %%" r "31, %%" r "15\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "16\n vpdpbusd %%" r "30, %%" r "31, %%" r "17\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "18\n vpdpbusd %%" r "30, %%" r "31, %%" r "19\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "20\n vpdpbusd %%" r "30, %%" r "31, %%" r "21\n"                    \
  "vpdpbusd %%" r "30, %%" r "31, %%" r "22\n vpdpbusd %%" r "30, %%" r "31, %%" r "23\n"
#define STATIQ_CLOBBER24(r)                                                                                      \
  r "0", r "1", r "2", r "3", r "4", r "5", r "6", r "7", r "8", r "9", r "10", r "11", r "12", r "13", r "14",   \
      r "15", r "16", r "17", r "18", r "19", r "20", r "21", r "22", r "23"

template <int Bits>
void run_peak(benchmark::State& state) {
  constexpr long repeat = 1000;
  for (auto _ : state) {
    long n = repeat;
    if constexpr (Bits == 512)
      asm volatile("1:\n" STATIQ_DP24("zmm") "dec %0\n jnz 1b\n" : "+r"(n) : : STATIQ_CLOBBER24("zmm"), "cc");
    else
      asm volatile("1:\n" STATIQ_DP24("ymm") "dec %0\n jnz 1b\n" : "+r"(n) : : STATIQ_CLOBBER24("ymm"), "cc");
  }
  state.counters["MAC/s"] =
      benchmark::Counter(double(repeat) * 24 * (Bits / 8), benchmark::Counter::kIsIterationInvariantRate);
}
#endif

#if defined(STATIQ_KERNELS_AVX2)
// The AVX2 kernels' peak, measured in the same run: the exact u8 x s8 step they are built on
// (vpmaddwd of int16 operands into a temporary, vpaddd into an int32 accumulator: 16 MACs a pair),
// 12 independent accumulators in registers, nothing else.
#define STATIQ_MADD(i, t) "vpmaddwd %%ymm14, %%ymm15, %%ymm" t "\n vpaddd %%ymm" t ", %%ymm" i ", %%ymm" i "\n"
void run_peak_avx2(benchmark::State& state) {
  constexpr long repeat = 1000;
  for (auto _ : state) {
    long n = repeat;
    asm volatile("1:\n" STATIQ_MADD("0", "12") STATIQ_MADD("1", "13") STATIQ_MADD("2", "12") STATIQ_MADD("3", "13")
                     STATIQ_MADD("4", "12") STATIQ_MADD("5", "13") STATIQ_MADD("6", "12") STATIQ_MADD("7", "13")
                         STATIQ_MADD("8", "12") STATIQ_MADD("9", "13") STATIQ_MADD("10", "12") STATIQ_MADD("11", "13")
                             "dec %0\n jnz 1b\n"
                 : "+r"(n)
                 :
                 : "ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", "ymm11",
                   "ymm12", "ymm13", "cc");
  }
  state.counters["MAC/s"] = benchmark::Counter(double(repeat) * 12 * 16, benchmark::Counter::kIsIterationInvariantRate);
}
#endif

std::string shape_text(Shape s) {
  return s.h == 1 && s.w == 1 ? std::to_string(s.c)
                              : std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

// The element-wise layers without weights (qlinear, uint8, 24x24x64 = 36,864 elements): the layer as
// the engine runs it (this build's kernel: its kernel_name) or, with `Reference`, the reference loop
// the layer would otherwise run, timed in the same binary so that the two rates compare in one run.
constexpr Shape ew_shape{24, 24, 64};
constexpr int ew_size = 24 * 24 * 64;
using Table = LookupTable<"lut", LookupTableAttributes{.shape = ew_shape, .bits = {8, 8, 8}}, targets::cpu_int8>;
using Cat = Concat<"cat", ConcatAttributes{.inputs = {{24, 24, 32}, {24, 24, 32}}, .count = 2}, targets::cpu_int8>;
template <ElementwiseOp Op>
using Binary = Elementwise<"ew", ElementwiseAttributes{.op = Op, .shape = ew_shape, .bits = {8, 8, 8}}, targets::cpu_int8>;

void count_elements(benchmark::State& state) {
  state.counters["elements/s"] = benchmark::Counter(double(ew_size), benchmark::Counter::kIsIterationInvariantRate);
}

template <bool Reference>
void run_lookup_table(benchmark::State& state) {
  std::mt19937 rng(2026);
  const auto table = random_tensor<std::uint8_t>(rng, 256, 0, 255);
  const auto x = random_tensor<std::uint8_t>(rng, ew_size, 0, 255);
  std::vector<std::uint8_t> y(static_cast<std::size_t>(ew_size));
  const Table layer({table.data()});
  for (auto _ : state) {
    if constexpr (Reference) kernels::reference::lookup_table(x.data(), ew_size, table.data(), y.data());
    else layer(x.data(), y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  count_elements(state);
}

// Two inputs of 32 channels in other quantizations than the output's: both go through their tables.
template <bool Reference>
void run_concat(benchmark::State& state) {
  using P = arith::qlinear;
  std::mt19937 rng(2027);
  const auto a = random_tensor<std::uint8_t>(rng, ew_size / 2, 0, 255);
  const auto b = random_tensor<std::uint8_t>(rng, ew_size / 2, 0, 255);
  std::vector<std::uint8_t> y(static_cast<std::size_t>(ew_size));
  const std::array<P::rescale_params, 4> rescale{P::rescale_from({0.02f, 7}, {0.05f, 3}, {0, 255}),
                                                 P::rescale_from({0.07f, 130}, {0.05f, 3}, {0, 255})};
  const Cat layer({rescale});
  const std::array<const std::uint8_t*, 2> xs{a.data(), b.data()};
  const int channels[2] = {32, 32};
  for (auto _ : state) {
    if constexpr (Reference)
      kernels::reference::concat(24 * 24, 2, xs.data(), channels, y.data(),
                                 [&](int i, std::int32_t q) { return P::rescale(q, rescale[std::size_t(i)]); });
    else
      layer(xs, y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  count_elements(state);
}

template <ElementwiseOp Op, bool Reference>
void run_elementwise(benchmark::State& state) {
  std::mt19937 rng(2028);
  const auto a = random_tensor<std::uint8_t>(rng, ew_size, 0, 255);
  const auto b = random_tensor<std::uint8_t>(rng, ew_size, 0, 255);
  std::vector<std::uint8_t> y(static_cast<std::size_t>(ew_size));
  ElementwiseParams p;
  p.mul = arith::make_qlinear_mul({0.02f, 131}, {0.01f, 7}, {0.03f, 119}, {0, 255});
  p.qdq = arith::make_qdq_elementwise({0.02f, 131}, {0.01f, 7}, {0.03f, 119}, {0, 255});
  const Binary<Op> layer(p);
  for (auto _ : state) {
    if constexpr (Reference) {
      detail::elementwise_loop(Binary<Op>::attributes, a.data(), b.data(), y.data(), [&](std::int32_t u, std::int32_t v) {
        if constexpr (Op == ElementwiseOp::mul) return arith::qlinear_mul(u, v, p.mul);
        else return arith::qdq_elementwise<arith::qdq_binary::sub>(u, v, p.qdq);
      });
    } else {
      layer(a.data(), b.data(), y.data(), nullptr);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  count_elements(state);
}

void add_elementwise_cases() {
  const auto both = [](const char* name, void (*fast)(benchmark::State&), void (*reference)(benchmark::State&),
                       std::string_view kernel) {
    benchmark::RegisterBenchmark((std::string(name) + "/layer").c_str(), fast)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string(name) + "/reference").c_str(), reference)->Unit(benchmark::kMicrosecond);
    benchmark::AddCustomContext(std::string(name) + " kernel", std::string(kernel));
  };
  both("elementwise/lookup_table/24x24x64/qlinear", run_lookup_table<false>, run_lookup_table<true>, Table::kernel_name);
  both("elementwise/concat/24x24x32+32/qlinear", run_concat<false>, run_concat<true>, Cat::kernel_name);
  both("elementwise/mul/24x24x64/qlinear", run_elementwise<ElementwiseOp::mul, false>,
       run_elementwise<ElementwiseOp::mul, true>, Binary<ElementwiseOp::mul>::kernel_name);
  both("elementwise/sub/24x24x64/qlinear", run_elementwise<ElementwiseOp::sub, false>,
       run_elementwise<ElementwiseOp::sub, true>, Binary<ElementwiseOp::sub>::kernel_name);
}

// kind/input->output/profile[/bits]; the bits suffix only where they are not 8/8/8.
template <class L>
void add_case(const char* kind, void (*run)(benchmark::State&), Bits bits = Bits{}) {
  std::string name = std::string(kind) + "/" + shape_text(L::input_shape);
  if (L::kind != LayerKind::add) name += "->" + shape_text(L::output_shape);
  name += std::string("/") + L::profile::name;
  if (!(bits == Bits{}))
    name += "/w" + std::to_string(bits.w) + "a" + std::to_string(bits.in);
  benchmark::RegisterBenchmark(name.c_str(), run)->Unit(benchmark::kMicrosecond);
}

template <class T>
void add_target() {
  add_case<Conv3x3<T, Shape{48, 48, 16}, 32>>("conv3x3", run_weighted<Conv3x3<T, Shape{48, 48, 16}, 32>>);
  add_case<Conv3x3<T, Shape{24, 24, 32}, 64>>("conv3x3", run_weighted<Conv3x3<T, Shape{24, 24, 32}, 64>>);
  add_case<Conv3x3<T, Shape{12, 12, 64}, 64>>("conv3x3", run_weighted<Conv3x3<T, Shape{12, 12, 64}, 64>>);
  add_case<Depthwise3x3<T, Shape{48, 48, 32}>>("depthwise3x3", run_weighted<Depthwise3x3<T, Shape{48, 48, 32}>>);
  add_case<Depthwise3x3<T, Shape{24, 24, 64}>>("depthwise3x3", run_weighted<Depthwise3x3<T, Shape{24, 24, 64}>>);
  add_case<Fc<T, 256, 128>>("dense", run_weighted<Fc<T, 256, 128>>);
  add_case<Fc<T, 1024, 10>>("dense", run_weighted<Fc<T, 1024, 10>>);
  add_case<Residual<T, Shape{24, 24, 64}>>("add", run_add<Residual<T, Shape{24, 24, 64}>>);
}

}  // namespace

int main(int argc, char** argv) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  benchmark::RegisterBenchmark("peak/vpdpbusd_zmm", run_peak<512>)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("peak/vpdpbusd_ymm", run_peak<256>)->Unit(benchmark::kMicrosecond);
#endif
#if defined(STATIQ_KERNELS_AVX2)
  benchmark::RegisterBenchmark("peak/vpmaddwd_vpaddd_ymm", run_peak_avx2)->Unit(benchmark::kMicrosecond);
#endif
  // ResNet-like shapes, where the fraction of the peak is read.
  using Resnet3x3 = Conv3x3<targets::cpu_int8, Shape{56, 56, 64}, 64>;
  using Resnet1x1 = Conv2D<"conv1x1", ConvAttributes{.input = {56, 56, 64}, .filters = 64, .activation = relu},
                           targets::cpu_int8>;
  add_case<Resnet3x3>("conv3x3", run_weighted<Resnet3x3>);
  add_case<Resnet1x1>("conv1x1", run_weighted<Resnet1x1>);
  add_target<targets::cpu_int8>();
  using ResnextGroup = Grouped3x3<targets::cpu_int8, Shape{28, 28, 128}, 128, 8>;  // 16 channels a group
  add_case<ResnextGroup>("grouped3x3_g8", run_weighted<ResnextGroup>);
  add_target<targets::akida_v2>();
  add_target<targets::tflite_int8>();
  add_target<targets::gemmini>();
  // Akida's usual 4-bit weights and activations: packed weights, two to a byte, unpacked per tap.
  constexpr Bits four{4, 4, 4};
  using AkidaConv4 = Conv3x3<targets::akida_v2, Shape{24, 24, 32}, 64, four>;
  using AkidaDense4 = Fc<targets::akida_v2, 256, 128, four>;
  using AkidaDepthwise4 = Depthwise3x3<targets::akida_v2, Shape{24, 24, 64}, four>;
  add_case<AkidaConv4>("conv3x3", run_weighted<AkidaConv4>, four);
  add_case<AkidaDense4>("dense", run_weighted<AkidaDense4>, four);
  add_case<AkidaDepthwise4>("depthwise3x3", run_weighted<AkidaDepthwise4>, four);
  add_elementwise_cases();

  benchmark::AddCustomContext("statiq_kernels", kernels::isa_name(kernels::isa));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
