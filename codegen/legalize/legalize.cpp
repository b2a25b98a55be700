// codegen/legalize/legalize.cpp — see legalize.hpp.
#include "codegen/legalize/legalize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/legalize/float_check.hpp"
#include "statiq/targets/describe.hpp"

namespace statiq::codegen::legalize {
namespace {

using ir::Node;

bool is_graph_input(const ir::Graph& g, const std::string& name) {
  return std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end();
}

// NCHW [1,C,H,W] -> Shape{H, W, C}; nullopt for other ranks or unknown shapes.
std::optional<Shape> map_shape(const ir::Graph& g, const std::string& tensor) {
  if (!g.has_tensor(tensor)) return std::nullopt;
  const ir::Tensor& t = g.tensor(tensor);
  if (!t.shape || !t.has_static_shape() || t.shape->size() != 4) return std::nullopt;
  const ir::Dims& d = *t.shape;
  return Shape{int(d[2]), int(d[3]), int(d[1])};
}

// A 2-D Conv as the target's rules see it.
struct ConvView {
  Shape in{};
  int filters = 0;
  Kernel kernel{1, 1};
  Stride strides{1, 1};
  Dilation dilations{1, 1};
  int group = 1;
  Pads pads{};  // explicit [top, left, bottom, right]
  bool input_layer = false;
};

std::optional<ConvView> view_of(const ir::Graph& g, const TargetInfo& t, const Node& n) {
  if (n.op_type != "Conv" || n.inputs.size() < 2 || !g.has_tensor(n.inputs[1])) return std::nullopt;
  const ir::Tensor& w = g.tensor(n.inputs[1]);
  const auto in = map_shape(g, n.inputs[0]);
  if (!w.is_initializer || !w.shape || w.shape->size() != 4 || !in) return std::nullopt;
  ConvView v;
  v.in = *in;
  v.filters = int((*w.shape)[0]);
  v.kernel = Kernel{int((*w.shape)[2]), int((*w.shape)[3])};
  const auto st = n.attr_ints("strides", {1, 1});
  const auto dl = n.attr_ints("dilations", {1, 1});
  v.strides = Stride{int(st[0]), int(st[1])};
  v.dilations = Dilation{int(dl[0]), int(dl[1])};
  v.group = int(n.attr_int("group", 1));
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const Pads p = resolve_pads(Pads::same, v.in, v.kernel, v.strides, v.dilations);
    v.pads = auto_pad == "SAME_UPPER" ? p : Pads{p.bottom, p.right, p.top, p.left};
  } else if (auto_pad != "VALID") {
    const auto p = n.attr_ints("pads", {0, 0, 0, 0});
    if (p.size() != 4) return std::nullopt;
    v.pads = Pads{int(p[0]), int(p[1]), int(p[2]), int(p[3])};
  }
  v.input_layer = t.akida_conventions && is_graph_input(g, n.inputs[0]);
  return v;
}

LayerKind kind_of(const ConvView& v) {
  if (v.input_layer) return LayerKind::input_conv2d;
  return v.group > 1 && v.group == v.in.c ? LayerKind::depthwise_conv2d : LayerKind::conv2d;
}

// The target's verdict on the convolution alone (no fused activation or pool), with bit-widths
// the target accepts, so that only its geometry is judged.
Violation probe(const TargetInfo& t, const ConvView& v) {
  ConvAttributes a;
  a.input = v.in;
  a.filters = v.filters;
  a.kernel = v.kernel;
  a.strides = v.strides;
  a.dilations = v.dilations;
  a.group = v.group;
  a.pads = v.pads;
  const int d = t.default_bits;  // the bits lowering gives the layer unless configured
  a.bits = v.input_layer ? Bits{8, 8, d} : Bits{d, d, d};
  a.signed_input = !v.input_layer && t.signed_activations;
  a.signed_output = t.signed_activations;
  return t.conv(kind_of(v), a);
}

Shape conv_output(const ConvView& v) {
  return window_output_shape(v.in, v.filters, v.kernel, v.strides, v.pads, v.dilations);
}

void set_pads(Node& n, Pads p) {
  n.attributes.erase("auto_pad");
  n.attributes["pads"] = std::vector<std::int64_t>{p.top, p.left, p.bottom, p.right};
}

std::string fresh_name(const ir::Graph& g, const std::string& base) {
  if (!g.has_tensor(base) && !g.find_node(base)) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (!g.has_tensor(name) && !g.find_node(name)) return name;
  }
}

std::string add_initializer(ir::Graph& g, const std::string& base, ir::Dims shape, std::vector<float> values) {
  ir::Tensor t;
  t.name = fresh_name(g, base);
  t.dtype = ir::DataType::float32;
  t.shape = std::move(shape);
  t.is_initializer = true;
  t.float_data = std::move(values);
  const std::string name = t.name;
  g.tensors[name] = std::move(t);
  return name;
}

// The only node reading `tensor` (not a graph output), or -1.
std::int64_t sole_reader(const ir::Graph& g, const std::string& tensor) {
  if (std::find(g.outputs.begin(), g.outputs.end(), tensor) != g.outputs.end()) return -1;
  const auto c = g.consumers(tensor);
  return c.size() == 1 ? std::int64_t(c[0]) : -1;
}

bool is_activation(const Node& n) { return n.op_type == "Relu" || n.op_type == "Clip"; }

// Inserts, right after node `after`, an identity convolution eye(C) (1x1, `stride`, no padding,
// zero bias) on `after`'s first output: the old output name moves to the new node's output, so
// every reader and graph output stays as it was. Returns the new node's name.
std::string insert_identity_conv(ir::Graph& g, std::size_t after, int stride, const std::string& name_base) {
  const std::string out = g.nodes[after].outputs[0];
  const Shape s = *map_shape(g, out);
  const std::string moved = fresh_name(g, out + "_unstrided");
  ir::Tensor t = g.tensor(out);
  t.name = moved;
  g.tensors[moved] = t;
  g.nodes[after].outputs[0] = moved;
  std::vector<float> eye(std::size_t(s.c) * std::size_t(s.c), 0.0f);
  for (int c = 0; c < s.c; ++c) eye[std::size_t(c) * std::size_t(s.c) + std::size_t(c)] = 1.0f;
  Node n;
  n.name = fresh_name(g, name_base);
  n.op_type = "Conv";
  n.inputs = {moved, add_initializer(g, n.name + "_eye", {s.c, s.c, 1, 1}, std::move(eye)),
              add_initializer(g, n.name + "_zero_bias", {s.c}, std::vector<float>(std::size_t(s.c), 0.0f))};
  n.outputs = {out};
  n.attributes["kernel_shape"] = std::vector<std::int64_t>{1, 1};
  n.attributes["strides"] = std::vector<std::int64_t>{stride, stride};
  n.attributes["pads"] = std::vector<std::int64_t>{0, 0, 0, 0};
  const std::string name = n.name;
  g.nodes.insert(g.nodes.begin() + std::ptrdiff_t(after) + 1, std::move(n));
  return name;
}

// The graph without its initializers' data (names, shapes and nodes only): what a rewrite checked
// on a copy needs, without copying the weights.
ir::Graph skeleton(const ir::Graph& g) {
  ir::Graph c;
  c.name = g.name;
  c.source = g.source;
  c.opset = g.opset;
  c.nodes = g.nodes;
  c.inputs = g.inputs;
  c.outputs = g.outputs;
  for (const auto& [name, t] : g.tensors) {
    ir::Tensor& u = c.tensors[name];
    u.name = t.name;
    u.dtype = t.dtype;
    u.shape = t.shape;
    u.is_initializer = t.is_initializer;
  }
  return c;
}

exec::Array pad_input(const exec::Array& x, const InputPadding& p) {
  if (!p.any()) return x;
  if (x.shape.size() != 4) throw std::runtime_error("pre-padding needs a 4-D (NCHW) input");
  const std::int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  const std::int64_t ph = h + p.top + p.bottom, pw = w + p.left + p.right;
  exec::Array y = exec::Array::floats({n, c, ph, pw});
  for (std::int64_t b = 0; b < n * c; ++b)
    for (std::int64_t i = 0; i < h; ++i)
      std::copy_n(x.f.begin() + (b * h + i) * w, w, y.f.begin() + (b * ph + i + p.top) * pw + p.left);
  return y;
}

exec::Array transform_input(const exec::Array& x, const LegalizeResult& r) {
  exec::Array y = pad_input(x, r.input_padding);
  if (r.input_scale.empty()) return y;
  const std::int64_t c = y.shape[1], plane = y.shape[2] * y.shape[3];
  for (std::int64_t b = 0; b < y.shape[0]; ++b)
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t i = 0; i < plane; ++i) {
        float& v = y.f[std::size_t((b * c + k) * plane + i)];
        v = (v - r.input_offset[std::size_t(k)]) / r.input_scale[std::size_t(k)];
      }
  return y;
}

class Legalizer {
 public:
  Legalizer(ir::Graph& g, const TargetInfo& t, const std::vector<exec::Array>& samples, const LegalizeOptions& o)
      : g_(g), t_(t), o_(o) {
    for (std::size_t i = 0; i < samples.size() && i < o.check_samples; ++i) samples_.push_back(samples[i]);
    if (!samples_.empty() && g_.inputs.size() == 1) {  // else run() refuses the graph
      exec::FloatExecutor::check_supported(g_);  // refuses the graph before any rewrite, as a run would
      last_main_ = check_.add(g_, input_map());
      compared_with_.push_back(last_main_);
      main_version_.push_back(true);
    }
  }

  LegalizeResult run() {
    if (g_.inputs.size() != 1 || !batch_one_input())
      throw std::runtime_error(g_.source + ": legalization needs one graph input of static shape [1,C,H,W], "
                               "[1,C,W] or [1,N]");
    note_input_range();
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) depthwise_as_full(i);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) pads(i);
    fold_input_normalization();
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) kernel(i);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) partial_average(i);
    identity_convs();
    finish_checks();
    for (const Node& n : g_.nodes) {
      const auto v = view_of(g_, t_, n);
      if (!v) continue;
      if (const Violation bad = probe(t_, *v); bad.broken())
        r_.remaining.push_back("node '" + n.name + "' (Conv, " + std::string(layer_kind_name(kind_of(*v))) +
                               "): " + describe(bad) + ": no rewrite fixes it" + hint(bad, *v));
    }
    g_.validate();
    return std::move(r_);
  }

 private:
  // Why no rewrite applies, for the rules users meet most.
  std::string hint(const Violation& bad, const ConvView& v) const {
    if (bad.rule == Rule::kernel_size_not_supported)
      return fmt::format(" (no {} of {} takes a {}x{} kernel, not even zero-padded: it runs on the host with "
                         "--unmapped host)",
                         layer_kind_name(kind_of(v)), t_.name, v.kernel.h, v.kernel.w);
    return " (it runs on the host with --unmapped host)";
  }

  void note_input_range() {
    if (!t_.akida_conventions || samples_.empty()) return;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (const exec::Array& x : samples_)
      for (float v : x.f) lo = std::min(lo, v), hi = std::max(hi, v);
    if (lo < 0 && o_.input_pixels == "none")
      r_.notes.push_back(fmt::format(
          "graph input '{}' takes negative values (min {:g}, max {:g} on the check samples) but {}'s input layer "
          "reads uint8 pixels: the input Quantize clamps them to 0. Feed the engine pixels and fold the "
          "normalisation into the first convolution (exact inside the image; the zero padding then stands for "
          "pixel 0, not for the mean) before exporting, or expect that error",
          g_.inputs[0], lo, hi, t_.name));
    else if (hi <= 1.0f)
      r_.notes.push_back(fmt::format("graph input '{}' is in [{:g}, {:g}]: {}'s input layer reads uint8, so the "
                                     "Quantize scales it by a power of two (1/256 for pixel/255: not exactly the "
                                     "pixels, an error below one pixel step)",
                                     g_.inputs[0], lo, hi, t_.name));
  }

  // How a sample becomes the graph input now (pre-padding, pixel map).
  FloatCheck::InputMap input_map() const { return {r_.input_padding, r_.input_scale, r_.input_offset}; }

  // Records the rewrite just made; its float check (against the graph before it) runs in
  // finish_checks(), after the last rewrite: no rewrite decision depends on a check's result.
  void record(Rewrite w) {
    std::optional<std::size_t> version;
    if (!samples_.empty()) {
      version = check_.add(g_, input_map());
      compared_with_.push_back(last_main_);
      main_version_.push_back(true);
      last_main_ = *version;
    }
    r_.rewrites.push_back(std::move(w));
    version_of_.push_back(version);
  }

  // The float checks of every rewrite: each version of the graph against the one before its
  // rewrite, on the check samples (FloatCheck: the bits of whole-graph runs, computed once per
  // node whose inputs changed). Throws for the first exact rewrite, in the order they were made,
  // that changed the outputs beyond float rounding.
  void finish_checks() {
    if (samples_.empty()) return;
    const auto outputs = check_.run(g_, samples_);
    std::vector<double> diffs(outputs.size()), peaks(outputs.size());
    for (std::size_t v = 1; v < outputs.size(); ++v) {
      const auto& after = outputs[v];
      const auto& previous = outputs[compared_with_[v]];
      double diff = 0, peak = 0;
      for (std::size_t s = 0; s < after.size(); ++s)
        for (std::size_t i = 0; i < after[s].size() && i < previous[s].size(); ++i) {
          diff = std::max(diff, std::abs(double(after[s][i]) - double(previous[s][i])));
          peak = std::max(peak, std::abs(double(previous[s][i])));
        }
      diffs[v] = diff;
      peaks[v] = peak;
    }
    std::vector<std::optional<std::size_t>> rewrite_of(outputs.size());
    for (std::size_t k = 0; k < r_.rewrites.size(); ++k) {
      if (!version_of_[k]) continue;
      const std::size_t v = *version_of_[k];
      Rewrite& w = r_.rewrites[k];
      w.max_abs_diff = diffs[v];
      w.output_max_abs = peaks[v];
      w.within_tolerance = diffs[v] <= o_.tolerance * std::max(peaks[v], 1e-30);
      rewrite_of[v] = k;
    }
    for (std::size_t v = 1; v < outputs.size(); ++v) {
      if (!rewrite_of[v] || !main_version_[v]) continue;
      const Rewrite& w = r_.rewrites[*rewrite_of[v]];
      if (w.exact && !w.within_tolerance)
        throw std::logic_error("legalization bug: exact rewrite '" + w.action + "' changed the float outputs by " +
                               fmt::format("{:g} (max |output| {:g})", diffs[v], peaks[v]));
    }
  }

  // The target's input layer reads uint8 pixels: a graph input with negative values (a normalised
  // image) is mapped back to pixels, x = scale_c * p + offset_c, and the map folded into the input
  // convolution: W' = W * scale_c, B' = B + sum W * offset_c. Exact where every tap reads an image
  // value, so the convolution's zero padding (x = 0, i.e. p = -offset / scale) moves onto the input
  // first, as pre-padding with that value.
  // One static input of batch 1: an image [1,C,H,W], or a sequence [1,C,W] or vector [1,N] (which
  // only the per-node rewrites concern: there are no pixels to fold or pre-pad).
  bool batch_one_input() const {
    if (!g_.has_tensor(g_.inputs[0])) return false;
    const ir::Tensor& t = g_.tensor(g_.inputs[0]);
    return t.has_static_shape() && t.shape->size() >= 2 && t.shape->size() <= 4 && (*t.shape)[0] == 1;
  }

  void fold_input_normalization() {
    if (!t_.akida_conventions || o_.input_pixels == "none" || !map_shape(g_, g_.inputs[0])) return;
    const Shape in = *map_shape(g_, g_.inputs[0]);
    std::vector<float> lo(std::size_t(in.c), 0.0f), hi(std::size_t(in.c), 0.0f);
    bool negative = false;
    for (const exec::Array& x : samples_) {
      const std::size_t plane = x.f.size() / std::size_t(in.c);
      for (std::size_t k = 0; k < std::size_t(in.c); ++k)
        for (std::size_t i = 0; i < plane; ++i) {
          const float v = x.f[k * plane + i];
          lo[k] = std::min(lo[k], v), hi[k] = std::max(hi[k], v);
          negative = negative || v < 0;
        }
    }
    if (!negative && o_.input_pixels.empty()) return;
    std::vector<float> scale(std::size_t(in.c)), offset(std::size_t(in.c));
    std::string how;
    if (o_.input_pixels == "imagenet") {
      if (in.c != 3) throw std::runtime_error("--input-pixels imagenet needs a 3-channel input");
      const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
      for (int k = 0; k < 3; ++k) scale[std::size_t(k)] = 1.0f / (255.0f * stdev[k]), offset[std::size_t(k)] = -mean[k] / stdev[k];
      how = "x = (p/255 - mean_c) / std_c (ImageNet statistics)";
    } else if (o_.input_pixels.empty()) {
      for (std::size_t k = 0; k < std::size_t(in.c); ++k) {
        scale[k] = hi[k] > lo[k] ? (hi[k] - lo[k]) / 255.0f : 1.0f;
        offset[k] = lo[k];
      }
      how = "the check samples' range of each channel (0 included) mapped onto 0..255 (values outside it will "
            "clamp: give --input-pixels imagenet when that is the model's normalisation)";
    } else {
      throw std::runtime_error("input pixels '" + o_.input_pixels + "': choose imagenet, none or leave it empty");
    }
    const auto readers = g_.consumers(g_.inputs[0]);
    Node* conv = readers.size() == 1 ? &g_.nodes[readers[0]] : nullptr;
    const auto v = conv ? view_of(g_, t_, *conv) : std::nullopt;
    if (!v || v->group != 1 || v->dilations != Dilation{1, 1}) {
      r_.notes.push_back("graph input '" + g_.inputs[0] + "' has negative values and does not feed one plain Conv: " +
                         "the normalisation cannot be folded; the input Quantize refuses negative values");
      return;
    }
    const std::string name = conv->name;
    bool exact = true;
    std::string padding;
    if (v->pads != Pads{}) {
      if (!r_.input_padding.any() && !o_.approximate_pads) {
        const Pads p = v->pads;
        r_.input_padding = InputPadding{p.top, p.left, p.bottom, p.right};
        ir::Tensor& t = g_.tensor(g_.inputs[0]);
        (*t.shape)[2] += p.top + p.bottom;
        (*t.shape)[3] += p.left + p.right;
        set_pads(*conv, Pads{});
        padding = fmt::format("; its pads [{}, {}, {}, {}] move onto the input: the host pre-pads with the pixel "
                              "standing for 0", p.top, p.left, p.bottom, p.right);
      } else {
        exact = false;
        padding = "; the convolution's zero padding now stands for pixel 0, not for x = 0 (border outputs change)";
      }
    }
    ir::Tensor w = g_.tensor(conv->inputs[1]);
    const int o = v->filters, c = in.c, kk = v->kernel.h * v->kernel.w;
    std::vector<float> bias(std::size_t(o), 0.0f);
    if (conv->has_input(2)) bias = g_.tensor(conv->inputs[2]).float_data;
    for (int f = 0; f < o; ++f)
      for (int k = 0; k < c; ++k)
        for (int j = 0; j < kk; ++j) {
          float& wv = w.float_data[(std::size_t(f) * std::size_t(c) + std::size_t(k)) * std::size_t(kk) + std::size_t(j)];
          bias[std::size_t(f)] += wv * offset[std::size_t(k)];
          wv *= scale[std::size_t(k)];
        }
    conv->inputs[1] = add_initializer(g_, name + "_pixel_weights", *w.shape, std::move(w.float_data));
    if (conv->inputs.size() < 3) conv->inputs.resize(3);
    conv->inputs[2] = add_initializer(g_, name + "_pixel_bias", {o}, std::move(bias));
    r_.input_scale = scale;
    r_.input_offset = offset;
    std::string map;
    for (int k = 0; k < c; ++k)
      map += fmt::format("{}c{}: x = {:.6g} p + {:.6g}", k ? ", " : "", k, scale[std::size_t(k)], offset[std::size_t(k)]);
    record(Rewrite{.rule = "input_must_be_unsigned_8_bit",
                   .action = fmt::format("graph input '{}' (negative values: min {:g}) mapped back to 0..255 pixels, "
                                         "{}, folded into the input layer's weights and bias ({}){}",
                                         g_.inputs[0], *std::min_element(lo.begin(), lo.end()), how, map, padding),
                   .nodes = {name},
                   .exact = exact,
                   .cost = "the host feeds pixels (p = (x - offset_c) / scale_c) instead of normalised values"});
  }

  // Akida 1.0 has no stand-alone depthwise layer: a depthwise convolution is a full one whose
  // kernel is zero off the diagonal (output channel o reads input channel o / multiplier only).
  void depthwise_as_full(std::size_t i) {
    const auto v = view_of(g_, t_, g_.nodes[i]);
    if (!v || probe(t_, *v).rule != Rule::depthwise_is_fused_with_pointwise_on_akida_v1) return;
    Node& n = g_.nodes[i];
    const ir::Tensor& w = g_.tensor(n.inputs[1]);
    const int c = v->in.c, o = v->filters, kk = v->kernel.h * v->kernel.w, m = o / c;
    std::vector<float> full(std::size_t(o) * std::size_t(c) * std::size_t(kk), 0.0f);
    for (int f = 0; f < o; ++f)
      for (int k = 0; k < kk; ++k)
        full[(std::size_t(f) * std::size_t(c) + std::size_t(f / m)) * std::size_t(kk) + std::size_t(k)] =
            w.float_data[std::size_t(f) * std::size_t(kk) + std::size_t(k)];
    const Node before = n;
    n.inputs[1] = add_initializer(g_, n.name + "_full_weights", {o, c, v->kernel.h, v->kernel.w}, std::move(full));
    n.attributes.erase("group");
    n.attributes.erase("statiq_depthwise");
    n.attributes.erase("statiq_depth_multiplier");
    // c times the weights is worth it only if the full convolution then fits (up to the pads and
    // kernel rewrites that follow): otherwise the depthwise layer stays as it was, on the host.
    if (auto full_view = view_of(g_, t_, n)) {
      // As the later passes would leave it: pads "same" (the pads pass), a kernel up to 7x7 embedded.
      // (The targets' rules resolve "same" without dilation, and refuse dilation after the pads.)
      full_view->pads = resolve_pads(Pads::same, full_view->in, full_view->kernel, full_view->strides);
      const Violation still = probe(t_, *full_view);
      const bool embeddable = still.rule == Rule::kernel_size_not_supported && full_view->kernel.h <= 7 &&
                              full_view->kernel.w <= 7;
      if (still.broken() && !embeddable) {
        g_.tensors.erase(n.inputs[1]);
        n = before;
        r_.notes.push_back("node '" + n.name + "' (Conv, depthwise): " + describe(probe(t_, *v)) +
                               ": as a full convolution (" + std::to_string(c) + "x the weights) it would still break " +
                               describe(still) + ", so it is not rewritten and runs on the host");
        return;
      }
    }
    record(Rewrite{.rule = "depthwise_is_fused_with_pointwise_on_akida_v1",
                   .action = fmt::format("depthwise convolution as a full convolution (kernel zero off the diagonal: "
                                         "{} has no stand-alone depthwise layer)", t_.name),
                   .nodes = {g_.nodes[i].name},
                   .cost = fmt::format("{}x the weights and MACs of that layer", c)});
  }

  // Pads the target refuses: on the input layer, pre-padding of the graph input; on a strided
  // inner convolution with symmetric pads, stride 1 then an identity subsampling convolution.
  void pads(std::size_t i) {
    auto v = view_of(g_, t_, g_.nodes[i]);
    if (!v || probe(t_, *v).rule != Rule::expects_pads) return;
    const Pads same = resolve_pads(Pads::same, v->in, v->kernel, v->strides, v->dilations);
    const bool same_size = window_output_shape(v->in, v->filters, v->kernel, v->strides, same, v->dilations) ==
                           conv_output(*v);
    const std::string name = g_.nodes[i].name;
    const std::string found = fmt::format("[{}, {}, {}, {}]", v->pads.top, v->pads.left, v->pads.bottom, v->pads.right);
    const std::string want = fmt::format("[{}, {}, {}, {}]", same.top, same.left, same.bottom, same.right);
    auto shift = [&](const std::string& where) {
      set_pads(g_.nodes[i], same);
      record(Rewrite{.rule = "expects_pads",
                     .action = fmt::format("{} pads {} replaced by \"same\" {}: the sampling grid moves by one pixel "
                                           "(the documented approximation, --approximate-pads)",
                                           where, found, want),
                     .nodes = {name},
                     .exact = false,
                     .cost = "output error (reported below): the convolution reads pixels one row/column further"});
    };
    if (v->input_layer) {
      const bool sole = g_.consumers(g_.inputs[0]).size() == 1 && !r_.input_padding.any();
      if (o_.approximate_pads || !sole) {
        if (same_size) shift("input layer");
        return;
      }
      // Zero rows/columns added on the host are what the convolution's padding reads: with them
      // the convolution is "valid" and reads the very same values.
      const Pads p = v->pads;
      r_.input_padding = InputPadding{p.top, p.left, p.bottom, p.right};
      ir::Tensor& in = g_.tensor(g_.inputs[0]);
      (*in.shape)[2] += p.top + p.bottom;
      (*in.shape)[3] += p.left + p.right;
      set_pads(g_.nodes[i], Pads{});
      record(Rewrite{.rule = "expects_pads",
                     .action = fmt::format("input layer pads {} moved onto the input: the host pre-pads the image "
                                           "with zeros (top {}, left {}, bottom {}, right {}) to {}x{}, the "
                                           "convolution becomes \"valid\"",
                                           found, p.top, p.left, p.bottom, p.right, (*in.shape)[2], (*in.shape)[3]),
                     .nodes = {name},
                     .cost = fmt::format("the engine reads a {}x{} image instead of {}x{}", (*in.shape)[2],
                                         (*in.shape)[3], v->in.h, v->in.w)});
      return;
    }
    const bool symmetric = v->pads.top == v->pads.bottom && v->pads.left == v->pads.right;
    if (o_.approximate_pads || v->strides == Stride{1, 1} || v->strides.h != v->strides.w || !symmetric) {
      if (same_size) shift("inner convolution");
      return;
    }
    // Symmetric pads are "same" at stride 1. Output i of the strided convolution is output
    // stride*i of the stride-1 one, and an activation commutes with picking pixels: compute
    // every pixel, then keep one in `stride` with a 1x1 identity convolution of that stride.
    ConvView s1 = *v;
    s1.strides = Stride{1, 1};
    if (probe(t_, s1).rule == Rule::expects_pads) {
      if (same_size) shift("inner convolution");
      return;
    }
    const int stride = v->strides.h;
    g_.nodes[i].attributes["strides"] = std::vector<std::int64_t>{1, 1};
    const Shape full = conv_output(s1);
    std::size_t last = i;
    auto widen = [&](const std::string& tensor) {
      (*g_.tensor(tensor).shape)[2] = full.h;
      (*g_.tensor(tensor).shape)[3] = full.w;
    };
    widen(g_.nodes[i].outputs[0]);
    if (const std::int64_t a = sole_reader(g_, g_.nodes[i].outputs[0]); a >= 0 && is_activation(g_.nodes[std::size_t(a)])) {
      last = std::size_t(a);
      widen(g_.nodes[last].outputs[0]);
    }
    // The moved tensor keeps the full size; the subsampling conv's output keeps the original one.
    const std::string out = g_.nodes[last].outputs[0];
    const ir::Dims strided = {1, v->filters, conv_output(*v).h, conv_output(*v).w};
    const std::string sub = insert_identity_conv(g_, last, stride, name + "/subsample");
    *g_.tensor(out).shape = strided;
    g_.sort_topologically();
    record(Rewrite{.rule = "expects_pads",
                   .action = fmt::format("inner stride-{} convolution with symmetric pads {} (\"same\" is {}): "
                                         "computed at stride 1, where those pads are \"same\", then one "
                                         "pixel in {} kept by an identity 1x1 stride-{} convolution '{}'",
                                         stride, found, want, stride, stride, sub),
                   .nodes = {name, sub},
                   .cost = fmt::format("{}x the MACs of '{}' and one {}x{} identity layer", stride * stride, name,
                                       v->filters, v->filters)});
  }

  // A kernel the target has no layer for (or a stride only a 3x3 kernel may have): zero-padded to
  // the smallest supported square kernel, the taps placed where they read the same pixels under
  // the target's padding, so the outputs are unchanged.
  void kernel(std::size_t i) {
    const auto v = view_of(g_, t_, g_.nodes[i]);
    if (!v) return;
    const Violation bad = probe(t_, *v);
    if (bad.rule != Rule::kernel_size_not_supported && bad.rule != Rule::stride_2_only_with_3x3_kernels) return;
    if (v->dilations != Dilation{1, 1}) return;
    const Shape out = conv_output(*v);
    for (int k = std::max(v->kernel.h, v->kernel.w); k <= 7; ++k) {
      for (const Pads mode : {Pads::same, Pads::valid}) {
        ConvView w = *v;
        w.kernel = Kernel{k, k};
        w.pads = resolve_pads(mode, v->in, w.kernel, w.strides);
        const int dy = w.pads.top - v->pads.top, dx = w.pads.left - v->pads.left;
        if (conv_output(w) != out || dy < 0 || dx < 0 || dy + v->kernel.h > k || dx + v->kernel.w > k) continue;
        if (probe(t_, w).broken()) continue;
        embed(i, *v, w, dy, dx, bad);
        return;
      }
    }
  }

  void embed(std::size_t i, const ConvView& v, const ConvView& w, int dy, int dx, const Violation& bad) {
    Node& n = g_.nodes[i];
    const ir::Tensor& old = g_.tensor(n.inputs[1]);
    const int o = v.filters, ci = int((*old.shape)[1]), k = w.kernel.h;
    std::vector<float> bigger(std::size_t(o) * std::size_t(ci) * std::size_t(k * k), 0.0f);
    for (int f = 0; f < o * ci; ++f)
      for (int y = 0; y < v.kernel.h; ++y)
        for (int x = 0; x < v.kernel.w; ++x)
          bigger[std::size_t(f) * std::size_t(k * k) + std::size_t((y + dy) * k + x + dx)] =
              old.float_data[(std::size_t(f) * std::size_t(v.kernel.h) + std::size_t(y)) * std::size_t(v.kernel.w) +
                             std::size_t(x)];
    n.inputs[1] = add_initializer(g_, n.name + "_weights_" + std::to_string(k) + "x" + std::to_string(k),
                                  {o, ci, k, k}, std::move(bigger));
    n.attributes["kernel_shape"] = std::vector<std::int64_t>{k, k};
    set_pads(n, w.pads);
    const bool corner = dy == 0 && dx == 0, centre = 2 * dy + v.kernel.h == k && 2 * dx + v.kernel.w == k;
    const std::string tap = corner ? "the leading corner" : centre ? "the centre" : fmt::format("offset ({}, {})", dy, dx);
    const std::string action =
        bad.rule == Rule::stride_2_only_with_3x3_kernels
            ? fmt::format("{}x{} stride-{} convolution as a {}x{} one with the weights at {} (the tap that reads "
                          "the same pixel under pads [{}, {}, {}, {}] for a {}x{} input)",
                          v.kernel.h, v.kernel.w, v.strides.h, k, k, tap, w.pads.top, w.pads.left, w.pads.bottom,
                          w.pads.right, v.in.h, v.in.w)
            : fmt::format("{}x{} kernel zero-padded to {}x{}, the taps at {} so that pads [{}, {}, {}, {}] read the "
                          "same pixels",
                          v.kernel.h, v.kernel.w, k, k, tap, w.pads.top, w.pads.left, w.pads.bottom, w.pads.right);
    record(Rewrite{.rule = std::string(name_of(bad.rule)),
                   .action = action,
                   .nodes = {n.name},
                   .cost = fmt::format("{}x{} MACs per output instead of {}x{} (the extra ones multiply zeros)", k, k,
                                       v.kernel.h, v.kernel.w)});
  }

  void partial_average(std::size_t i) {
    const Node& n = g_.nodes[i];
    if (n.op_type != "AveragePool") return;
    const auto in = map_shape(g_, n.inputs[0]), out = map_shape(g_, n.outputs[0]);
    const auto ks = n.attr_ints("kernel_shape", {});
    const auto pd = n.attr_ints("pads", {0, 0, 0, 0});
    if (!in || !out || out->h != 1 || out->w != 1 || ks.size() != 2 || n.attr_string("auto_pad", "NOTSET") != "NOTSET" ||
        std::any_of(pd.begin(), pd.end(), [](std::int64_t x) { return x != 0; }) ||
        (ks[0] == in->h && ks[1] == in->w))
      return;
    const std::string what = fmt::format("AveragePool '{}' averages a {}x{} window of the {}x{} map (floor mode drops "
                                         "the last {} row(s) and {} column(s)): not a global average",
                                         n.name, ks[0], ks[1], in->h, in->w, in->h - ks[0], in->w - ks[1]);
    if (!o_.approximate_average) {
      r_.remaining.push_back(what + ", and no layer of " + std::string(t_.name) +
                             " computes it: it runs on the host (--approximate-average makes it a global average, "
                             "its error reported)");
      return;
    }
    Node& m = g_.nodes[i];
    m.attributes["kernel_shape"] = std::vector<std::int64_t>{in->h, in->w};
    m.attributes["strides"] = std::vector<std::int64_t>{in->h, in->w};
    record(Rewrite{.rule = "layer_kind_not_supported_by_target",
                   .action = what + ": averaged over the whole map instead (--approximate-average)",
                   .nodes = {m.name},
                   .exact = false,
                   .cost = "output error (the float check below)"});
  }

  // Lone activations and global averages the target only runs fused into a convolution: the
  // identity-convolution custom patterns of lower/custom_pattern.hpp carry them. Each is checked
  // here on a copy of the graph with the identity convolution inserted as a Conv node.
  void identity_convs() {
    if (!o_.identity_conv) return;
    bool any = false;
    const std::vector<Node> nodes = g_.nodes;  // the loop below checks on copies
    for (const Node& n : nodes) {
      const bool act = is_activation(n) && (n.op_type == "Relu" || n.inputs.size() >= 2);
      const bool gap = n.op_type == "GlobalAveragePool" || n.op_type == "AveragePool";
      if (!act && !gap) continue;
      const std::int64_t p = g_.producer(n.inputs[0]);
      const Node* prod = p >= 0 ? &g_.nodes[std::size_t(p)] : nullptr;
      const bool fusable = prod && sole_reader(g_, n.inputs[0]) >= 0;
      std::string why;
      if (act) {
        if (fusable && (prod->op_type == "Conv" || prod->op_type == "Gemm")) continue;
        if (fusable && prod->op_type == "Add" && table_has(t_.patterns, fused_pattern("Add", relu, no_pool))) continue;
        if (table_has(t_.patterns, Pattern{{n.op_type}, 1})) continue;
        why = fmt::format("a lone {} (after {}): {} runs activations only fused into a layer", n.op_type,
                          prod ? "'" + prod->name + "' (" + prod->op_type + ")" : "the input", t_.name);
      } else {
        const auto in = map_shape(g_, n.inputs[0]);
        if (!in) continue;
        if (n.op_type == "AveragePool") {  // only a window covering the whole map is a global average
          const auto ks = n.attr_ints("kernel_shape", {});
          const auto pd = n.attr_ints("pads", {0, 0, 0, 0});
          if (ks.size() != 2 || ks[0] != in->h || ks[1] != in->w ||
              std::any_of(pd.begin(), pd.end(), [](std::int64_t x) { return x != 0; }))
            continue;
        }
        const PoolAttributes native{.input = *in, .pool = global_average_pool, .bits = Bits{8, 8, 8}};
        if (!t_.pool(LayerKind::global_average_pool, native).broken()) continue;
        if (fusable && prod->op_type == "Conv") continue;  // Conv -> GAP
        if (fusable && is_activation(*prod)) {
          const std::int64_t pp = g_.producer(prod->inputs[0]);
          const Node* up = pp >= 0 ? &g_.nodes[std::size_t(pp)] : nullptr;
          const bool act_fused =
              up && sole_reader(g_, prod->inputs[0]) >= 0 &&
              (up->op_type == "Conv" || up->op_type == "Gemm" ||
               (up->op_type == "Add" && table_has(t_.patterns, fused_pattern("Add", relu, no_pool))));
          const bool conv_act_gap = table_has(t_.patterns, fused_pattern("Conv", relu, global_average_pool));
          if (act_fused && up->op_type == "Conv" && conv_act_gap) continue;  // Conv -> Relu -> GAP natively
          if (!act_fused && conv_act_gap) {
            // The lone activation and the average in one identity convolution (replaces the
            // activation's own entry).
            for (std::size_t k = r_.rewrites.size(); k-- > 0;)
              if (r_.rewrites[k].nodes == std::vector<std::string>{prod->name}) {
                r_.rewrites.erase(r_.rewrites.begin() + std::ptrdiff_t(k));
                version_of_.erase(version_of_.begin() + std::ptrdiff_t(k));
              }
            push_identity(prod->name, fmt::format("identity convolution (eye(C) 1x1, zero bias) carrying {} '{}' -> {} "
                                                  "'{}' (no layer in front to fuse them into)",
                                                  prod->op_type, prod->name, n.op_type, n.name));
            r_.rewrites.back().nodes.push_back(n.name);
            any = true;
            continue;
          }
          why = conv_act_gap
                    ? fmt::format("a global average after '{}' ({}) -> {}: {} fuses a global average only into a "
                                  "convolution", up->name, up->op_type, prod->op_type, t_.name)
                    : fmt::format("a global average after an activation: {} averages BEFORE its activation (no "
                                  "Conv -> Relu -> GlobalAveragePool), so the average gets an identity convolution "
                                  "of its own after the activation", t_.name);
        } else {
          why = fmt::format("a global average with no convolution in front: {} has no pooling layer", t_.name);
        }
      }
      push_identity(n.name, "identity convolution (eye(C) 1x1, zero bias) carrying " + why);
      any = true;
    }
    if (any)
      for (CustomPattern& c : identity_conv_patterns()) r_.custom_patterns.push_back(std::move(c));
  }

  // The rewrite record of an identity convolution placed in front of node `name` at lowering, its
  // float check run on a copy of the graph (without the weights' data) holding that convolution as
  // a Conv node, compared with the graph as it is (finish_checks()).
  void push_identity(const std::string& name, const std::string& action) {
    r_.rewrites.push_back(Rewrite{.rule = "pattern_not_in_target_table",
                                  .action = action + " (applied by the lowering's custom patterns)",
                                  .nodes = {name},
                                  .cost = "one CxC 1x1 layer"});
    version_of_.push_back(std::nullopt);
    if (samples_.empty()) return;
    ir::Graph copy = skeleton(g_);
    const Node* n = copy.find_node(name);
    const std::int64_t p = copy.producer(n->inputs[0]);
    if (p < 0) return;  // reads the graph input: nothing to insert after
    insert_identity_conv(copy, std::size_t(p), 1, name + "/identity");
    std::map<std::string, exec::Array> extra;  // the identity convolution's weights and bias
    for (const auto& [tensor, t] : copy.tensors)
      if (t.is_initializer && !g_.has_tensor(tensor)) extra.emplace(tensor, exec::Array::from_tensor(t));
    version_of_.back() = check_.add(copy, input_map(), std::move(extra));
    compared_with_.push_back(last_main_);
    main_version_.push_back(false);
  }

  ir::Graph& g_;
  const TargetInfo& t_;
  const LegalizeOptions& o_;
  std::vector<exec::Array> samples_;
  LegalizeResult r_;
  // The float check: the graph's versions (0: as given; then one per checked rewrite), for each the
  // version it is compared with and whether later rewrites build on it (an identity convolution is
  // checked on a copy); the version of each entry of r_.rewrites (none: not checked).
  FloatCheck check_;
  std::vector<std::size_t> compared_with_;
  std::vector<bool> main_version_;
  std::size_t last_main_ = 0;
  std::vector<std::optional<std::size_t>> version_of_;
};

}  // namespace

std::string LegalizeResult::to_text() const {
  std::string s;
  for (const Rewrite& w : rewrites) {
    std::string nodes;
    for (const auto& n : w.nodes) nodes += (nodes.empty() ? "'" : ", '") + n + "'";
    s += fmt::format("{} {}: {} [{}]", w.exact ? "exact" : "APPROXIMATE", nodes, w.action, w.rule);
    if (w.max_abs_diff)
      s += fmt::format("; float check: max |diff| {:.3g} (max |output| {:.3g}{})", *w.max_abs_diff, w.output_max_abs,
                       w.exact ? (w.within_tolerance ? ", within float rounding" : ", NOT within float rounding") : "");
    if (!w.cost.empty()) s += "; cost: " + w.cost;
    s += "\n";
  }
  if (input_padding.any())
    s += fmt::format("input: the host pads the image (top {}, left {}, bottom {}, right {}) with the value the model "
                     "reads as 0{} before the engine reads it\n",
                     input_padding.top, input_padding.left, input_padding.bottom, input_padding.right,
                     input_scale.empty() ? "" : " (pixel -offset_c / scale_c)");
  if (!input_scale.empty())
    s += "input: the engine takes pixels p = (x - offset_c) / scale_c of the model's input x\n";
  for (const auto& r : remaining) s += "remaining: " + r + "\n";
  for (const auto& n : notes) s += "note: " + n + "\n";
  return s;
}

LegalizeResult legalize(ir::Graph& graph, const TargetInfo& target, const std::vector<exec::Array>& samples,
                        const LegalizeOptions& options) {
  return Legalizer(graph, target, samples, options).run();
}

exec::Array legalized_input(const exec::Array& x, const LegalizeResult& result) {
  return transform_input(x, result);
}

}  // namespace statiq::codegen::legalize
