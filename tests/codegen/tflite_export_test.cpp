// statiq-codegen --tflite: what it refuses (exit 1, a message naming the option and the fix,
// nothing written) and that the file it writes is the exporter's flatbuffer, whole. That TFLite
// reads it and computes the engine's integers is tests/tflite's job (it needs the TFLite oracle).
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codegen/export/tflite_export.hpp"
#include "codegen/generate/generate.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::run_command;
using statiq::test::ScratchDir;
using statiq::test::slurp;

namespace {

const fs::path mnist8 = fs::path(STATIQ_SHARED_DIR) / "models" / "mnist8" / "model.onnx";
const fs::path digits = fs::path(STATIQ_SOURCE_DIR) / "examples" / "data" / "mnist_1k_u8.npy";

std::string codegen(const std::string& arguments) {
  return std::string("'") + STATIQ_CODEGEN_EXE + "' '" + mnist8.string() + "' --calib '" + digits.string() +
         "' --calib-samples 50 --golden 0 " + arguments;
}

bool empty_folder(const fs::path& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

}  // namespace

TEST_CASE("--tflite is refused for a target whose arithmetic is not TFLite's, nothing written", "[codegen][tflite]") {
  if (!fs::exists(mnist8)) {
    WARN("../shared/models/mnist8 is absent: not run");
    return;
  }
  ScratchDir dir("statiq_tflite_refused");
  const fs::path out = dir.path / "out", file = dir.path / "m.tflite";
  const int status = run_command(codegen("--target cpu-int8 -o '" + out.string() + "' --tflite '" + file.string() + "'"),
                                 dir.path / "log");
  const std::string log = slurp(dir.path / "log");
  INFO(log);
  CHECK(status == 1);
  CHECK(log.find("--tflite writes a TensorFlow Lite int8 model") != std::string::npos);
  // the registry's tflite targets (TargetInfo::tflite_form), every one
  CHECK(log.find("only the tflite-int8, tflite-int8-single-rounding, tflite-int8-x86 targets compute") !=
        std::string::npos);
  CHECK(log.find("use --target tflite-int8") != std::string::npos);
  CHECK(!fs::exists(file));
  CHECK(empty_folder(out));
}

TEST_CASE("--tflite that cannot be written leaves neither it nor the generated files", "[codegen][tflite]") {
  if (!fs::exists(mnist8)) {
    WARN("../shared/models/mnist8 is absent: not run");
    return;
  }
  ScratchDir dir("statiq_tflite_unwritable");
  const fs::path out = dir.path / "out", file = dir.path / "missing_folder" / "m.tflite";
  const int status = run_command(codegen("--target tflite-int8 -o '" + out.string() + "' --tflite '" + file.string() + "'"),
                                 dir.path / "log");
  const std::string log = slurp(dir.path / "log");
  INFO(log);
  CHECK(status == 1);
  CHECK(log.find("TFLite export: cannot write") != std::string::npos);
  CHECK(!fs::exists(file));
  CHECK(empty_folder(out));
  for (const auto& e : fs::recursive_directory_iterator(dir.path))
    CHECK(e.path().string().find("statiq-tmp") == std::string::npos);
}

TEST_CASE("--tflite writes the exporter's flatbuffer beside the engine, for every tflite target", "[codegen][tflite]") {
  if (!fs::exists(mnist8)) {
    WARN("../shared/models/mnist8 is absent: not run");
    return;
  }
  // tflite-int8-x86 exports the same graph: only where the engine rounds differs (tests/tflite runs it).
  for (const char* target : {"tflite-int8", "tflite-int8-single-rounding", "tflite-int8-x86"}) {
    ScratchDir dir(std::string("statiq_tflite_written_") + target);
    const fs::path out = dir.path / "out", file = dir.path / "m.tflite";
    const int status = run_command(codegen(std::string("--target ") + target + " -o '" + out.string() + "' --tflite '" +
                                           file.string() + "'"),
                                   dir.path / "log");
    INFO(slurp(dir.path / "log"));
    REQUIRE(status == 0);
    CHECK(fs::exists(out / "mnist8.hpp"));
    // The same model through the library: the same bytes (the CLI adds nothing and loses nothing).
    GenerateOptions o;
    o.model = mnist8;
    o.target = target;
    o.calib = digits;
    o.read.max_samples = 50;
    o.golden = 0;
    const std::vector<std::uint8_t> bytes = tflite_model(generate(o).model);
    const std::string written = slurp(file);
    REQUIRE(written.size() == bytes.size());
    CHECK(std::equal(bytes.begin(), bytes.end(), written.begin(),
                     [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }));
    CHECK(written.substr(4, 4) == "TFL3");  // the schema's file_identifier
  }
}

TEST_CASE("the TFLite exporter refuses a model of another target, naming it", "[codegen][tflite]") {
  if (!fs::exists(mnist8)) {
    WARN("../shared/models/mnist8 is absent: not run");
    return;
  }
  GenerateOptions o;
  o.model = mnist8;
  o.target = "cpu-int8";
  o.calib = digits;
  o.read.max_samples = 50;
  o.golden = 0;
  const LoweredModel m = generate(o).model;
  CHECK_THROWS_WITH(tflite_model(m), Catch::Contains("the model is for cpu_int8") &&
                                         Catch::Contains("only tflite-int8, tflite-int8-single-rounding, tflite-int8-x86"));
}
