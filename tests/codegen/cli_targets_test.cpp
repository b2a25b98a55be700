// Every target of the library (statiq::targets::target_list) is reachable from statiq-codegen:
// --target <name> generates mnist8 for it, `check` accepts it, --help describes it; the engine of
// tflite-int8-single-rounding (once refused by the CLI) and tflite-int8-x86 (ruy's GEMM output stage)
// compile and reproduce their golden vectors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <type_traits>

#include "codegen/lower/target_registry.hpp"
#include "statiq/targets/target_list.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq;
using statiq::test::run_command;
using statiq::test::slurp;

namespace {

const fs::path examples = fs::path(STATIQ_SOURCE_DIR) / "examples" / "data";

// The documented CLI spelling: the C++ name with '-' for '_' (akida_v2 -> akida-v2).
std::string cli_spelling(std::string_view cpp_name) {
  std::string s(cpp_name);
  for (char& c : s)
    if (c == '_') c = '-';
  return s;
}

std::string command(const std::string& arguments) { return std::string("'") + STATIQ_CODEGEN_EXE + "' " + arguments; }

}  // namespace

TEST_CASE("the registry holds every library target, in the list's order", "[codegen][targets]") {
  REQUIRE(codegen::all_targets().size() == targets::target_list::size);
  std::size_t i = 0;
  targets::for_each_target([&]<class T>(std::type_identity<T>) {
    const codegen::TargetInfo& t = codegen::all_targets()[i++];
    CHECK(t.name == T::name.view());
    CHECK(t.cli_name == cli_spelling(T::name.view()));
    CHECK(t.profile == std::string_view(T::profile::name));
    CHECK(&codegen::find_target(t.cli_name) == &t);
    CHECK(&codegen::find_target(t.name) == &t);
  });
  // the facts the generator once kept in its own table, now read from the types
  CHECK(codegen::find_target("akida-v1").default_bits == 4);
  CHECK(codegen::find_target("akida-v1").akida_conventions);
  CHECK(codegen::find_target("gemmini").signed_activations);
  CHECK(!codegen::find_target("cpu-int8").hardware);
  CHECK(codegen::find_target("akida-v2").packs_sub_byte);
  CHECK(codegen::find_target("cpu-int8").dynamic_quantization);
  CHECK(!codegen::find_target("tflite-int8").dynamic_quantization);
  CHECK(codegen::find_target("tflite-int8-single-rounding").profile == "tflite_single_rounding");
  CHECK(codegen::find_target("tflite-int8-x86").profile == "tflite_x86");
  // the targets with a .tflite form (--tflite): TFLite's arithmetics, and only those
  for (const codegen::TargetInfo& t : codegen::all_targets())
    CHECK(t.tflite_form == (t.profile.rfind("tflite", 0) == 0));
  CHECK(codegen::tflite_target_names() == "tflite-int8, tflite-int8-single-rounding, tflite-int8-x86");
}

TEST_CASE("visit_target calls generic code with the target's type", "[codegen][targets]") {
  const auto profile = [](std::string_view name) {
    return codegen::visit_target(name, []<class T>(std::type_identity<T>) { return std::string(T::profile::name); });
  };
  CHECK(profile("cpu-int8") == "qlinear");
  CHECK(profile("akida_v2") == "pow2");
  CHECK(profile("akida-v1") == "akida_v1");
  CHECK(profile("gemmini") == "gemmini");
  CHECK(profile("tflite-int8") == "tflite");
  CHECK(profile("tflite-int8-single-rounding") == "tflite_single_rounding");
  CHECK(profile("tflite-int8-x86") == "tflite_x86");
  // an unknown name lists every choice, akida-v1 and the single-rounding TFLite included
  CHECK_THROWS_WITH(profile("tpu"), Catch::Contains("unknown target 'tpu'") && Catch::Contains("akida-v1") &&
                                        Catch::Contains("tflite-int8-single-rounding"));
}

#ifdef STATIQ_CODEGEN_EXE
TEST_CASE("--target <name> generates mnist8 for every library target", "[codegen][targets][cli]") {
  const statiq::test::ScratchDir dir("statiq_cli_targets");
  targets::for_each_target([&]<class T>(std::type_identity<T>) {
    const std::string cli = cli_spelling(T::name.view());
    INFO("--target " << cli);
    const fs::path out = dir.path / cli;
    // Akida runs mnist8's Gemm bias on the host: --unmapped host for every target keeps one command.
    const int status = run_command(
        command("'" + (examples / "mnist8.onnx").string() + "' --target " + cli + " --calib '" +
                (examples / "mnist_1k_u8.npy").string() +
                "' --calib-samples 8 --eval-samples 8 --golden 2 --unmapped host --name mnist8 -o '" + out.string() + "'"),
        dir.path / (cli + ".log"));
    INFO(slurp(dir.path / (cli + ".log")));
    REQUIRE(status == 0);
    CHECK_THAT(slurp(out / "mnist8.hpp"),
               Catch::Contains("using target = statiq::targets::" + std::string(T::name.view()) + ";\n"));
    CHECK_THAT(slurp(out / "mnist8_data.cpp"), Catch::Contains("statiq::arith::" + std::string(T::profile::name) + "::"));
  });
  // the target the CLI used to refuse: its engine compiles and is bit-exact on its golden vectors
  const fs::path single = dir.path / "tflite-int8-single-rounding";
  CHECK(statiq::test::compile_and_self_test(single, "mnist8") == "");
  CHECK_THAT(slurp(single / "selftest.log"), Catch::Contains("(tflite_int8_single_rounding): 2 golden vectors, bit-exact"));
  // ruy's output stage in the generated engine (the Dense layer) equals the simulation's
  const fs::path x86 = dir.path / "tflite-int8-x86";
  CHECK(statiq::test::compile_and_self_test(x86, "mnist8") == "");
  CHECK_THAT(slurp(x86 / "selftest.log"), Catch::Contains("(tflite_int8_x86): 2 golden vectors, bit-exact"));
}

TEST_CASE("check and --help read the registry", "[codegen][targets][cli]") {
  const statiq::test::ScratchDir dir("statiq_cli_targets_help");
  REQUIRE(run_command(command("--help"), dir.path / "help.log") == 0);
  const std::string help = slurp(dir.path / "help.log");
  targets::for_each_target([&]<class T>(std::type_identity<T>) {
    const std::string cli = cli_spelling(T::name.view());
    INFO(cli);
    CHECK_THAT(help, Catch::Contains("  " + cli + " ") && Catch::Contains(std::string(T::description)));
    const fs::path log = dir.path / ("check_" + cli + ".log");
    CHECK(run_command(command("check '" + (examples / "mnist8.onnx").string() + "' --target " + cli), log) == 0);
    CHECK_THAT(slurp(log), Catch::Contains(std::string(T::name.view()) + ":"));
  });
}
#endif
