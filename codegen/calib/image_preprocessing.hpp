// codegen/calib/image_preprocessing.hpp — turns PNG/JPEG images into model inputs: bilinear resize to
// the input's H,W, RGB/BGR channel order, NCHW layout and the normalisation presets of common models.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/exec/array.hpp"

namespace statiq::codegen::calib {

// x is a pixel value 0..255 of colour c (R, G or B), after resizing:
//   none      x
//   unit      x / 255
//   imagenet  (x / 255 - mean_c) / std_c, mean (R,G,B) = (0.485, 0.456, 0.406),
//             std (R,G,B) = (0.229, 0.224, 0.225)  (torchvision's ImageNet statistics)
//   mxnet     the same formula and constants as imagenet: onnxruntime's calibration tool
//             (onnxruntime/python/tools/quantization/data_preprocess.py, preprocess_mxnet_raw)
//             computes ((x / 255.0) - mean_c) / std_c with those constants and stacks the
//             channels as B, G, R
//   caffe2    x - mean_c, mean (R,G,B) = (123.68, 116.779, 103.939), no scaling: the same
//             file's preprocess_caffe2_raw, which also stacks the channels as B, G, R
// imagenet, mxnet and caffe2 need a 3-channel input.
enum class Normalization { none, unit, imagenet, caffe2, mxnet };

enum class ChannelOrder { rgb, bgr };

std::string_view to_string(Normalization n);
std::string_view to_string(ChannelOrder c);
// "none", "unit", "imagenet", "caffe2", "mxnet" / "rgb", "bgr"; throws listing the accepted names.
Normalization parse_normalization(std::string_view name);
ChannelOrder parse_channel_order(std::string_view name);

struct ImagePreprocessing {
  Normalization normalization = Normalization::none;
  // Unset: the preset's own order, BGR for caffe2 and mxnet (as onnxruntime's functions emit
  // them), RGB otherwise.
  std::optional<ChannelOrder> channel_order;

  ChannelOrder effective_channel_order() const;
};

// A decoded 8-bit image: height rows of width pixels, `channels` interleaved values per pixel
// (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), as stb_image returns it.
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;
};

// Decodes a PNG or JPEG file (stb_image). Throws naming the file and stb's reason.
Image8 load_image(const std::filesystem::path& file);

// Resizes one plane of floats (row-major, in_h x in_w) to out_h x out_w by bilinear interpolation
// with half-pixel centres: output pixel (y, x) samples the input at
//   sy = (y + 0.5) * in_h / out_h - 0.5,  sx likewise,
// clamped to [0, in - 1], mixing the 2x2 neighbours by their distances. This is OpenCV's
// cv::resize INTER_LINEAR and ONNX Resize (linear, half_pixel); there is no antialiasing filter
// when shrinking (PIL's resize has one). Equal sizes copy the plane unchanged.
std::vector<float> resize_bilinear(const std::vector<float>& plane, int in_h, int in_w, int out_h, int out_w);

// The model input [1, C, H, W] (C 1 or 3) for `image`, in float32 (no rounding back to 8 bits):
// 1. colours: alpha is dropped (not composited); a gray image feeds all three colours of a C=3
//    model; a colour image feeding a C=1 model becomes its luma
//    Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, the weights of PIL's convert("L"));
// 2. each colour plane is resized to H, W (resize_bilinear) unless the sizes already match;
// 3. each colour is normalised (Normalization) and the planes are stacked in the channel order.
// `origin` names the image in messages.
exec::Array preprocess_image(const Image8& image, const ir::Dims& input_shape, const ImagePreprocessing& options,
                             const std::string& origin);

}  // namespace statiq::codegen::calib
