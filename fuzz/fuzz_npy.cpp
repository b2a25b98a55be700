// fuzz/fuzz_npy.cpp — a .npy file from arbitrary bytes through statiq::io::read_npy and the
// conversion the calibration reader makes (as<float>).
#include <cstddef>
#include <cstdint>
#include <exception>

#include "fuzz/fuzz_input.hpp"
#include "statiq/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = statiq::fuzz::write_input(data, size, ".npy");
  try {
    statiq::codegen::check_input_file(file, "npy file");
    const statiq::io::NpyArray a = statiq::io::read_npy(file);
    (void)a.as<float>();
  } catch (const std::exception&) {
  }
  return 0;
}
