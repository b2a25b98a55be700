// tests/onnx_node/suite.cpp — which node tests the suite selects, and running them all.
#include <algorithm>
#include <exception>

#include <onnx/onnx_pb.h>

#include "node_test.hpp"

namespace statiq::onnx_node {

std::vector<Result> run_all(const std::filesystem::path& node_dir) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(node_dir))
    if (e.is_directory() && e.path().filename().string().starts_with("test_")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  std::vector<Result> results;
  for (const auto& dir : dirs) {
    onnx::ModelProto model;
    try {
      model = read_model(dir / "model.onnx");
    } catch (const std::exception&) {
      continue;  // not a model this suite can even look at; not selected
    }
    const auto& g = model.graph();
    if (g.node_size() == 1 && is_quantized_op(g.node(0).op_type()))
      results.push_back(run_quantized_test(dir));
    else if (float_executor_runs_all_ops(model))
      results.push_back(run_float_test(dir));
  }
  return results;
}

}  // namespace statiq::onnx_node
