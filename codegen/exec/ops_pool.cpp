// codegen/exec/ops_pool.cpp — MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (NCHW, 2-D).
#include <algorithm>
#include <limits>

#include "codegen/exec/ops.hpp"

namespace statiq::codegen::exec::ops {

namespace {

template <bool IsMax>
void pool(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  if (x.rank() != 4) fail("only 2-D pooling (X of rank 4) is supported, X has shape " + ir::to_string(x.shape));
  if (outputs.size() > 1 && !node.outputs[1].empty()) fail("the Indices output is not supported");
  const auto ks = node.attr_ints("kernel_shape", {});
  if (ks.size() != 2) fail("kernel_shape must have 2 entries");
  const std::int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const std::int64_t in_hw[2] = {H, W}, kernel[2] = {ks[0], ks[1]};
  const Window2D g = resolve_window(node, in_hw, kernel, node.attr_int("ceil_mode", 0) != 0);
  const bool count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  const std::int64_t OH = g.out[0], OW = g.out[1];
  Array y = Array::floats({N, C, OH, OW});
  for (std::int64_t nc = 0; nc < N * C; ++nc) {
    const float* xp = x.f.data() + nc * H * W;
    float* yp = y.f.data() + nc * OH * OW;
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        const std::int64_t h0 = oh * g.stride[0] - g.pad_begin[0], w0 = ow * g.stride[1] - g.pad_begin[1];
        float acc = IsMax ? -std::numeric_limits<float>::infinity() : 0.0f;
        std::int64_t inside = 0, padded = 0;
        for (std::int64_t ki = 0; ki < kernel[0]; ++ki) {
          const std::int64_t ih = h0 + ki * g.dilation[0];
          const bool h_in_pad = ih >= -g.pad_begin[0] && ih < H + g.pad_end[0];
          for (std::int64_t kj = 0; kj < kernel[1]; ++kj) {
            const std::int64_t iw = w0 + kj * g.dilation[1];
            // count_include_pad counts window cells in the padded input; a ceil_mode window may
            // reach beyond the padding, and those cells are never counted.
            if (h_in_pad && iw >= -g.pad_begin[1] && iw < W + g.pad_end[1]) ++padded;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const float v = xp[ih * W + iw];
            ++inside;
            if constexpr (IsMax) acc = std::max(acc, v);
            else acc += v;
          }
        }
        if constexpr (IsMax) yp[oh * OW + ow] = acc;
        else yp[oh * OW + ow] = acc / static_cast<float>(count_include_pad ? padded : std::max<std::int64_t>(1, inside));
      }
  }
  outputs[0] = std::move(y);
}

template <bool IsMax>
void global_pool(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  const Array& x = in_float(node, inputs, 0);
  if (x.rank() < 3) fail("X must have rank >= 3, has shape " + ir::to_string(x.shape));
  const std::int64_t NC = x.shape[0] * x.shape[1], inner = x.size() / std::max<std::int64_t>(1, NC);
  ir::Dims ys = x.shape;
  std::fill(ys.begin() + 2, ys.end(), 1);
  Array y = Array::floats(ys);
  for (std::int64_t nc = 0; nc < NC; ++nc) {
    const float* xp = x.f.data() + nc * inner;
    float acc = IsMax ? -std::numeric_limits<float>::infinity() : 0.0f;
    for (std::int64_t k = 0; k < inner; ++k) acc = IsMax ? std::max(acc, xp[k]) : acc + xp[k];
    y.f[nc] = IsMax ? acc : acc / static_cast<float>(inner);
  }
  outputs[0] = std::move(y);
}

}  // namespace

void register_pool_ops(std::map<std::string, OpFn>& table) {
  table["MaxPool"] = pool<true>;
  table["AveragePool"] = pool<false>;
  table["GlobalMaxPool"] = global_pool<true>;
  table["GlobalAveragePool"] = global_pool<false>;
}

}  // namespace statiq::codegen::exec::ops
