// examples/custom_pattern: extending statiq-codegen's pattern table, QuantizeML style. A lone ReLU
// or global average that the target only runs fused into a convolution becomes an identity-kernel
// 1x1 Conv (weights eye(C), bias 0) carrying it, so it runs on the device instead of the host.
//
//   custom_pattern [model.onnx] [target]     (default: ../shared/models/mlperf_resnet8, akida-v2)
//
// resnet8 ends Add -> Relu -> AveragePool 8x8 -> Flatten -> Gemm. Akida fuses the Relu into the
// Add, but has no stand-alone pooling: the AveragePool (global: its window is the whole 8x8 map)
// goes to the host. With the patterns it becomes Conv 1x1 -> GAP on the device. Exit status 1 if
// no node moved to the device (the example's claim, run as a test).
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "codegen/lower/lower.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/targets/describe.hpp"

using namespace statiq;
using namespace statiq::codegen;

namespace {

// Where each ONNX node ended: "device: Conv2D 'x'", "host: ...", "float tail" or "not mapped".
std::map<std::string, std::string> placement_of_nodes(const ir::Graph& g, const LoweredModel& m) {
  std::map<std::string, std::string> where;
  for (const ir::Node& n : g.nodes) where[n.name] = "not mapped";
  for (const Layer& l : m.layers)
    for (const std::string& n : l.onnx_nodes)
      where[n] = std::string(l.placement == Placement::device ? "device" : "host") + ": " +
                 std::string(layer_kind_name(l.kind)) + " '" + l.name + "'";
  for (const std::string& n : m.float_tail) where[n] = "float tail";
  return where;
}

// Host policy places every layer somewhere; if a node has no statiq layer at all (a lone Relu
// without the patterns), the float tail keeps the graph running from there.
LoweredModel lower_somewhere(const ir::Graph& g, const TargetInfo& t, LowerOptions o) {
  o.policy = UnmappedPolicy::host;
  try {
    return lower(g, t, o);
  } catch (const UnmappedError&) {
    o.policy = UnmappedPolicy::float_tail;
    return lower(g, t, o);
  }
}

int count_device(const LoweredModel& m) {
  int n = 0;
  for (const Layer& l : m.layers) n += l.placement == Placement::device && l.kind != LayerKind::quantize &&
                                      l.kind != LayerKind::dequantize;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path model =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::path(STATIQ_SHARED_DIR) / "models" / "mlperf_resnet8" / "model.onnx";
  const std::string target_name = argc > 2 ? argv[2] : "akida-v2";
  try {
    ir::Graph g = load_onnx(model);
    normalize::normalize(g);
    const TargetInfo& target = find_target(target_name);

    LowerOptions plain;
    const LoweredModel before = lower_somewhere(g, target, plain);
    LowerOptions custom;
    custom.custom_patterns = identity_conv_patterns();  // ReLU and global-average patterns
    const LoweredModel after = lower_somewhere(g, target, custom);

    std::printf("%s on %s: %d layers on the device without the custom patterns, %d with them\n",
                model.filename().string().c_str(), std::string(target.name).c_str(), count_device(before), count_device(after));
    const auto where_before = placement_of_nodes(g, before), where_after = placement_of_nodes(g, after);
    int moved = 0;
    for (const ir::Node& n : g.nodes) {
      const std::string& b = where_before.at(n.name);
      const std::string& a = where_after.at(n.name);
      if (a == b) continue;
      std::printf("  node '%s' (%s): %s  ->  %s\n", n.name.c_str(), n.op_type.c_str(), b.c_str(), a.c_str());
      moved += a.starts_with("device") && !b.starts_with("device");
    }
    for (const Layer& l : after.layers)
      if (l.placement == Placement::host)
        std::printf("  still on the host: %s '%s': %s\n", std::string(layer_kind_name(l.kind)).c_str(), l.name.c_str(),
                    describe(l.violation).c_str());
    std::printf("%d node(s) moved to the device\n", moved);
    return moved > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_pattern: %s\n", e.what());
    return 2;
  }
}
