// tests/ort/ort_oracle.hpp — the onnxruntime oracle as the tests call it: tools/ort/run.js on a
// model and an .npy of rows, the .npy file it writes per tensor, and its NCHW rows in statiq's NHWC
// order. Needs STATIQ_NODE and STATIQ_ORT_RUN (compile definitions of the test target).
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "statiq/core/shape.hpp"
#include "tests/support/files.hpp"

namespace statiq::test {

// node tools/ort/run.js model --input x.npy <args>, its output in `log`; exit status 0 required.
inline void run_ort(const std::filesystem::path& model, const std::filesystem::path& input, const std::string& args,
                    const std::filesystem::path& log) {
  const std::string cmd = fmt::format("'{}' '{}' '{}' --input '{}' {} > '{}' 2>&1", STATIQ_NODE, STATIQ_ORT_RUN,
                                      model.string(), input.string(), args, log.string());
  const int status = std::system(cmd.c_str());
  INFO(cmd << "\n" << slurp(log));
  REQUIRE(std::filesystem::exists(std::filesystem::path(STATIQ_ORT_RUN).parent_path() / "node_modules" /
                                  "onnxruntime-node"));  // scripts/setup.sh
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// The file run.js --out-dir writes for `tensor`: characters other than [A-Za-z0-9_.-] become _.
inline std::string ort_file_name(std::string tensor) {
  for (char& ch : tensor)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ch = '_';
  return tensor + ".npy";
}

// Elements that differ between the engine's integers and onnxruntime's (all of them when the sizes differ).
inline std::size_t mismatches(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  if (a.size() != b.size()) return std::max(a.size(), b.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

// Row r of onnxruntime's [rows, C, H, W] (or [rows, units]) values, in statiq's NHWC order.
template <class T>
std::vector<T> row_nhwc(const std::vector<T>& all, std::size_t r, Shape s) {
  const std::size_t n = std::size_t(s.size());
  REQUIRE(all.size() >= (r + 1) * n);
  std::vector<T> out(n);
  for (int c = 0; c < s.c; ++c)
    for (int h = 0; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w)
        out[(std::size_t(h) * s.w + w) * s.c + c] = all[r * n + (std::size_t(c) * s.h + h) * s.w + w];
  return out;
}

}  // namespace statiq::test
