// Each element-wise layer's kernel_name (decided at compile time, shown by summary() and the
// generator's report) against the kernel its compute() actually enters, recorded by
// STATIQ_KERNEL_RAN (statiq/kernels/trace.hpp, on in this test only): the name must begin with the
// kernel that ran, and name this build's ISA for the layers that have a vector path on it (compared
// with the ISA macro, not with the name's own decision). Built once per x86 variant (AVX-512 VNNI,
// AVX-512 VBMI, -march=haswell) and for the reference kernels; tests/device/neon_kernels_test.cpp does
// the same for NEON.
#define STATIQ_TRACE_KERNELS 1

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_variant.hpp"
#include "statiq/statiq.hpp"

using namespace statiq;

namespace {

bool cpu_runs_this_variant() { return statiq::test::cpu_runs_this_variant("kernel_names_test"); }

// The tag this build's vector kernels carry in their names, from the ISA macros.
#if defined(STATIQ_KERNELS_AVX512_VNNI)
constexpr std::string_view vector_tag = "(avx512";
#elif defined(STATIQ_KERNELS_AVX2)
constexpr std::string_view vector_tag = "(avx2)";
#elif defined(STATIQ_KERNELS_ARM_NEON)
constexpr std::string_view vector_tag = "(neon)";
#else
constexpr std::string_view vector_tag = "";
#endif
constexpr bool vector_build = !vector_tag.empty();

std::string ran() { return kernels::last_kernel_ran ? kernels::last_kernel_ran : "(nothing)"; }

// The layer's name begins with the kernel that ran (what follows: " or <fallback> when ...", " + <tail>").
template <class L>
void check_ran(const char* what) {
  INFO(what << ": kernel_name \"" << L::kernel_name << "\", ran \"" << ran() << "\"");
  REQUIRE(kernels::last_kernel_ran != nullptr);
  const std::string_view r = kernels::last_kernel_ran;
  CHECK(L::kernel_name.substr(0, r.size()) == r);
  const std::string_view rest = L::kernel_name.substr(r.size());
  CHECK((rest.empty() || rest.starts_with(" or ") || rest.starts_with(" + ")));
}

// On a vector build the layer runs this ISA's kernel; on the reference build the reference one.
template <class L>
void check_vector(const char* what) {
  INFO(what << ": kernel_name \"" << L::kernel_name << "\", ran \"" << ran() << "\"");
  if (vector_build) CHECK(ran().find(vector_tag) != std::string::npos);
  else CHECK(ran().starts_with("reference::"));
}

template <class L>
void check_reference(const char* what) {
  INFO(what << ": kernel_name \"" << L::kernel_name << "\", ran \"" << ran() << "\"");
  CHECK(ran().starts_with("reference::"));
  CHECK(L::kernel_name.starts_with("reference::"));
}

constexpr Shape big{8, 8, 24};   // 1536 elements: every vector path's size condition holds
constexpr Shape small{1, 2, 5};  // 10: below Add's and Concat's

template <class L>
void run_unary(const L& layer, int in_size, int out_size) {
  std::vector<typename L::input_element> x(std::size_t(in_size), typename L::input_element{3});
  std::vector<typename L::output_element> y(static_cast<std::size_t>(out_size));
  std::vector<std::int32_t> scratch(L::scratch_words + 1);
  kernels::last_kernel_ran = nullptr;
  layer(x.data(), y.data(), scratch.data());
}

template <class L>
void run_binary(const L& layer) {
  std::vector<typename L::input_element> a(std::size_t(L::output_shape.size()), typename L::input_element{3});
  std::vector<typename L::second_input_element> b(std::size_t(L::output_shape.size()), typename L::second_input_element{5});
  std::vector<typename L::output_element> y(std::size_t(L::output_shape.size()));
  kernels::last_kernel_ran = nullptr;
  layer(a.data(), b.data(), y.data(), nullptr);
}

}  // namespace

TEST_CASE("Add names the kernel it runs, and its run-time fallback", "[kernel_names]") {
  if (!cpu_runs_this_variant()) return;
  {  // qlinear: onnxruntime's x86 formula on both x86 ISAs
    using L = Add<"add", AddAttributes{.shape = big}, targets::cpu_int8>;
    run_binary(L({arith::qlinear::make_add(0.1f, 3, 0.2f, 7, 0.3f, 11, 0, 255)}));
    check_ran<L>("qlinear Add");
    check_vector<L>("qlinear Add");
    // add_params asking for another formula: the scalar loop, which the name announces.
    run_binary(L({arith::qlinear::make_add(0.1f, 3, 0.2f, 7, 0.3f, 11, 0, 255, arith::qlinear::add_kernel::portable)}));
    CHECK(ran() == "reference::add");
    if (vector_build) CHECK(L::kernel_name.find(" or reference::add when") != std::string_view::npos);
  }
  {  // pow2 (Akida 2): the aligning shifts as terms; a shift beyond 22 falls back at run time
    using L = Add<"add", AddAttributes{.shape = big}, targets::akida_v2>;
    const arith::pow2::add_params p{1, 0, {1, 0}, 0, 255};
    run_binary(L({p}));
    check_ran<L>("pow2 Add");
    if constexpr (kernels::isa == kernels::Isa::neon) check_reference<L>("pow2 Add");  // no NEON Add yet
    else check_vector<L>("pow2 Add");
    arith::pow2::add_params far = p;
    far.a_shift = 23;
    run_binary(L({far}));
    CHECK(ran() == "reference::add");
    if (vector_build && kernels::isa != kernels::Isa::neon)
      CHECK(L::kernel_name.find(" or reference::add when a shift is outside 0..22") != std::string_view::npos);
  }
  {  // too few elements for the vector kernel's set-up: decided at compile time
    using L = Add<"add", AddAttributes{.shape = small}, targets::akida_v2>;
    run_binary(L({arith::pow2::add_params{0, 0, {1, 0}, 0, 255}}));
    check_ran<L>("small pow2 Add");
    check_reference<L>("small pow2 Add");
    CHECK(L::kernel_name == "reference::add");
  }
}

TEST_CASE("Concat, LookupTable and Elementwise name the kernel they run", "[kernel_names]") {
  if (!cpu_runs_this_variant()) return;
  {
    using L = Concat<"cat", ConcatAttributes{.inputs = {big, {8, 8, 9}}, .count = 2}, targets::cpu_int8>;
    const L layer{};
    std::vector<std::uint8_t> a(std::size_t(big.size()), 1), b(8 * 8 * 9, 2), y(std::size_t(L::output_shape.size()));
    kernels::last_kernel_ran = nullptr;
    layer({a.data(), b.data()}, y.data(), nullptr);
    check_ran<L>("Concat");
    check_vector<L>("Concat");
    using S = Concat<"cat", ConcatAttributes{.inputs = {small, small}, .count = 2}, targets::cpu_int8>;
    std::vector<std::uint8_t> ys(std::size_t(S::output_shape.size()));
    S{}({a.data(), b.data()}, ys.data(), nullptr);
    check_ran<S>("small Concat");
    check_reference<S>("small Concat");
  }
  {
    using L = LookupTable<"lut", LookupTableAttributes{.shape = big, .bits = {8, 8, 8}}, targets::cpu_int8>;
    std::array<std::uint8_t, 256> table{};
    run_unary(L({table.data()}), big.size(), big.size());
    check_ran<L>("LookupTable");
    // AVX-512 without VBMI has no 256-entry byte permute: the scalar lookup, and the name says so.
#if defined(STATIQ_KERNELS_AVX512_VNNI) && !defined(__AVX512VBMI__)
    check_reference<L>("LookupTable (AVX-512 without VBMI)");
#else
    check_vector<L>("LookupTable");
#endif
  }
  for (const ElementwiseOp op : {ElementwiseOp::mul, ElementwiseOp::sub}) {
    const auto run = [&]<ElementwiseOp Op>() {
      using L = Elementwise<"ew", ElementwiseAttributes{.op = Op, .shape = big, .bits = {8, 8, 8}}, targets::cpu_int8>;
      run_binary(L{});
      check_ran<L>("Elementwise");
      check_vector<L>("Elementwise");
      CHECK(ran().find(Op == ElementwiseOp::mul ? "qlinear_mul" : "qdq_elementwise") != std::string::npos);
    };
    if (op == ElementwiseOp::mul) run.template operator()<ElementwiseOp::mul>();
    else run.template operator()<ElementwiseOp::sub>();
  }
}

TEST_CASE("Quantize, Dequantize, pools and Copy name the kernel they run", "[kernel_names]") {
  if (!cpu_runs_this_variant()) return;
  {
    using L = Quantize<"q", QuantizeAttributes{.shape = big}, targets::cpu_int8>;
    run_unary(L({0.5f, 3}), big.size(), big.size());
    check_ran<L>("Quantize qlinear");
    check_vector<L>("Quantize qlinear");
    // TFLite rounds half away from zero: no vector kernel rounds that way.
    using T = Quantize<"q", QuantizeAttributes{.shape = big, .signed_output = true}, targets::tflite_int8>;
    run_unary(T({0.5f, 3}), big.size(), big.size());
    check_ran<T>("Quantize tflite");
    check_reference<T>("Quantize tflite");
  }
  {
    using L = Dequantize<"dq", DequantizeAttributes{.shape = big}, targets::cpu_int8>;
    run_unary(L({0.5f, 3}), big.size(), big.size());
    check_ran<L>("Dequantize");
    check_vector<L>("Dequantize");
  }
  {
    using L = MaxPool<"mp", PoolAttributes{.input = big, .pool = max_pool(2, 2), .bits = {8, 8, 8}}, targets::cpu_int8>;
    run_unary(L{}, big.size(), L::output_shape.size());
    check_ran<L>("MaxPool");
    check_vector<L>("MaxPool");
  }
  {
    using P = arith::qlinear;
    std::array<P::channel_params, 24> ch{};
    using L = AveragePool<"ap", PoolAttributes{.input = big, .pool = average_pool({2, 2}, {2, 2}), .bits = {8, 8, 8}},
                          targets::cpu_int8>;
    run_unary(L({ch, P::output_params{0, 0, 255}, 0}), big.size(), L::output_shape.size());
    check_ran<L>("AveragePool");
    check_vector<L>("AveragePool");
    CHECK(L::kernel_name.ends_with(" + requantize_map"));
    using G = GlobalAveragePool<"gap", PoolAttributes{.input = big, .bits = {8, 8, 8}}, targets::cpu_int8>;
    run_unary(G({ch, P::output_params{0, 0, 255}, 0}), big.size(), G::output_shape.size());
    check_ran<G>("GlobalAveragePool");
    check_vector<G>("GlobalAveragePool");
  }
  {
    using P = arith::tflite;
    std::array<P::channel_params, 24> ch{};
    using G = GlobalAveragePool<"gap", PoolAttributes{.input = big, .bits = {8, 8, 8}, .signed_input = true,
                                                      .signed_output = true},
                                targets::tflite_int8>;
    run_unary(G({ch, P::output_params{0, -128, 127}, 0}), big.size(), G::output_shape.size());
    check_ran<G>("GlobalAveragePool tflite");
    CHECK(G::kernel_name.ends_with(" + reference mean"));  // TFLite's MEAN: requantize, then divide
  }
  {
    using L = Copy<"copy", CopyAttributes{.input = big, .output = big, .bits = {8, 8, 8}}, targets::cpu_int8>;
    std::vector<std::int32_t> index(std::size_t(big.size()), 0);
    run_unary(L({index.data(), 0}), big.size(), big.size());
    check_ran<L>("Copy");
    check_reference<L>("Copy");
  }
}
