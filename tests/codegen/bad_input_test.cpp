// The statiq-codegen executable refusing bad input: for each (a broken model, samples that do not
// fit, a model the targets cannot compute, a folder it cannot write) a non-zero exit status, a
// message saying what is wrong, where, and what to do, and no output file left behind.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "tests/support/files.hpp"
#include "onnx_builder.hpp"

namespace fs = std::filesystem;

using statiq::test::ScratchDir;
using statiq::test::slurp;
using statiq::test::spit;

namespace {

const fs::path models_dir = fs::path(STATIQ_SHARED_DIR) / "models";
const fs::path mnist8 = models_dir / "mnist8" / "model.onnx";




std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

struct Outcome {
  int status = -1;     // exit status, -1 if the process did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs statiq-codegen with `args` (already quoted), capturing both streams.
Outcome codegen(const std::string& args) {
  const std::string command = quoted(STATIQ_CODEGEN_EXE) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Outcome o;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) o.output.append(buffer, n);
  const int status = ::pclose(pipe);
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// A .npy file written byte by byte from the format's specification (version 1.0: magic, header
// length, a Python dict literal padded with spaces to a multiple of 64 bytes, then the data), so
// any dtype can be made, not only those the project's writer knows.
void write_npy(const fs::path& p, const std::string& descr, const std::vector<std::size_t>& shape,
               const std::string& data) {
  std::string dims;
  for (std::size_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  spit(p, bytes + header + data);
}

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A copy of mnist8 with one element of an initializer replaced (through the ONNX protobuf classes).
void write_mnist8_with(const fs::path& p, const std::string& initializer, std::size_t index, float value) {
  onnx::ModelProto model;
  const std::string bytes = slurp(mnist8);
  REQUIRE(model.ParseFromString(bytes));
  bool found = false;
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    if (t.name() != initializer) continue;
    found = true;
    REQUIRE(t.data_type() == onnx::TensorProto::FLOAT);
    if (!t.raw_data().empty()) {
      std::string raw = t.raw_data();
      REQUIRE(raw.size() >= (index + 1) * sizeof(float));
      std::memcpy(raw.data() + index * sizeof(float), &value, sizeof(float));
      t.set_raw_data(raw);
    } else {
      REQUIRE(t.float_data_size() > static_cast<int>(index));
      t.set_float_data(static_cast<int>(index), value);
    }
  }
  REQUIRE(found);
  std::string out;
  REQUIRE(model.SerializeToString(&out));
  spit(p, out);
}

}  // namespace

TEST_CASE("statiq-codegen --help exits 0 and shows the examples", "[codegen][cli]") {
  const Outcome o = codegen("--help");
  CHECK(o.status == 0);
  CHECK_THAT(o.output, Catch::Contains("Examples:"));
  CHECK_THAT(o.output, Catch::Contains("statiq-codegen mnist8.onnx --target cpu-int8 --calib digits.npy -o out/"));
  CHECK_THAT(o.output, Catch::Contains("--unmapped"));
  CHECK_THAT(o.output, Catch::Contains("Exit status"));
}

TEST_CASE("statiq-codegen refuses bad input with a message and leaves no files", "[codegen][cli]") {
  if (!fs::exists(mnist8)) {
    WARN("shared models not found: " << models_dir);  // Catch2 v2 has no SKIP
    return;
  }
  const ScratchDir scratch("statiq_bad_input");
  const fs::path& dir = scratch.path;
  const fs::path out = dir / "out";
  const fs::path digits = models_dir / "mnist8" / "inputs.npy";  // [13,1,28,28] float32 pixels 0..255
  const std::string model_bytes = slurp(mnist8);
  REQUIRE(model_bytes.size() > 1000);

  // Runs statiq-codegen; it must fail with status 1 and leave `out` as it was (absent).
  auto refused = [&](const std::string& args) {
    const Outcome o = codegen(args + " -o " + quoted(out));
    INFO("statiq-codegen " << args << "\n" << o.output);
    CHECK(o.status == 1);
    CHECK_THAT(o.output, Catch::StartsWith("statiq-codegen: error: "));
    CHECK(!fs::exists(out));
    return o.output;
  };
  const std::string cpu = " --target cpu-int8 --name digits --calib ";

  SECTION("a truncated model (the first half of mnist8)") {
    spit(dir / "half.onnx", model_bytes.substr(0, model_bytes.size() / 2));
    const std::string m = refused(quoted(dir / "half.onnx") + cpu + quoted(digits));
    CHECK_THAT(m, Catch::Contains("'" + (dir / "half.onnx").string() + "'"));
    CHECK_THAT(m, Catch::Contains("not an ONNX model") && Catch::Contains("truncated"));
    CHECK_THAT(m, Catch::Contains("export or download the model again"));
  }
  SECTION("a text file named .onnx") {
    spit(dir / "notes.onnx", "# model notes\nthis file holds text, not a protobuf\n");
    const std::string m = refused(quoted(dir / "notes.onnx") + cpu + quoted(digits));
    CHECK_THAT(m, Catch::Contains("notes.onnx") && Catch::Contains("not an ONNX model"));
  }
  SECTION("a corrupt model (bytes of its header flipped)") {
    std::string bytes = model_bytes;
    for (std::size_t i = 16; i < 32; ++i) bytes[i] = static_cast<char>(~bytes[i]);
    spit(dir / "flipped.onnx", bytes);
    const std::string m = refused(quoted(dir / "flipped.onnx") + cpu + quoted(digits));
    CHECK_THAT(m, Catch::Contains("flipped.onnx") && Catch::Contains("corrupt"));
  }
  SECTION("calibration rows of the wrong shape ([N,27,27] for a 28x28 input)") {
    write_npy(dir / "small.npy", "<f4", {3, 27, 27}, raw_bytes(std::vector<float>(3 * 27 * 27, 1.0f)));
    const std::string m = refused(quoted(mnist8) + cpu + quoted(dir / "small.npy"));
    CHECK_THAT(m, Catch::Contains("small.npy") && Catch::Contains("[3,27,27]"));
    CHECK_THAT(m, Catch::Contains("'Input3' [1,1,28,28]"));  // the model input it must fit
    CHECK_THAT(m, Catch::Contains("[N,28,28]"));              // what would fit
  }
  SECTION("calibration samples of an unsupported dtype (int16)") {
    write_npy(dir / "shorts.npy", "<i2", {3, 28, 28}, raw_bytes(std::vector<std::int16_t>(3 * 28 * 28, 5)));
    const std::string m = refused(quoted(mnist8) + cpu + quoted(dir / "shorts.npy"));
    CHECK_THAT(m, Catch::Contains("shorts.npy") && Catch::Contains("'<i2'"));
    CHECK_THAT(m, Catch::Contains("float32, float64, or uint8") && Catch::Contains("astype(np.float32)"));
  }
  SECTION("an empty calibration set ([0,28,28])") {
    write_npy(dir / "none.npy", "<f4", {0, 28, 28}, "");
    const std::string m = refused(quoted(mnist8) + cpu + quoted(dir / "none.npy"));
    CHECK_THAT(m, Catch::Contains("none.npy") && Catch::Contains("0 samples"));
    CHECK_THAT(m, Catch::Contains("at least one sample"));
  }
  SECTION("all-zero images: the input's calibrated range is [0, 0]") {
    write_npy(dir / "black.npy", "<f4", {4, 28, 28}, raw_bytes(std::vector<float>(4 * 28 * 28, 0.0f)));
    // An output folder that exists already must stay empty.
    fs::create_directories(out);
    const Outcome o = codegen(quoted(mnist8) + cpu + quoted(dir / "black.npy") + " -o " + quoted(out));
    INFO(o.output);
    CHECK(o.status == 1);
    CHECK_THAT(o.output, Catch::Contains("tensor 'Input3'") && Catch::Contains("is zero"));
    CHECK_THAT(o.output, Catch::Contains("check the calibration samples"));
    CHECK(fs::is_empty(out));
    fs::remove(out);
  }
  SECTION("a NaN weight") {
    // Parameter5: the first convolution's weights [8,1,5,5]; element 30 is in output channel 1.
    write_mnist8_with(dir / "nan.onnx", "Parameter5", 30, std::numeric_limits<float>::quiet_NaN());
    const std::string m = refused(quoted(dir / "nan.onnx") + cpu + quoted(digits));
    CHECK_THAT(m, Catch::Contains("NaN"));
    CHECK_THAT(m, Catch::Contains("'Convolution28'"));  // the node whose weights they are
    CHECK_THAT(m, Catch::Contains("output channel 1"));      // element 30 of [8,1,5,5]: 30 / 25
    CHECK_THAT(m, Catch::Contains("fix or retrain"));
  }
  SECTION("an infinite weight") {
    // Parameter193: the MatMul's weights [256,10].
    write_mnist8_with(dir / "inf.onnx", "Parameter193", 7, std::numeric_limits<float>::infinity());
    const std::string m = refused(quoted(dir / "inf.onnx") + cpu + quoted(digits));
    CHECK_THAT(m, Catch::Contains("infinite"));
    CHECK_THAT(m, Catch::Contains("Times212"));           // the MatMul
    CHECK_THAT(m, Catch::Contains("output channel 7"));   // element 7 of [256,10]: column 7
    CHECK_THAT(m, Catch::Contains("fix or retrain"));
  }
  SECTION("an unknown target") {
    const std::string m = refused(quoted(mnist8) + " --target tpu-v9 --name digits --calib " + quoted(digits));
    CHECK_THAT(m, Catch::Contains("'tpu-v9'"));
    CHECK_THAT(m, Catch::Contains("cpu-int8") && Catch::Contains("akida-v2"));  // the choices
  }
  SECTION("an operator no statiq layer computes (Sin)") {
    statiq::test::OnnxBuilder b;
    b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 4, 4});
    b.node("Sin", {"x"}, {"y"}, "wave");
    std::string bytes;
    REQUIRE(b.model.SerializeToString(&bytes));
    spit(dir / "sin.onnx", bytes);
    write_npy(dir / "x.npy", "<f4", {2, 4, 4}, raw_bytes(std::vector<float>(2 * 16, 0.5f)));
    const std::string m = refused(quoted(dir / "sin.onnx") + cpu + quoted(dir / "x.npy"));
    CHECK_THAT(m, Catch::Contains("'wave' (Sin)"));
    CHECK_THAT(m, Catch::Contains("--unmapped float") || Catch::Contains("replace the operator"));
  }
  SECTION("a real model with an unsupported node (ppocr_cls)") {
    const fs::path ppocr = models_dir / "ppocr_cls";
    const std::string m = refused(quoted(ppocr / "model.onnx") + " --target cpu-int8 --name ppocr --calib " +
                                  quoted(ppocr / "inputs.npy"));
    CHECK_THAT(m, Catch::Contains("'p2o.Add.0' (Add)"));
    CHECK_THAT(m, Catch::Contains("--unmapped float"));
  }
  SECTION("an output folder under a regular file") {
    spit(dir / "plain", "a regular file\n");
    const Outcome o = codegen(quoted(mnist8) + cpu + quoted(digits) + " -o " + quoted(dir / "plain" / "out"));
    INFO(o.output);
    CHECK(o.status == 1);
    // Refused before any work (calibration of a large model takes a while), naming the folder and why.
    CHECK_THAT(o.output, Catch::Contains("output folder '" + (dir / "plain" / "out").string() + "' cannot be written"));
    CHECK_THAT(o.output, Catch::Contains("'" + (dir / "plain").string() + "' is not a folder"));
    CHECK_THAT(o.output, Catch::Contains("choose an output folder"));
    CHECK(slurp(dir / "plain") == "a regular file\n");
  }
  SECTION("an output folder in /proc") {
    const Outcome o = codegen(quoted(mnist8) + cpu + quoted(digits) + " -o /proc/statiq_out");
    INFO(o.output);
    CHECK(o.status == 1);
    CHECK_THAT(o.output, Catch::Contains("'/proc/statiq_out'") && Catch::Contains("choose an output folder"));
    CHECK(!fs::exists("/proc/statiq_out"));
  }
  // Nothing but the inputs this test wrote is left in its folder.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    CHECK((entry.path().extension() == ".onnx" || entry.path().extension() == ".npy" || name == "plain"));
  }
}
