// codegen/main.cpp — the statiq-codegen command line. One function per subcommand, registered in
// main(); today: run-float (the float reference executor on .npy samples).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "codegen/exec/float_executor.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"

namespace {

using namespace statiq::codegen;

struct RunFloatArgs {
  std::string model;
  std::string input;
  std::optional<std::int64_t> row;
  std::string output;
};

// Runs the model on one row of the input array, or on every row when the array is [N, ...] and
// the model's input has batch 1; writes the stacked outputs.
int run_float(const RunFloatArgs& args) {
  const ir::Graph graph = load_onnx(args.model);
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
    throw std::runtime_error("run-float supports models with one input and one output; '" + args.model + "' has " +
                             std::to_string(graph.inputs.size()) + " and " + std::to_string(graph.outputs.size()));
  const ir::Tensor& input = graph.tensor(graph.inputs[0]);
  if (!input.has_static_shape())
    throw std::runtime_error("graph input '" + input.name + "' has no static shape");
  const ir::Dims in_shape = *input.shape;
  const auto per_row = static_cast<std::size_t>(ir::element_count(in_shape));

  const statiq::io::NpyArray samples = statiq::io::read_npy(args.input);
  const std::vector<float> data = samples.as<float>();
  if (data.empty() || data.size() % per_row)
    throw std::runtime_error("input '" + args.input + "' holds " + std::to_string(data.size()) +
                             " values, not a multiple of the model input " + ir::to_string(in_shape));
  const auto rows = static_cast<std::int64_t>(data.size() / per_row);
  std::int64_t first = 0, last = rows;
  if (args.row) {
    if (*args.row < 0 || *args.row >= rows)
      throw std::runtime_error("--row " + std::to_string(*args.row) + " is outside [0, " + std::to_string(rows) + ")");
    first = *args.row;
    last = first + 1;
  }

  const exec::FloatExecutor executor(graph);
  std::vector<float> stacked;
  ir::Dims out_shape;
  for (std::int64_t r = first; r < last; ++r) {
    exec::Array x = exec::Array::floats(in_shape, std::vector<float>(data.begin() + r * per_row, data.begin() + (r + 1) * per_row));
    const exec::Array y = executor.run({x}).outputs[0];
    out_shape = y.shape;
    stacked.insert(stacked.end(), y.f.begin(), y.f.end());
    const auto top = std::max_element(y.f.begin(), y.f.end());
    std::printf("row %lld: output %s %s", static_cast<long long>(r), graph.outputs[0].c_str(), ir::to_string(y.shape).c_str());
    if (top != y.f.end()) std::printf(" argmax %lld (%g)", static_cast<long long>(top - y.f.begin()), *top);
    std::printf("\n");
  }
  if (!args.output.empty()) {
    // [rows, ...] with the output's batch-1 axis replaced by the row axis, like outputs.npy.
    std::vector<std::size_t> shape;
    shape.push_back(static_cast<std::size_t>(last - first));
    for (std::size_t d = (!out_shape.empty() && out_shape[0] == 1) ? 1 : 0; d < out_shape.size(); ++d)
      shape.push_back(static_cast<std::size_t>(out_shape[d]));
    statiq::io::write_npy<float>(args.output, shape, stacked);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"statiq-codegen: ONNX -> compile-time checked statiq C++"};
  app.require_subcommand(1);

  RunFloatArgs run_float_args;
  CLI::App* run_float_cmd = app.add_subcommand("run-float", "run the float reference executor on .npy samples");
  run_float_cmd->add_option("model", run_float_args.model, "model.onnx")->required();
  run_float_cmd->add_option("--input", run_float_args.input, "samples (.npy), one model input or [N, ...]")->required();
  run_float_cmd->add_option("--row", run_float_args.row, "run only this row of the samples");
  run_float_cmd->add_option("-o,--output", run_float_args.output, "write the outputs (.npy, [rows, ...])");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*run_float_cmd) return run_float(run_float_args);
  } catch (const std::exception& e) {
    std::cerr << "statiq-codegen: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
