// fuzz/fuzz_input.hpp — what the harnesses share: the fuzzer's bytes as a file (the readers take
// paths, as statiq-codegen does), and a small input limit so a declared size cannot exhaust the
// fuzzer's memory before the reader's own check runs.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "codegen/input/input_file.hpp"

namespace statiq::fuzz {

// A file of this process (one per harness process, so -jobs and -fork runs do not collide).
inline std::filesystem::path input_file(const std::string& extension) {
  return std::filesystem::temp_directory_path() /
         ("statiq_fuzz_" + std::to_string(::getpid()) + extension);
}

inline std::filesystem::path write_input(const std::uint8_t* data, std::size_t size, const std::string& extension) {
  codegen::set_max_input_bytes(std::uint64_t{64} << 20);  // 64 MiB: far below libFuzzer's rss limit
  const std::filesystem::path p = input_file(extension);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p;
}

}  // namespace statiq::fuzz
