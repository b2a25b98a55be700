// tests/codegen/weights_encoding_test.cpp — the two weight encodings of the data translation unit
// (string literals, and <name>_weights.bin assembled in by .incbin) on a small ResNet-50-structured
// model made by tools/make_resnet50: the same bytes at 64-byte boundaries, every other file
// identical, the incbin engine compiled and bit-exact on its golden vectors, a weights file of the
// wrong size refused by the assembler, and an output folder whose name holds a quote and a newline
// reaches no assembler directive.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include "codegen/emit/emit.hpp"
#include "codegen/generate/generate.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::slurp;

namespace {

// The small variant of the scale benchmark's model: the same code path as the 25 M-parameter one.
struct SmallResnet {
  statiq::test::ScratchDir dir{"statiq_weights_encoding"};
  fs::path model = dir.path / "resnet50_small.onnx";
  fs::path samples = dir.path / "samples.npy";
  SmallResnet() {
    const std::string command = std::string("'") + STATIQ_MAKE_RESNET50 + "' -o '" + model.string() + "' --samples '" +
                                samples.string() +
                                "' --sample-count 4 --width 8 --blocks 1,1,1,1 --input-size 32 --classes 10";
    REQUIRE(statiq::test::run_command(command, dir.path / "make.log") == 0);
  }
};

GenerateOptions options_for(const SmallResnet& r, const std::string& target, WeightsEncoding encoding,
                            const fs::path& out) {
  GenerateOptions o;
  o.model = r.model;
  o.calib = r.samples;
  o.target = target;
  o.name = "resnet_small";
  o.output_dir = out;
  o.golden = 2;
  o.weights_encoding = encoding;
  if (target == "akida-v2") {  // as bench/compile_cost.sh runs the full model
    o.legalize = legalize::LegalizeOptions{};
    o.legalize->input_pixels = "imagenet";
  }
  return o;
}

// The bytes of the string literals that follow `from` in C++ source as bytes_literal() writes them
// ("..." "..." with \ooo, \", \\ and \? escapes), up to the end of the declaration.
std::string decode_literals(const std::string& src, std::size_t from) {
  std::string bytes;
  std::size_t i = src.find('"', from);
  while (i < src.size() && src[i] == '"') {  // one literal, then the next if only spaces come between
    for (++i; src[i] != '"'; ++i) {
      if (src[i] != '\\') {
        bytes += src[i];
      } else if (src[i + 1] >= '0' && src[i + 1] <= '7') {
        bytes += static_cast<char>((src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0'));
        i += 3;
      } else {
        bytes += src[++i];
      }
    }
    i = src.find_first_not_of(" \n", i + 1);
  }
  return bytes;
}

struct Symbol {
  std::size_t offset = 0, size = 0;
};

// Layer id -> offset and size in <name>_weights.bin, read from the .set / .size lines of the data TU.
std::map<std::string, Symbol> incbin_symbols(const std::string& data, const std::string& name) {
  std::map<std::string, Symbol> out;
  const std::regex set("\\.set statiq_" + name + "_(\\w+)_weights, statiq_" + name + "_weights \\+ (\\d+)");
  const std::regex size("\\.size statiq_" + name + "_(\\w+)_weights, (\\d+)");
  for (auto it = std::sregex_iterator(data.begin(), data.end(), set); it != std::sregex_iterator(); ++it)
    out[(*it)[1]].offset = std::stoul((*it)[2]);
  for (auto it = std::sregex_iterator(data.begin(), data.end(), size); it != std::sregex_iterator(); ++it)
    out[(*it)[1]].size = std::stoul((*it)[2]);
  return out;
}

}  // namespace

TEST_CASE("parse_weights_encoding takes literal and incbin and names both otherwise", "[emit][weights]") {
  CHECK(parse_weights_encoding("literal") == WeightsEncoding::literal);
  CHECK(parse_weights_encoding("incbin") == WeightsEncoding::incbin);
  CHECK_THROWS_WITH(parse_weights_encoding("objcopy"), Catch::Contains("'objcopy'") && Catch::Contains("literal") &&
                                                           Catch::Contains("incbin"));
  CHECK(emitted_file_names("m", true, WeightsEncoding::incbin).back() == "m_weights.bin");
  CHECK(emitted_file_names("m", false).size() == 3);
}

TEST_CASE("literal and incbin encodings hold the same weight bytes; the incbin engine is bit-exact",
          "[emit][weights][models]") {
  const SmallResnet resnet;
  for (const std::string target : {"cpu-int8", "akida-v2"}) {
    INFO(target);
    const fs::path literal_dir = resnet.dir.path / (target + "_literal");
    const fs::path incbin_dir = resnet.dir.path / (target + "_incbin");
    generate(options_for(resnet, target, WeightsEncoding::literal, literal_dir));
    const GenerateResult r = generate(options_for(resnet, target, WeightsEncoding::incbin, incbin_dir));
    REQUIRE(r.written.size() == 6);
    CHECK(r.written.back() == incbin_dir / "resnet_small_weights.bin");
    CHECK_FALSE(fs::exists(literal_dir / "resnet_small_weights.bin"));

    // every file but the data TU is the same
    for (const std::string file : {"resnet_small.hpp", "resnet_small_selftest.cpp", "resnet_small_report.txt",
                                   "resnet_small_report.json"})
      CHECK(slurp(literal_dir / file) == slurp(incbin_dir / file));

    // the same bytes: each literal's, then its NUL, at a 64-byte boundary of the .bin
    const std::string literal = slurp(literal_dir / "resnet_small_data.cpp");
    const std::string incbin = slurp(incbin_dir / "resnet_small_data.cpp");
    const std::string bin = slurp(incbin_dir / "resnet_small_weights.bin");
    const auto symbols = incbin_symbols(incbin, "resnet_small");
    // stem, 4 blocks x 3 convolutions, 4 downsamples, the classifier; on akida-v2 also the identity
    // convolutions legalization adds (3 subsamples after stride-1 3x3s, 1 carrying the global average)
    REQUIRE(symbols.size() == (target == "cpu-int8" ? 18u : 22u));
    std::size_t total = 0;
    for (const auto& [id, s] : symbols) {
      INFO(id);
      std::size_t at = literal.find(" " + id + "_weights[] =\n");
      if (at == std::string::npos) at = literal.find(" " + id + "_weights = {\n");
      REQUIRE(at != std::string::npos);
      const std::string bytes = decode_literals(literal, at);
      CHECK(s.offset % 64 == 0);
      REQUIRE(s.size == bytes.size() + 1);
      REQUIRE(s.offset + s.size <= bin.size());
      CHECK(bin.compare(s.offset, bytes.size(), bytes) == 0);
      CHECK(bin[s.offset + bytes.size()] == '\0');
      total += bytes.size();
    }
    CHECK(total > 100000);  // the weights of all the layers, not a few
    CHECK(incbin.size() < literal.size() / 3);
    CHECK(incbin.find("\"  .incbin \\\"resnet_small_weights.bin\\\"\\n\"") != std::string::npos);

    // the engine built from the .bin reproduces its golden vectors bit for bit
    CHECK(statiq::test::compile_and_self_test(incbin_dir, "resnet_small") == "");
  }
}

TEST_CASE("incbin: a weights file of another size does not assemble; the folder name reaches no directive",
          "[emit][weights]") {
  const SmallResnet resnet;
  // a folder name with a quote and a newline: the directive names only the file, found through -I
  const fs::path out = resnet.dir.path / "we\"ird\n.byte 1";
  generate(options_for(resnet, "cpu-int8", WeightsEncoding::incbin, out));
  const std::string data = slurp(out / "resnet_small_data.cpp");
  CHECK(data.find("we\\\"ird") == std::string::npos);
  CHECK(data.find(".byte") == std::string::npos);
  CHECK(statiq::test::compile_and_self_test(out, "resnet_small") == "");

  // a shorter (or longer) file, e.g. one left from another generation, is refused naming both files
  std::string bin = slurp(out / "resnet_small_weights.bin");
  bin.resize(bin.size() - 64);
  statiq::test::spit(out / "resnet_small_weights.bin", bin);
  const std::string failure = statiq::test::compile_and_self_test(out, "resnet_small");
  CHECK_THAT(failure, Catch::Contains("compile failed") &&
                          Catch::Contains("resnet_small_weights.bin is not the") &&
                          Catch::Contains("bytes resnet_small_data.cpp was generated with: regenerate both"));
}
