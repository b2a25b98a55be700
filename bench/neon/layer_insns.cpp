// bench/neon/layer_insns.cpp — a few layers run `runs` times (argv[1]) for bench/neon/count.sh, which
// counts the AArch64 instructions they execute under qemu-aarch64 (QEMU gives no timing). Built three
// times: reference kernels, plain NEON (-march=armv8-a), NEON + dot product (-march=armv8.2-a+dotprod).
// The layers: a 3x3 convolution 12x12x32 -> 32 ("same" pads, tflite profile, int8), a 1x1
// convolution 12x12x64 -> 64 (qlinear, uint8), a depthwise 3x3 24x24x64 (qlinear, uint8), the same
// with channel multiplier 2 (24x24x32 -> 64), a Dense 256 -> 128 (tflite), a grouped 3x3 convolution
// 14x14x128 -> 128 in 8 groups of 16 ("same", qlinear, uint8), and Adds of two 12x12x64 tensors
// (9,216 elements) in each profile (qlinear with its x86_fma and portable formulas, tflite, pow2,
// akida_v1, gemmini); fixed random operands.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
#include <type_traits>
#include <vector>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"

using namespace statiq;

namespace {
std::mt19937 rng(7);

template <class P, class X, class A>
void run(const char* name, const A& a, int runs, typename P::channel_params channel, typename P::output_params out,
         std::int32_t x_zero_point) {
  std::vector<std::int32_t> w(weight_count(a));
  for (auto& v : w) v = std::uniform_int_distribution<int>(-127, 127)(rng);
  const WeightLayout layout = weight_layout(a, true);
  std::vector<std::uint8_t> bytes(layout.stored(w.size()));
  lay_out_weights(layout, w, w.size(), bytes.data());
  std::vector<X> x(std::size_t(a.input.size()));
  for (auto& v : x) v = static_cast<X>(std::uniform_int_distribution<int>(0, 255)(rng));
  const int channels = output_shape(a).c;
  std::vector<std::int32_t> bias(std::size_t(channels), 100);
  std::vector<typename P::channel_params> ch(std::size_t(channels), channel);
  std::vector<std::uint8_t> y(std::size_t(output_shape(a).size()));
  std::vector<std::int32_t> scratch(scratch_words(a, layout));
  std::vector<std::int32_t> sums(static_cast<std::size_t>(channels));  // computed once, as the generator emits them
  weight_sums(w, std::size_t(channels), w.size() / std::size_t(channels), sums.data());
  const LayerData<P> d{bias.data(), ch.data(), out, x_zero_point, 0, sums.data()};
  unsigned check = 0;
  for (int r = 0; r < runs; ++r)
    compute<P>(a, x.data(), weight_view<qint<8, true>>{bytes.data(), layout}, d, reinterpret_cast<X*>(y.data()),
               scratch.data());
  for (auto v : y) check = check * 31 + v;  // once: the count per run is the layer's alone
  std::printf("%s: %zu MACs, kernel %s, checksum %08x\n", name, std::size_t(output_shape(a).size()) * w.size() / std::size_t(channels),
              kernels::conv_kernel_name(kernels::conv_kernel(conv_geometry(a), layout)), check);
}
// An Add of two n-element tensors (X inputs, Y output) with parameters p, `runs` times.
template <class P, class X, class Y>
void run_add(const char* name, int n, const typename P::add_params& p, int runs) {
  const auto size = static_cast<std::size_t>(n);
  std::vector<X> a(size), b(size);
  for (auto& v : a) v = static_cast<X>(std::uniform_int_distribution<int>(0, 255)(rng));
  for (auto& v : b) v = static_cast<X>(std::uniform_int_distribution<int>(0, 255)(rng));
  std::vector<Y> y(size);
  const AddAttributes attributes{.shape = {1, 1, n}, .signed_input = std::is_signed_v<X>, .signed_output = std::is_signed_v<Y>};
  for (int r = 0; r < runs; ++r) compute<P>(attributes, a.data(), b.data(), p, y.data());
  unsigned check = 0;
  for (auto v : y) check = check * 31 + static_cast<std::uint8_t>(v);
  std::printf("%s: %d elements, kernel %s, checksum %08x\n", name, n,
              add_kernel_name<P>(add_kernel<P, X, X, Y>(attributes)).data(), check);
}
}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 1;
  const char* only = argc > 2 ? argv[2] : "";
  const auto want = [&](const char* n) { return only[0] == 0 || std::string_view(only) == n; };
  std::printf("kernels: %s\n", kernels::isa_name(kernels::isa));
  if (want("conv3x3")) {
    ConvAttributes a{.input = {12, 12, 32}, .filters = 32, .kernel = {3, 3}, .pads = Pads::same, .signed_input = true,
                     .signed_output = true};
    run<arith::tflite, std::int8_t>("conv3x3 12x12x32->32 tflite", a, runs, {1 << 30, -8}, {-128, -128, 127}, -128);
  }
  if (want("conv1x1")) {
    ConvAttributes a{.input = {12, 12, 64}, .filters = 64};
    run<arith::qlinear, std::uint8_t>("conv1x1 12x12x64->64 qlinear", a, runs, {1e-4f}, {3, 0, 255}, 5);
  }
  if (want("depthwise")) {
    ConvAttributes a{.input = {24, 24, 64}, .filters = 64, .kernel = {3, 3}, .pads = Pads::same, .group = 64};
    run<arith::qlinear, std::uint8_t>("depthwise3x3 24x24x64 qlinear", a, runs, {1e-3f}, {3, 0, 255}, 5);
  }
  if (want("depthwise_m2")) {  // channel multiplier 2 (MobileNet-v1-style models use them)
    ConvAttributes a{.input = {24, 24, 32}, .filters = 64, .kernel = {3, 3}, .pads = Pads::same, .group = 32};
    run<arith::qlinear, std::uint8_t>("depthwise3x3 x2 24x24x32->64 qlinear", a, runs, {1e-3f}, {3, 0, 255}, 5);
  }
  if (want("dense")) {
    DenseAttributes a{.input = {1, 1, 256}, .units = 128, .signed_input = true};
    run<arith::tflite, std::int8_t>("dense 256->128 tflite", a, runs, {1 << 30, -6}, {0, -128, 127}, -128);
  }
  if (want("grouped")) {
    ConvAttributes a{.input = {14, 14, 128}, .filters = 128, .kernel = {3, 3}, .pads = Pads::same, .group = 8};
    run<arith::qlinear, std::uint8_t>("grouped3x3 g8 14x14x128->128 qlinear", a, runs, {1e-4f}, {3, 0, 255}, 5);
  }
  constexpr int n = 12 * 12 * 64;
  if (want("add_qlinear_fma"))
    run_add<arith::qlinear, std::uint8_t, std::uint8_t>("add qlinear x86_fma", n,
                                                        arith::qlinear::make_add(0.02f, 120, 0.03f, 130, 0.04f, 128, 0, 255), runs);
  if (want("add_qlinear_portable"))
    run_add<arith::qlinear, std::uint8_t, std::uint8_t>(
        "add qlinear portable", n,
        arith::qlinear::make_add(0.02f, 120, 0.03f, 130, 0.04f, 128, 0, 255, arith::qlinear::add_kernel::portable), runs);
  if (want("add_tflite"))
    run_add<arith::tflite, std::int8_t, std::int8_t>("add tflite", n,
                                                     arith::tflite::make_add(0.02f, -8, 0.03f, 2, 0.04f, 0, -128, 127), runs);
  if (want("add_pow2"))
    run_add<arith::pow2, std::int8_t, std::int8_t>("add pow2", n, arith::pow2::make_add(5, 7, {1, 3}, -128, 127), runs);
  if (want("add_akida_v1"))
    run_add<arith::akida_v1, std::uint8_t, std::uint8_t>("add akida_v1", n, {0, 2, {10, 24}, 0, 15}, runs);
  if (want("add_gemmini"))
    run_add<arith::gemmini, std::int8_t, std::int8_t>("add gemmini", n, arith::gemmini::make_add(0.02f, 0.03f, 0.04f, false), runs);
  return 0;
}
