// codegen/exec/ops_shape.cpp — data movement and shape computation (float and int64): Reshape,
// Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Gather, Shape, Cast, Identity, Dropout,
// Resize (nearest), Pad (constant), ReduceMean.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "codegen/exec/ops.hpp"
#include "codegen/exec/resize_nearest.hpp"

namespace statiq::codegen::exec::ops {

namespace {

Array with_shape(const Array& x, ir::Dims shape) {
  if (ir::element_count(shape) != x.size())
    fail("cannot view " + ir::to_string(x.shape) + " as " + ir::to_string(shape));
  Array y = x;
  y.shape = std::move(shape);
  return y;
}

void identity(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  outputs[0] = in(node, inputs, 0);
}

// Inference: Dropout is the identity; its optional mask is all true. Training mode with a
// non-zero ratio draws a random mask, which no executor reproduces: refused, not faked.
void dropout(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const bool training = inputs.size() > 2 && inputs[2] && !inputs[2]->i.empty() && inputs[2]->i[0] != 0;
  const float ratio = inputs.size() > 1 && inputs[1] && !inputs[1]->f.empty() ? inputs[1]->f[0] : 0.5f;
  if (training && ratio != 0.0f)
    fail("training_mode=true with ratio " + std::to_string(ratio) +
         " is not supported (inference only: the training mask is random)");
  outputs[0] = x;
  if (outputs.size() > 1 && !node.outputs[1].empty())
    outputs[1] = Array::ints(x.shape, std::vector<std::int64_t>(static_cast<std::size_t>(x.size()), 1), ir::DataType::boolean);
}

void reshape(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  auto shape = in_ints(node, inputs, 1);
  const bool allowzero = node.attr_int("allowzero", 0) != 0;
  std::int64_t known = 1, infer = -1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0 && !allowzero) {
      if (d >= x.shape.size()) fail("shape entry 0 at axis " + std::to_string(d) + " has no input dimension to copy");
      shape[d] = x.shape[d];
    }
    if (shape[d] == -1) {
      if (infer >= 0) fail("more than one -1 in the shape");
      infer = static_cast<std::int64_t>(d);
    } else if (shape[d] < 0) {
      fail("negative shape entry " + std::to_string(shape[d]));
    } else {
      known *= shape[d];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.size() % known) fail("cannot infer the -1 of the shape for " + ir::to_string(x.shape));
    shape[infer] = x.size() / known;
  }
  outputs[0] = with_shape(x, shape);
}

void flatten(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const std::int64_t r = x.rank();
  std::int64_t axis = node.attr_int("axis", 1);
  if (axis < -r || axis > r) fail("axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += r;
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  outputs[0] = with_shape(x, {outer, outer == 0 ? 0 : x.size() / outer});
}

std::vector<std::int64_t> axes_of(const ir::Node& node, const std::vector<const Array*>& inputs, std::int64_t rank) {
  std::vector<std::int64_t> axes;
  if (node.has_input(1)) axes = in_ints(node, inputs, 1);
  else axes = node.attr_ints("axes", {});  // before opset 13 axes were an attribute
  for (auto& a : axes) a = normalize_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail("repeated axis");
  return axes;
}

void squeeze(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const bool all = !node.has_input(1) && !node.has_attribute("axes");
  const auto axes = all ? std::vector<std::int64_t>{} : axes_of(node, inputs, x.rank());
  ir::Dims shape;
  for (std::int64_t d = 0; d < x.rank(); ++d) {
    const bool listed = std::binary_search(axes.begin(), axes.end(), d);
    if (listed && x.shape[d] != 1) fail("cannot squeeze axis " + std::to_string(d) + " of size " + std::to_string(x.shape[d]));
    if (listed || (all && x.shape[d] == 1)) continue;
    shape.push_back(x.shape[d]);
  }
  outputs[0] = with_shape(x, shape);
}

void unsqueeze(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  std::vector<std::int64_t> raw = node.has_input(1) ? in_ints(node, inputs, 1) : node.attr_ints("axes", {});
  const std::int64_t r = x.rank() + static_cast<std::int64_t>(raw.size());
  for (auto& a : raw) a = normalize_axis(a, r);
  std::sort(raw.begin(), raw.end());
  if (std::adjacent_find(raw.begin(), raw.end()) != raw.end()) fail("repeated axis");
  ir::Dims shape;
  std::size_t src = 0;
  for (std::int64_t d = 0; d < r; ++d)
    shape.push_back(std::binary_search(raw.begin(), raw.end(), d) ? 1 : x.shape[src++]);
  outputs[0] = with_shape(x, shape);
}

// Copies the elements selected by `index_of(out_linear_index) -> in_linear_index`.
template <class F>
Array gather_elements(const Array& x, ir::Dims shape, F index_of) {
  Array y;
  y.dtype = x.dtype;
  y.shape = std::move(shape);
  const std::int64_t n = ir::element_count(y.shape);
  if (x.is_float()) {
    y.f.resize(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k) y.f[k] = x.f[index_of(k)];
  } else {
    y.i.resize(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k) y.i[k] = x.i[index_of(k)];
  }
  return y;
}

std::vector<std::int64_t> strides_of(const ir::Dims& shape) {
  std::vector<std::int64_t> s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

void transpose(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const std::int64_t r = x.rank();
  std::vector<std::int64_t> perm(static_cast<std::size_t>(r));
  std::iota(perm.rbegin(), perm.rend(), 0);  // default: reverse the axes
  perm = node.attr_ints("perm", perm);
  std::vector<std::int64_t> check = perm;
  std::sort(check.begin(), check.end());
  for (std::int64_t d = 0; d < r; ++d)
    if (static_cast<std::int64_t>(check.size()) != r || check[d] != d) fail("perm is not a permutation of the axes");
  ir::Dims shape(static_cast<std::size_t>(r));
  for (std::int64_t d = 0; d < r; ++d) shape[d] = x.shape[perm[d]];
  const auto in_strides = strides_of(x.shape), out_strides = strides_of(shape);
  outputs[0] = gather_elements(x, shape, [&](std::int64_t k) {
    std::int64_t src = 0;
    for (std::int64_t d = 0; d < r; ++d) src += (k / out_strides[d] % shape[d]) * in_strides[perm[d]];
    return src;
  });
}

void concat(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& first = in(node, inputs, 0);
  const std::int64_t axis = normalize_axis(node.attr_int("axis", 0), first.rank());
  ir::Dims shape = first.shape;
  shape[axis] = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Array& a = in(node, inputs, k);
    if (a.is_float() != first.is_float()) fail("inputs have different types");
    if (a.rank() != first.rank()) fail("inputs have different ranks");
    for (std::int64_t d = 0; d < a.rank(); ++d)
      if (d != axis && a.shape[d] != first.shape[d])
        fail("input " + std::to_string(k) + " has shape " + ir::to_string(a.shape) + ", input 0 " + ir::to_string(first.shape));
    shape[axis] += a.shape[axis];
  }
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::int64_t d = axis + 1; d < first.rank(); ++d) inner *= shape[d];
  Array y;
  y.dtype = first.dtype;
  y.shape = shape;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Array& a = *inputs[k];
      const std::int64_t len = a.shape[axis] * inner;
      if (a.is_float()) y.f.insert(y.f.end(), a.f.begin() + o * len, a.f.begin() + (o + 1) * len);
      else y.i.insert(y.i.end(), a.i.begin() + o * len, a.i.begin() + (o + 1) * len);
    }
  outputs[0] = std::move(y);
}

void slice(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const std::int64_t r = x.rank();
  const auto starts = in_ints(node, inputs, 1), ends = in_ints(node, inputs, 2);
  std::vector<std::int64_t> axes, steps;
  if (node.has_input(3)) axes = in_ints(node, inputs, 3);
  else for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
  if (node.has_input(4)) steps = in_ints(node, inputs, 4);
  else steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("starts, ends, axes and steps must have the same length");
  std::vector<std::int64_t> begin(static_cast<std::size_t>(r), 0), step(static_cast<std::size_t>(r), 1);
  ir::Dims shape = x.shape;
  std::vector<bool> seen(static_cast<std::size_t>(r), false);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::int64_t a = normalize_axis(axes[k], r);
    if (seen[a]) fail("repeated axis");
    seen[a] = true;
    const std::int64_t dim = x.shape[a], s = steps[k];
    if (s == 0) fail("step 0");
    std::int64_t b = starts[k], e = ends[k];
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    // Clamping per the ONNX spec: [0, dim] going forward, [-1, dim-1] going backward.
    if (s > 0) {
      b = std::clamp<std::int64_t>(b, 0, dim);
      e = std::clamp<std::int64_t>(e, 0, dim);
    } else {
      b = std::clamp<std::int64_t>(b, 0, dim - 1);
      e = std::clamp<std::int64_t>(e, -1, dim - 1);
    }
    const std::int64_t len = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
    shape[a] = std::max<std::int64_t>(0, len);
    begin[a] = b;
    step[a] = s;
  }
  const auto in_strides = strides_of(x.shape), out_strides = strides_of(shape);
  outputs[0] = gather_elements(x, shape, [&](std::int64_t k) {
    std::int64_t src = 0;
    for (std::int64_t d = 0; d < r; ++d) src += (begin[d] + (k / out_strides[d] % shape[d]) * step[d]) * in_strides[d];
    return src;
  });
}

void gather(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const Array& idx = in(node, inputs, 1);
  if (idx.is_float()) fail("indices must be integers");
  const std::int64_t axis = normalize_axis(node.attr_int("axis", 0), x.rank());
  const std::int64_t dim = x.shape[axis];
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (std::int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[d];
  ir::Dims shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  std::vector<std::int64_t> ind = idx.i;
  for (auto& v : ind) {
    if (v < -dim || v >= dim) fail("index " + std::to_string(v) + " out of range for axis of size " + std::to_string(dim));
    if (v < 0) v += dim;
  }
  const std::int64_t n_ind = static_cast<std::int64_t>(ind.size());
  outputs[0] = gather_elements(x, shape, [&](std::int64_t k) {
    const std::int64_t i = k % inner, j = k / inner % n_ind, o = k / inner / n_ind;
    return (o * dim + ind[j]) * inner + i;
  });
  (void)outer;
}

void shape_op(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const std::int64_t r = x.rank();
  std::int64_t start = node.attr_int("start", 0), end = node.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<std::int64_t>(start, 0, r);
  end = std::clamp<std::int64_t>(end, start, r);
  std::vector<std::int64_t> dims(x.shape.begin() + start, x.shape.begin() + end);
  outputs[0] = Array::ints({end - start}, dims);
}

void cast(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in(node, inputs, 0);
  const ir::DataType to = ir::from_onnx_elem_type(static_cast<int>(node.attr_int("to", 0)));
  if (to == ir::DataType::undefined || to == ir::DataType::string) fail("unsupported target type 'to'");
  Array y;
  y.dtype = to;
  y.shape = x.shape;
  if (ir::is_floating(to)) {
    if (x.is_float()) y.f = x.f;
    else y.f.assign(x.i.begin(), x.i.end());
  } else if (x.is_float()) {
    y.i.reserve(x.f.size());
    for (float v : x.f) {
      if (!std::isfinite(v)) fail("cannot cast a non-finite value to an integer type");
      y.i.push_back(to == ir::DataType::boolean ? (v != 0.0f) : static_cast<std::int64_t>(v));  // truncation toward 0
    }
  } else {
    y.i = x.i;
    if (to == ir::DataType::boolean)
      for (auto& v : y.i) v = v != 0;
  }
  outputs[0] = std::move(y);
}

// Resize in "nearest" mode over H and W of an [N, C, H, W] tensor (exec/resize_nearest.hpp);
// the output size from `sizes`, else floor(input * scales).
void resize(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  const std::string mode = node.attr_string("mode", "nearest");
  const std::string transform = node.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
  if (mode != "nearest" || !resize_nearest_supported(transform, nearest) || x.rank() != 4)
    fail("node '" + node.name + "' (Resize): only mode 'nearest' on a 4-D tensor is run by the float executor");
  std::vector<float> scales;
  std::vector<std::int64_t> sizes;
  if (inputs.size() > 2 && inputs[2] && inputs[2]->size() == 4) scales = inputs[2]->f;
  if (inputs.size() > 3 && inputs[3]) sizes = in_ints(node, inputs, 3);
  ir::Dims out = x.shape;
  float scale[2] = {1.0f, 1.0f};
  for (int d = 0; d < 2; ++d) {
    const std::int64_t length = x.shape[std::size_t(2 + d)];
    if (sizes.size() == 4) {
      out[std::size_t(2 + d)] = sizes[std::size_t(2 + d)];
      scale[d] = float(sizes[std::size_t(2 + d)]) / float(length);
    } else if (scales.size() == 4) {
      scale[d] = scales[std::size_t(2 + d)];
      out[std::size_t(2 + d)] = std::int64_t(std::floor(float(length) * scale[d]));
    } else {
      fail("node '" + node.name + "' (Resize): needs constant scales or sizes");
    }
  }
  if ((sizes.size() == 4 && (sizes[0] != x.shape[0] || sizes[1] != x.shape[1])) ||
      (scales.size() == 4 && (scales[0] != 1.0f || scales[1] != 1.0f)))
    fail("node '" + node.name + "' (Resize): only H and W are resized by the float executor");
  Array y = Array::floats(out);
  const std::int64_t C = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], OH = out[2], OW = out[3];
  for (std::int64_t h = 0; h < OH; ++h) {
    const std::int64_t ih = resize_nearest_source(int(h), int(H), int(OH), scale[0], transform, nearest);
    for (std::int64_t w = 0; w < OW; ++w) {
      const std::int64_t iw = resize_nearest_source(int(w), int(W), int(OW), scale[1], transform, nearest);
      for (std::int64_t c = 0; c < C; ++c) y.f[std::size_t((c * OH + h) * OW + w)] = x.f[std::size_t((c * H + ih) * W + iw)];
    }
  }
  outputs[0] = std::move(y);
}

// Pad (pads from the input since opset 11, the attribute before; the value from input 2 or the
// attribute; axes from input 3 since opset 18), any rank, modes constant (negative pads crop), edge
// and reflect (ONNX's: the edge itself is not repeated).
void pad(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  const std::string mode = node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "edge" && mode != "reflect")
    fail("node '" + node.name + "' (Pad): mode '" + mode + "' is not run by the float executor (constant, edge, reflect are)");
  std::vector<std::int64_t> pads = node.has_input(1) ? in_ints(node, inputs, 1) : node.attr_ints("pads", {});
  const std::int64_t rank = x.rank();
  if (node.has_input(3)) {
    const std::vector<std::int64_t> axes = in_ints(node, inputs, 3);
    if (pads.size() != 2 * axes.size()) fail("node '" + node.name + "' (Pad): pads must hold 2 values per axis");
    std::vector<std::int64_t> all(std::size_t(2 * rank), 0);
    for (std::size_t k = 0; k < axes.size(); ++k) {
      const std::int64_t a = normalize_axis(axes[k], rank);
      all[std::size_t(a)] = pads[k], all[std::size_t(a + rank)] = pads[k + axes.size()];
    }
    pads = all;
  }
  if (std::int64_t(pads.size()) != 2 * rank) fail("node '" + node.name + "' (Pad): pads must hold 2 x rank values");
  float value = node.attr_float("value", 0.0f);
  if (node.has_input(2)) value = in_float(node, inputs, 2).f.at(0);
  ir::Dims out(x.shape.size());
  for (std::int64_t d = 0; d < rank; ++d) {
    out[std::size_t(d)] = x.shape[std::size_t(d)] + pads[std::size_t(d)] + pads[std::size_t(d + rank)];
    if (out[std::size_t(d)] < 0) fail("node '" + node.name + "' (Pad): the pads crop an axis below zero");
    if (mode != "constant" && (pads[std::size_t(d)] < 0 || pads[std::size_t(d + rank)] < 0))
      fail("node '" + node.name + "' (Pad): negative pads in mode '" + mode + "' are not run by the float executor");
    if (mode == "reflect" && (pads[std::size_t(d)] || pads[std::size_t(d + rank)]) &&
        (pads[std::size_t(d)] >= x.shape[std::size_t(d)] || pads[std::size_t(d + rank)] >= x.shape[std::size_t(d)]))
      fail("node '" + node.name + "' (Pad): a reflect pad must be shorter than its axis");
  }
  Array y = Array::floats(out, std::vector<float>(std::size_t(ir::element_count(out)), value));
  std::vector<std::int64_t> at(std::size_t(rank), 0);
  for (std::int64_t o = 0; o < std::int64_t(y.f.size()); ++o) {  // each output element from its source
    std::int64_t rest = o, i = 0;
    bool inside = true;
    for (std::int64_t d = rank - 1; d >= 0; --d) {
      const std::int64_t length = x.shape[std::size_t(d)];
      std::int64_t k = rest % out[std::size_t(d)] - pads[std::size_t(d)];
      rest /= out[std::size_t(d)];
      if (k < 0 || k >= length) {
        if (mode == "edge") k = std::clamp<std::int64_t>(k, 0, length - 1);
        else if (mode == "reflect") k = k < 0 ? -k : 2 * (length - 1) - k;
        else inside = false;
      }
      at[std::size_t(d)] = k;
    }
    if (!inside) continue;
    for (std::int64_t d = 0; d < rank; ++d) i = i * x.shape[std::size_t(d)] + at[std::size_t(d)];
    y.f[std::size_t(o)] = x.f[std::size_t(i)];
  }
  outputs[0] = std::move(y);
}

// ReduceMean over `axes` (attribute up to opset 17, input from 18; none: every axis), keepdims.
void reduce_mean(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  const std::int64_t rank = x.rank();
  std::vector<std::int64_t> axes = node.has_input(1) ? in_ints(node, inputs, 1) : node.attr_ints("axes", {});
  std::vector<bool> reduced(std::size_t(rank), axes.empty());
  for (std::int64_t a : axes) reduced[std::size_t(normalize_axis(a, rank))] = true;
  ir::Dims kept(x.shape.size());
  std::int64_t count = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    kept[std::size_t(d)] = reduced[std::size_t(d)] ? 1 : x.shape[std::size_t(d)];
    if (reduced[std::size_t(d)]) count *= x.shape[std::size_t(d)];
  }
  std::vector<double> sum(std::size_t(ir::element_count(kept)), 0.0);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    std::int64_t rest = i, o = 0, stride = 1;
    for (std::int64_t d = rank - 1; d >= 0; --d) {
      const std::int64_t c = rest % x.shape[std::size_t(d)];
      rest /= x.shape[std::size_t(d)];
      if (!reduced[std::size_t(d)]) o += c * stride;
      stride *= kept[std::size_t(d)];
    }
    sum[std::size_t(o)] += x.f[std::size_t(i)];
  }
  ir::Dims out;
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  for (std::int64_t d = 0; d < rank; ++d)
    if (keepdims || !reduced[std::size_t(d)]) out.push_back(kept[std::size_t(d)]);
  Array y = Array::floats(out);
  for (std::size_t k = 0; k < sum.size(); ++k) y.f[k] = float(sum[k] / double(count));
  outputs[0] = std::move(y);
}

}  // namespace

void register_shape_ops(std::map<std::string, OpFn>& table) {
  table["Identity"] = identity;
  table["Dropout"] = dropout;
  table["Reshape"] = reshape;
  table["Flatten"] = flatten;
  table["Squeeze"] = squeeze;
  table["Unsqueeze"] = unsqueeze;
  table["Transpose"] = transpose;
  table["Concat"] = concat;
  table["Slice"] = slice;
  table["Gather"] = gather;
  table["Resize"] = resize;
  table["Pad"] = pad;
  table["ReduceMean"] = reduce_mean;
  table["Shape"] = shape_op;
  table["Cast"] = cast;
}

}  // namespace statiq::codegen::exec::ops
