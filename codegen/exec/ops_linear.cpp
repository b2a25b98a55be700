// codegen/exec/ops_linear.cpp — Conv (im2col + GEMM), ConvTranspose (GEMM + col2im), Gemm, MatMul.
// The only executor file that includes Eigen, so its compile cost is paid once.
#include <Eigen/Core>

#include "codegen/exec/ops.hpp"

namespace statiq::codegen::exec::ops {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<RowMatrix>;
using ConstMapMatrix = Eigen::Map<const RowMatrix>;

void require_rank(const Array& a, std::int64_t rank, const char* what) {
  if (a.rank() != rank)
    fail(std::string(what) + " must have rank " + std::to_string(rank) + ", has shape " + ir::to_string(a.shape));
}

// Conv, 2-D (a 1-D Conv is run as H = 1). X [N,C,H,W], W [M,C/group,kH,kW], B [M].
void conv(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  // Read in place (the weights are the largest arrays the executor handles); copied only to
  // view a 1-D Conv's [N,C,L] as [N,C,1,L].
  const Array& x_in = in_float(node, inputs, 0);
  const Array& w_in = in_float(node, inputs, 1);
  const bool one_d = x_in.rank() == 3;
  Array x_1d, w_1d;
  const Array& x = one_d ? x_1d : x_in;
  const Array& w = one_d ? w_1d : w_in;
  ir::Node node2d = node;
  if (one_d) {  // view [N,C,L] as [N,C,1,L]
    x_1d = x_in;
    w_1d = w_in;
    x_1d.shape.insert(x_1d.shape.begin() + 2, 1);
    if (w_1d.rank() == 3) w_1d.shape.insert(w_1d.shape.begin() + 2, 1);
    auto widen = [&](const char* key, std::vector<std::int64_t> dflt) {
      if (!node.has_attribute(key)) return;
      auto v = node.attr_ints(key, {});
      if (v.size() == 1) v.insert(v.begin(), dflt[0]);
      else if (v.size() == 2) v = {0, v[0], 0, v[1]};
      node2d.attributes[key] = v;
    };
    widen("strides", {1});
    widen("dilations", {1});
    widen("pads", {0});
  }
  require_rank(x, 4, "X");
  require_rank(w, 4, "W");
  const std::int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const std::int64_t M = w.shape[0], group = node.attr_int("group", 1);
  if (group < 1 || C % group || M % group || w.shape[1] != C / group)
    fail("X has " + std::to_string(C) + " channels, W " + ir::to_string(w.shape) + ", group " + std::to_string(group) +
         ": inconsistent");
  const std::int64_t kernel[2] = {w.shape[2], w.shape[3]};
  const auto ks = node2d.attr_ints("kernel_shape", {});
  if (!ks.empty() && !(ks.size() == 2 && ks[0] == kernel[0] && ks[1] == kernel[1]) &&
      !(one_d && ks.size() == 1 && ks[0] == kernel[1]))
    fail("kernel_shape does not match W " + ir::to_string(w.shape));
  const std::int64_t in_hw[2] = {H, W};
  const Window2D g = resolve_window(node2d, in_hw, kernel, false);
  const std::int64_t OH = g.out[0], OW = g.out[1];
  const std::int64_t Cg = C / group, Mg = M / group, K = Cg * kernel[0] * kernel[1], P = OH * OW;

  const Array* b = inputs.size() > 2 ? inputs[2] : nullptr;
  if (b && (!b->is_float() || b->size() != M)) fail("B must hold " + std::to_string(M) + " floats");

  Array y = Array::floats({N, M, OH, OW});
  const bool pointwise = kernel[0] == 1 && kernel[1] == 1 && g.stride[0] == 1 && g.stride[1] == 1 &&
                         g.pad_begin[0] == 0 && g.pad_begin[1] == 0 && OH == H && OW == W;
  std::vector<float> col(pointwise ? 0 : static_cast<std::size_t>(K * P));
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t gi = 0; gi < group; ++gi) {
      const float* xg = x.f.data() + (n * C + gi * Cg) * H * W;
      const float* colp = xg;
      if (!pointwise) {
        // col[(c, ki, kj), (oh, ow)] = X[c, oh*s - pad + ki*d, ow*s - pad + kj*d], 0 in the padding.
        float* out = col.data();
        for (std::int64_t c = 0; c < Cg; ++c)
          for (std::int64_t ki = 0; ki < kernel[0]; ++ki)
            for (std::int64_t kj = 0; kj < kernel[1]; ++kj)
              for (std::int64_t oh = 0; oh < OH; ++oh) {
                const std::int64_t ih = oh * g.stride[0] - g.pad_begin[0] + ki * g.dilation[0];
                if (ih < 0 || ih >= H) {
                  std::fill(out, out + OW, 0.0f);
                  out += OW;
                  continue;
                }
                const float* row = xg + (c * H + ih) * W;
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                  const std::int64_t iw = ow * g.stride[1] - g.pad_begin[1] + kj * g.dilation[1];
                  *out++ = (iw >= 0 && iw < W) ? row[iw] : 0.0f;
                }
              }
        colp = col.data();
      }
      ConstMapMatrix wm(w.values().data() + gi * Mg * K, Mg, K);
      ConstMapMatrix cm(colp, K, P);
      MapMatrix ym(y.f.data() + (n * M + gi * Mg) * P, Mg, P);
      ym.noalias() = wm * cm;
    }
    if (b)
      for (std::int64_t m = 0; m < M; ++m) {
        float* yp = y.f.data() + (n * M + m) * P;
        for (std::int64_t p = 0; p < P; ++p) yp[p] += b->f[m];
      }
  }
  if (one_d) y.shape.erase(y.shape.begin() + 2);
  outputs[0] = std::move(y);
}

// ConvTranspose, 2-D. X [N,C,H,W], W [C,M/group,kH,kW], B [M]. Each input pixel scatters
// W * x into the output (col2im), the adjoint of Conv's im2col.
void conv_transpose(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  const Array& w = in_float(node, inputs, 1);
  require_rank(x, 4, "X");
  require_rank(w, 4, "W");
  const std::int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const std::int64_t group = node.attr_int("group", 1);
  if (group < 1 || C % group || w.shape[0] != C) fail("X and W " + ir::to_string(w.shape) + " are inconsistent");
  const std::int64_t Mg = w.shape[1], M = Mg * group, Cg = C / group;
  const std::int64_t kernel[2] = {w.shape[2], w.shape[3]};
  const auto strides = node.attr_ints("strides", {1, 1});
  const auto dilations = node.attr_ints("dilations", {1, 1});
  const auto output_padding = node.attr_ints("output_padding", {0, 0});
  const auto output_shape = node.attr_ints("output_shape", {});
  const auto auto_pad = node.attr_string("auto_pad", "NOTSET");
  auto pads = node.attr_ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || output_padding.size() != 2 || pads.size() != 4)
    fail("only 2-D ConvTranspose is supported");
  std::int64_t out[2];
  const std::int64_t in_hw[2] = {H, W};
  for (int a = 0; a < 2; ++a) {
    const std::int64_t k_eff = (kernel[a] - 1) * dilations[a] + 1;
    const std::int64_t full = strides[a] * (in_hw[a] - 1) + output_padding[a] + k_eff;
    std::int64_t target = -1;
    if (!output_shape.empty()) target = output_shape[output_shape.size() - 2 + a];
    else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") target = in_hw[a] * strides[a];
    if (target >= 0) {
      // ONNX spec: total padding split with the odd unit at the end for SAME_UPPER.
      const std::int64_t total = full - target;
      if (total < 0) fail("output_shape is larger than the full ConvTranspose output");
      const bool upper = auto_pad == "SAME_UPPER";
      pads[a] = upper ? total / 2 : total - total / 2;
      pads[a + 2] = upper ? total - total / 2 : total / 2;
    } else if (auto_pad == "VALID") {
      pads[a] = pads[a + 2] = 0;
    }
    out[a] = full - pads[a] - pads[a + 2];
    if (out[a] < 1) fail("empty output");
  }
  const std::int64_t OH = out[0], OW = out[1], P = H * W, K = Mg * kernel[0] * kernel[1];
  const Array* b = inputs.size() > 2 ? inputs[2] : nullptr;
  if (b && (!b->is_float() || b->size() != M)) fail("B must hold " + std::to_string(M) + " floats");
  Array y = Array::floats({N, M, OH, OW});
  RowMatrix col(K, P);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t gi = 0; gi < group; ++gi) {
      ConstMapMatrix wm(w.f.data() + gi * Cg * K, Cg, K);
      ConstMapMatrix xm(x.f.data() + (n * C + gi * Cg) * P, Cg, P);
      col.noalias() = wm.transpose() * xm;
      for (std::int64_t m = 0; m < Mg; ++m) {
        float* yp = y.f.data() + (n * M + gi * Mg + m) * OH * OW;
        for (std::int64_t ki = 0; ki < kernel[0]; ++ki)
          for (std::int64_t kj = 0; kj < kernel[1]; ++kj) {
            const float* cp = col.data() + ((m * kernel[0] + ki) * kernel[1] + kj) * P;
            for (std::int64_t ih = 0; ih < H; ++ih) {
              const std::int64_t oh = ih * strides[0] - pads[0] + ki * dilations[0];
              if (oh < 0 || oh >= OH) continue;
              for (std::int64_t iw = 0; iw < W; ++iw) {
                const std::int64_t ow = iw * strides[1] - pads[1] + kj * dilations[1];
                if (ow >= 0 && ow < OW) yp[oh * OW + ow] += cp[ih * W + iw];
              }
            }
          }
        if (b)
          for (std::int64_t p = 0; p < OH * OW; ++p) yp[p] += b->f[gi * Mg + m];
      }
    }
  outputs[0] = std::move(y);
}

// Gemm: Y = alpha * A' * B' + beta * C, C broadcast unidirectionally to [M,N].
void gemm(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& a = in_float(node, inputs, 0);
  const Array& b = in_float(node, inputs, 1);
  require_rank(a, 2, "A");
  require_rank(b, 2, "B");
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  const float alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
  const std::int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const std::int64_t Kb = tb ? b.shape[1] : b.shape[0], N = tb ? b.shape[0] : b.shape[1];
  if (K != Kb) fail("A " + ir::to_string(a.shape) + " and B " + ir::to_string(b.shape) + " do not chain");
  Array y = Array::floats({M, N});
  ConstMapMatrix am(a.f.data(), a.shape[0], a.shape[1]);
  ConstMapMatrix bm(b.f.data(), b.shape[0], b.shape[1]);
  MapMatrix ym(y.f.data(), M, N);
  if (ta && tb) ym.noalias() = am.transpose() * bm.transpose();
  else if (ta) ym.noalias() = am.transpose() * bm;
  else if (tb) ym.noalias() = am * bm.transpose();
  else ym.noalias() = am * bm;
  if (alpha != 1.0f) ym *= alpha;
  const Array* c = inputs.size() > 2 ? inputs[2] : nullptr;
  if (c) {
    if (!c->is_float()) fail("C must be floating");
    // Unidirectional broadcast of C ([], [N], [1,N], [M,1], [M,N] ...) to [M, N].
    ir::Dims cs = c->shape;
    if (cs.size() > 2) fail("C must have rank <= 2");
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    if ((cs[0] != 1 && cs[0] != M) || (cs[1] != 1 && cs[1] != N))
      fail("C " + ir::to_string(c->shape) + " does not broadcast to [" + std::to_string(M) + "," + std::to_string(N) + "]");
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j)
        y.f[i * N + j] += beta * c->f[(cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j)];
  }
  outputs[0] = std::move(y);
}

// MatMul with numpy semantics: 1-D operands promoted, batch dimensions broadcast.
void matmul(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& a = in_float(node, inputs, 0);
  const Array& b = in_float(node, inputs, 1);
  if (a.rank() < 1 || b.rank() < 1) fail("MatMul operands must have rank >= 1");
  ir::Dims as = a.shape, bs = b.shape;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const std::int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K) fail("A " + ir::to_string(a.shape) + " and B " + ir::to_string(b.shape) + " do not chain");
  ir::Dims abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2);
  const std::size_t r = std::max(abatch.size(), bbatch.size());
  abatch.insert(abatch.begin(), r - abatch.size(), 1);
  bbatch.insert(bbatch.begin(), r - bbatch.size(), 1);
  ir::Dims batch(r);
  for (std::size_t d = 0; d < r; ++d) {
    if (abatch[d] != bbatch[d] && abatch[d] != 1 && bbatch[d] != 1)
      fail("batch dimensions of " + ir::to_string(a.shape) + " and " + ir::to_string(b.shape) + " do not broadcast");
    batch[d] = std::max(abatch[d], bbatch[d]);
  }
  const std::int64_t batches = ir::element_count(batch);
  ir::Dims yshape = batch;
  if (!a_vec) yshape.push_back(M);
  if (!b_vec) yshape.push_back(N);
  Array y = Array::floats(yshape);
  for (std::int64_t t = 0; t < batches; ++t) {
    std::int64_t rem = t, ai = 0, bi = 0, astride = 1, bstride = 1;
    for (std::size_t d = r; d-- > 0;) {
      const std::int64_t idx = rem % batch[d];
      rem /= batch[d];
      ai += (abatch[d] == 1 ? 0 : idx) * astride;
      bi += (bbatch[d] == 1 ? 0 : idx) * bstride;
      astride *= abatch[d];
      bstride *= bbatch[d];
    }
    ConstMapMatrix am(a.f.data() + ai * M * K, M, K);
    ConstMapMatrix bm(b.f.data() + bi * K * N, K, N);
    MapMatrix ym(y.f.data() + t * M * N, M, N);
    ym.noalias() = am * bm;
  }
  outputs[0] = std::move(y);
}

}  // namespace

void register_linear_ops(std::map<std::string, OpFn>& table) {
  table["Conv"] = conv;
  table["ConvTranspose"] = conv_transpose;
  table["Gemm"] = gemm;
  table["MatMul"] = matmul;
}

}  // namespace statiq::codegen::exec::ops
