// fuzz/fuzz_onnx.cpp — an ONNX model from arbitrary bytes through the loader (checks, the ONNX
// checker, version converter and shape inference) and normalisation. A refusal is an exception of
// the loader; anything else (a crash, a sanitizer report, a hang, an exception from normalisation)
// is a bug.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>

#include <onnx/onnx_pb.h>

#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  statiq::codegen::set_max_input_bytes(std::uint64_t{64} << 20);
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) return 0;
  // external data resolves inside this (empty) folder: the harness reads no file of the machine
  static const std::filesystem::path folder = [] {
    const auto p = statiq::fuzz::input_file(".d");
    std::filesystem::create_directories(p);
    return p;
  }();
  statiq::codegen::ir::Graph g;
  try {
    g = statiq::codegen::import_onnx(model, folder, "fuzz");
  } catch (const std::exception&) {
    return 0;  // refused: what the loader is for
  }
  // A loaded graph always normalises: normalize() throws only on a bug (normalize.hpp), so an
  // exception escapes here and libFuzzer reports it as a crash.
  statiq::codegen::normalize::normalize(g);
  return 0;
}
