// tools/tflite/run_tflite.cpp — the TensorFlow Lite oracle: runs a .tflite model with the TFLite C
// API of the npm package tfjs-tflite-node (libtensorflowlite_c.so, TFLite 2.9) on every row of a
// .npy array, one thread, and writes every graph output stacked over the rows as .npy.
//
//   run_tflite model.tflite --input x.npy --out-dir DIR [--xnnpack] [--nchw] [--rows N]
//
// Row i of x.npy ([N, ...]) fills the model's only input (as many values as it holds), converted to
// the input's type (float32, or int8 / uint8 when the values fit). --nchw: each row is C x H x W
// (the ONNX layout of ../shared/models/*/inputs.npy) and the input [1, H, W, C]; [N, 28, 28]
// pixels need no reordering. Each output goes to DIR/<name>.npy ([N, ...], the leading 1 dropped;
// characters other than [A-Za-z0-9_.-] in the name become _), written atomically.
// Without --xnnpack the interpreter runs TFLite's builtin kernels: the default XNNPACK delegate of
// this build is created with flags 0 (TfLiteXNNPackDelegateOptionsDefault returns zeros), which
// delegates float operators only, so every int8 operator stays builtin. --xnnpack applies an
// XNNPACK delegate with the signed and unsigned 8-bit flags (QS8 | QU8), 1 thread.
// Exit status 0, 1 on a refused input or a TFLite error (the message says which), 2 on usage.
#include <tensorflow/lite/c/c_api.h>
#include <tensorflow/lite/c/common.h>

#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "statiq/io/npy.hpp"

// libtensorflowlite_c.so of TFLite 2.9 exports the XNNPACK delegate but the package ships no
// header for it. The options struct of tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h at
// 2.9 is { int32_t num_threads; uint32_t flags; }: 8 bytes, which the library's
// TfLiteXNNPackDelegateOptionsDefault confirms (it returns 0 in %eax, nothing in memory).
extern "C" {
struct StatiqXnnpackOptions {
  std::int32_t num_threads;
  std::uint32_t flags;
};
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const StatiqXnnpackOptions* options);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);
}

namespace {

constexpr std::uint32_t xnnpack_flag_qs8 = 1;  // TFLITE_XNNPACK_DELEGATE_FLAG_QS8
constexpr std::uint32_t xnnpack_flag_qu8 = 2;  // TFLITE_XNNPACK_DELEGATE_FLAG_QU8

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "run_tflite: %s\nusage: run_tflite model.tflite --input x.npy --out-dir DIR [--xnnpack] "
                       "[--nchw] [--rows N]\n", message.c_str());
  std::exit(2);
}

struct Args {
  std::string model, input, out_dir;
  bool xnnpack = false, nchw = false;
  long rows = -1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(s + " needs a value");
      return argv[++i];
    };
    if (s == "--input") a.input = next();
    else if (s == "--out-dir") a.out_dir = next();
    else if (s == "--xnnpack") a.xnnpack = true;
    else if (s == "--nchw") a.nchw = true;
    else if (s == "--rows") {
      const std::string v = next();
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) usage("--rows takes a count, not '" + v + "'");
      a.rows = std::stol(v);
    } else if (s == "-h" || s == "--help") usage("runs a .tflite model on .npy rows");
    else if (!s.empty() && s[0] == '-') usage("unknown option " + s);
    else if (a.model.empty()) a.model = s;
    else usage("unexpected argument " + s);
  }
  if (a.model.empty() || a.input.empty() || a.out_dir.empty()) usage("a model, --input and --out-dir are required");
  return a;
}

std::string file_name(std::string tensor) {
  for (char& ch : tensor)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ch = '_';
  return tensor + ".npy";
}

std::string status_text(TfLiteStatus s) { return "TfLiteStatus " + std::to_string(static_cast<int>(s)); }

void reporter(void*, const char* format, va_list args) {
  std::fputs("tflite: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
}

// One output's values over every row, in its own element type.
struct Stacked {
  std::string name;
  TfLiteType type;
  std::vector<std::size_t> dims;  // without a leading 1
  std::vector<std::byte> bytes;
};

template <class T>
void write(const std::filesystem::path& file, std::vector<std::size_t> shape, const std::vector<std::byte>& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  statiq::io::write_npy<T>(file, shape, v);
}

int run(const Args& a) {
  const statiq::io::NpyArray x = statiq::io::read_npy(a.input);
  if (x.shape.empty()) throw std::runtime_error("input '" + a.input + "' is a scalar; give rows [N, ...]");
  const std::vector<float> values = x.as<float>();

  TfLiteModel* model = TfLiteModelCreateFromFile(a.model.c_str());
  if (!model) throw std::runtime_error("TFLite could not load '" + a.model + "' (see the tflite: lines above)");
  TfLiteInterpreterOptions* options = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(options, 1);
  TfLiteInterpreterOptionsSetErrorReporter(options, reporter, nullptr);
  TfLiteDelegate* delegate = nullptr;
  if (a.xnnpack) {
    const StatiqXnnpackOptions xo{1, xnnpack_flag_qs8 | xnnpack_flag_qu8};
    delegate = TfLiteXNNPackDelegateCreate(&xo);
    if (!delegate) throw std::runtime_error("TfLiteXNNPackDelegateCreate failed");
    TfLiteInterpreterOptionsAddDelegate(options, delegate);
  }
  TfLiteInterpreter* interpreter = TfLiteInterpreterCreate(model, options);
  if (!interpreter) throw std::runtime_error("TFLite could not build an interpreter for '" + a.model + "'");
  if (TfLiteInterpreterGetInputTensorCount(interpreter) != 1)
    throw std::runtime_error("the model has " + std::to_string(TfLiteInterpreterGetInputTensorCount(interpreter)) +
                             " inputs; run_tflite feeds one");
  if (TfLiteStatus s = TfLiteInterpreterAllocateTensors(interpreter); s != kTfLiteOk)
    throw std::runtime_error("AllocateTensors failed: " + status_text(s));
  TfLiteTensor* in = TfLiteInterpreterGetInputTensor(interpreter, 0);
  std::vector<int> in_dims(static_cast<std::size_t>(TfLiteTensorNumDims(in)));
  std::size_t per_row = 1;
  for (std::size_t d = 0; d < in_dims.size(); ++d) per_row *= static_cast<std::size_t>(in_dims[d] = TfLiteTensorDim(in, int(d)));
  if (values.empty() || values.size() % per_row)
    throw std::runtime_error("input '" + a.input + "' holds " + std::to_string(values.size()) +
                             " values, not a multiple of the model input's " + std::to_string(per_row));
  if (a.nchw && in_dims.size() != 4) throw std::runtime_error("--nchw needs a 4-D [1, H, W, C] model input");
  std::size_t rows = values.size() / per_row;
  if (a.rows >= 0 && static_cast<std::size_t>(a.rows) < rows) rows = static_cast<std::size_t>(a.rows);

  const int outputs = TfLiteInterpreterGetOutputTensorCount(interpreter);
  std::vector<Stacked> stacked(static_cast<std::size_t>(outputs));
  for (int o = 0; o < outputs; ++o) {
    const TfLiteTensor* t = TfLiteInterpreterGetOutputTensor(interpreter, o);
    Stacked& s = stacked[std::size_t(o)];
    s.name = TfLiteTensorName(t) ? TfLiteTensorName(t) : "output_" + std::to_string(o);
    s.type = TfLiteTensorType(t);
    for (int d = 0; d < TfLiteTensorNumDims(t); ++d)
      if (d > 0 || TfLiteTensorDim(t, d) != 1) s.dims.push_back(std::size_t(TfLiteTensorDim(t, d)));
    if (s.type != kTfLiteFloat32 && s.type != kTfLiteInt8 && s.type != kTfLiteUInt8 && s.type != kTfLiteInt32)
      throw std::runtime_error("output '" + s.name + "' has the type " + TfLiteTypeGetName(s.type) +
                               "; run_tflite writes float32, int8, uint8 and int32");
  }

  const TfLiteType in_type = TfLiteTensorType(in);
  std::vector<float> row(per_row);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = values.data() + r * per_row;
    if (a.nchw) {
      const int h = in_dims[1], w = in_dims[2], c = in_dims[3];
      for (int ci = 0; ci < c; ++ci)
        for (int y = 0; y < h; ++y)
          for (int xi = 0; xi < w; ++xi) row[(std::size_t(y) * w + xi) * c + ci] = src[(std::size_t(ci) * h + y) * w + xi];
    } else {
      row.assign(src, src + per_row);
    }
    TfLiteStatus s = kTfLiteOk;
    if (in_type == kTfLiteFloat32) {
      s = TfLiteTensorCopyFromBuffer(in, row.data(), per_row * sizeof(float));
    } else if (in_type == kTfLiteInt8 || in_type == kTfLiteUInt8) {
      const bool is_signed = in_type == kTfLiteInt8;
      std::vector<std::uint8_t> q(per_row);
      for (std::size_t i = 0; i < per_row; ++i) {
        const float v = row[i];
        if (v != static_cast<float>(static_cast<long>(v)) || v < (is_signed ? -128 : 0) || v > (is_signed ? 127 : 255))
          throw std::runtime_error("input row " + std::to_string(r) + " value " + std::to_string(v) +
                                   " is not an integer of the model input's type " + TfLiteTypeGetName(in_type));
        q[i] = static_cast<std::uint8_t>(static_cast<long>(v));
      }
      s = TfLiteTensorCopyFromBuffer(in, q.data(), per_row);
    } else {
      throw std::runtime_error(std::string("the model input has the type ") + TfLiteTypeGetName(in_type) +
                               "; run_tflite feeds float32, int8 or uint8");
    }
    if (s != kTfLiteOk) throw std::runtime_error("copying row " + std::to_string(r) + " in failed: " + status_text(s));
    if ((s = TfLiteInterpreterInvoke(interpreter)) != kTfLiteOk)
      throw std::runtime_error("Invoke failed on row " + std::to_string(r) + ": " + status_text(s));
    for (int o = 0; o < outputs; ++o) {
      const TfLiteTensor* t = TfLiteInterpreterGetOutputTensor(interpreter, o);
      const auto* p = static_cast<const std::byte*>(TfLiteTensorData(t));
      stacked[std::size_t(o)].bytes.insert(stacked[std::size_t(o)].bytes.end(), p, p + TfLiteTensorByteSize(t));
    }
  }
  TfLiteInterpreterDelete(interpreter);
  if (delegate) TfLiteXNNPackDelegateDelete(delegate);
  TfLiteInterpreterOptionsDelete(options);
  TfLiteModelDelete(model);

  std::filesystem::create_directories(a.out_dir);
  for (const Stacked& s : stacked) {
    std::vector<std::size_t> shape{rows};
    shape.insert(shape.end(), s.dims.begin(), s.dims.end());
    const std::filesystem::path file = std::filesystem::path(a.out_dir) / file_name(s.name);
    switch (s.type) {
      case kTfLiteFloat32: write<float>(file, shape, s.bytes); break;
      case kTfLiteInt8: write<std::int8_t>(file, shape, s.bytes); break;
      case kTfLiteUInt8: write<std::uint8_t>(file, shape, s.bytes); break;
      default: write<std::int32_t>(file, shape, s.bytes); break;
    }
  }
  std::printf("run_tflite: TFLite %s, %zu rows, %d outputs, %s\n", TfLiteVersion(), rows, outputs,
              a.xnnpack ? "XNNPACK delegate (QS8|QU8, 1 thread)" : "builtin kernels");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_tflite: error: %s\n", e.what());
    return 1;
  }
}
