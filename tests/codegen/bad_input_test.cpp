// The statiq-codegen executable refusing bad input: for each (a broken model, samples that do not
// fit, a model the targets cannot compute, a folder it cannot write) a non-zero exit status, a
// message saying what is wrong, where, and what to do, and no output file left behind.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <regex>
#include <set>
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

// Runs statiq-codegen with `args` (already quoted), capturing both streams; a run that hangs (on a
// FIFO, say) is killed after a minute and counts as a failure (status 124).
Outcome codegen(const std::string& args) {
  const std::string command = "timeout 60 " + quoted(STATIQ_CODEGEN_EXE) + " " + args + " 2>&1";
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
  SECTION("Pads statiq cannot compute: on the batch axis, pads computed at run time, mode wrap") {
    // x [1,1,4,4] -> Relu -> Pad -> y; `edit` sets the Pad's inputs and attributes.
    auto pad_model = [&](const std::string& file, const std::function<void(statiq::test::OnnxBuilder&)>& edit) {
      statiq::test::OnnxBuilder b;
      b.input("x", {1, 1, 4, 4}).output("y", {-1, -1, -1, -1});
      b.node("Relu", {"x"}, {"r"}, "relu");
      edit(b);
      std::string bytes;
      REQUIRE(b.model.SerializeToString(&bytes));
      spit(dir / file, bytes);
    };
    write_npy(dir / "x.npy", "<f4", {2, 4, 4}, raw_bytes(std::vector<float>(2 * 16, 0.5f)));
    pad_model("batch.onnx", [](statiq::test::OnnxBuilder& b) {
      b.initializer_i64("pads", {8}, {1, 0, 0, 0, 0, 0, 0, 0});
      b.node("Pad", {"r", "pads"}, {"y"}, "pad_batch");
    });
    std::string m = refused(quoted(dir / "batch.onnx") + cpu + quoted(dir / "x.npy"));
    CHECK_THAT(m, Catch::Contains("'pad_batch' (Pad)") && Catch::Contains("batch axis"));
    CHECK_THAT(m, Catch::Contains("pad H, W or C only"));
    pad_model("dynamic.onnx", [](statiq::test::OnnxBuilder& b) {  // pads from the data: max(x) on every side
      b.initializer_i64("nc", {2}, {0, 0});
      b.initializer_i64("one", {1}, {1});
      b.node("GlobalMaxPool", {"r"}, {"top"}, "top");
      b.node("Reshape", {"top", "one"}, {"top1"}, "top1");
      statiq::test::OnnxBuilder::attr(b.node("Cast", {"top1"}, {"side"}, "side"), "to", std::int64_t{7});
      statiq::test::OnnxBuilder::attr(b.node("Concat", {"nc", "side", "side", "nc", "side", "side"}, {"pads"}, "pads"),
                                      "axis", std::int64_t{0});
      b.node("Pad", {"r", "pads"}, {"y"}, "pad_dynamic");
    });
    // Pads from the data need nodes no statiq layer computes (GlobalMaxPool, Cast): generate stops
    // at the first, and check refuses that node too (it said "0 refused" when the lowering threw).
    m = refused(quoted(dir / "dynamic.onnx") + cpu + quoted(dir / "x.npy"));
    CHECK_THAT(m, Catch::Contains("'top' (GlobalMaxPool)"));
    const Outcome checked = codegen("check " + quoted(dir / "dynamic.onnx") + " --target cpu-int8");
    INFO(checked.output);
    CHECK_THAT(checked.output, Catch::Contains("REFUSE top (GlobalMaxPool)"));
    CHECK_THAT(checked.output, !Catch::Contains(" 0 refused"));
    pad_model("wrap.onnx", [](statiq::test::OnnxBuilder& b) {
      b.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
      statiq::test::OnnxBuilder::attr(b.node("Pad", {"r", "pads"}, {"y"}, "pad_wrap"), "mode", std::string("wrap"));
    });
    m = refused(quoted(dir / "wrap.onnx") + cpu + quoted(dir / "x.npy"));
    CHECK_THAT(m, Catch::Contains("'pad_wrap' (Pad)") && Catch::Contains("mode 'wrap'"));
    CHECK_THAT(m, Catch::Contains("--unmapped float"));
  }
  SECTION("a real model with an unsupported node (ppocr_cls on tflite-int8: its Add of a constant is a cpu-int8 table)") {
    const fs::path ppocr = models_dir / "ppocr_cls";
    const std::string m = refused(quoted(ppocr / "model.onnx") + " --target tflite-int8 --name ppocr --calib " +
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

// Issue 12: a suggestion named an option that did not exist ("use --activation-bits 4" had no effect
// on the input, per-node config could not name graph inputs). Every `--option` inside a string
// literal of codegen/ (the messages, reports and help) must be one statiq-codegen or one of its
// subcommands takes, or one of the few tools it runs itself (listed here with why).
TEST_CASE("every --option statiq-codegen's messages name is one it has", "[codegen][cli]") {
  std::set<std::string> known;
  const std::regex option_re("--[a-z][a-z0-9-]*[a-z0-9]");
  for (const char* sub : {"", "check ", "compare ", "run-float "}) {
    const Outcome help = codegen(std::string(sub) + "--help");
    REQUIRE(help.status == 0);
    for (std::sregex_iterator it(help.output.begin(), help.output.end(), option_re), end; it != end; ++it)
      known.insert(it->str());
  }
  REQUIRE(known.count("--node-config") == 1);
  REQUIRE(known.count("--legalize") == 1);
  const std::set<std::string> tools = {
      "--input", "--outputs", "--out-dir", "--nchw", "--xnnpack",  // tools/ort/run.js and statiq_run_tflite, run by compare
      "--version",                                                 // node --version, probed by compare
      "--build",                                                   // "cmake --build <build> --target statiq_run_tflite"
      "--ignore-scripts",                                          // "npm ci --ignore-scripts", how to install tools/ort
  };
  const std::regex literal_re(R"("(?:[^"\\\n]|\\.)*")");
  std::vector<std::string> unknown;
  std::size_t named = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(STATIQ_SOURCE_DIR) / "codegen")) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cpp" && ext != ".hpp") continue;
    const std::string text = slurp(entry.path());
    for (std::sregex_iterator l(text.begin(), text.end(), literal_re), end; l != end; ++l) {
      const std::string literal = l->str();
      for (std::sregex_iterator it(literal.begin(), literal.end(), option_re); it != end; ++it) {
        ++named;
        if (!known.count(it->str()) && !tools.count(it->str()))
          unknown.push_back(it->str() + " in " + entry.path().filename().string() + ": " + literal.substr(0, 120));
      }
    }
  }
  CHECK(named > 100);  // the scan reads the messages
  std::string listed;
  for (const std::string& u : unknown) listed += u + "\n";
  INFO("statiq-codegen's options: " << known.size() << "; named but unknown:\n" << listed);
  CHECK(unknown.empty());
}

TEST_CASE("a full disk leaves no output folder behind", "[codegen][cli][hostile]") {
  if (!fs::exists(mnist8)) {
    WARN("shared models not found: " << models_dir);
    return;
  }
  const ScratchDir scratch("statiq_full_disk");
  const fs::path out = scratch.path / "new" / "out";
  // A file size limit of 4 KiB stands in for a full disk: the data file's write fails (EFBIG, its
  // signal ignored) after the folders were created and the header was written.
  const std::string command = "trap '' XFSZ; ulimit -f 8; " + quoted(STATIQ_CODEGEN_EXE) + " " + quoted(mnist8) +
                              " --target cpu-int8 --name digits --calib " +
                              quoted(models_dir / "mnist8" / "inputs.npy") + " -o " + quoted(out) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  INFO(output);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
  CHECK_THAT(output, Catch::Contains("cannot write") && Catch::Contains("File too large") &&
                         Catch::Contains("free space"));
  CHECK(!fs::exists(scratch.path / "new"));  // neither the folder it created nor its parent
}

// ---- hostile inputs (issue 9): one table, each case refused with exit status 1, a message that
// names the file, node or tensor and what to do, no crash, hang or memory bomb, nothing written.

namespace {

// CRC-32 (IEEE), for the ZIP archives built below.
std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (const unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_le(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_be32(std::string& s, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// One ZIP member as numpy.savez writes it, every field overridable so a test can lie in any of them.
struct ZipMember {
  std::string name = "x.npy";
  std::string data{};               // as stored (already compressed for method 8)
  std::uint16_t method = 0;
  std::uint16_t flags = 0;
  std::uint32_t crc = 0;            // 0: computed from `uncompressed`
  std::string uncompressed{};       // for the CRC; defaults to `data`
  std::uint64_t size = ~0ull;       // declared sizes; ~0: the real ones
  std::uint64_t compressed_size = ~0ull;
  std::uint32_t local_offset = 0;
  std::string central_extra{};      // e.g. a ZIP64 extra field
  std::uint64_t cd_offset = ~0ull;  // in the end record; ~0: the real one
  std::string before_end{};         // bytes between the central directory and the end record (ZIP64 locator)
};

std::string zip_of(const ZipMember& m) {
  const std::string& plain = m.uncompressed.empty() ? m.data : m.uncompressed;
  const std::uint32_t crc = m.crc ? m.crc : crc32_of(plain);
  const std::uint64_t size = m.size != ~0ull ? m.size : plain.size();
  const std::uint64_t csize = m.compressed_size != ~0ull ? m.compressed_size : m.data.size();
  std::string z;
  put_le(z, 0x04034b50, 4), put_le(z, 20, 2), put_le(z, m.flags, 2), put_le(z, m.method, 2), put_le(z, 0, 4);
  put_le(z, crc, 4), put_le(z, csize, 4), put_le(z, size, 4), put_le(z, m.name.size(), 2), put_le(z, 0, 2);
  z += m.name + m.data;
  const std::size_t cd = z.size();
  put_le(z, 0x02014b50, 4), put_le(z, 20, 2), put_le(z, 20, 2), put_le(z, m.flags, 2), put_le(z, m.method, 2);
  put_le(z, 0, 4), put_le(z, crc, 4), put_le(z, csize, 4), put_le(z, size, 4), put_le(z, m.name.size(), 2);
  put_le(z, m.central_extra.size(), 2), put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, 0, 4);
  put_le(z, m.local_offset, 4);
  z += m.name + m.central_extra;
  const std::size_t cd_size = z.size() - cd;
  z += m.before_end;
  put_le(z, 0x06054b50, 4), put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, 1, 2), put_le(z, 1, 2);
  put_le(z, cd_size, 4), put_le(z, m.cd_offset != ~0ull ? m.cd_offset : cd, 4), put_le(z, 0, 2);
  return z;
}

// A ZIP64 end-of-central-directory locator pointing at `record_offset`.
std::string zip64_locator(std::uint64_t record_offset) {
  std::string s;
  put_le(s, 0x07064b50, 4), put_le(s, 0, 4), put_le(s, record_offset, 8), put_le(s, 1, 4);
  return s;
}

std::string deflated(const std::string& plain) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, plain.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A PNG header (signature and IHDR) of the given size: enough for a decoder to know the size.
std::string png_header(std::uint32_t w, std::uint32_t h) {
  std::string s = "\x89PNG\r\n\x1a\n";
  std::string chunk = "IHDR";
  put_be32(chunk, w), put_be32(chunk, h);
  chunk += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit grey: 400 MB decoded, 1.6 GB as floats
  put_be32(s, 13);
  s += chunk;
  put_be32(s, crc32_of(chunk));
  return s;
}

// One PNG chunk: length, type, data, CRC; `length` overrides the declared length.
std::string png_chunk(const std::string& type, const std::string& data, std::uint64_t length = ~0ull) {
  std::string s;
  put_be32(s, static_cast<std::uint32_t>(length != ~0ull ? length : data.size()));
  s += type + data;
  put_be32(s, crc32_of(type + data));
  return s;
}

std::string npy_bytes(const std::string& header_dict, const std::string& data) {
  std::string header = header_dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string b = "\x93NUMPY";
  b += '\x01', b += '\x00';
  b += static_cast<char>(header.size() & 0xff), b += static_cast<char>(header.size() >> 8);
  return b + header + data;
}

// x [1,1,8,8] -> Conv c1 (3x3, pads 1, 4 filters) -> Relu r -> GlobalAveragePool g -> y [1,4,1,1];
// `edit` changes it before it is saved.
std::string tiny_model(const std::function<void(statiq::test::OnnxBuilder&)>& edit = {}, std::int64_t opset = 13) {
  statiq::test::OnnxBuilder b(opset);
  b.input("x", {1, 1, 8, 8}).output("y", {1, 4, 1, 1});
  std::vector<float> w(4 * 9), bias{0.1f, -0.2f, 0.3f, 0.0f};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * float(int(i % 7) - 3);
  b.initializer("w", {4, 1, 3, 3}, w).initializer("b", {4}, bias);
  auto& c = b.node("Conv", {"x", "w", "b"}, {"t"}, "c1");
  statiq::test::OnnxBuilder::attr(c, "kernel_shape", std::vector<std::int64_t>{3, 3});
  statiq::test::OnnxBuilder::attr(c, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  b.node("Relu", {"t"}, {"r"}, "r");
  b.node("GlobalAveragePool", {"r"}, {"y"}, "g");
  if (edit) edit(b);
  std::string bytes;
  REQUIRE(b.model.SerializeToString(&bytes));
  return bytes;
}

// The attribute `key` of the node named `node` replaced by `values`.
void set_ints(statiq::test::OnnxBuilder& b, const std::string& node, const std::string& key,
              const std::vector<std::int64_t>& values) {
  for (auto& n : *b.graph->mutable_node()) {
    if (n.name() != node) continue;
    for (int i = 0; i < n.attribute_size(); ++i)
      if (n.attribute(i).name() == key) n.mutable_attribute()->DeleteSubrange(i, 1);
    statiq::test::OnnxBuilder::attr(n, key, values);
  }
}

struct HostileCase {
  std::string what;                    // the section name
  std::string args;                    // statiq-codegen's arguments, quoted; -o <out> is appended unless `no_out`
  std::vector<std::string> expect;     // substrings of the message
  bool no_out = false;                 // a subcommand without -o
};

}  // namespace

TEST_CASE("hostile inputs: exit 1, a message naming the input and the fix, nothing written", "[codegen][cli][hostile]") {
  const ScratchDir scratch("statiq_hostile_inputs");
  const fs::path& dir = scratch.path;
  const fs::path in = dir / "in";
  fs::create_directories(in);
  auto file = [&](const std::string& name, const std::string& bytes) {
    spit(in / name, bytes);
    return quoted(in / name);
  };
  auto fifo = [&](const std::string& name) {
    REQUIRE(::mkfifo((in / name).c_str(), 0600) == 0);
    return quoted(in / name);
  };

  // valid pieces the cases combine with one bad one
  const std::string model = file("tiny.onnx", tiny_model());
  std::vector<float> pixels(4 * 64);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = float((i * 37) % 256);
  const std::string npy_data = raw_bytes(pixels);
  const std::string npy = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 8, 8), }", npy_data);
  const std::string calib = file("x.npy", npy);
  const std::string main_job = " --target cpu-int8 --name tiny --calib ";
  auto gen = [&](const std::string& model_arg, const std::string& calib_arg, const std::string& extra = "") {
    return model_arg + main_job + calib_arg + extra;
  };

  // an ONNX model with external data for the Conv's weights: `kv` holds the external_data entries
  auto external = [&](const std::string& name, const std::vector<std::pair<std::string, std::string>>& kv,
                      const std::vector<std::int64_t>& dims = {4, 1, 3, 3}) {
    return file(name, tiny_model([&](statiq::test::OnnxBuilder& b) {
      auto* t = b.graph->mutable_initializer(0);
      t->clear_float_data();
      t->clear_dims();
      for (auto d : dims) t->add_dims(d);
      t->set_data_location(onnx::TensorProto::EXTERNAL);
      for (const auto& [k, v] : kv) {
        auto* e = t->add_external_data();
        e->set_key(k);
        e->set_value(v);
      }
    }));
  };
  spit(in / "w.bin", std::string(4 * 36, '\0'));
  spit(in / "short.bin", std::string(10, '\0'));
  const std::string huge = "18446744073709551615";  // 2^64 - 1

  const std::string npz_member = npy;
  std::string bomb_plain = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1, 8, 8), }", "");
  bomb_plain.resize(bomb_plain.size() + std::size_t(1048576) * 64 * 4, '\0');  // 256 MiB of zeros
  const std::string bomb = deflated(bomb_plain);
  bomb_plain.clear();
  bomb_plain.shrink_to_fit();

  auto zip64_extra = [](std::uint64_t v) {
    std::string s;
    put_le(s, 0x0001, 2), put_le(s, 8, 2), put_le(s, v, 8);
    return s;
  };
  fs::create_directories(in / "images_big");
  spit(in / "images_big" / "huge.png", png_header(20000, 20000));
  fs::create_directories(in / "images_chunk");
  spit(in / "images_chunk" / "chunk.png", png_header(4, 3) + png_chunk("IDAT", "x", 0x7fffffffu));
  fs::create_directories(in / "images_zbomb");
  {
    z_stream zs{};
    REQUIRE(deflateInit(&zs, 9) == Z_OK);  // a zlib stream, as PNG's IDAT holds: 64 MiB of zeros
    const std::string zeros(std::size_t(64) << 20, '\0');
    std::string z(deflateBound(&zs, zeros.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    zs.avail_in = static_cast<uInt>(zeros.size());
    zs.next_out = reinterpret_cast<Bytef*>(z.data());
    zs.avail_out = static_cast<uInt>(z.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    z.resize(zs.total_out);
    deflateEnd(&zs);
    spit(in / "images_zbomb" / "zbomb.png", png_header(4, 3) + png_chunk("IDAT", z) + png_chunk("IEND", ""));
  }
  fs::create_directories(in / "images_empty");
  spit(in / "images_empty" / "empty.png", "");
  fs::create_directories(in / "images_junk");
  spit(in / "images_junk" / "junk.png", "\x89PNG\r\n\x1a\n but not really a picture");
  fs::create_directories(in / "images_dht");
  {
    // SOI, then a DHT segment whose 16 code counts add up to 272 (a Huffman table has at most 256)
    std::string j = "\xff\xd8\xff\xc4";
    const std::size_t codes = 16 * 17;
    j += static_cast<char>((2 + 17 + codes) >> 8), j += static_cast<char>((2 + 17 + codes) & 0xff);
    j += '\x00';
    j += std::string(16, '\x11');
    j += std::string(codes, '\x01');
    spit(in / "images_dht" / "dht.jpg", j + "\xff\xd9");
  }
  fs::create_directories(in / "images_text");
  spit(in / "images_text" / "notes.jpg", "these are notes, not a picture\n");
  fs::create_directories(in / "pb_bad");
  spit(in / "pb_bad" / "input_0.pb", "\xff\xff\xff\xff not a protobuf");
  fs::create_directories(in / "pb_index");
  spit(in / "pb_index" / "input_99999999999999999999.pb", "");
  fs::create_directories(in / "dir.onnx");
  const std::string labels_ok = raw_bytes(std::vector<std::int64_t>{0, 1, 2, 3});
  auto labels = [&](const std::string& name, const std::string& descr, const std::string& data, int n) {
    return file(name, npy_bytes("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(n) +
                                    ",), }",
                                data));
  };
  const std::string opset11_dangling = file("dangling11.onnx", tiny_model([](statiq::test::OnnxBuilder& b) {
    b.output("nowhere", {1, 4, 1, 1});
  }, 11));

  const std::vector<HostileCase> cases = {
      // -- the model file
      {"missing model", gen(quoted(in / "none.onnx"), calib), {"none.onnx", "cannot open", "check the path"}},
      {"a folder as model", gen(quoted(in / "dir.onnx"), calib), {"dir.onnx", "is a folder"}},
      {"a FIFO as model", gen(fifo("pipe.onnx"), calib), {"pipe.onnx", "not a regular file"}},
      {"an empty model", gen(file("empty.onnx", ""), calib), {"empty.onnx", "empty file"}},
      {"half a model", gen(file("half.onnx", tiny_model().substr(0, 60)), calib), {"half.onnx", "not an ONNX model"}},
      {"a model over --max-input-bytes", gen(model, calib, " --max-input-bytes 100"),
       {"tiny.onnx", "over the input limit", "--max-input-bytes"}},
      // -- attributes the ONNX library divides by, and graphs its converter dereferences
      {"Conv strides [0,0]",
       gen(file("s0.onnx", tiny_model([](auto& b) { set_ints(b, "c1", "strides", {0, 0}); })), calib),
       {"s0.onnx", "node 'c1' (Conv)", "strides holds 0", "must be positive"}},
      {"Conv strides [-1,1]",
       gen(file("sneg.onnx", tiny_model([](auto& b) { set_ints(b, "c1", "strides", {-1, 1}); })), calib),
       {"sneg.onnx", "strides holds -1"}},
      {"Conv dilations [0,1]",
       gen(file("d0.onnx", tiny_model([](auto& b) { set_ints(b, "c1", "dilations", {0, 1}); })), calib),
       {"d0.onnx", "dilations holds 0"}},
      {"Conv kernel_shape [0,0]",
       gen(file("k0.onnx", tiny_model([](auto& b) { set_ints(b, "c1", "kernel_shape", {0, 0}); })), calib),
       {"k0.onnx", "kernel_shape holds 0"}},
      {"Conv pads [-1,...]",
       gen(file("pneg.onnx", tiny_model([](auto& b) { set_ints(b, "c1", "pads", {-1, 1, 1, 1}); })), calib),
       {"pneg.onnx", "pads holds -1", "must not be negative"}},
      {"Conv group 0", gen(file("g0.onnx", tiny_model([](auto& b) {
                             statiq::test::OnnxBuilder::attr(*b.graph->mutable_node(0), "group", std::int64_t{0});
                           })),
                           calib),
       {"g0.onnx", "group is 0"}},
      {"MaxPool strides [0,0]", gen(file("mp0.onnx", tiny_model([](auto& b) {
                                      auto& n = b.node("MaxPool", {"r"}, {"m"}, "pool");
                                      statiq::test::OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{2, 2});
                                      statiq::test::OnnxBuilder::attr(n, "strides", std::vector<std::int64_t>{0, 0});
                                    })),
                                    calib),
       {"mp0.onnx", "node 'pool' (MaxPool)", "strides holds 0"}},
      {"check on Conv strides [0,0]", "check " + quoted(in / "s0.onnx") + " --target cpu-int8",
       {"s0.onnx", "strides holds 0"}, true},
      {"opset 11 output that no node produces", gen(opset11_dangling, calib),
       {"dangling11.onnx", "output 'nowhere'", "produced by no node"}},
      {"opset 7 output that no node produces",
       gen(file("dangling7.onnx", tiny_model([](auto& b) { b.output("nowhere", {1, 4, 1, 1}); }, 7)), calib),
       {"dangling7.onnx", "produced by no node"}},
      {"check on an opset 11 dangling output", "check " + opset11_dangling, {"produced by no node"}, true},
      {"an input with 2^126 elements",
       gen(file("big_input.onnx", tiny_model([](auto& b) {
             auto* d = b.graph->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
             d->mutable_dim(2)->set_dim_value(std::int64_t{1} << 62);
             d->mutable_dim(3)->set_dim_value(std::int64_t{1} << 62);
           })),
           calib),
       {"x.npy", "model input 'x' [1,1,4611686018427387904,4611686018427387904]"}},
      // -- external data
      {"external offset 2^64-1", gen(external("eo.onnx", {{"location", "w.bin"}, {"offset", huge}}), calib),
       {"eo.onnx", "tensor 'w'", "offset 18446744073709551615 beyond the file"}},
      {"external length 2^64-1",
       gen(external("el.onnx", {{"location", "w.bin"}, {"offset", "8"}, {"length", huge}}), calib),
       {"el.onnx", "tensor 'w'", "length 18446744073709551615", "need 144 bytes"}},
      {"external offset -1", gen(external("en.onnx", {{"location", "w.bin"}, {"offset", "-1"}}), calib),
       {"en.onnx", "offset '-1' is not a non-negative integer"}},
      {"external offset 12abc", gen(external("ea.onnx", {{"location", "w.bin"}, {"offset", "12abc"}}), calib),
       {"ea.onnx", "offset '12abc'"}},
      {"external data from a FIFO", gen(external("ef.onnx", {{"location", "wpipe.bin"}}), calib),
       {"ef.onnx", "not a regular file"}},
      {"external data shorter than the tensor", gen(external("es.onnx", {{"location", "short.bin"}}), calib),
       {"es.onnx", "short.bin", "truncated", "needs 144"}},
      {"external data of 4 TiB declared by the dims",
       gen(external("edims.onnx", {{"location", "w.bin"}}, {1 << 20, 1 << 20}), calib),
       {"edims.onnx", "tensor 'w'", "over the input limit"}},
      {"external dims overflowing 64 bits",
       gen(external("eover.onnx", {{"location", "w.bin"}}, {std::int64_t{1} << 40, std::int64_t{1} << 40}), calib),
       {"eover.onnx", "overflow 64 bits"}},
      {"external data outside the model's folder", gen(external("eout.onnx", {{"location", "../x.bin"}}), calib),
       {"eout.onnx", "outside the model's folder"}},
      // -- .npy samples
      {"a FIFO as .npy", gen(model, fifo("pipe.npy")), {"pipe.npy", "not a regular file"}},
      {"missing .npy", gen(model, quoted(in / "none.npy")), {"none.npy", "do not exist"}},
      {".npy over --max-input-bytes", gen(model, calib, " --max-input-bytes 1100"),
       {"x.npy", "over the input limit", "--max-input-bytes"}},
      {".npy with a bad magic", gen(model, file("magic.npy", "NOTNUMPY" + npy.substr(8))), {"magic.npy", "bad magic"}},
      {".npy cut in its header", gen(model, file("cut.npy", npy.substr(0, 30))), {"cut.npy", "truncated"}},
      {".npy declaring 10^12 rows", gen(model, file("rows.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                                                          "'shape': (1000000000000, 1, 8, 8), }",
                                                                          npy_data))),
       {"rows.npy", "truncated"}},
      {".npy with a shape past 2^64",
       gen(model, file("ovf.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, "
                                            "18446744073709551615), }",
                                            npy_data))),
       {"ovf.npy"}},
      {".npy in Fortran order",
       gen(model, file("fort.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 1, 8, 8), }",
                                             npy_data))),
       {"fort.npy", "fortran_order"}},
      {"big-endian .npy",
       gen(model, file("be.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4, 1, 8, 8), }",
                                           npy_data))),
       {"be.npy", "big-endian"}},
      {"a garbage .npy header",
       gen(model, file("hdr.npy", npy_bytes("{'descr': '<f4', 'shape': (4,, }", npy_data))), {"hdr.npy"}},
      // -- .npz samples
      {"a text file as .npz", gen(model, file("text.npz", "just some text, not a zip archive at all")),
       {"text.npz", "no ZIP end-of-central-directory record"}},
      {"a 10-byte .npz", gen(model, file("tiny.npz", "PK\x05\x06 abc")), {"tiny.npz", "too short"}},
      {"a FIFO as .npz", gen(model, fifo("pipe.npz")), {"pipe.npz", "not a regular file"}},
      {"an .npz member declaring 4 GiB",
       gen(model, file("m4g.npz", zip_of({.data = npz_member, .size = 0xfffffffeu, .compressed_size = 0xfffffffeu}))),
       {"m4g.npz", "member 'x.npy'", "declares 4294967294 bytes", "--max-input-bytes"}},
      {"an .npz deflate bomb (256 MiB of zeros)",
       gen(model, file("bomb.npz", zip_of({.data = bomb, .method = 8, .uncompressed = std::string(1, 'x'),
                                           .size = std::uint64_t(256) << 20})),
           " --max-input-bytes 16777216"),
       {"bomb.npz", "declares 268435", "over the input limit"}},
      {"an .npz deflate member larger than declared",
       gen(model, file("under.npz", zip_of({.data = deflated(npz_member), .method = 8, .uncompressed = npz_member,
                                            .size = 100}))),
       {"under.npz", "member 'x.npy'", "corrupt deflate data"}},
      {"an .npz central directory past the end",
       gen(model, file("cd.npz", zip_of({.data = npz_member, .cd_offset = 0xfffffff0u}))),
       {"cd.npz", "central directory runs past the end"}},
      {"an .npz ZIP64 locator pointing at 2^64-8",
       gen(model, file("loc.npz", zip_of({.data = npz_member, .cd_offset = 0xffffffffu,
                                          .before_end = zip64_locator(~0ull - 7)}))),
       {"loc.npz", "truncated or corrupt"}},
      {"an .npz ZIP64 local header offset 2^64-1",
       gen(model, file("off.npz", zip_of({.data = npz_member, .local_offset = 0xffffffffu,
                                          .central_extra = zip64_extra(~0ull)}))),
       {"off.npz", "member 'x.npy'", "local header past the end"}},
      {"an .npz ZIP64 extra field shorter than its values",
       gen(model, file("short64.npz", zip_of({.data = npz_member, .size = 0xffffffffu,
                                              .central_extra = std::string("\x01\x00\x04\x00\x00\x00\x00\x00", 8)}))),
       {"short64.npz", "short ZIP64 extra field"}},
      {"an .npz member compressed size 2^64-1",
       gen(model, file("csz.npz", zip_of({.data = npz_member, .compressed_size = 0xffffffffu,
                                          .central_extra = zip64_extra(~0ull)}))),
       {"csz.npz", "runs past the end of the file"}},
      {"an .npz member with a wrong CRC", gen(model, file("crc.npz", zip_of({.data = npz_member, .crc = 0x12345678}))),
       {"crc.npz", "CRC-32"}},
      {"an encrypted .npz member", gen(model, file("enc.npz", zip_of({.data = npz_member, .flags = 1}))),
       {"enc.npz", "encrypted"}},
      {"an .npz member in bzip2", gen(model, file("bz.npz", zip_of({.data = npz_member, .method = 12}))),
       {"bz.npz", "compression method 12"}},
      // -- images and TensorProto samples
      {"a 20000x20000 PNG", gen(model, quoted(in / "images_big")), {"huge.png", "20000x20000x1", "over the input limit"}},
      {"a PNG chunk declaring 2 GiB", gen(model, quoted(in / "images_chunk")),
       {"chunk.png", "corrupt PNG: chunk 'IDAT' declares 2147483647 bytes"}},
      {"a 4x3 PNG whose data inflates to 64 MiB", gen(model, quoted(in / "images_zbomb")),
       {"zbomb.png", "inflates to more than", "4x3 pixels"}},
      {"an empty PNG", gen(model, quoted(in / "images_empty")), {"empty.png", "empty"}},
      {"a PNG signature then text", gen(model, quoted(in / "images_junk")), {"junk.png", "corrupt PNG: chunk ' not'"}},
      {"a JPEG Huffman table of 272 codes", gen(model, quoted(in / "images_dht")),
       {"dht.jpg", "corrupt JPEG: a Huffman table (DHT) lists 272 codes"}},
      {"a text file named .jpg", gen(model, quoted(in / "images_text")), {"notes.jpg", "cannot decode", "PNG and JPEG"}},
      {"a corrupt input_0.pb", gen(model, quoted(in / "pb_bad")), {"input_0.pb", "not a serialized onnx.TensorProto"}},
      {"input_<20 digits>.pb", gen(model, quoted(in / "pb_index")), {"input_99999999999999999999.pb"}},
      // -- --node-config
      {"--node-config with a key twice", gen(model, calib, " --node-config " + file("dup.json", R"({"c1": {"w": 4}, "c1": {"w": 8}})")),
       {"dup.json", "'c1' is given twice"}},
      {"--node-config with a key twice inside an entry",
       gen(model, calib, " --node-config " + file("dup2.json", R"({"c1": {"w": 4, "w": 8}})")), {"dup2.json", "'w' is given twice"}},
      {"--node-config not JSON", gen(model, calib, " --node-config " + file("bad.json", "{c1: 4")),
       {"bad.json", "not valid JSON"}},
      {"--node-config with invalid UTF-8", gen(model, calib, " --node-config " + file("utf.json", "{\"c\xff\": {\"w\": 4}}")),
       {"utf.json", "not valid JSON"}},
      {"--node-config naming no node", gen(model, calib, " --node-config " + file("nonode.json", R"({"conv9": {"w": 4}})")),
       {"nonode.json", "no node or graph input named 'conv9'"}},
      {"--node-config with 3 bits", gen(model, calib, " --node-config " + file("bits.json", R"({"c1": {"w": 3}})")),
       {"bits.json", "must be 1, 2, 4 or 8"}},
      {"--node-config not an object", gen(model, calib, " --node-config " + file("arr.json", "[1, 2]")),
       {"arr.json", "expected an object"}},
      {"--node-config from a FIFO", gen(model, calib, " --node-config " + fifo("cfg.json")), {"cfg.json", "not a regular file"}},
      // -- --labels
      {"--labels out of range", gen(model, calib, " --labels " + labels("big.npy", "<i8", raw_bytes(std::vector<std::int64_t>{0, 1, 9, 2}), 4)),
       {"big.npy", "label 2 is 9", "4 classes"}},
      {"--labels negative", gen(model, calib, " --labels " + labels("neg.npy", "<i8", raw_bytes(std::vector<std::int64_t>{-1, 1, 2, 3}), 4)),
       {"neg.npy", "label 0 is -1"}},
      {"--labels too few", gen(model, calib, " --labels " + labels("few.npy", "<i8", raw_bytes(std::vector<std::int64_t>{0, 1}), 2)),
       {"few.npy", "2 labels for 4 evaluation samples"}},
      {"--labels as complex numbers", gen(model, calib, " --labels " + labels("cx.npy", "<c8", std::string(32, '\0'), 4)),
       {"cx.npy", "labels are an int64 .npy"}},
      {"--labels missing", gen(model, calib, " --labels " + quoted(in / "nolabels.npy")), {"nolabels.npy", "cannot open"}},
      // -- names and outputs
      {"--name that is no namespace", model + " --target cpu-int8 --name 'Bad Name' --calib " + calib,
       {"--name 'Bad Name'", "use e.g. 'bad_name'"}},
      {"--name checked before the model is read", quoted(in / "none.onnx") + " --name '9 lives' --calib " + calib,
       {"--name '9 lives'"}},
      {"--name with a newline", model + " --name \"$(printf 'a\\nb')\" --calib " + calib, {"--name 'a\\x0ab'"}},
      {"--qdq on a hardware target", model + " --target akida-v2 --name tiny --calib " + calib + " --qdq " +
                                         quoted(dir / "q.onnx"),
       {"--qdq", "cpu-int8"}},
      {"--qdq into a missing folder", gen(model, calib, " --qdq " + quoted(dir / "nofolder" / "q.onnx")),
       {"QDQ export: cannot write", "create the folder or choose another path"}},
      {"--qoperator into a missing folder", gen(model, calib, " --qoperator " + quoted(dir / "nofolder" / "q.onnx")),
       {"QOperator export: cannot write", "create the folder or choose another path"}},
      {"run-float on a zero-sized input",
       "run-float " + file("zero.onnx", tiny_model([](auto& b) {
         b.graph->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_value(0);
       })) + " --input " + calib + " -o " + quoted(dir / "y.npy"),
       {"zero.onnx", "zero dimension"}, true},
      {"run-float on a FIFO", "run-float " + model + " --input " + fifo("in.npy"), {"in.npy", "not a regular file"}, true},
      // Elu: no statiq layer computes it (a Relu is a lookup table now, and 100,000 of them a valid if slow engine)
      {"a chain of 100,000 Elu nodes", gen(file("chain.onnx", [] {
         statiq::test::OnnxBuilder b;
         b.input("x", {1, 1, 8, 8}).output("y", {1, 1, 8, 8});
         for (int i = 0; i < 100000; ++i)
           b.node("Elu", {i ? "t" + std::to_string(i - 1) : "x"}, {i + 1 < 100000 ? "t" + std::to_string(i) : "y"},
                  "elu" + std::to_string(i));
         std::string bytes;
         REQUIRE(b.model.SerializeToString(&bytes));
         return bytes;
       }()), calib),
       {"node 'elu0' (Elu)", "--unmapped float"}},  // in seconds (was 127 s): the timeout bounds it
      {"an operator no layer computes, with a hostile name",
       gen(file("sin.onnx", tiny_model([](auto& b) {
             b.graph->mutable_node(1)->set_op_type("Sin");
             b.graph->mutable_node(1)->set_name("wave\n\x1b[2J");
           })),
           calib),
       // escaped where the message is made: the newline too, not only at the terminal
       {"'wave\\x0a\\x1b[2J' (Sin)"}},
      {"a node name that would forge a line of the log",
       gen(file("forge.onnx", tiny_model([](auto& b) {
             b.graph->mutable_node(1)->set_op_type("Sin");
             b.graph->mutable_node(1)->set_name("r\nstatiq-codegen: wrote out/tiny.hpp");
           })),
           calib),
       {"'r\\x0astatiq-codegen: wrote out/tiny.hpp' (Sin)", "no statiq layer computes Sin"}},
  };
  REQUIRE(::mkfifo((in / "wpipe.bin").c_str(), 0600) == 0);

  const fs::path out = dir / "out";
  CHECK(cases.size() >= 60);
  for (const HostileCase& c : cases) {
    {
      const Outcome o = codegen(c.args + (c.no_out ? "" : " -o " + quoted(out)));
      INFO(c.what << "\nstatiq-codegen " << c.args << "\n" << o.output);
      CHECK(o.status == 1);
      CHECK_THAT(o.output, Catch::StartsWith("statiq-codegen: error: "));
      for (const std::string& e : c.expect) CHECK_THAT(o.output, Catch::Contains(e));
      // no raw control bytes (a name's newline or escape sequence) and none of the messages that say nothing
      CHECK(std::all_of(o.output.begin(), o.output.end(),
                        [](char ch) { return ch == '\n' || (ch >= 0x20 && ch < 0x7f); }));
      for (const char* vague : {"bad_alloc", "stol", "invalid UTF-8 byte", "[?]", "max_size()", "vector::_M"})
        CHECK_THAT(o.output, !Catch::Contains(vague));
      // nothing written: no output folder, no export, no temporary file beside them
      CHECK(!fs::exists(out));
      CHECK(!fs::exists(dir / "q.onnx"));
      CHECK(!fs::exists(dir / "y.npy"));
      for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "in");
      // a failure here must not make the next case fail
      fs::remove_all(out);
      fs::remove(dir / "q.onnx");
      fs::remove(dir / "y.npy");
    }
  }
}
