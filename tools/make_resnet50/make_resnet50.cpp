// tools/make_resnet50/make_resnet50.cpp — writes an ONNX model with ResNet-50's structure and
// seeded random weights, and random calibration samples (.npy), for statiq-codegen's scale tests.
//
// The graph is what torch.onnx.export makes of torchvision's resnet50() with BatchNorm folded:
// Conv (with bias) -> Relu, bottleneck blocks (1x1, 3x3 with the stride, 1x1 x4) with an identity or
// a 1x1 downsample shortcut, Add -> Relu, a 7x7/2 stem with pads 3 and a 3x3/2 MaxPool with pads 1,
// GlobalAveragePool -> Flatten -> Gemm. With the defaults it has 25,530,472 parameters. Smaller
// variants (--width, --blocks, --input-size, --classes) follow the same code path quickly in tests.
//
// Reproducible on every platform: weights are uniform in [-a, a] from std::mt19937's integers
// (He-uniform bound a = sqrt(6 / fan_in)), no <random> distribution (those are implementation-defined).
// The last 1x1 of each residual branch is scaled by 0.25, like a trained network's small BN gamma,
// so activations do not double at every Add of the 16 blocks.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "statiq/io/npy.hpp"

namespace {

struct Options {
  std::filesystem::path model;
  std::filesystem::path samples;
  std::size_t sample_count = 8;
  int width = 64;  // the stem's filters and the first stage's bottleneck width (ResNet-50: 64)
  std::vector<int> blocks{3, 4, 6, 3};
  int input_size = 224;
  int classes = 1000;
  std::uint32_t seed = 2026;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "make_resnet50: %s\n"
               "usage: make_resnet50 -o model.onnx [--samples calib.npy] [--sample-count 8] [--width 64]\n"
               "                     [--blocks 3,4,6,3] [--input-size 224] [--classes 1000] [--seed 2026]\n",
               why.c_str());
  std::exit(1);
}

long parse_int(const std::string& flag, const std::string& text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno || v < lo || v > hi)
    usage(flag + " '" + text + "': expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "-o" || a == "--output") o.model = value();
    else if (a == "--samples") o.samples = value();
    else if (a == "--sample-count") o.sample_count = std::size_t(parse_int(a, value(), 1, 4096));
    else if (a == "--width") o.width = int(parse_int(a, value(), 1, 256));
    else if (a == "--input-size") o.input_size = int(parse_int(a, value(), 32, 1024));
    else if (a == "--classes") o.classes = int(parse_int(a, value(), 1, 100000));
    else if (a == "--seed") o.seed = std::uint32_t(parse_int(a, value(), 0, 0xffffffffL));
    else if (a == "--blocks") {
      const std::string list = value();
      o.blocks.clear();
      std::size_t start = 0;
      while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        o.blocks.push_back(int(parse_int(a, list.substr(start, comma - start), 1, 64)));
        start = comma + 1;
      }
      if (o.blocks.size() != 4) usage("--blocks '" + list + "': expected four counts, one per stage (3,4,6,3)");
    } else if (a == "-h" || a == "--help") usage("help");
    else usage("unknown argument '" + a + "'");
  }
  if (o.model.empty()) usage("no output model given (-o model.onnx)");
  return o;
}

// Uniform floats in [-bound, bound] from the generator's 32-bit integers: the same bits everywhere.
class Uniform {
 public:
  explicit Uniform(std::uint32_t seed) : engine_(seed) {}
  float operator()(float bound) {
    const double u = double(engine_()) / 4294967296.0;  // [0, 1), exact
    return float((2.0 * u - 1.0) * double(bound));
  }

 private:
  std::mt19937 engine_;
};

class Builder {
 public:
  Builder(const Options& o) : o_(o), random_(o.seed) {
    model_.set_ir_version(7);
    model_.set_producer_name("statiq make_resnet50");
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    graph_ = model_.mutable_graph();
    graph_->set_name("resnet50_random");
  }

  std::int64_t parameters() const { return parameters_; }

  void value_info(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<std::int64_t>& shape) {
    vi->set_name(name);
    auto* t = vi->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (const std::int64_t d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
  }

  // A float initializer of uniform values in [-bound, bound], stored as raw little-endian bytes.
  std::string initializer(const std::string& name, const std::vector<std::int64_t>& dims, float bound) {
    auto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    std::int64_t count = 1;
    for (const std::int64_t d : dims) t->add_dims(d), count *= d;
    std::vector<float> values(static_cast<std::size_t>(count));
    for (float& v : values) v = random_(bound);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    parameters_ += count;
    return name;
  }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                        const std::string& name) {
    auto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& key, const std::vector<std::int64_t>& values) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (const std::int64_t v : values) a->add_ints(v);
  }
  static void int1(onnx::NodeProto* n, const std::string& key, std::int64_t value) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }

  // Conv (BatchNorm folded into its weights and bias), optionally followed by Relu.
  std::string conv(const std::string& name, const std::string& x, int in, int out, int k, int stride, bool relu,
                   float gain = 1.0f) {
    const float bound = gain * std::sqrt(6.0f / float(in * k * k));
    const std::string w = initializer(name + ".weight", {out, in, k, k}, bound);
    const std::string b = initializer(name + ".bias", {out}, 0.05f);
    auto* n = node("Conv", {x, w, b}, name + (relu ? ".conv" : ""), name);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {k / 2, k / 2, k / 2, k / 2});
    ints(n, "dilations", {1, 1});
    int1(n, "group", 1);
    if (!relu) return name;
    node("Relu", {name + ".conv"}, name, name + ".relu");
    return name;
  }

  // torchvision's Bottleneck (v1.5: the stride on the 3x3).
  std::string bottleneck(const std::string& name, const std::string& x, int in, int width, int stride) {
    const int out = 4 * width;
    std::string y = conv(name + ".conv1", x, in, width, 1, 1, true);
    y = conv(name + ".conv2", y, width, width, 3, stride, true);
    y = conv(name + ".conv3", y, width, out, 1, 1, false, 0.25f);
    const std::string shortcut = (stride != 1 || in != out) ? conv(name + ".downsample", x, in, out, 1, stride, false) : x;
    node("Add", {y, shortcut}, name + ".add", name + ".add");
    node("Relu", {name + ".add"}, name, name + ".relu");
    return name;
  }

  onnx::ModelProto build() {
    const int s = o_.input_size;
    value_info(graph_->add_input(), "input", {1, 3, s, s});
    std::string x = conv("conv1", "input", 3, o_.width, 7, 2, true);
    auto* pool = node("MaxPool", {x}, "maxpool", "maxpool");
    ints(pool, "kernel_shape", {3, 3});
    ints(pool, "strides", {2, 2});
    ints(pool, "pads", {1, 1, 1, 1});
    x = "maxpool";
    int in = o_.width;
    for (int stage = 0; stage < 4; ++stage) {
      const int width = o_.width << stage;
      for (int b = 0; b < o_.blocks[std::size_t(stage)]; ++b) {
        x = bottleneck("layer" + std::to_string(stage + 1) + "." + std::to_string(b), x, in, width,
                       stage > 0 && b == 0 ? 2 : 1);
        in = 4 * width;
      }
    }
    node("GlobalAveragePool", {x}, "avgpool", "avgpool");
    auto* flatten = node("Flatten", {"avgpool"}, "flatten", "flatten");
    int1(flatten, "axis", 1);
    const std::string w = initializer("fc.weight", {o_.classes, in}, std::sqrt(6.0f / float(in)));
    const std::string b = initializer("fc.bias", {o_.classes}, 0.05f);
    auto* gemm = node("Gemm", {"flatten", w, b}, "logits", "fc");
    int1(gemm, "transB", 1);
    value_info(graph_->add_output(), "logits", {1, o_.classes});
    return model_;
  }

 private:
  const Options& o_;
  Uniform random_;
  onnx::ModelProto model_;
  onnx::GraphProto* graph_ = nullptr;
  std::int64_t parameters_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    Builder builder(o);
    const onnx::ModelProto model = builder.build();
    {
      std::ofstream out(o.model, std::ios::binary | std::ios::trunc);
      if (!out || !model.SerializeToOstream(&out) || !out.flush())
        throw std::runtime_error("cannot write '" + o.model.string() + "'");
    }
    std::printf("%s: ResNet-50 structure, width %d, blocks %d,%d,%d,%d, input %d, %d classes, %lld parameters\n",
                o.model.string().c_str(), o.width, o.blocks[0], o.blocks[1], o.blocks[2], o.blocks[3], o.input_size,
                o.classes, static_cast<long long>(builder.parameters()));
    if (!o.samples.empty()) {
      // Random 8-bit RGB pixels, ImageNet-normalised as torchvision feeds ResNet-50 ((p / 255 - mean) / std,
      // NCHW), so --legalize --input-pixels imagenet can fold the normalisation back into the first layer.
      std::mt19937 random(o.seed + 1);
      const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
      const std::size_t plane = std::size_t(o.input_size) * std::size_t(o.input_size);
      std::vector<float> x(o.sample_count * 3 * plane);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = (i / plane) % 3;
        x[i] = (float(random() % 256u) / 255.0f - mean[c]) / stdev[c];
      }
      const std::size_t shape[] = {o.sample_count, 3, std::size_t(o.input_size), std::size_t(o.input_size)};
      statiq::io::write_npy<float>(o.samples, shape, x);
      std::printf("%s: %zu samples [%zu, 3, %d, %d] float32\n", o.samples.string().c_str(), o.sample_count,
                  o.sample_count, o.input_size, o.input_size);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_resnet50: %s\n", e.what());
    return 1;
  }
  return 0;
}
