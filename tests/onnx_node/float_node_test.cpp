// tests/onnx_node/float_node_test.cpp — a float node test through codegen's loader (load_onnx)
// and the float reference executor (exec::FloatExecutor), compared with the ONNX reference.
#include <exception>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "node_test.hpp"

namespace statiq::onnx_node {

namespace ir = codegen::ir;
namespace exec = codegen::exec;

bool float_executor_runs_all_ops(const onnx::ModelProto& m) {
  if (m.graph().node_size() == 0) return false;
  for (const auto& n : m.graph().node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
    if (!exec::FloatExecutor::supports(n.op_type())) return false;
  }
  return true;
}

namespace {

exec::Array to_array(const TensorData& t) {
  if (t.is_float()) {
    exec::Array a = exec::Array::floats(t.dims, std::vector<float>(t.f.begin(), t.f.end()));
    a.dtype = t.dtype;  // float64/float16 are computed in float32 by the executor
    return a;
  }
  return exec::Array::ints(t.dims, t.i, t.dtype);
}

// An executor refusal says what it does not do: an attribute or rank it does not run, or an element
// type it does not take for that op. Any other exception is a failure.
bool is_refusal(const std::string& message) {
  for (const char* says : {"not supported", "unsupported", "only ", "must be floating", "must have rank",
                           "operands have different types"})
    if (message.find(says) != std::string::npos) return true;
  return false;
}

// Values the IR cannot hold at all: sequences/optionals (not tensors), strings, bfloat16 (the
// test data stores bfloat16 as uint16 bit patterns; ir::DataType has no bfloat16).
std::string value_kind_refusal(const onnx::ModelProto& m) {
  const auto check = [](const onnx::ValueInfoProto& v) -> std::string {
    if (!v.type().has_tensor_type())
      return fmt::format("'{}' is a sequence/optional value: the executor runs tensors only", v.name());
    const int t = v.type().tensor_type().elem_type();
    if (t == onnx::TensorProto::STRING) return fmt::format("'{}' is a string tensor: the IR holds numbers only", v.name());
    if (t == onnx::TensorProto::BFLOAT16) return fmt::format("'{}' is bfloat16: the IR has no bfloat16 type", v.name());
    return {};
  };
  for (const auto& v : m.graph().input())
    if (auto why = check(v); !why.empty()) return why;
  for (const auto& v : m.graph().output())
    if (auto why = check(v); !why.empty()) return why;
  return {};
}

}  // namespace

Result run_float_test(const std::filesystem::path& test_dir) {
  Result r{test_dir.filename().string(), "float", Outcome::fail, {}};
  if (const std::string why = value_kind_refusal(read_model(test_dir / "model.onnx")); !why.empty()) {
    r.outcome = Outcome::unsupported;
    r.reason = why;
    return r;
  }
  ir::Graph graph;
  try {
    graph = codegen::load_onnx(test_dir / "model.onnx");
  } catch (const std::exception& e) {
    r.outcome = Outcome::unsupported;
    r.reason = std::string("load_onnx: ") + e.what();
    return r;
  }
  std::vector<TensorData> inputs, outputs;
  try {
    inputs = read_numbered(test_dir / "test_data_set_0", "input");
    outputs = read_numbered(test_dir / "test_data_set_0", "output");
  } catch (const std::exception& e) {
    r.outcome = Outcome::unsupported;
    r.reason = e.what();
    return r;
  }
  // Optional inputs left out of the data set are also absent from the graph's inputs.
  if (inputs.size() != graph.inputs.size()) {
    r.reason = fmt::format("{} input files for {} graph inputs", inputs.size(), graph.inputs.size());
    return r;
  }
  try {
    const exec::FloatExecutor executor(graph);
    std::vector<exec::Array> args;
    for (const auto& t : inputs) args.push_back(to_array(t));
    const auto result = executor.run(args);
    if (result.outputs.size() != outputs.size()) {
      r.reason = fmt::format("{} outputs, the reference has {}", result.outputs.size(), outputs.size());
      return r;
    }
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      const auto& a = result.outputs[k];
      const std::vector<double> af(a.f.begin(), a.f.end());
      const std::string diff = compare(outputs[k], a.shape, af, a.i, Tolerance{});
      if (!diff.empty()) {
        r.reason = diff;
        return r;
      }
    }
  } catch (const std::exception& e) {
    r.outcome = is_refusal(e.what()) ? Outcome::unsupported : Outcome::fail;
    r.reason = e.what();
    return r;
  }
  r.outcome = Outcome::pass;
  return r;
}

}  // namespace statiq::onnx_node
