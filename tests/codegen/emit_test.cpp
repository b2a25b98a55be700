// The emitter: C++ literals and struct names by hand, the generated header's types for two hand-built
// models, the reports' totals re-derived by hand, refusals naming the layer, and all-or-nothing
// writing. The generated code itself is compiled and run by the codegen_emit_compile test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/emit/cpp_literals.hpp"
#include "codegen/emit/emit.hpp"
#include "codegen/emit/layer_facts.hpp"
#include "emit_fixture.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::akida_v2_model;
using statiq::test::cpu_int8_model;
using statiq::test::emit_options;

namespace {

// A fresh empty folder under the system's temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("statiq_emit_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  std::set<std::string> entries() const {
    std::set<std::string> s;
    for (const auto& e : fs::directory_iterator(path)) s.insert(e.path().filename().string());
    return s;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

float read_back(const std::string& literal) {  // "0.1f" -> 0.1f, as the compiler reads it
  REQUIRE(literal.back() == 'f');
  return std::strtof(literal.substr(0, literal.size() - 1).c_str(), nullptr);
}

std::string emit_error(const LoweredModel& m, const EmitOptions& o) {
  try {
    render(m, o);
  } catch (const EmitError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("float literals are the shortest text that reads back bit for bit", "[codegen][emit]") {
  CHECK(float_literal(0.1f) == "0.1f");
  CHECK(float_literal(3.0f) == "3.0f");  // "3f" would not be a literal
  CHECK(float_literal(0.5f) == "0.5f");
  CHECK(float_literal(-0.0f) == "-0.0f");
  CHECK(float_literal(1e-7f) == "1e-07f");
  CHECK(float_literal(std::numeric_limits<float>::infinity()) == "std::numeric_limits<float>::infinity()");
  for (const float v : {0.1f, 1.0f / 3.0f, 1e-45f /* denormal */, std::numeric_limits<float>::max(), 0.0021f,
                        -1234567.875f, 16777217.0f, 0.03125f})
    CHECK(std::bit_cast<std::uint32_t>(read_back(float_literal(v))) == std::bit_cast<std::uint32_t>(v));
}

TEST_CASE("string and byte literals escape what the compiler would misread", "[codegen][emit]") {
  CHECK(string_literal("a\"b\\c?d\n") == "\"a\\\"b\\\\c\\?d\\012\"");
  CHECK(string_literal("/features/conv1/Conv") == "\"/features/conv1/Conv\"");
  // NUL then '1': a 3-digit octal escape cannot swallow the digit; '?' never forms a trigraph
  const std::vector<std::uint8_t> bytes{'A', 0x00, '1', 0xff, '?', '?', '=', '"', '\\', 0x7f};
  CHECK(bytes_literal(bytes) == "\"A\\0001\\377\\?\\?=\\\"\\\\\\177\"");
  // long blobs continue as adjacent literals, 100 characters of text per line
  const std::vector<std::uint8_t> many(250, 'x');
  CHECK(bytes_literal(many, "  ") == "\"" + std::string(100, 'x') + "\"\n  \"" + std::string(100, 'x') + "\"\n  \"" +
                                         std::string(50, 'x') + "\"");
}

TEST_CASE("weights are stored as statiq::qarray stores them, packed low bits first", "[codegen][emit]") {
  const std::vector<std::int32_t> w4{1, -1, 7, -8, 3};
  CHECK(pack_weights(w4, 4, true) == std::vector<std::uint8_t>{0xF1, 0x87, 0x03});
  CHECK(pack_weights(w4, 4, false) == std::vector<std::uint8_t>{0x01, 0xFF, 0x07, 0xF8, 0x03});
  CHECK(pack_weights(std::vector<std::int32_t>{1, -2, -1, 0, 1}, 2, true) == std::vector<std::uint8_t>{0x39, 0x01});
  CHECK(pack_weights(std::vector<std::int32_t>{-1, 0, 0, 0, 0, 0, 0, -1}, 1, true) == std::vector<std::uint8_t>{0x81});
  CHECK(pack_weights(std::vector<std::int32_t>{-128, 127, -1}, 8, true) == std::vector<std::uint8_t>{0x80, 0x7F, 0xFF});
  // the qarray the layer types read agrees element by element
  statiq::qarray<statiq::int4, 5, true> a;
  for (std::size_t i = 0; i < w4.size(); ++i) a.set(i, w4[i]);
  const auto packed = pack_weights(w4, 4, true);
  CHECK(std::equal(packed.begin(), packed.end(), a.bytes()));
  CHECK_THROWS_WITH(pack_weights(std::vector<std::int32_t>{0, 8}, 4, true),
                    Catch::Contains("weight 1 is 8, outside the 4-bit range [-8, 7]"));
}

TEST_CASE("struct names are C++-safe snake_case of the ONNX names, unique", "[codegen][emit]") {
  CHECK(cpp_identifier("Convolution28") == "convolution28");
  CHECK(cpp_identifier("Plus214_Output_0") == "plus214_output_0");
  CHECK(cpp_identifier("/features/conv1/Conv") == "features_conv1_conv");
  CHECK(cpp_identifier("model.layer1.0.conv1") == "model_layer1_0_conv1");
  CHECK(cpp_identifier("ConvBlock") == "conv_block");
  CHECK(cpp_identifier("HTTPServer") == "http_server");
  CHECK(cpp_identifier("Relu_1:0") == "relu_1_0");
  CHECK(cpp_identifier("a__b--c") == "a_b_c");  // never "__": reserved to the implementation
  CHECK(cpp_identifier("123abc") == "layer_123abc");
  CHECK(cpp_identifier("0") == "layer_0");
  CHECK(cpp_identifier("class") == "class_");
  CHECK(cpp_identifier("model") == "model_");  // the generated namespace's own names
  CHECK(cpp_identifier("target") == "target_");
  CHECK(cpp_identifier("") == "layer");
  CHECK(cpp_identifier("///") == "layer");
  CHECK(cpp_identifier("conv\xC3\xA9") == "conv");
  CHECK(unique_identifiers({"conv", "Conv", "conv", "model", "model", "conv_2"}) ==
        std::vector<std::string>{"conv", "conv_2", "conv_3", "model_", "model_2", "conv_2_2"});
  CHECK(cpp_identifier("dynamic") == "dynamic_");  // the header's `inline constexpr bool dynamic`
  CHECK(cpp_identifier("\nint injected = 1;\n") == "int_injected_1");
  // a 10,000-character name: 64 characters, no trailing '_' where the cut falls after a separator
  CHECK(cpp_identifier(std::string(10000, 'a')) == std::string(64, 'a'));
  CHECK(cpp_identifier(std::string(63, 'a') + "/" + std::string(100, 'b')) == std::string(63, 'a'));
  // the "layer_" prefix of a digits-first name counts too (found by fuzz_names)
  CHECK(cpp_identifier("0" + std::string(70, 'g')) == "layer_0" + std::string(57, 'g'));
  // 1000 nodes of one name: unique, and the suffixes continue past names taken literally
  std::vector<std::string> same(1000, "Relu");
  same.push_back("relu_1001");
  same.push_back("Relu");
  const std::vector<std::string> ids = unique_identifiers(same);
  CHECK(ids[0] == "relu");
  CHECK(ids[999] == "relu_1000");
  CHECK(ids[1000] == "relu_1001");
  CHECK(ids[1001] == "relu_1002");
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
}

TEST_CASE("names from the model become printable comment text that cannot end or splice a comment",
          "[codegen][emit][hostile]") {
  CHECK(printable("conv1/Conv") == "conv1/Conv");
  // newline, CR, tab, NUL, ESC and the backslash: \xHH; no output line can end in a backslash
  CHECK(printable(std::string("a\nb\rc\td\0e\x1b[31m\\", 15)) == "a\\x0ab\\x0dc\\x09d\\x00e\\x1b[31m\\x5c");
  CHECK(printable("x */ y /* z") == "x *\\x2f y /* z");    // a /* */ comment cannot be closed
  CHECK(printable("what?\?/ ?\?\?") == "what?\\x3f/ ?\\x3f\\x3f");  // no trigraph: never two '?' in a row
  CHECK(printable("caf\xC3\xA9 \xFF") == "caf\\xc3\\xa9 \\xff");  // UTF-8 and invalid UTF-8 alike
  CHECK(shorten("short") == "short");
  CHECK(shorten(std::string(10000, 'n')) == std::string(max_shown_name_bytes, 'n') + "...(10000 bytes)");
  CHECK(display_name(std::string(200, '\n')).size() == 4 * max_shown_name_bytes + std::string("...(200 bytes)").size());
  // whatever the bytes, the result is printable ASCII without "*/" or "??"
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c), all += "*/??\\";
  const std::string p = printable(all);
  CHECK(std::all_of(p.begin(), p.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
  CHECK(p.find("*/") == std::string::npos);
  CHECK(p.find("??") == std::string::npos);
  CHECK(p.back() != '\\');
}

TEST_CASE("the header names every layer as a struct with its attributes and the graph's edges", "[codegen][emit]") {
  const LoweredModel m = cpu_int8_model();
  const auto files = render(m, emit_options(m));
  REQUIRE(files.size() == 5);
  const std::string& h = files[0];
  CHECK_THAT(h, Catch::StartsWith("// tiny_cpu.hpp"));
  CHECK_THAT(h, Catch::Contains("// Generated by statiq-codegen from tiny_cpu.onnx, target cpu_int8. Do not edit"));
  CHECK_THAT(h, Catch::Contains("// Model sha256 " + std::string(64, 'a') + "\n"));
  CHECK_THAT(h, Catch::Contains("#include <statiq/runtime.hpp>\n"));
  CHECK_THAT(h, Catch::Contains("namespace tiny_cpu {\n"));
  CHECK_THAT(h, Catch::Contains("using target = statiq::targets::cpu_int8;\n"));
  CHECK_THAT(h, Catch::Contains("struct quantize_input : statiq::Quantize<\"QuantizeInput\", "
                                "statiq::QuantizeAttributes{.shape = {6, 6, 1}}, target> {\n"
                                "  using Quantize::Quantize;\n};\n"));
  CHECK_THAT(h, Catch::Contains("// /features/conv1/Conv: Conv -> Relu -> MaxPool (ONNX /features/conv1/Conv, "
                                "/features/relu/Relu,\n// /features/pool/MaxPool)\n"));
  CHECK_THAT(h, Catch::Contains("struct features_conv1_conv : statiq::Conv2D<\"/features/conv1/Conv\", "
                                "statiq::ConvAttributes{\n    .input = {6, 6, 1}, .filters = 2, .kernel = {3, 3}, "
                                ".pads = statiq::Pads::same, .activation = statiq::relu,\n"
                                "    .pool = statiq::max_pool(2, 2), .weight_stats = "));
  CHECK_THAT(h, Catch::Contains("}}, target> {\n  using Conv2D::Conv2D;\n};\n"));
  CHECK_THAT(h, Catch::Contains("struct fc_0 : statiq::Dense<\"fc.0\", statiq::DenseAttributes{\n"
                                "    .input = {3, 3, 2}, .units = 3, .signed_output = true,\n"));
  CHECK_THAT(h, Catch::Contains("struct logits : statiq::Dequantize<\"logits\", statiq::DequantizeAttributes{\n"
                                "    .shape = {1, 1, 3}, .signed_input = true}, target> {\n"));
  // defaults are not repeated: 8-bit everywhere, unsigned input, stride 1
  CHECK_THAT(h, !Catch::Contains(".bits ="));
  CHECK_THAT(h, !Catch::Contains(".strides ="));
  CHECK_THAT(h, !Catch::Contains("host<"));
  CHECK_THAT(h, Catch::Contains("using model = statiq::Graph<\n    statiq::node<quantize_input, -1>,\n"
                                "    statiq::node<features_conv1_conv, 0>,\n    statiq::node<fc_0, 1>,\n"
                                "    statiq::node<logits, 2>>;\n"));
  CHECK_THAT(h, Catch::Contains("inline constexpr float input_scale = 0.03125f;\n"
                                "inline constexpr std::int32_t input_zero_point = 10;\n"
                                "inline constexpr float output_scale = 0.1f;\n"
                                "inline constexpr std::int32_t output_zero_point = -5;\n"));
  CHECK_THAT(h, Catch::Contains("inline constexpr std::size_t quantized_output_node = 2;\n"));
  CHECK_THAT(h, Catch::Contains("model make_model();\n"));
  CHECK_THAT(h, Catch::Contains("inline constexpr std::size_t golden_count = 2;\n"
                                "extern const float golden_inputs[golden_count][36];\n"
                                "extern const std::int32_t golden_quantized_outputs[golden_count][3];\n"
                                "extern const float golden_outputs[golden_count][3];\n"));
  // a template: the engine's kernels are compiled where it is called, not in the data TU
  CHECK_THAT(h, Catch::Contains("template <class = void>\nbool self_test(std::FILE* log = nullptr) {\n"));
}

TEST_CASE("--board: the target is on_board<target, board, model>, so the board's memory bounds the arena",
          "[codegen][emit]") {
  const LoweredModel m = cpu_int8_model();
  EmitOptions o = emit_options(m);
  o.board = "mps3-an547";
  CHECK_THAT(render(m, o)[0], Catch::Contains("using target = statiq::targets::on_board<statiq::targets::cpu_int8, "
                                              "statiq::boards::mps3_an547, \"tiny_cpu\">;\n"));
  o.board = "stm32";
  CHECK_THROWS_WITH(render(m, o), "board 'stm32' is not one of statiq/targets/boards.hpp: choose mps2-an386, "
                                  "mps2-an500, mps3-an547");
}

TEST_CASE("weight statistics: the largest per-channel sum |w - zero point| and the largest |bias|", "[codegen][emit]") {
  LoweredModel m = cpu_int8_model();
  // hand-made weights: filter 0 sums to 1+2+...+9 = 45, filter 1 to 9 * 100 = 900
  Layer& conv = m.layers[1];
  conv.qweights = {1, -2, 3, -4, 5, -6, 7, -8, 9, 100, -100, 100, -100, 100, -100, 100, -100, 100};
  conv.qbias = {-2500, 7};
  const std::string h = render(m, emit_options(m))[0];
  CHECK_THAT(h, Catch::Contains(".weight_stats = {.max_sum_abs_weights = 900, .max_abs_bias = 2500}}, target> {\n"));
  // with weight zero point 1, |w - 1|: filter 0 sums 0+3+2+5+4+7+6+9+8 = 44, filter 1 99 * 5 + 101 * 4 = 899
  conv.weight_zero_point = 1;
  const std::string h1 = render(m, emit_options(m))[0];
  CHECK_THAT(h1, Catch::Contains(".weight_stats = {.max_sum_abs_weights = 899, .max_abs_bias = 2500}}, target> {\n"));
}

TEST_CASE("pow2 / akida_v2: sub-byte packed weights, the bits, host layers", "[codegen][emit]") {
  const LoweredModel m = akida_v2_model();
  const auto files = render(m, emit_options(m));
  const std::string& h = files[0];
  const std::string& d = files[1];
  CHECK_THAT(h, Catch::Contains("using target = statiq::targets::akida_v2;\n"));
  CHECK_THAT(h, Catch::Contains("struct conv_0 : statiq::InputConv2D<\"conv_0\", statiq::ConvAttributes{\n"));
  CHECK_THAT(h, Catch::Contains(".pool = statiq::max_pool(2, 2), .bits = {8, 8, 4},\n"));
  CHECK_THAT(h, Catch::Contains("    .bits = {4, 4, 4}, .weight_stats = "));
  CHECK_THAT(h, Catch::Contains("// Runs on the host: layer_kind_not_supported_by_target"));
  CHECK_THAT(h, Catch::Contains("struct dense : statiq::Dense<\"dense\", statiq::DenseAttributes{\n"
                                "    .input = {4, 4, 4}, .units = 3, .bits = {4, 4, 8}, .signed_output = true,\n"));
  CHECK_THAT(h, Catch::Contains("}}, statiq::targets::host<target>> {\n  using Dense::Dense;"));
  // 144 four-bit weights of conv_1 (a group-1 convolution: 4 filters of 3x3x4), placed in the fast
  // kernel's oc16_k4 order (16 rows, 3 segments of 12 columns: 576 places, padding 0), then two to a
  // byte, low nibble first: 288 bytes.
  const Layer& conv1 = m.layers[2];
  const statiq::WeightLayout wl{statiq::WeightOrder::oc16_k4, 4, 36, 12};
  REQUIRE(facts_of(conv1, true).weight_layout == wl);
  REQUIRE(wl.stored(144) == 576);
  std::vector<std::uint8_t> expected(288);
  for (std::size_t i = 0; i < 144; ++i) {
    const std::size_t at = wl.index(i);
    expected[at / 2] = std::uint8_t(expected[at / 2] | ((unsigned(conv1.qweights[i]) & 0xFu) << (4 * (at % 2))));
  }
  CHECK_THAT(d, Catch::Contains("// conv_1: 144 weights of 4 bits (2 to a byte, low bits first), OHWI, stored oc16_k4\n"
                                "alignas(64) const statiq::weight_bytes<statiq::WeightLayout{statiq::WeightOrder::oc16_k4, "
                                "4, 36, 12}, 288> conv_1_weights = {\n    " + bytes_literal(expected) + "};\n"));
  // every layer's weights start on a 64-byte boundary, whatever their layout type
  std::size_t weight_arrays = 0;
  for (std::size_t at = d.find("_weights"); at != std::string::npos; at = d.find("_weights", at + 1)) {
    const std::size_t line = d.rfind('\n', at) + 1;
    if (d.compare(line, 6, "const ") == 0 || d.compare(line, 12, "alignas(64) ") == 0) {
      ++weight_arrays;
      CHECK(d.compare(line, 12, "alignas(64) ") == 0);
    }
  }
  CHECK(weight_arrays >= 3);
  CHECK_THAT(d, Catch::Contains("const statiq::arith::pow2::channel_params conv_1_channel[4] = {\n"
                                "    {.mantissa = 180, .shift = 10}, {.mantissa = 140, .shift = 9}, "
                                "{.mantissa = 250, .shift = 10},\n    {.mantissa = 200, .shift = 9}};\n"));
  CHECK_THAT(d, Catch::Contains(".output = {.lo = 0, .hi = 15, .accumulator_clip = statiq::arith::pow2::no_accumulator_clip},"));
  // each layer's real output quantization, as a comment of plain numbers
  CHECK_THAT(d, Catch::Contains("\n// conv_1: output scale 0.25, zero point 0 (real = scale * (q - zero_point))\n"));
  // the input conv keeps its 8-bit weights one to a byte
  CHECK_THAT(d, Catch::Contains("// conv_0: 36 weights of 8 bits, OHWI, stored oc16_k4\n"));
}

TEST_CASE("the data translation unit: arrays, make_model, golden vectors", "[codegen][emit]") {
  const LoweredModel m = cpu_int8_model();
  const EmitOptions o = emit_options(m);
  const std::string d = render(m, o)[1];
  CHECK_THAT(d, Catch::Contains("#include \"tiny_cpu.hpp\"\n"));
  CHECK_THAT(d, Catch::Contains("const std::int32_t features_conv1_conv_bias[2] = {\n    100, -2000};\n"));
  CHECK_THAT(d, Catch::Contains("const statiq::arith::qlinear::channel_params features_conv1_conv_channel[2] = {\n"
                                "    {.multiplier = 0.0021f}, {.multiplier = 0.0017f}};\n"));
  CHECK_THAT(d, Catch::Contains("  return model(\n      quantize_input({.scale = 0.03125f, .zero_point = 10}),\n"));
  CHECK_THAT(d, Catch::Contains("features_conv1_conv({.weights = data::features_conv1_conv_weights,\n"));
  CHECK_THAT(d, Catch::Contains(".output = {.zero_point = -5, .lo = -128, .hi = 127},\n"));
  CHECK_THAT(d, Catch::Contains("\n// fc_0: output scale 0.1, zero point -5 (real = scale * (q - zero_point))\n"));
  CHECK_THAT(d, Catch::Contains("\n// logits: float output\n"));
  // the Dequantize undoes the quantization of the tensor it reads (fc.0's)
  CHECK_THAT(d, Catch::Contains("logits({.scale = 0.1f, .zero_point = -5}));\n"));
  // the fixture's first golden input, as the compiler will read it: -0.5, then -0.29 ...
  CHECK_THAT(d, Catch::Contains("const float golden_inputs[golden_count][36] = {\n    {-0.5f, "));
  CHECK_THAT(d, Catch::Contains(", 100.0f, -100.0f, "));
  // the hand check of one golden value: input 100.0 saturates to 255, -100.0 to 0, the tie to 10
  std::vector<std::int32_t> q(36);
  statiq::compute<statiq::arith::qlinear>(statiq::QuantizeAttributes{.shape = {6, 6, 1}}, o.golden[0].input.data(),
                                          0.03125f, 10, q.data());
  CHECK(q[5] == 255);
  CHECK(q[6] == 0);
  CHECK(q[0] == 0);      // -0.5 / 0.03125 + 10 = -6: below uint8
  CHECK(q[1] == 1);      // round(-0.29 / 0.03125) + 10 = -9 + 10
  statiq::compute<statiq::arith::qlinear>(statiq::QuantizeAttributes{.shape = {6, 6, 1}}, o.golden[1].input.data(),
                                          0.03125f, 10, q.data());
  CHECK(q[3] == 10);
  // the golden outputs are spread (the fixture's scales are not degenerate)
  const std::set<std::int32_t> distinct(o.golden[0].quantized_output.begin(), o.golden[0].quantized_output.end());
  CHECK(distinct.size() == 3);
}

TEST_CASE("reports: per layer fields, totals by hand, unmapped nodes, accuracy", "[codegen][emit]") {
  LoweredModel m = cpu_int8_model();
  m.unmapped.push_back({"Softmax_7", "Softmax", "pattern not found"});
  m.float_tail = {"Softmax_7"};
  const auto files = render(m, emit_options(m));
  const std::string& text = files[3];
  CHECK_THAT(text, Catch::Contains("statiq-codegen report: tiny_cpu for target cpu_int8"));
  CHECK_THAT(text, Catch::Contains("features_conv1_conv"));
  CHECK_THAT(text, Catch::Contains("Conv -> Relu -> MaxPool"));
  CHECK_THAT(text, Catch::Contains("[0, 12.5]"));
  CHECK_THAT(text, Catch::Contains("31.2"));
  CHECK_THAT(text, Catch::Contains("Softmax_7 (Softmax): pattern not found"));
  CHECK_THAT(text, Catch::Contains("accuracy (top-1, 200 samples): float 98.50%, quantized 98.00%"));

  const nlohmann::json j = nlohmann::json::parse(files[4]);
  // params: conv 18 weights + 2 biases, dense 54 + 3; MACs: conv 6x6 outputs before the pool x 18
  // taps, dense 54
  CHECK(j["totals"]["params"] == 77);
  CHECK(j["totals"]["macs"] == 6 * 6 * 18 + 54);
  CHECK(j["totals"]["weight_bytes"] == 72);
  // the arena planned by hand (greedy largest first, 16-byte aligned, by lifetime).
  if constexpr (statiq::kernels::isa == statiq::kernels::Isa::reference) {
    // The reference kernel's conv scratch (72 + 18 words = 360 B -> 368) at 0 in step 1, fc.0's
    // input (18 B -> 32) above the conv's input (36 B -> 48 at 368), so at 416: 448 bytes.
    CHECK(j["totals"]["arena_bytes"] == 448);
    // Its lower bound: step 1 holds the conv's input (36), output (18) and scratch (360): 414 bytes,
    // 448 with each buffer 16-byte aligned (48 + 32 + 368), which the plan reaches.
    CHECK(j["totals"]["arena_lower_bound"]["bytes"] == 414);
    CHECK(j["totals"]["arena_lower_bound"]["aligned_bytes"] == 448);
    CHECK_THAT(text, Catch::Contains("arena lower bound: 414 bytes live at step 1 (layer '/features/conv1/Conv'"));
    CHECK_THAT(text, Catch::Contains("the arena is 34 bytes larger: 34 bytes of 16-byte alignment"));
  } else {
    // The VNNI kernel's conv scratch: 16 channel constants + 36 pixels (the whole 6x6 output, one
    // block) x 16 accumulators + 3 segment offsets (kernel rows of 3 bytes) + the padded input copy
    // (8 x 8 + 64 bytes = 32 words) = 627 words (more than a pooled row, 3 x 2), then the map for the
    // fused pool (72; no pooled map): 699 words = 2796 B -> 2800, at 0 in step 1; the conv's input
    // (48) at 2800, fc.0's input (32) at 2848: 2880 bytes (the Dense scratch, 16 + 16 + 1 + 21 words,
    // fits at 0 in step 2).
    CHECK(j["totals"]["arena_bytes"] == 2880);
    // Its lower bound: step 1 holds the conv's input (36), output (18) and scratch (2796): 2850 bytes.
    CHECK(j["totals"]["arena_lower_bound"]["bytes"] == 2850);
    CHECK(j["totals"]["arena_lower_bound"]["aligned_bytes"] == 2880);
  }
  CHECK(j["totals"]["arena_lower_bound"]["step"] == 1);
  CHECK(j["layers"].size() == 4);
  CHECK(j["layers"][1]["struct"] == "features_conv1_conv");
  CHECK(j["layers"][1]["onnx_nodes"].size() == 3);
  CHECK(j["layers"][1]["pattern"] == "Conv -> Relu -> MaxPool");
  CHECK(j["layers"][1]["bits"]["weights"] == 8);
  CHECK(j["layers"][1]["weight_scales"][1] == Approx(0.02));
  CHECK(j["layers"][1]["sqnr_db"] == 31.25);
  CHECK(j["layers"][2]["output"]["zero_point"] == -5);
  CHECK(j["layers"][3]["output"] == "float");
  CHECK(j["layers"][0]["range"].is_null());
  CHECK(j["unmapped"][0]["node"] == "Softmax_7");
  CHECK(j["accuracy"]["quantized"] == 0.98);
  CHECK(j["source"]["sha256"] == std::string(64, 'a'));

  const LoweredModel a = akida_v2_model();
  const nlohmann::json ja = nlohmann::json::parse(render(a, emit_options(a))[4]);
  // 36 bytes + 144 / 2 + 192 / 2 packed
  CHECK(ja["totals"]["weight_bytes"] == 36 + 72 + 96);
  CHECK(ja["totals"]["host_layers"] == 1);
  CHECK(ja["layers"][3]["placement"] == "host");
  CHECK_THAT(ja["layers"][3]["host_reason"].get<std::string>(), Catch::Contains("layer_kind_not_supported_by_target"));
}

TEST_CASE("a model that cannot be emitted is refused with the layer's name and what to change", "[codegen][emit]") {
  {
    LoweredModel m = cpu_int8_model();
    m.layers[2].qweights.pop_back();
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("layer 'fc.0' (Dense; ONNX fc.0/Flatten, fc.0): 53 quantized weights, its attributes need 54"));
  }
  {
    LoweredModel m = cpu_int8_model();
    m.target = "akida_v2";
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("its parameters are in the qlinear arithmetic, target akida_v2 computes in pow2"));
  }
  {
    LoweredModel m = akida_v2_model();
    m.layers[2].qweights[10] = 8;
    CHECK_THAT(emit_error(m, emit_options(akida_v2_model())),
               Catch::Contains("layer 'conv_1'") && Catch::Contains("weight 10 is 8, outside the 4-bit range [-8, 7]"));
  }
  {
    LoweredModel m = cpu_int8_model();
    std::get<ProfileData<statiq::arith::qlinear>>(m.layers[1].data).channel.pop_back();
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("1 channel requantization parameters, 2 output channels"));
  }
  {
    LoweredModel m = cpu_int8_model();
    m.layers[1].data = std::monostate{};
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("no quantized parameters: quantize the model first"));
  }
  {
    LoweredModel m = cpu_int8_model();
    m.layers[2].inputs = {2};
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())), Catch::Contains("input 2 is not an earlier layer"));
  }
  {
    LoweredModel m = cpu_int8_model();
    EmitOptions o = emit_options(m);
    o.golden[1].input.pop_back();
    CHECK_THAT(emit_error(m, o), Catch::Contains("golden vector 1: 35 inputs"));
  }
  {
    LoweredModel m = cpu_int8_model();
    m.target = "tpu";
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("unknown target 'tpu'") && Catch::Contains("akida_v2"));
  }
  {
    LoweredModel m = cpu_int8_model();
    m.name = "tiny-cpu";
    CHECK_THAT(emit_error(m, emit_options(cpu_int8_model())),
               Catch::Contains("model name 'tiny-cpu' is not a C++ namespace name; use e.g. 'tiny_cpu'"));
  }
}

TEST_CASE("emit writes every file or none, and the same model gives the same bytes", "[codegen][emit]") {
  const LoweredModel m = cpu_int8_model();
  const EmitOptions o = emit_options(m);

  SECTION("written, reproducible, no temporary left") {
    TempDir dir("ok");
    const auto written = emit(m, o, dir.path / "out");
    CHECK(written.size() == 5);
    const std::set<std::string> expected{"tiny_cpu.hpp", "tiny_cpu_data.cpp", "tiny_cpu_selftest.cpp",
                                         "tiny_cpu_report.txt", "tiny_cpu_report.json"};
    TempDir again("again");
    emit(m, o, again.path);
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path / "out")) {
      names.insert(e.path().filename().string());
      CHECK(read(e.path()) == read(again.path / e.path().filename()));
    }
    CHECK(names == expected);
    // emitting over an earlier output replaces it
    emit(m, o, dir.path / "out");
    CHECK(fs::file_size(dir.path / "out" / "tiny_cpu.hpp") == read(again.path / "tiny_cpu.hpp").size());
  }
  SECTION("an output folder that cannot be created") {
    TempDir dir("file");
    std::ofstream(dir.path / "plain_file") << "x";
    CHECK_THROWS_WITH(emit(m, o, dir.path / "plain_file" / "out"),
                      Catch::Contains("cannot create the output folder '" + (dir.path / "plain_file" / "out").string()));
  }
  SECTION("an output folder nobody can write into (/proc, even as root)") {
    CHECK_THROWS_WITH(emit(m, o, "/proc"), Catch::Contains("cannot write '/proc/tiny_cpu.hpp'"));
    CHECK(!fs::exists("/proc/tiny_cpu.hpp"));
  }
  SECTION("a file that cannot be replaced: the files written before it are removed") {
    TempDir dir("blocked");
    fs::create_directories(dir.path / "tiny_cpu_report.json" / "inside");
    CHECK_THROWS_WITH(emit(m, o, dir.path),
                      Catch::Contains("cannot write '" + (dir.path / "tiny_cpu_report.json").string() +
                                      "': a folder of that name is in the way"));
    CHECK(dir.entries() == std::set<std::string>{"tiny_cpu_report.json"});
  }
  SECTION("a read-only folder (skipped as root, which writes anyway)") {
    if (::geteuid() == 0) return;
    TempDir dir("readonly");
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(emit(m, o, dir.path), Catch::Contains("cannot write '" + (dir.path / "tiny_cpu.hpp").string()));
    fs::permissions(dir.path, fs::perms::owner_all);
    CHECK(dir.entries().empty());
  }
  SECTION("a model that cannot be emitted writes nothing") {
    TempDir dir("refused");
    LoweredModel bad = m;
    bad.layers[1].qbias.pop_back();
    CHECK_THROWS_AS(emit(bad, o, dir.path), EmitError);
    CHECK(dir.entries().empty());
  }
}
