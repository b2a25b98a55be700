// Hostile names (issue 9): a model whose node, tensor and file names carry newlines, CR, a trailing
// backslash, "*/", quotes, "??/" trigraphs, NUL, invalid UTF-8 and 10,000 characters, each with a
// canary (#error, a declaration) that would break the build or declare something if a name ever
// reached the generated code unescaped. statiq-codegen runs on it; the generated files must hold
// nothing but printable ASCII, no canary outside a comment or a string literal, compile with
// comment warnings as errors, and pass their self-test.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "onnx_builder.hpp"
#include "statiq/io/npy.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using statiq::test::OnnxBuilder;

namespace {

// Runs statiq-codegen with `args` (no shell: a name with quotes or newlines stays one argument);
// stdout and stderr go to `log`. The exit status, -1 if it did not exit.
int run_codegen(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  std::string exe = STATIQ_CODEGEN_EXE;
  argv.push_back(exe.data());
  std::vector<std::string> copies = args;
  for (std::string& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<float> random_values(std::size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Each name ends its line and starts a line the compiler would act on, if it were copied raw.
std::string canary(const std::string& tag) { return "\n#error INJECTED_" + tag + "\nint INJECTED_" + tag + " = 1;\n"; }

}  // namespace

TEST_CASE("hostile names reach the generated code only escaped; it compiles and passes its self-test",
          "[codegen][hostile]") {
  const statiq::test::ScratchDir scratch("statiq_hostile_names");
  const fs::path& dir = scratch.path;

  const std::string conv_a = "conv" + canary("NEWLINE") + "\\";                       // backslash at the end
  const std::string relu = std::string("relu\r#error INJECTED_CR\r") + "c */ int INJECTED_CLOSE = 1; /*";
  const std::string conv_b = "q\"); int INJECTED_QUOTE = 1; (\"" + std::string("tri?\?/") + canary("TRIGRAPH");
  const std::string gap = std::string("nul\0", 4) + canary("NUL") + "\xff\xfe\xc0\x80 bad UTF-8 \xe2\x80\xae";
  const std::string long_name = std::string(10000, 'L') + canary("LONG") + "\\";
  const std::string input = "in" + canary("INPUT") + "\\";
  const std::string output = "out*/" + canary("OUTPUT") + "?\?/";

  OnnxBuilder b;
  b.input(input, {1, 1, 8, 8}).output(output, {1, 4, 1, 1});
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out, int ci, int co,
                  unsigned seed) {
    b.initializer(name + "_w" + canary("WEIGHTS"), {co, ci, 3, 3}, random_values(std::size_t(co * ci * 9), seed, 0.5f));
    b.initializer(name + "_b" + canary("BIAS"), {co}, random_values(std::size_t(co), seed + 1, 0.5f));
    auto& n = b.node("Conv", {in, name + "_w" + canary("WEIGHTS"), name + "_b" + canary("BIAS")}, {out}, name);
    OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{3, 3});
    OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  };
  const std::string t1 = "t1" + canary("TENSOR"), t2 = "t2\\", t3 = long_name + "_t3";
  conv(conv_a, input, t1, 1, 4, 1);
  b.node("Relu", {t1}, {t2}, relu);
  conv(conv_b, t2, t3, 4, 4, 3);
  b.node("Relu", {t3}, {"t4"}, long_name);
  b.node("GlobalAveragePool", {"t4"}, {output}, gap);

  // The model file's own name is hostile too (a file name cannot hold '/' or NUL).
  const fs::path model = dir / ("mo\\del\n#error INJECTED_PATH\n\"?\?=\xff.onnx");
  {
    std::ofstream f(model, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  std::vector<float> rows = random_values(8 * 64, 7, 60.0f);
  for (float& v : rows) v = std::min(std::abs(v), 255.0f);
  statiq::io::write_npy<float>(dir / "x.npy", {8, 1, 8, 8}, rows);

  const fs::path out = dir / "out";
  const int status = run_codegen({model.string(), "--target", "cpu-int8", "--calib", (dir / "x.npy").string(), "-o",
                                  out.string()},
                                 dir / "codegen.log");
  INFO(statiq::test::slurp(dir / "codegen.log"));
  REQUIRE(status == 0);

  // The namespace comes from the file's stem, through the same identifier rule as the layers.
  const std::string name = "mo_del_error_injected_path";
  for (const std::string& file : std::vector<std::string>{name + ".hpp", name + "_data.cpp", name + "_selftest.cpp", name + "_report.txt"}) {
    INFO(file);
    const std::string text = statiq::test::slurp(out / file);
    REQUIRE(!text.empty());
    // only printable ASCII and '\n': no CR, NUL, bytes of UTF-8 (bidirectional overrides) or escapes
    CHECK(std::all_of(text.begin(), text.end(), [](char c) { return c == '\n' || (c >= 0x20 && c < 0x7f); }));
    if (file.ends_with(".txt")) continue;
    CHECK(text.find("?\?") == std::string::npos);  // no trigraph in comments or literals
    std::istringstream lines(text);
    int canaries = 0;
    for (std::string line; std::getline(lines, line);) {
      INFO(line.substr(0, 300));
      CHECK((line.empty() || line.back() != '\\'));  // no line splice
      const std::size_t first = line.find_first_not_of(' ');
      const std::string code = first == std::string::npos ? "" : line.substr(first);
      CHECK(!code.starts_with("#error"));
      CHECK(!code.starts_with("int INJECTED"));
      if (code.starts_with("//")) CHECK(code.find("*/") == std::string::npos);  // as a /* */ comment too
      // identifiers are lower case: an upper-case canary is in a comment or inside a string literal
      const std::size_t at = code.find("INJECTED");
      if (at == std::string::npos) continue;
      ++canaries;
      const bool in_comment = code.starts_with("//");
      const std::size_t quote = code.find('"');
      const bool in_literal = quote != std::string::npos && quote < at;
      CHECK((in_comment || in_literal));
    }
    if (file == name + ".hpp") CHECK(canaries > 0);  // the names are shown, not dropped
  }

  // The 10,000-character name is cut in comments and in the layer type's name.
  const std::string header = statiq::test::slurp(out / (name + ".hpp"));
  CHECK(header.find(std::string(121, 'L')) == std::string::npos);
  CHECK(header.find(std::string(120, 'L') + "...(100") != std::string::npos);

  // The JSON report is valid JSON (invalid UTF-8 replaced) and keeps the names' text.
  const nlohmann::json report = nlohmann::json::parse(statiq::test::slurp(out / (name + "_report.json")));
  CHECK(report["input"]["tensor"] == input);
  CHECK(report["layers"][1]["name"] == conv_a);  // layer 0: the input Quantize
  CHECK(report["source"]["file"].get<std::string>().find("INJECTED_PATH") != std::string::npos);

  // The files compile with comment warnings as errors (a backslash-newline in a // comment) and
  // the engine reproduces its golden vectors.
  CHECK(statiq::test::compile_and_self_test(out, name, "-Wall -Werror=comment -Werror=trigraphs") == "");
}

TEST_CASE("names in messages and reports are escaped where the message is made, not only at the terminal",
          "[codegen][hostile]") {
  // A newline in a name would forge a line of the log or of the report ("statiq-codegen: wrote
  // ..."), an escape sequence would act on the terminal: every message that shows a name shows
  // display_name() of it, so the JSON report's strings hold no control byte either.
  const statiq::test::ScratchDir scratch("statiq_hostile_messages");
  const fs::path& dir = scratch.path;
  const std::string bn = "bn\nstatiq-codegen: wrote FORGED_BN\x1b[2J\\";
  const std::string id = "id\r\nstatiq-codegen: wrote FORGED_ID";
  const std::string scale = "scale\n\x07";
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).output("y", {1, 4, 1, 1});
  b.initializer("w", {4, 1, 3, 3}, random_values(36, 11, 0.5f));
  b.initializer(scale, {4}, {1.0f, 0.5f, 2.0f, 1.5f}).initializer("shift", {4}, {0.1f, -0.1f, 0.0f, 0.2f});
  b.initializer("mean", {4}, {0.0f, 0.1f, -0.1f, 0.0f}).initializer("var", {4}, {1.0f, 2.0f, 0.5f, 1.0f});
  auto& c = b.node("Conv", {"x", "w"}, {"c"}, "conv");
  OnnxBuilder::attr(c, "kernel_shape", std::vector<std::int64_t>{3, 3});
  OnnxBuilder::attr(c, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  b.node("BatchNormalization", {"c", scale, "shift", "mean", "var"}, {"n"}, bn);
  b.node("Identity", {"n"}, {"i"}, id);
  b.node("Relu", {"i"}, {"r"}, "relu");
  b.node("GlobalAveragePool", {"r"}, {"y"}, "gap");
  const fs::path model = dir / "model.onnx";
  {
    std::ofstream f(model, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  std::vector<float> rows = random_values(8 * 64, 7, 60.0f);
  for (float& v : rows) v = std::min(std::abs(v), 255.0f);
  statiq::io::write_npy<float>(dir / "x.npy", {8, 1, 8, 8}, rows);

  const fs::path out = dir / "out";
  const int status = run_codegen({model.string(), "--target", "cpu-int8", "--name", "m", "--calib",
                                  (dir / "x.npy").string(), "-o", out.string()},
                                 dir / "codegen.log");
  const std::string log = statiq::test::slurp(dir / "codegen.log");
  INFO(log);
  REQUIRE(status == 0);
  auto printable_lines = [](const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char ch) { return ch == '\n' || (ch >= 0x20 && ch < 0x7f); });
  };
  CHECK(printable_lines(log));
  CHECK(log.find("\nstatiq-codegen: wrote FORGED") == std::string::npos);

  const std::string text_report = statiq::test::slurp(out / "m_report.txt");
  CHECK(printable_lines(text_report));
  CHECK(text_report.find("\nstatiq-codegen: wrote FORGED") == std::string::npos);

  // The JSON report's strings, decoded: no control byte in any note (names shown escaped), and the
  // normalisation's notes name the nodes in display_name's form.
  const nlohmann::json report = nlohmann::json::parse(statiq::test::slurp(out / "m_report.json"));
  REQUIRE(report.contains("notes"));
  std::string notes;
  for (const auto& n : report["notes"]) {
    const std::string s = n.get<std::string>();
    INFO(s);
    CHECK(std::all_of(s.begin(), s.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; }));
    notes += s + "\n";
  }
  INFO(notes);
  CHECK(notes.find("folded BatchNormalization 'bn\\x0astatiq-codegen: wrote FORGED_BN\\x1b[2J\\x5c' into Conv "
                   "'conv'") != std::string::npos);
  CHECK(notes.find("removed Identity 'id\\x0d\\x0astatiq-codegen: wrote FORGED_ID'") != std::string::npos);
}
