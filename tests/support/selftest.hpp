// tests/support/selftest.hpp — builds a generated engine the way its files document (the data and
// self-test translation units, the library's include folder, -lfmt) and runs its self-test, which
// exits 0 only when every golden vector is reproduced bit for bit. Needs STATIQ_CXX and
// STATIQ_SOURCE_DIR (compile definitions of the test target).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/files.hpp"

// The flags that choose the engine's kernels in this build (-march=..., or the reference kernels):
// a generated engine compiled by a test runs the kernels the build's own engines run.
#ifndef STATIQ_ENGINE_FLAGS
#define STATIQ_ENGINE_FLAGS ""
#endif

namespace statiq::test {

// Runs a shell command with its output in `log`; the exit status, -1 if it did not exit.
inline int run_command(const std::string& command, const std::filesystem::path& log) {
  const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Compiles <out>/<name>_data.cpp and <name>_selftest.cpp (-O1, plus `flags`) and runs the program.
// Returns empty on success, else the compiler's or the program's output (for INFO / CHECK).
inline std::string compile_and_self_test(const std::filesystem::path& out, const std::string& name,
                                         const std::string& flags = "") {
  const std::filesystem::path exe = out / (name + "_selftest");
  const std::string compile = std::string("'") + STATIQ_CXX + "' -std=c++20 -O1 " STATIQ_ENGINE_FLAGS " " + flags + " -I'" STATIQ_SOURCE_DIR
                              "/include' -I'" + out.string() + "' '" + (out / (name + "_data.cpp")).string() + "' '" +
                              (out / (name + "_selftest.cpp")).string() + "' -lfmt -o '" + exe.string() + "'";
  if (run_command(compile, out / "compile.log") != 0) return "compile failed:\n" + slurp(out / "compile.log");
  if (run_command("'" + exe.string() + "'", out / "selftest.log") != 0)
    return "self-test failed:\n" + slurp(out / "selftest.log");
  return {};
}

}  // namespace statiq::test
