// codegen/calib/image_preprocessing.cpp — image decoding (stb_image, compiled here with internal
// linkage) and the resize / colour / normalisation steps of image_preprocessing.hpp.
#include "codegen/calib/image_preprocessing.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

// stb_image is a single-header library: this file holds its implementation, static so that it
// cannot clash with another copy (e.g. Debian's libstb) linked into the same program. Only the
// decoders we document are compiled.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO  // we read the file ourselves: std::filesystem paths, one error path
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <cstdint>
#include <limits>

#include <zlib.h>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/input/input_file.hpp"

namespace statiq::codegen::calib {

namespace {

struct PresetConstants {
  std::array<double, 3> mean;  // R, G, B
  std::array<double, 3> std;
};

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw std::runtime_error("image '" + printable(origin) + "': " + what);
}

std::uint64_t be32(const std::string& b, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

// A PNG is walked before stb_image sees it, because stb allocates each chunk's declared length
// before reading it (a 100-byte file declaring a 2 GiB IDAT: fuzz_image) and inflates the image
// data without a bound. Here every chunk must lie inside the file, and the image data may not
// inflate to more than twice what the header's size can need (16-bit RGBA, a filter byte per
// row, Adam7's extra rows) — counted through a small buffer, nothing kept.
void check_png(const std::string& bytes, const std::string& file) {
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return;  // not a PNG: stb decides
  std::uint64_t width = 0, height = 0;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) fail(file, "zlib inflateInit failed");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  bool inflating = true;
  std::uint64_t inflated = 0;
  unsigned char scratch[1 << 16];
  for (std::size_t at = 8; at + 8 <= bytes.size();) {
    const std::uint64_t length = be32(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    const std::uint64_t left = bytes.size() - at - 8;
    if (length + 4 > left)
      fail(file, "corrupt PNG: chunk '" + printable(type) + "' declares " + std::to_string(length) + " bytes, " +
                     std::to_string(left) + " are left in the file; re-export the image or remove it");
    if (type == "IHDR" && length >= 8) width = be32(bytes, at + 8), height = be32(bytes, at + 12);
    if (type == "IDAT" && inflating) {
      const std::uint64_t bound = 2 * (width * 8 + 8) * height + 4096;
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + at + 8));
      zs.avail_in = static_cast<uInt>(length);
      while (zs.avail_in > 0 && inflating) {
        zs.next_out = scratch;
        zs.avail_out = sizeof scratch;
        const int rc = inflate(&zs, Z_NO_FLUSH);
        inflated += sizeof scratch - zs.avail_out;
        if (inflated > bound)
          fail(file, "corrupt PNG: its image data inflates to more than " + std::to_string(bound) + " bytes, more than " +
                         std::to_string(width) + "x" + std::to_string(height) + " pixels can need; remove the file");
        if (rc != Z_OK) inflating = false;  // the end of the stream, or an error stb will report
      }
    }
    if (type == "IEND") break;
    at += 12 + length;
  }
}

// A JPEG's Huffman tables are checked before stb_image sees them: stb writes one entry per code
// listed into a 257-byte table, so a DHT segment listing more than 256 codes writes past it
// (found by fuzz_image). The marker segments are walked, scans' entropy-coded data skipped (DHT
// segments may follow scans in progressive JPEGs); every segment must lie inside the file.
void check_jpeg(const std::string& bytes, const std::string& file) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  // SOI, after any number of 0xff fill bytes (stb_image accepts them too)
  std::size_t soi = 0;
  while (soi < bytes.size() && byte(soi) == 0xff) ++soi;
  if (soi == 0 || soi >= bytes.size() || byte(soi) != 0xd8) return;  // not a JPEG: stb decides
  const auto corrupt = [&](const std::string& what) {
    fail(file, "corrupt JPEG: " + what + "; re-export the image or remove it");
  };
  std::size_t at = soi + 1;
  while (at + 1 < bytes.size()) {
    if (byte(at) != 0xff) {  // entropy-coded data of a scan: up to the next marker
      ++at;
      continue;
    }
    const unsigned marker = byte(at + 1);
    if (marker == 0xff) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01 || marker == 0xd8) {
      at += 2;  // a stuffed 0xff, a restart marker, TEM, SOI: no segment
      continue;
    }
    if (marker == 0xd9) return;  // EOI
    if (at + 4 > bytes.size()) corrupt("a marker segment is cut off");
    const std::size_t length = std::size_t(byte(at + 2)) << 8 | byte(at + 3);
    if (length < 2 || at + 2 + length > bytes.size())
      corrupt("a marker segment declares " + std::to_string(length) + " bytes past the end of the file");
    if (marker == 0xc4) {  // DHT: tables of (class/id, 16 code counts, the codes' values)
      for (std::size_t p = at + 4, end = at + 2 + length; p < end;) {
        if (p + 17 > end) corrupt("a Huffman table (DHT) is cut off");
        std::size_t codes = 0;
        for (std::size_t k = 1; k <= 16; ++k) codes += byte(p + k);
        if (codes > 256) corrupt("a Huffman table (DHT) lists " + std::to_string(codes) + " codes, at most 256 exist");
        p += 17 + codes;
        if (p > end) corrupt("a Huffman table (DHT) runs past its segment");
      }
    }
    at += 2 + length;
  }
}

}  // namespace

std::string_view to_string(Normalization n) {
  switch (n) {
    case Normalization::none: return "none";
    case Normalization::unit: return "unit";
    case Normalization::imagenet: return "imagenet";
    case Normalization::caffe2: return "caffe2";
    case Normalization::mxnet: return "mxnet";
  }
  return "?";
}

std::string_view to_string(ChannelOrder c) { return c == ChannelOrder::rgb ? "rgb" : "bgr"; }

Normalization parse_normalization(std::string_view name) {
  for (Normalization n : {Normalization::none, Normalization::unit, Normalization::imagenet, Normalization::caffe2,
                          Normalization::mxnet})
    if (to_string(n) == name) return n;
  throw std::runtime_error("unknown image normalisation '" + std::string(name) +
                           "': use one of none, unit, imagenet, caffe2, mxnet");
}

ChannelOrder parse_channel_order(std::string_view name) {
  if (name == "rgb") return ChannelOrder::rgb;
  if (name == "bgr") return ChannelOrder::bgr;
  throw std::runtime_error("unknown channel order '" + std::string(name) + "': use rgb or bgr");
}

ChannelOrder ImagePreprocessing::effective_channel_order() const {
  if (channel_order) return *channel_order;
  return normalization == Normalization::caffe2 || normalization == Normalization::mxnet ? ChannelOrder::bgr
                                                                                           : ChannelOrder::rgb;
}

Image8 load_image(const std::filesystem::path& file) {
  const std::string bytes = read_input_file(file, "image");
  if (bytes.empty()) fail(file.string(), "the file is empty; remove it from the calibration folder");
  if (bytes.size() > std::size_t(std::numeric_limits<int>::max()))
    fail(file.string(), "larger than 2 GiB, more than the image decoder takes; convert or remove the file");
  check_png(bytes, file.string());
  check_jpeg(bytes, file.string());
  int w = 0, h = 0, c = 0;
  // The header's dimensions are checked before decoding: a 20000x20000 PNG of a few KB would
  // decode to gigabytes (and then to 4-byte floats per channel).
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &c)) {
    std::uint64_t decoded = 0;
    if (w <= 0 || h <= 0 || c <= 0 || !mul_fits(std::uint64_t(w) * std::uint64_t(h), std::uint64_t(c) * sizeof(float), decoded))
      fail(file.string(), "impossible image dimensions; convert or remove the file");
    check_declared_bytes(decoded, "image '" + printable(file.string()) + "' (" + std::to_string(w) + "x" +
                                      std::to_string(h) + "x" + std::to_string(c) + " as floats)");
  }
  stbi_uc* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                                        &w, &h, &c, 0);
  if (!data)
    fail(file.string(), std::string("cannot decode (") + stbi_failure_reason() +
                            "); only PNG and JPEG are read: convert or remove the file");
  Image8 img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.pixels.assign(data, data + static_cast<std::size_t>(w) * h * c);
  stbi_image_free(data);
  return img;
}

std::vector<float> resize_bilinear(const std::vector<float>& plane, int in_h, int in_w, int out_h, int out_w) {
  if (in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0)
    throw std::invalid_argument("resize_bilinear: sizes must be positive");
  if (plane.size() != static_cast<std::size_t>(in_h) * in_w)
    throw std::invalid_argument("resize_bilinear: plane size does not match in_h * in_w");
  if (in_h == out_h && in_w == out_w) return plane;

  // Source coordinate and the two neighbours with their weights, per output row / column.
  struct Tap {
    int i0, i1;
    double w1;  // weight of i1; i0 gets 1 - w1
  };
  auto taps = [](int in, int out) {
    std::vector<Tap> t(static_cast<std::size_t>(out));
    const double scale = static_cast<double>(in) / out;
    for (int o = 0; o < out; ++o) {
      double s = (o + 0.5) * scale - 0.5;
      s = std::clamp(s, 0.0, static_cast<double>(in - 1));
      const int i0 = static_cast<int>(std::floor(s));
      const int i1 = std::min(i0 + 1, in - 1);
      t[static_cast<std::size_t>(o)] = {i0, i1, s - i0};
    }
    return t;
  };
  const std::vector<Tap> ty = taps(in_h, out_h), tx = taps(in_w, out_w);
  std::vector<float> out(static_cast<std::size_t>(out_h) * out_w);
  for (int y = 0; y < out_h; ++y) {
    const Tap& a = ty[static_cast<std::size_t>(y)];
    const float* r0 = plane.data() + static_cast<std::size_t>(a.i0) * in_w;
    const float* r1 = plane.data() + static_cast<std::size_t>(a.i1) * in_w;
    for (int x = 0; x < out_w; ++x) {
      const Tap& b = tx[static_cast<std::size_t>(x)];
      const double top = r0[b.i0] * (1 - b.w1) + r0[b.i1] * b.w1;
      const double bottom = r1[b.i0] * (1 - b.w1) + r1[b.i1] * b.w1;
      out[static_cast<std::size_t>(y) * out_w + x] = static_cast<float>(top * (1 - a.w1) + bottom * a.w1);
    }
  }
  return out;
}

exec::Array preprocess_image(const Image8& image, const ir::Dims& input_shape, const ImagePreprocessing& options,
                             const std::string& origin) {
  if (input_shape.size() != 4 || input_shape[0] != 1 || (input_shape[1] != 1 && input_shape[1] != 3) ||
      input_shape[2] <= 0 || input_shape[3] <= 0)
    fail(origin, "images feed an NCHW input [1,C,H,W] with C 1 or 3, the model input is " + ir::to_string(input_shape) +
                     "; preprocess the images yourself and pass a .npy file");
  const int c_model = static_cast<int>(input_shape[1]);
  const int out_h = static_cast<int>(input_shape[2]), out_w = static_cast<int>(input_shape[3]);
  if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels)
    fail(origin, "malformed decoded image");
  const Normalization norm = options.normalization;
  if (c_model == 1 && norm != Normalization::none && norm != Normalization::unit)
    fail(origin, "normalisation '" + std::string(to_string(norm)) +
                     "' has per-colour constants for 3 channels, the model input has 1 channel; use none or unit, "
                     "or pass preprocessed samples as .npy");

  // 1. colour planes at the image's size: gray (1 plane) or R, G, B (3 planes); alpha dropped.
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  const int src_colours = image.channels >= 3 ? 3 : 1;
  std::vector<std::vector<float>> planes;
  if (c_model == 1) {
    std::vector<float> y(n);
    for (std::size_t p = 0; p < n; ++p) {
      const std::uint8_t* px = image.pixels.data() + p * image.channels;
      y[p] = src_colours == 1 ? px[0]
                              : static_cast<float>(0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2]);
    }
    planes.push_back(std::move(y));
  } else {
    for (int c = 0; c < 3; ++c) {
      std::vector<float> plane(n);
      const int src = src_colours == 1 ? 0 : c;
      for (std::size_t p = 0; p < n; ++p) plane[p] = image.pixels[p * image.channels + src];
      planes.push_back(std::move(plane));
    }
  }

  // 2. resize, 3. normalise per colour and stack in the channel order.
  PresetConstants k{{0, 0, 0}, {1, 1, 1}};  // none and unit
  if (norm == Normalization::imagenet || norm == Normalization::mxnet) k = {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
  if (norm == Normalization::caffe2) k = {{123.68, 116.779, 103.939}, {1, 1, 1}};
  const bool bgr = c_model == 3 && options.effective_channel_order() == ChannelOrder::bgr;
  std::vector<float> nchw;
  nchw.reserve(static_cast<std::size_t>(c_model) * out_h * out_w);
  for (int ch = 0; ch < c_model; ++ch) {
    const int colour = bgr ? 2 - ch : ch;  // index into planes and constants (R, G, B)
    const std::vector<float> resized =
        resize_bilinear(planes[static_cast<std::size_t>(colour)], image.height, image.width, out_h, out_w);
    const double mean = k.mean[static_cast<std::size_t>(colour)], sd = k.std[static_cast<std::size_t>(colour)];
    for (float x : resized) {
      // x / 255.0 (not x * (1/255.0)) as the presets' sources compute it; unit is mean 0, std 1.
      const double v = norm == Normalization::none     ? x
                       : norm == Normalization::caffe2 ? x - mean
                                                       : (x / 255.0 - mean) / sd;
      nchw.push_back(static_cast<float>(v));
    }
  }
  return exec::Array::floats(input_shape, std::move(nchw));
}

}  // namespace statiq::codegen::calib
