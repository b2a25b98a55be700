// statiq/core/weight_layout.hpp — where each weight of a layer is stored: the order the fast
// kernels read (decided when the code is generated, part of the weights' type), mapped from the
// logical order ONNX and the reference kernels use (OHWI, or [units][inputs] for Dense).
#pragma once

#include <cstddef>
#include <cstdint>

namespace statiq {

// A weight tensor is logically [rows][cols]: rows = output channels (or units), cols = the
// reduction of one output (kernel.h * kernel.w * input channels per group; inputs for Dense).
// Physically it is stored in one of these orders:
//   row_major  — the logical order itself (OHWI).
//   oc16_k4    — blocks of 16 rows: [rows/16][padded cols/4][16][4]. One 64-byte vector holds
//                4 consecutive reduction elements of 16 output channels, the operand of one u8 x s8
//                dot-product instruction (vpdpbusd) whose other operand is 4 input bytes broadcast.
//                The reduction is cut into segments of `segment` elements (a kernel row: kernel.w *
//                channels, contiguous in an NHWC input), each padded to a multiple of 4, so the
//                kernel reads every segment straight from the input; rows are padded to 16. Padding
//                weights are zero.
//                A grouped convolution (1 < groups < input channels) stores each group's rows as
//                such a block set of its own (rows / groups rows, padded to 16), one after another;
//                its segments are single taps of the group's input channels.
//   tap_major  — [cols][rows rounded up to 16]: depthwise, one vector of channels per kernel tap.
// Weights packed several to a byte (low bits first) are packed in the stored order: a vector of 16
// rows is then 16 * bits / 8 whole bytes, which the kernels widen in registers.
enum class WeightOrder : std::uint8_t { row_major, oc16_k4, tap_major };

struct WeightLayout {
  WeightOrder order = WeightOrder::row_major;
  int rows = 0;
  int cols = 0;
  int segment = 0;  // oc16_k4: reduction elements per segment (0: one segment of cols)
  int groups = 1;   // oc16_k4: row groups, each padded to 16 rows and stored as a block set of its own

  constexpr bool operator==(const WeightLayout&) const = default;

  static constexpr std::size_t block_rows = 16;
  static constexpr std::size_t block_cols = 4;

  constexpr std::size_t group_rows() const { return std::size_t(rows) / std::size_t(groups > 1 ? groups : 1); }
  // Rows stored: each group's rows padded to 16.
  constexpr std::size_t padded_group_rows() const { return (group_rows() + block_rows - 1) / block_rows * block_rows; }
  constexpr std::size_t padded_rows() const { return padded_group_rows() * std::size_t(groups > 1 ? groups : 1); }
  constexpr std::size_t segment_cols() const { return segment > 0 ? std::size_t(segment) : std::size_t(cols); }
  constexpr std::size_t padded_segment() const {
    return (segment_cols() + block_cols - 1) / block_cols * block_cols;
  }
  constexpr std::size_t segments() const {
    return segment_cols() == 0 ? 0 : (std::size_t(cols) + segment_cols() - 1) / segment_cols();
  }
  constexpr std::size_t padded_cols() const { return segments() * padded_segment(); }

  // Elements stored, padding included, for `logical` = rows * cols elements.
  constexpr std::size_t stored(std::size_t logical) const {
    switch (order) {
      case WeightOrder::oc16_k4: return padded_rows() * padded_cols();
      case WeightOrder::tap_major: return padded_rows() * std::size_t(cols);
      default: return logical;
    }
  }

  // Where logical element i (= row * cols + col) is stored.
  constexpr std::size_t index(std::size_t i) const {
    if (order == WeightOrder::row_major) return i;
    const std::size_t c = std::size_t(cols);
    const std::size_t row = i / c, col = i % c;
    if (order == WeightOrder::tap_major) return col * padded_rows() + row;
    const std::size_t k = col / segment_cols() * padded_segment() + col % segment_cols();  // padded column
    const std::size_t group = row / group_rows(), r = row % group_rows();
    return group * (padded_group_rows() * padded_cols()) + (r / block_rows) * (padded_cols() * block_rows) +
           (k / block_cols) * (block_rows * block_cols) + (r % block_rows) * block_cols + k % block_cols;
  }
};

inline constexpr WeightLayout row_major_layout{};

constexpr const char* weight_order_name(WeightOrder o) {
  switch (o) {
    case WeightOrder::oc16_k4: return "oc16_k4";
    case WeightOrder::tap_major: return "tap_major";
    default: return "row_major";
  }
}

}  // namespace statiq
