// codegen/onnx/load_onnx.hpp — reads an ONNX model (checker, opset conversion to 13, Constant ->
// initializer, external data, shape inference) into the statiq IR (codegen/ir/graph.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "codegen/ir/graph.hpp"

namespace onnx {
class ModelProto;
}

namespace statiq::codegen {

// Default-domain opsets accepted. Graphs below onnx_target_opset are converted up to it by the
// ONNX version converter; graphs at 13..18 are kept as they are, because the converter (ONNX
// 1.12) has no down-conversion adapters (not even Relu 14 -> 13). So Graph::opset is in [13, 18].
// For every op the float executor runs, ONNX semantics are the same across 13..18 (later
// opsets added types, Reshape allowzero, Shape start/end, HardSwish); an op whose semantics
// changed in that range (e.g. ReduceMean axes as an input in 18) must look at Graph::opset.
inline constexpr std::int64_t onnx_target_opset = 13;
inline constexpr std::int64_t onnx_min_opset = 7;
inline constexpr std::int64_t onnx_max_opset = 18;

// Loads `path`. Throws std::runtime_error naming the file for anything wrong: not ONNX, corrupt or
// truncated, checker failure, opset outside [7, 18] or not convertible, external data outside the
// model's folder, shape inference failure.
// Every tensor gets a static shape when the graph input shapes are static: ONNX shape inference,
// completed by one executor run where ONNX leaves gaps (exec::complete_shapes).
ir::Graph load_onnx(const std::filesystem::path& path);

// The same pipeline on a model already in memory (tests build ModelProto in C++). `model_dir`
// resolves external data; `source` names the model in messages.
ir::Graph import_onnx(const onnx::ModelProto& model, const std::filesystem::path& model_dir, const std::string& source);

}  // namespace statiq::codegen
