// codegen/calib/calibration_set.hpp — calibration samples for a model: read from .npy, .npz, ONNX
// TensorProto .pb test data sets or a folder of images, each checked against the model's inputs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "codegen/calib/image_preprocessing.hpp"
#include "codegen/exec/array.hpp"
#include "codegen/ir/graph.hpp"

namespace statiq::codegen::calib {

// One calibration input: a float32 tensor per graph input, with exactly the input's static shape
// (NCHW, batch 1 for the shared models), ready for exec::FloatExecutor::run.
struct Sample {
  std::map<std::string, exec::Array> inputs;
  std::string origin;  // where it came from, for messages: "digits.npy row 3", "imgs/cat.png"
};

struct CalibrationSet {
  std::vector<Sample> samples;
  std::string source;  // the file or folder read

  std::size_t size() const { return samples.size(); }
  bool empty() const { return samples.empty(); }
};

struct ReadOptions {
  std::size_t max_samples = 0;  // keep only the first max_samples (in file / sorted name order); 0 = all
  ImagePreprocessing image;     // for folders of images only
};

// Picks the reader from the path:
//   *.npy                 -> read_npy_samples
//   *.npz                 -> read_npz_samples
//   *.pb, a folder holding input_0.pb, or a folder of test_data_set_* folders -> read_pb_samples
//   any other folder      -> read_image_samples
// Every reader validates every sample (validate_sample) and refuses an empty set.
CalibrationSet read_calibration_set(const std::filesystem::path& path, const ir::Graph& graph,
                                    const ReadOptions& options = {});

// One array [N, ...] for a one-input model; row i is sample i. A row must have the input's shape,
// either with or without its size-1 axes ([N,28,28] rows fit an input [1,1,28,28]); an array of
// exactly the input's shape is one sample. float32, float64 and uint8 (converted to float, values
// kept 0..255) are accepted.
CalibrationSet read_npy_samples(const std::filesystem::path& file, const ir::Graph& graph,
                                const ReadOptions& options = {});

// np.savez / np.savez_compressed archives: one array per graph input, named like the input, all
// with the same N; or a single array (any name) for a one-input model. Rows as for .npy.
CalibrationSet read_npz_samples(const std::filesystem::path& file, const ir::Graph& graph,
                                const ReadOptions& options = {});

// ONNX test-data layout: `dir/test_data_set_*/input_<k>.pb` (one sample per test_data_set, sorted
// by number), one `test_data_set_*` folder, or a single `.pb` file (one-input model). input_<k>.pb
// is the k-th graph input unless the TensorProto's name is a graph input's name. FLOAT, DOUBLE and
// UINT8 tensors are accepted; the tensor holds the whole input (batch axis included).
CalibrationSet read_pb_samples(const std::filesystem::path& path, const ir::Graph& graph,
                               const ReadOptions& options = {});

// A folder of PNG/JPEG files (.png .jpg .jpeg, any case; other files are ignored), sorted by
// name, preprocessed for a one-input model [1,C,H,W] with C 1 or 3 (see image_preprocessing.hpp).
CalibrationSet read_image_samples(const std::filesystem::path& folder, const ir::Graph& graph,
                                  const ReadOptions& options = {});

// Throws std::runtime_error naming the sample and what is wrong: an input missing or unknown, a
// graph input that is not float or has no static shape, a wrong rank/shape/element count, a
// non-float tensor, NaN or Inf.
void validate_sample(const ir::Graph& graph, const Sample& sample);

}  // namespace statiq::codegen::calib
