// fuzz/fuzz_npz.cpp — a ZIP/.npz archive from arbitrary bytes: the central directory parsed and
// every member read (inflated, size- and CRC-checked) under the harness's 64 MiB input limit.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "codegen/calib/zip_archive.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = statiq::fuzz::write_input(data, size, ".npz");
  try {
    const statiq::codegen::calib::ZipArchive zip(file, "npz");
    for (const auto& e : zip.entries()) {
      try {
        (void)zip.read(e);
      } catch (const std::exception&) {
      }
    }
  } catch (const std::exception&) {
  }
  return 0;
}
