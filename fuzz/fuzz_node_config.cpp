// fuzz/fuzz_node_config.cpp — a --node-config JSON file from arbitrary bytes through
// read_node_config (duplicate keys, types, bit widths, quantizer names).
#include <cstddef>
#include <cstdint>
#include <exception>

#include "codegen/generate/generate.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = statiq::fuzz::write_input(data, size, ".json");
  try {
    (void)statiq::codegen::read_node_config(file);
  } catch (const std::exception&) {
  }
  return 0;
}
