// tests/ort/ort_layers.hpp — onnxruntime against the engine layer by layer: runs an exported model
// (QDQ or QOperator) asking for every tensor the export names after a layer (qdq_tensor_name), and
// counts per layer the integers where the engine's simulation differs, over every input row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/export/qdq_export.hpp"
#include "codegen/model/lowered_model.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/ort/ort_oracle.hpp"

namespace statiq::test {

struct LayerMismatches {
  std::size_t layer = 0;  // index in model.layers
  std::size_t count = 0;  // integers that differ, over every sample
};

// onnxruntime runs `exported` on input_npy (rows of xs, input_size floats each) with `extra_args`
// (e.g. "--level disabled"); one entry per layer the export names.
inline std::vector<LayerMismatches> ort_layer_mismatches(const codegen::LoweredModel& m,
                                                          const std::filesystem::path& exported,
                                                          const std::filesystem::path& input_npy,
                                                          std::span<const float> xs, std::size_t input_size,
                                                          const std::filesystem::path& dir,
                                                          const std::string& extra_args = "") {
  std::string names;
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (const std::string n = codegen::qdq_tensor_name(m, i); !n.empty()) names += (names.empty() ? "" : ",") + n;
  const std::filesystem::path out = dir / "layers";
  std::filesystem::create_directories(out);
  run_ort(exported, input_npy, fmt::format("{} --outputs '{}' --out-dir '{}'", extra_args, names, out.string()),
          dir / "ort.log");
  const std::size_t samples = xs.size() / input_size;
  std::vector<codegen::SimulationResult> sims;
  for (std::size_t s = 0; s < samples; ++s) sims.push_back(codegen::simulate(m, xs.data() + s * input_size));
  std::vector<LayerMismatches> result;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const std::string n = codegen::qdq_tensor_name(m, i);
    if (n.empty()) continue;
    const std::vector<std::int32_t> ort = io::read_npy(out / ort_file_name(n)).as<std::int32_t>();
    LayerMismatches r{i, 0};
    for (std::size_t s = 0; s < samples; ++s)
      r.count += mismatches(row_nhwc(ort, s, sims[s].shapes[i]), sims[s].layers[i]);
    result.push_back(r);
  }
  return result;
}

}  // namespace statiq::test
