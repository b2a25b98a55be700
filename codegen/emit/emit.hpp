// codegen/emit/emit.hpp — emit(): a lowered, quantized model as C++ (the layer types in a header,
// the weights and golden vectors in a data translation unit, a self-test main) plus its reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "codegen/emit/report.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

// One input the integer simulation ran, with what the engine must produce from it, bit for bit.
struct GoldenVector {
  std::vector<float> input;                    // NHWC, the engine's input (floats before its Quantize)
  std::vector<std::int32_t> quantized_output;  // the last integer tensor (the final Dequantize's input)
  std::vector<float> output;                   // the engine's float output; empty if it ends in integers
};

// How the data translation unit holds the weights.
//   literal: string literals in <name>_data.cpp: any C++20 compiler (the default; about 4 bytes of
//            source per weight byte, which the compiler parses: 25 M weights take ~20 s and > 1 GB).
//   incbin:  the bytes in <name>_weights.bin beside it, assembled in with .incbin (GNU assembler
//            syntax on ELF: g++, clang, arm-none-eabi-g++); the data TU must be compiled with its
//            folder on the include path (-I), which the assembler searches too.
// Both give the same bytes under the same typed declarations (statiq::weight_bytes<Layout, N>).
enum class WeightsEncoding { literal, incbin };

// "literal" or "incbin"; throws std::invalid_argument naming both.
WeightsEncoding parse_weights_encoding(const std::string& name);

struct EmitOptions {
  std::string model_file;    // shown in the header comment and the reports (as given)
  std::string model_sha256;  // hex digest of the model file: the generated code names its source
  std::vector<GoldenVector> golden;
  Report report;
  bool write_reports = true;  // <name>_report.txt and <name>_report.json
  std::string board;          // a statiq::boards name ("mps2-an386"): the target is on_board<...>; empty: none
  WeightsEncoding weights_encoding = WeightsEncoding::literal;
};

// The model cannot be emitted (the message names the layer and what to change) or a file cannot
// be written (the message names the file or folder).
struct EmitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The generated files' names, for a model of that name.
std::vector<std::string> emitted_file_names(const std::string& model_name, bool with_reports = true,
                                            WeightsEncoding encoding = WeightsEncoding::literal);

// Writes into out_dir (created if missing):
//   <name>.hpp           the layer structs, `using model = statiq::Graph<...>`, declarations;
//   <name>_data.cpp      weights as string literals, bias and requantization arrays, make_model(),
//                        the golden vectors and self_test();
//   <name>_selftest.cpp  int main(): runs self_test(), exit status 1 on any difference;
//   <name>_report.txt / <name>_report.json;
//   <name>_weights.bin   with WeightsEncoding::incbin: the weights, each at a 64-byte boundary.
// All or nothing: every file is written to a temporary name in out_dir first and renamed into
// place only when all are complete. The output is reproducible (no dates, no absolute paths
// beyond what options give). Returns the paths written. Throws EmitError.
std::vector<std::filesystem::path> emit(const LoweredModel& model, const EmitOptions& options,
                                        const std::filesystem::path& out_dir);

// The C++ text of each file, without writing anything (what emit() writes), in
// emitted_file_names() order.
std::vector<std::string> render(const LoweredModel& model, const EmitOptions& options);

}  // namespace statiq::codegen
