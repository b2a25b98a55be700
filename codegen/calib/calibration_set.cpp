// codegen/calib/calibration_set.cpp — the sample readers (.npy, .npz, TensorProto .pb, images) and
// the validation every sample goes through.
#include "codegen/calib/calibration_set.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include <unistd.h>  // getpid: unique temp names

#include <onnx/onnx_pb.h>

#include "codegen/calib/zip_archive.hpp"
#include "codegen/emit/cpp_escape.hpp"
#include "codegen/input/input_file.hpp"
#include "statiq/io/npy.hpp"

namespace statiq::codegen::calib {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ir::Dims squeezed(const ir::Dims& d) {
  ir::Dims out;
  for (auto v : d)
    if (v != 1) out.push_back(v);
  return out;
}

// A row fits the input when it has the input's shape, or the same shape once the size-1 axes of
// both are dropped (MNIST [28,28] rows for an input [1,1,28,28]).
bool fits(const ir::Dims& row, const ir::Dims& input) { return row == input || squeezed(row) == squeezed(input); }

ir::Dims to_dims(const std::vector<std::size_t>& s) { return ir::Dims(s.begin(), s.end()); }

std::string dims_text(const ir::Dims& d) { return ir::to_string(d); }

// The graph input a one-input reader feeds, checked to be float with a static shape.
const ir::Tensor& single_input(const ir::Graph& graph, const std::string& file_desc, const std::string& fix) {
  if (graph.inputs.size() != 1)
    throw std::runtime_error(file_desc + ": the model has " + std::to_string(graph.inputs.size()) +
                             " inputs, this format feeds exactly one; " + fix);
  return graph.tensor(graph.inputs[0]);
}

void check_input_usable(const ir::Tensor& input) {
  if (!ir::is_floating(input.dtype))
    throw std::runtime_error("graph input '" + input.name + "' is " + std::string(ir::to_string(input.dtype)) +
                             ": calibration feeds float inputs only");
  if (!input.has_static_shape())
    throw std::runtime_error("graph input '" + input.name + "' has no static shape " +
                             (input.shape ? ir::to_string(*input.shape) : std::string("(unknown rank)")) +
                             ": calibration needs fixed input shapes; export the model with a static batch of 1");
}

// Splits an [N, ...] NumPy array into per-sample tensors of the input's shape.
std::vector<exec::Array> split_rows(const io::NpyArray& a, const ir::Tensor& input, const std::string& file_desc,
                                    std::size_t max_samples) {
  check_input_usable(input);
  if (a.dtype != "float32" && a.dtype != "float64" && a.dtype != "uint8")
    throw std::runtime_error(file_desc + ": dtype " + a.dtype +
                             " is not accepted: calibration samples are float32, float64, or uint8 pixels; convert "
                             "with a.astype(np.float32)");
  const ir::Dims& in_shape = *input.shape;
  const ir::Dims shape = to_dims(a.shape);
  std::size_t rows = 0;
  if (!shape.empty() && fits(ir::Dims(shape.begin() + 1, shape.end()), in_shape)) {
    rows = a.shape[0];
  } else if (fits(shape, in_shape)) {
    rows = 1;
  } else {
    std::string msg = file_desc + ": array shape " + dims_text(shape) + " does not fit model input '" + input.name +
                      "' " + dims_text(in_shape) + ": expected [N," + dims_text(in_shape).substr(1);
    if (squeezed(in_shape) != in_shape)
      msg += " or, without its size-1 axes, [N," + (squeezed(in_shape).empty() ? "]" : dims_text(squeezed(in_shape)).substr(1));
    if (shape.size() == 4 && in_shape.size() == 4 && shape[3] == in_shape[1] && shape[1] == in_shape[2] &&
        shape[2] == in_shape[3] && in_shape[1] != in_shape[3])
      msg += "; the array looks like NHWC images: transpose it to NCHW with np.transpose(a, (0, 3, 1, 2))";
    else
      msg += "; reshape or transpose the array in NumPy";
    throw std::runtime_error(msg);
  }
  if (rows == 0)
    throw std::runtime_error(file_desc + ": the array holds 0 samples (shape " + dims_text(shape) +
                             "): calibration needs at least one sample, and a few hundred representative ones are best");
  if (max_samples && rows > max_samples) rows = max_samples;

  const std::vector<float> values = a.as<float>();
  const auto per_row = static_cast<std::size_t>(ir::element_count(in_shape));
  std::vector<exec::Array> out;
  out.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r)
    out.push_back(exec::Array::floats(in_shape, std::vector<float>(values.begin() + static_cast<std::ptrdiff_t>(r * per_row),
                                                                   values.begin() + static_cast<std::ptrdiff_t>((r + 1) * per_row))));
  return out;
}

// The dtype advice of split_rows, for dtypes statiq::io::read_npy already refuses (int16, float16...).
[[noreturn]] void rethrow_with_dtype_advice(const std::runtime_error& e) {
  std::string msg = e.what();
  if (msg.find("dtype") != std::string::npos)
    msg += ": calibration samples are float32, float64, or uint8 pixels; convert with a.astype(np.float32)";
  throw std::runtime_error(msg);
}

// Parses .npy bytes held in memory (an .npz member) with the one .npy reader of the project,
// statiq::io::read_npy, which reads files: through a private temp file.
io::NpyArray parse_npy_bytes(const std::string& bytes, const std::string& desc) {
  static std::atomic<int> counter{0};
  const fs::path tmp = fs::temp_directory_path() / ("statiq_npz_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(counter++) + ".npy");
  struct Remove {
    fs::path p;
    ~Remove() {
      std::error_code ec;
      fs::remove(p, ec);
    }
  } remove{tmp};
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(desc + ": cannot write the temp file '" + tmp.string() + "'");
  }
  try {
    return io::read_npy(tmp);
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    const std::string tmp_name = "'" + tmp.string() + "'";
    if (auto at = msg.find(tmp_name); at != std::string::npos) msg.replace(at, tmp_name.size(), "member");
    rethrow_with_dtype_advice(std::runtime_error(desc + ": " + msg));
  }
}

CalibrationSet finish(CalibrationSet set, const ir::Graph& graph, const std::string& empty_msg) {
  if (set.samples.empty()) throw std::runtime_error(empty_msg);
  for (const Sample& s : set.samples) validate_sample(graph, s);
  return set;
}

// ---- ONNX TensorProto ---------------------------------------------------------------------

struct PbTensor {
  std::string name;
  ir::Dims dims;
  std::vector<float> values;
};

template <class T>
T read_le(const std::string& raw, std::size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

PbTensor read_pb(const fs::path& file) {
  const std::string desc = "TensorProto file '" + printable(file.string()) + "'";
  const std::string bytes = read_input_file(file, "TensorProto file");
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes))
    throw std::runtime_error(desc + ": not a serialized onnx.TensorProto (corrupt or another format)");
  PbTensor t;
  t.name = p.name();
  t.dims.assign(p.dims().begin(), p.dims().end());
  for (auto d : t.dims)
    if (d < 0) throw std::runtime_error(desc + ": negative dimension in " + ir::to_string(t.dims));
  const auto n = static_cast<std::size_t>(ir::element_count(t.dims));
  const std::string& raw = p.raw_data();
  auto check = [&](std::size_t got, const char* what) {
    if (got != n)
      throw std::runtime_error(desc + ": holds " + std::to_string(got) + " " + what + ", its dims " +
                               ir::to_string(t.dims) + " need " + std::to_string(n));
  };
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    throw std::runtime_error(desc + ": external data is not supported for samples; save the tensor with its data inline");
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (p.has_raw_data()) {
        check(raw.size() / 4, "float32 values");
        if (raw.size() % 4) throw std::runtime_error(desc + ": raw_data size is not a multiple of 4");
        for (std::size_t i = 0; i < n; ++i) t.values.push_back(read_le<float>(raw, i));
      } else {
        check(static_cast<std::size_t>(p.float_data_size()), "float32 values");
        t.values.assign(p.float_data().begin(), p.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (p.has_raw_data()) {
        check(raw.size() / 8, "float64 values");
        if (raw.size() % 8) throw std::runtime_error(desc + ": raw_data size is not a multiple of 8");
        for (std::size_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(read_le<double>(raw, i)));
      } else {
        check(static_cast<std::size_t>(p.double_data_size()), "float64 values");
        for (double d : p.double_data()) t.values.push_back(static_cast<float>(d));
      }
      break;
    case onnx::TensorProto::UINT8:
      if (p.has_raw_data()) {
        check(raw.size(), "uint8 values");
        for (unsigned char c : raw) t.values.push_back(c);
      } else {
        check(static_cast<std::size_t>(p.int32_data_size()), "uint8 values");
        for (auto v : p.int32_data()) t.values.push_back(static_cast<float>(v));
      }
      break;
    default:
      throw std::runtime_error(desc + ": element type " +
                               onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(p.data_type())) +
                               " is not accepted: calibration samples are FLOAT, DOUBLE or UINT8");
  }
  return t;
}

// input_<k>.pb -> k, or -1.
long pb_input_index(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind("input_", 0) != 0 || p.extension() != ".pb") return -1;
  const std::string digits = name.substr(6, name.size() - 6 - 3);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return -1;
  long k = 0;
  // "input_99999999999999999999.pb" is an input file with an impossible index, refused by the caller
  if (std::from_chars(digits.data(), digits.data() + digits.size(), k).ec != std::errc()) return LONG_MAX;
  return k;
}

// One sample from the input_<k>.pb files of a test_data_set folder (or one lone .pb file).
Sample pb_sample(const std::vector<fs::path>& files, const ir::Graph& graph, const std::string& origin) {
  Sample s;
  s.origin = origin;
  for (const fs::path& f : files) {
    PbTensor t = read_pb(f);
    std::string name;
    if (!t.name.empty() && std::find(graph.inputs.begin(), graph.inputs.end(), t.name) != graph.inputs.end()) {
      name = t.name;
    } else {
      const long k = files.size() == 1 && pb_input_index(f) < 0 ? 0 : pb_input_index(f);
      if (k < 0 || static_cast<std::size_t>(k) >= graph.inputs.size())
        throw std::runtime_error("TensorProto file '" + f.string() + "': input index " + std::to_string(k) +
                                 " but the model has " + std::to_string(graph.inputs.size()) +
                                 " input(s); name the files input_0.pb ... or set the tensors' names to the inputs' names");
      name = graph.inputs[static_cast<std::size_t>(k)];
    }
    const ir::Tensor& input = graph.tensor(name);
    check_input_usable(input);
    if (!fits(t.dims, *input.shape))
      throw std::runtime_error("TensorProto file '" + f.string() + "': dims " + ir::to_string(t.dims) +
                               " do not fit model input '" + name + "' " + ir::to_string(*input.shape) +
                               "; a .pb sample holds the whole input, batch axis included");
    if (s.inputs.count(name))
      throw std::runtime_error("calibration sample '" + origin + "': two .pb files feed input '" + name + "'");
    s.inputs.emplace(name, exec::Array::floats(*input.shape, std::move(t.values)));
  }
  return s;
}

std::vector<fs::path> pb_files_in(const fs::path& dir) {
  std::vector<std::pair<long, fs::path>> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && pb_input_index(e.path()) >= 0) found.emplace_back(pb_input_index(e.path()), e.path());
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [k, p] : found) out.push_back(p);
  return out;
}

bool is_test_data_set_dir(const fs::directory_entry& e) {
  return e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0;
}

// Sort key: test_data_set_<number> by number, anything else after, by name.
std::pair<long, std::string> data_set_key(const fs::path& p) {
  const std::string suffix = p.filename().string().substr(std::strlen("test_data_set_"));
  const bool numeric = !suffix.empty() && suffix.size() < 10 &&
                       std::all_of(suffix.begin(), suffix.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return {numeric ? std::stol(suffix) : std::numeric_limits<long>::max(), p.filename().string()};
}

bool is_image_file(const fs::path& p) {
  const std::string ext = lower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

}  // namespace

void validate_sample(const ir::Graph& graph, const Sample& sample) {
  const std::string who = "calibration sample '" + sample.origin + "'";
  for (const auto& [name, a] : sample.inputs)
    if (std::find(graph.inputs.begin(), graph.inputs.end(), name) == graph.inputs.end())
      throw std::runtime_error(who + ": '" + name + "' is not a graph input of '" + graph.source + "'");
  for (const std::string& name : graph.inputs) {
    const auto it = sample.inputs.find(name);
    if (it == sample.inputs.end()) throw std::runtime_error(who + ": no tensor for graph input '" + name + "'");
    const ir::Tensor& input = graph.tensor(name);
    check_input_usable(input);
    const exec::Array& a = it->second;
    const ir::Dims& want = *input.shape;
    if (!a.is_float())
      throw std::runtime_error(who + ": input '" + name + "' holds " + std::string(ir::to_string(a.dtype)) +
                               " values, calibration samples are float");
    if (a.shape.size() != want.size())
      throw std::runtime_error(who + ": input '" + name + "' has rank " + std::to_string(a.shape.size()) + " " +
                               ir::to_string(a.shape) + ", the model wants rank " + std::to_string(want.size()) + " " +
                               ir::to_string(want));
    if (a.shape != want)
      throw std::runtime_error(who + ": input '" + name + "' has shape " + ir::to_string(a.shape) +
                               ", the model wants " + ir::to_string(want));
    if (a.f.size() != static_cast<std::size_t>(ir::element_count(want)))
      throw std::runtime_error(who + ": input '" + name + "' holds " + std::to_string(a.f.size()) +
                               " values, its shape " + ir::to_string(want) + " needs " +
                               std::to_string(ir::element_count(want)));
    for (std::size_t i = 0; i < a.f.size(); ++i)
      if (!std::isfinite(a.f[i]))
        throw std::runtime_error(who + ": input '" + name + "' holds " + (std::isnan(a.f[i]) ? "NaN" : "Inf") +
                                 " at element " + std::to_string(i) +
                                 "; calibration needs finite values: clean or drop this sample");
  }
}

CalibrationSet read_npy_samples(const fs::path& file, const ir::Graph& graph, const ReadOptions& options) {
  const std::string desc = "npy file '" + printable(file.string()) + "'";
  const ir::Tensor& input = single_input(graph, desc, "use an .npz with one array per input, named like the inputs");
  check_input_file(file, "npy file");  // a regular file within the limit: read_npy reads it whole
  const io::NpyArray a = [&] {
    try {
      return io::read_npy(file);
    } catch (const std::runtime_error& e) {
      rethrow_with_dtype_advice(e);
    }
  }();
  CalibrationSet set;
  set.source = file.string();
  std::size_t r = 0;
  for (exec::Array& x : split_rows(a, input, desc, options.max_samples)) {
    Sample s;
    s.origin = file.filename().string() + " row " + std::to_string(r++);
    s.inputs.emplace(input.name, std::move(x));
    set.samples.push_back(std::move(s));
  }
  return finish(std::move(set), graph, desc + ": no samples");
}

CalibrationSet read_npz_samples(const fs::path& file, const ir::Graph& graph, const ReadOptions& options) {
  const std::string desc = "npz file '" + printable(file.string()) + "'";
  const ZipArchive zip(file, "npz");
  std::map<std::string, const ZipArchive::Entry*> arrays;  // array name (member without .npy) -> entry
  for (const auto& e : zip.entries())
    if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".npy") == 0) arrays[e.name.substr(0, e.name.size() - 4)] = &e;
  if (arrays.empty()) throw std::runtime_error(desc + ": holds no .npy array; write it with numpy.savez");

  std::string available;
  for (const auto& [name, e] : arrays) available += (available.empty() ? "'" : ", '") + name + "'";
  std::map<std::string, const ZipArchive::Entry*> chosen;  // graph input -> entry
  if (graph.inputs.size() == 1 && arrays.size() == 1) {
    chosen[graph.inputs[0]] = arrays.begin()->second;
  } else {
    for (const std::string& in : graph.inputs) {
      const auto it = arrays.find(in);
      if (it == arrays.end())
        throw std::runtime_error(desc + ": no array named '" + in + "' for graph input '" + in + "' (the archive holds " +
                                 available + "); save one array per input with np.savez(f, **{input_name: array})");
      chosen[in] = it->second;
    }
  }

  std::map<std::string, std::vector<exec::Array>> rows;
  std::size_t n = 0;
  for (const auto& [in, entry] : chosen) {
    const std::string member_desc = desc + " array '" + entry->name + "'";
    const io::NpyArray a = parse_npy_bytes(zip.read(*entry), member_desc);
    rows[in] = split_rows(a, graph.tensor(in), member_desc, options.max_samples);
    if (n != 0 && rows[in].size() != n)
      throw std::runtime_error(desc + ": its arrays hold different numbers of samples (" + std::to_string(n) + " and " +
                               std::to_string(rows[in].size()) + "); every input needs one row per sample");
    n = rows[in].size();
  }
  CalibrationSet set;
  set.source = file.string();
  for (std::size_t r = 0; r < n; ++r) {
    Sample s;
    s.origin = file.filename().string() + " row " + std::to_string(r);
    for (auto& [in, list] : rows) s.inputs.emplace(in, std::move(list[r]));
    set.samples.push_back(std::move(s));
  }
  return finish(std::move(set), graph, desc + ": no samples");
}

CalibrationSet read_pb_samples(const fs::path& path, const ir::Graph& graph, const ReadOptions& options) {
  CalibrationSet set;
  set.source = path.string();
  if (fs::is_regular_file(path)) {
    single_input(graph, "TensorProto file '" + path.string() + "'",
                 "use a test_data_set folder with input_0.pb, input_1.pb, ...");
    set.samples.push_back(pb_sample({path}, graph, path.filename().string()));
    return finish(std::move(set), graph, "");
  }
  if (!fs::is_directory(path)) throw std::runtime_error("TensorProto samples '" + path.string() + "' do not exist");
  std::vector<fs::path> data_sets;
  for (const auto& e : fs::directory_iterator(path))
    if (is_test_data_set_dir(e)) data_sets.push_back(e.path());
  std::sort(data_sets.begin(), data_sets.end(),
            [](const fs::path& a, const fs::path& b) { return data_set_key(a) < data_set_key(b); });
  if (data_sets.empty()) data_sets.push_back(path);  // the folder is itself one test_data_set
  for (const fs::path& dir : data_sets) {
    if (options.max_samples && set.samples.size() == options.max_samples) break;
    const std::vector<fs::path> files = pb_files_in(dir);
    const std::string origin = dir.filename().string();
    if (files.empty())
      throw std::runtime_error("TensorProto folder '" + dir.string() +
                               "' holds no input_<k>.pb file; each test_data_set_* folder needs input_0.pb ...");
    set.samples.push_back(pb_sample(files, graph, origin));
  }
  return finish(std::move(set), graph, "TensorProto folder '" + path.string() + "': no samples");
}

CalibrationSet read_image_samples(const fs::path& folder, const ir::Graph& graph, const ReadOptions& options) {
  const std::string desc = "image folder '" + folder.string() + "'";
  const ir::Tensor& input = single_input(graph, desc, "pass the samples as .npz (one array per input)");
  check_input_usable(input);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw std::runtime_error(desc + ": holds no .png/.jpg/.jpeg image (nor input_0.pb or test_data_set_* folders); "
                                    "add calibration samples");
  if (options.max_samples && files.size() > options.max_samples) files.resize(options.max_samples);
  CalibrationSet set;
  set.source = folder.string();
  for (const fs::path& f : files) {
    Sample s;
    s.origin = f.filename().string();
    s.inputs.emplace(input.name, preprocess_image(load_image(f), *input.shape, options.image, f.string()));
    set.samples.push_back(std::move(s));
  }
  return finish(std::move(set), graph, desc + ": no samples");
}

CalibrationSet read_calibration_set(const fs::path& path, const ir::Graph& graph, const ReadOptions& options) {
  if (!fs::exists(path))
    throw std::runtime_error("calibration samples '" + path.string() +
                             "' do not exist: give a .npy, .npz, .pb file or a folder of images / test_data_set_*");
  if (fs::is_directory(path)) {
    bool pb = false;
    for (const auto& e : fs::directory_iterator(path))
      if (is_test_data_set_dir(e) || (e.is_regular_file() && pb_input_index(e.path()) >= 0)) pb = true;
    return pb ? read_pb_samples(path, graph, options) : read_image_samples(path, graph, options);
  }
  const std::string ext = lower(path.extension().string());
  if (ext == ".npy") return read_npy_samples(path, graph, options);
  if (ext == ".npz") return read_npz_samples(path, graph, options);
  if (ext == ".pb") return read_pb_samples(path, graph, options);
  throw std::runtime_error("calibration file '" + path.string() +
                           "' has an unsupported type: give a .npy, .npz or .pb file, or a folder of PNG/JPEG images");
}

}  // namespace statiq::codegen::calib
