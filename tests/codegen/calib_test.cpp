// codegen/calib: sample readers (.npy, .npz, TensorProto .pb, PNG/JPEG folders with preprocessing
// presets) and their error messages, the observers (min/max, percentile, entropy) on hand-made
// distributions, the progress bar, and calibrate() on a hand graph, ONNX's test_relu and mnist8.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <onnx/onnx_pb.h>

// stb_image_write (Debian libstb-dev) writes the test images; its implementation lives here, static.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#if __has_include(<stb/stb_image_write.h>)
#include <stb/stb_image_write.h>
#else
#include <stb_image_write.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "codegen/calib/calibrate.hpp"
#include "codegen/calib/calibration_set.hpp"
#include "codegen/calib/entropy_observer.hpp"
#include "codegen/calib/image_preprocessing.hpp"
#include "codegen/calib/percentile_observer.hpp"
#include "codegen/calib/progress_bar.hpp"
#include "codegen/calib/tensor_observer.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using namespace statiq::codegen::calib;
using Catch::Contains;

namespace {

// A fresh folder per test, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("statiq_calib_test_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& f) const { return path / f; }
};

// A graph with only float inputs (readers look at nothing else).
ir::Graph inputs_graph(const std::vector<std::pair<std::string, ir::Dims>>& inputs) {
  ir::Graph g;
  g.source = "hand-built";
  for (const auto& [name, dims] : inputs) {
    ir::Tensor t;
    t.name = name;
    t.dtype = ir::DataType::float32;
    t.shape = dims;
    g.tensors[name] = t;
    g.inputs.push_back(name);
  }
  return g;
}

// x [1,4] -> Relu -> y.
ir::Graph relu_graph() {
  ir::Graph g = inputs_graph({{"x", {1, 4}}});
  ir::Tensor y;
  y.name = "y";
  y.dtype = ir::DataType::float32;
  y.shape = ir::Dims{1, 4};
  g.tensors["y"] = y;
  ir::Node n;
  n.name = "relu";
  n.op_type = "Relu";
  n.inputs = {"x"};
  n.outputs = {"y"};
  g.nodes.push_back(n);
  g.outputs = {"y"};
  return g;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

template <class T>
std::string npy_bytes(const TempDir& dir, std::initializer_list<std::size_t> shape, const std::vector<T>& data) {
  const fs::path tmp = dir / "member.npy";
  statiq::io::write_npy<T>(tmp, shape, std::span<const T>(data));
  std::string b = file_bytes(tmp);
  fs::remove(tmp);
  return b;
}

// CRC-32 (IEEE 802.3, reflected, as ZIP uses), bit by bit: independent of zlib.
std::uint32_t crc32_ref(const std::string& s) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A ZIP archive of stored (uncompressed) members, as numpy.savez writes (minus its ZIP64 extras).
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members, bool break_crc = false) {
  std::string out, central;
  for (const auto& [name, data] : members) {
    const std::uint32_t crc = crc32_ref(data) ^ (break_crc ? 1u : 0u);
    const std::size_t offset = out.size();
    put(out, 0x04034b50, 4); put(out, 20, 2); put(out, 0, 2); put(out, 0, 2); put(out, 0, 2); put(out, 0, 2);
    put(out, crc, 4); put(out, data.size(), 4); put(out, data.size(), 4); put(out, name.size(), 2); put(out, 0, 2);
    out += name;
    out += data;
    put(central, 0x02014b50, 4); put(central, 20, 2); put(central, 20, 2); put(central, 0, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0, 2); put(central, crc, 4); put(central, data.size(), 4);
    put(central, data.size(), 4); put(central, name.size(), 2); put(central, 0, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0, 2); put(central, 0, 4); put(central, offset, 4);
    central += name;
  }
  const std::size_t cd_offset = out.size();
  out += central;
  put(out, 0x06054b50, 4); put(out, 0, 2); put(out, 0, 2); put(out, members.size(), 2); put(out, members.size(), 2);
  put(out, central.size(), 4); put(out, cd_offset, 4); put(out, 0, 2);
  return out;
}

// np.savez_compressed's layout, written by Python's zipfile (the module numpy uses) with
// ZIP_DEFLATED and force_zip64=True like numpy: x.npy = float32 [2,1,2,3] holding 0.5 * i - 2,
// u.npy = uint8 [2,2,3] holding {0,1,2,250,251,255, 9,8,7,6,5,4}.
const unsigned char deflated_npz[] = {
    0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x22, 0x24, 0x0a, 0xb7,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x01,
    0x00, 0x10, 0x00, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c,
    0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa2, 0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98,
    0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16,
    0xa4, 0x02, 0xf9, 0x1a, 0x46, 0x3a, 0x0a, 0x86, 0x3a, 0x0a, 0x40, 0xd2, 0x58, 0x53, 0x47, 0xa1, 0x56, 0x81,
    0x0c, 0xc0, 0xc5, 0xc0, 0xc0, 0x70, 0x00, 0x88, 0xf6, 0x33, 0x30, 0x34, 0x00, 0x31, 0x03, 0x08, 0x83, 0x80,
    0x3d, 0x90, 0x0f, 0xc4, 0x07, 0x80, 0x98, 0xc1, 0x81, 0x81, 0x41, 0x01, 0x88, 0x1d, 0x80, 0x38, 0xc1, 0x01,
    0x00, 0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x44, 0x47, 0x8a,
    0x4b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x75, 0x2e, 0x6e, 0x70, 0x79,
    0x01, 0x00, 0x10, 0x00, 0x8c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c,
    0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x5e, 0x53, 0x6a, 0xa8, 0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94,
    0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24,
    0x16, 0xa4, 0x02, 0xf9, 0x1a, 0x46, 0x3a, 0x0a, 0x40, 0x64, 0xac, 0xa9, 0xa3, 0x50, 0xab, 0x40, 0x1e, 0xe0,
    0x62, 0x60, 0x64, 0xfa, 0xf5, 0xfb, 0x3f, 0x27, 0x07, 0x3b, 0x1b, 0x2b, 0x0b, 0x00, 0x50, 0x4b, 0x01, 0x02,
    0x2d, 0x03, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x22, 0x24, 0x0a, 0xb7, 0x6c, 0x00,
    0x00, 0x00, 0xb0, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x01, 0x02, 0x2d, 0x03, 0x2d,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x44, 0x47, 0x8a, 0x4b, 0x54, 0x00, 0x00, 0x00, 0x8c,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0xa3,
    0x00, 0x00, 0x00, 0x75, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x02, 0x00, 0x66, 0x00, 0x00, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x00, 0x00
};

void write_pb(const fs::path& p, const std::string& name, const ir::Dims& dims, const std::vector<float>& values,
              bool raw = true) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t.add_dims(d);
  if (raw) {
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    t.set_raw_data(bytes);
  } else {
    for (float v : values) t.add_float_data(v);
  }
  std::ofstream out(p, std::ios::binary);
  REQUIRE(t.SerializeToOstream(&out));
}

void write_png(const fs::path& p, int w, int h, int comp, const std::vector<unsigned char>& px) {
  REQUIRE(px.size() == static_cast<std::size_t>(w * h * comp));
  REQUIRE(stbi_write_png(p.string().c_str(), w, h, comp, px.data(), w * comp) != 0);
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
  return s;
}

// Deterministic samples of a distribution by its inverse CDF on a regular grid of probabilities.
std::vector<float> laplace_grid(std::size_t n, double b) {
  std::vector<float> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = (static_cast<double>(i) + 0.5) / static_cast<double>(n) - 0.5;  // (-0.5, 0.5)
    out.push_back(static_cast<float>(-b * (u < 0 ? -1 : 1) * std::log(1 - 2 * std::fabs(u))));
  }
  return out;
}

// Feeds `values` to a two-pass (or one-pass) observer in `chunks` pieces, every pass.
void feed(TensorObserver& obs, const std::string& name, const std::vector<float>& values, std::size_t chunks = 3) {
  for (int pass = 0; pass < obs.passes(); ++pass) {
    if (pass) obs.begin_pass(pass);
    const std::size_t step = (values.size() + chunks - 1) / chunks;
    for (std::size_t at = 0; at < values.size(); at += step)
      obs.observe(name, std::span<const float>(values.data() + at, std::min(step, values.size() - at)));
  }
}

}  // namespace

// ---- .npy -------------------------------------------------------------------------------------

TEST_CASE("npy: uint8 rows without size-1 axes become float samples of the input's shape", "[codegen][calib][npy]") {
  TempDir dir("npy_u8");
  const ir::Graph g = inputs_graph({{"x", {1, 1, 2, 3}}});
  const std::vector<std::uint8_t> px{0, 1, 2, 3, 4, 255, 10, 20, 30, 40, 50, 60, 7, 7, 7, 7, 7, 7};
  statiq::io::write_npy<std::uint8_t>(dir / "a.npy", {3, 2, 3}, std::span<const std::uint8_t>(px));
  const CalibrationSet set = read_calibration_set(dir / "a.npy", g);
  REQUIRE(set.size() == 3);
  for (std::size_t r = 0; r < 3; ++r) {
    const exec::Array& a = set.samples[r].inputs.at("x");
    CHECK(a.shape == ir::Dims{1, 1, 2, 3});
    CHECK(a.dtype == ir::DataType::float32);
    for (std::size_t i = 0; i < 6; ++i) CHECK(a.f[i] == static_cast<float>(px[r * 6 + i]));
  }
  CHECK(set.samples[1].origin == "a.npy row 1");

  ReadOptions two;
  two.max_samples = 2;
  CHECK(read_calibration_set(dir / "a.npy", g, two).size() == 2);
}

TEST_CASE("npy: float64 rows with the full input shape, and one array of exactly the input's shape",
          "[codegen][calib][npy]") {
  TempDir dir("npy_f64");
  const ir::Graph g = inputs_graph({{"x", {1, 2}}});
  const std::vector<double> v{0.25, -1.5, 3e-3, 1e6};
  statiq::io::write_npy<double>(dir / "rows.npy", {2, 1, 2}, std::span<const double>(v));
  const CalibrationSet rows = read_npy_samples(dir / "rows.npy", g);
  REQUIRE(rows.size() == 2);
  CHECK(rows.samples[1].inputs.at("x").f == std::vector<float>{3e-3f, 1e6f});

  statiq::io::write_npy<double>(dir / "one.npy", {1, 2}, std::span<const double>(v.data(), 2));
  const CalibrationSet one = read_npy_samples(dir / "one.npy", g);
  REQUIRE(one.size() == 1);
  CHECK(one.samples[0].inputs.at("x").f == std::vector<float>{0.25f, -1.5f});
}

TEST_CASE("npy: wrong shape, dtype, empty, NaN/Inf and multi-input models give clear messages",
          "[codegen][calib][npy][errors]") {
  TempDir dir("npy_err");
  const ir::Graph g = inputs_graph({{"x", {1, 1, 2, 3}}});
  const std::vector<float> flat(12, 1.0f);

  statiq::io::write_npy<float>(dir / "flat.npy", {2, 6}, std::span<const float>(flat));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "flat.npy", g),
                      Contains("flat.npy") && Contains("array shape [2,6] does not fit model input 'x' [1,1,2,3]") &&
                          Contains("[N,1,1,2,3]") && Contains("[N,2,3]") && Contains("reshape"));

  const ir::Graph rgb = inputs_graph({{"img", {1, 3, 2, 2}}});
  statiq::io::write_npy<float>(dir / "nhwc.npy", {1, 2, 2, 3}, std::span<const float>(flat));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "nhwc.npy", rgb), Contains("NHWC") && Contains("(0, 3, 1, 2)"));

  const std::vector<std::int32_t> ints(6, 1);
  statiq::io::write_npy<std::int32_t>(dir / "ints.npy", {1, 2, 3}, std::span<const std::int32_t>(ints));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "ints.npy", g),
                      Contains("ints.npy") && Contains("dtype int32 is not accepted") && Contains("astype"));

  statiq::io::write_npy<float>(dir / "empty.npy", {0, 2, 3}, std::span<const float>());
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "empty.npy", g), Contains("empty.npy") && Contains("0 samples"));

  std::vector<float> bad = flat;
  bad[10] = std::numeric_limits<float>::quiet_NaN();
  statiq::io::write_npy<float>(dir / "nan.npy", {2, 2, 3}, std::span<const float>(bad));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "nan.npy", g),
                      Contains("nan.npy row 1") && Contains("NaN at element 4") && Contains("finite"));
  bad[10] = -std::numeric_limits<float>::infinity();
  statiq::io::write_npy<float>(dir / "inf.npy", {2, 2, 3}, std::span<const float>(bad));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "inf.npy", g), Contains("inf.npy row 1") && Contains("Inf at element 4"));

  const ir::Graph two = inputs_graph({{"a", {1, 2, 3}}, {"b", {1, 2, 3}}});
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "flat.npy", two), Contains("2 inputs") && Contains(".npz"));

  REQUIRE_THROWS_WITH(read_calibration_set(dir / "missing.npy", g), Contains("missing.npy") && Contains("do not exist"));
  write_bytes(dir / "notes.txt", "hello");
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "notes.txt", g), Contains("notes.txt") && Contains("unsupported"));
}

// ---- .npz -------------------------------------------------------------------------------------

TEST_CASE("npz: stored archive, one array per input named like the inputs", "[codegen][calib][npz]") {
  TempDir dir("npz_stored");
  const ir::Graph g = inputs_graph({{"a", {1, 2}}, {"b", {1, 3}}});
  const std::string a = npy_bytes<float>(dir, {2, 2}, {1, 2, 3, 4});
  const std::string b = npy_bytes<std::uint8_t>(dir, {2, 1, 3}, {5, 6, 7, 8, 9, 200});
  write_bytes(dir / "s.npz", stored_zip({{"b.npy", b}, {"a.npy", a}}));
  const CalibrationSet set = read_calibration_set(dir / "s.npz", g);
  REQUIRE(set.size() == 2);
  CHECK(set.samples[0].inputs.at("a").f == std::vector<float>{1, 2});
  CHECK(set.samples[1].inputs.at("a").f == std::vector<float>{3, 4});
  CHECK(set.samples[1].inputs.at("b").f == std::vector<float>{8, 9, 200});
  CHECK(set.samples[1].inputs.at("b").shape == ir::Dims{1, 3});

  // A one-input model takes a lone array whatever its name.
  write_bytes(dir / "one.npz", stored_zip({{"arr_0.npy", a}}));
  CHECK(read_calibration_set(dir / "one.npz", inputs_graph({{"x", {1, 2}}})).size() == 2);
}

TEST_CASE("npz: deflated ZIP64 archive as numpy.savez_compressed writes it", "[codegen][calib][npz]") {
  TempDir dir("npz_deflate");
  write_bytes(dir / "c.npz", std::string(reinterpret_cast<const char*>(deflated_npz), sizeof deflated_npz));
  const ir::Graph g = inputs_graph({{"x", {1, 1, 2, 3}}, {"u", {1, 2, 3}}});
  const CalibrationSet set = read_calibration_set(dir / "c.npz", g);
  REQUIRE(set.size() == 2);
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t i = 0; i < 6; ++i) CHECK(set.samples[r].inputs.at("x").f[i] == 0.5f * static_cast<float>(r * 6 + i) - 2.0f);
  CHECK(set.samples[0].inputs.at("u").f == std::vector<float>{0, 1, 2, 250, 251, 255});
  CHECK(set.samples[1].inputs.at("u").f == std::vector<float>{9, 8, 7, 6, 5, 4});
}

TEST_CASE("npz: missing arrays, sample count mismatch, corruption", "[codegen][calib][npz][errors]") {
  TempDir dir("npz_err");
  const ir::Graph g = inputs_graph({{"a", {1, 2}}, {"b", {1, 2}}});
  const std::string two = npy_bytes<float>(dir, {2, 2}, {1, 2, 3, 4});
  const std::string three = npy_bytes<float>(dir, {3, 2}, {1, 2, 3, 4, 5, 6});
  write_bytes(dir / "missing.npz", stored_zip({{"a.npy", two}, {"c.npy", two}}));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "missing.npz", g),
                      Contains("missing.npz") && Contains("no array named 'b'") && Contains("'a', 'c'"));
  write_bytes(dir / "count.npz", stored_zip({{"a.npy", two}, {"b.npy", three}}));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "count.npz", g), Contains("different numbers of samples"));
  write_bytes(dir / "crc.npz", stored_zip({{"a.npy", two}, {"b.npy", two}}, true));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "crc.npz", g), Contains("crc.npz") && Contains("CRC-32"));
  write_bytes(dir / "junk.npz", std::string(100, 'z'));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "junk.npz", g), Contains("junk.npz") && Contains("not a ZIP"));
  std::string cut(reinterpret_cast<const char*>(deflated_npz), sizeof deflated_npz);
  cut[60] = static_cast<char>(cut[60] ^ 0x5a);  // inside x.npy's deflate stream
  write_bytes(dir / "flip.npz", cut);
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "flip.npz", inputs_graph({{"x", {1, 1, 2, 3}}, {"u", {1, 2, 3}}})),
                      Contains("flip.npz") && (Contains("corrupt") || Contains("CRC-32")));
  // A member that is not a valid .npy is reported with the archive and the member, not a temp path.
  write_bytes(dir / "bad_member.npz", stored_zip({{"a.npy", "not numpy"}}));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "bad_member.npz", inputs_graph({{"a", {1, 2}}})),
                      Contains("bad_member.npz") && Contains("'a.npy'") && Contains("bad magic") &&
                          !Contains("statiq_npz_"));
}

// ---- TensorProto .pb --------------------------------------------------------------------------

TEST_CASE("pb: test_data_set folders in numeric order, raw and typed data, names select inputs",
          "[codegen][calib][pb]") {
  TempDir dir("pb");
  const ir::Graph g = inputs_graph({{"a", {1, 2}}, {"b", {1, 3}}});
  for (int k : {0, 2, 10}) {
    const fs::path set_dir = dir / ("test_data_set_" + std::to_string(k));
    fs::create_directories(set_dir);
    const float f = static_cast<float>(k);
    if (k != 10) {
      // Named tensors: the name wins over the file index (input_0.pb feeds "b").
      write_pb(set_dir / "input_0.pb", "b", {1, 3}, {f, f + 1, f + 2}, k != 2);
      write_pb(set_dir / "input_1.pb", "a", {1, 2}, {-f, 0.5f}, k == 2);
    } else {
      // Unnamed tensors: input_<k>.pb feeds the k-th graph input.
      write_pb(set_dir / "input_0.pb", "", {1, 2}, {-f, 0.5f});
      write_pb(set_dir / "input_1.pb", "", {1, 3}, {f, f + 1, f + 2}, false);
    }
  }
  const CalibrationSet set = read_calibration_set(dir.path, g);
  REQUIRE(set.size() == 3);
  CHECK(set.samples[0].origin == "test_data_set_0");
  CHECK(set.samples[1].origin == "test_data_set_2");
  CHECK(set.samples[2].origin == "test_data_set_10");
  CHECK(set.samples[2].inputs.at("b").f == std::vector<float>{10, 11, 12});
  CHECK(set.samples[2].inputs.at("a").f == std::vector<float>{-10, 0.5f});
  CHECK(set.samples[1].inputs.at("b").f == std::vector<float>{2, 3, 4});
  CHECK(set.samples[1].inputs.at("a").f == std::vector<float>{-2, 0.5f});

  // One test_data_set folder alone, and one .pb file alone (one-input model).
  CHECK(read_calibration_set(dir / "test_data_set_2", g).size() == 1);
  const ir::Graph one = inputs_graph({{"x", {1, 2}}});
  write_pb(dir / "x.pb", "", {1, 2}, {7, 8});
  const CalibrationSet single = read_calibration_set(dir / "x.pb", one);
  REQUIRE(single.size() == 1);
  CHECK(single.samples[0].inputs.at("x").f == std::vector<float>{7, 8});
}

TEST_CASE("pb: wrong dims, wrong element type, not a TensorProto", "[codegen][calib][pb][errors]") {
  TempDir dir("pb_err");
  const ir::Graph g = inputs_graph({{"x", {1, 2}}});
  write_pb(dir / "dims.pb", "", {1, 3}, {1, 2, 3});
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "dims.pb", g),
                      Contains("dims.pb") && Contains("dims [1,3] do not fit model input 'x' [1,2]"));
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(1);
  t.add_dims(2);
  t.add_int64_data(1);
  t.add_int64_data(2);
  {
    std::ofstream out(dir / "int.pb", std::ios::binary);
    t.SerializeToOstream(&out);
  }
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "int.pb", g),
                      Contains("int.pb") && Contains("INT64 is not accepted") && Contains("FLOAT"));
  write_bytes(dir / "junk.pb", std::string("\xff\xff\xff\xff garbage", 12));
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "junk.pb", g), Contains("junk.pb") && Contains("not a serialized"));
  fs::create_directories(dir / "sets" / "test_data_set_0");
  REQUIRE_THROWS_WITH(read_calibration_set(dir / "sets", g), Contains("test_data_set_0") && Contains("input_0.pb"));
}

TEST_CASE("pb: ONNX's own test data (test_relu) reads and calibrates", "[codegen][calib][pb]") {
  const fs::path relu = "/usr/share/libonnx-testdata/data/node/test_relu";
  if (!fs::exists(relu / "model.onnx")) {
    WARN("libonnx-testdata not installed: " << relu);
    return;
  }
  const ir::Graph g = load_onnx(relu / "model.onnx");
  const CalibrationSet set = read_calibration_set(relu, g);
  REQUIRE(set.size() == 1);
  const exec::Array& x = set.samples[0].inputs.at(g.inputs[0]);
  REQUIRE(x.f.size() == 60);
  const auto [lo, hi] = std::minmax_element(x.f.begin(), x.f.end());
  const auto ranges = calibrate(g, set, {}, ProgressBar::Mode::never);
  CHECK(ranges.at(g.inputs[0]).min == *lo);
  CHECK(ranges.at(g.inputs[0]).max == *hi);
  CHECK(ranges.at(g.outputs[0]).min == std::max(0.0f, *lo));
  CHECK(ranges.at(g.outputs[0]).max == std::max(0.0f, *hi));
}

// ---- images -----------------------------------------------------------------------------------

namespace {
// 2x2 RGB hand pixels, row-major: (R,G,B) per pixel.
const std::vector<unsigned char> px2x2{200, 100, 50, 0, 255, 10, 30, 60, 90, 255, 0, 128};
double colour(int pixel, int c) { return px2x2[static_cast<std::size_t>(pixel * 3 + c)]; }
}  // namespace

TEST_CASE("images: normalisation presets and channel orders on hand pixels (no resize)", "[codegen][calib][image]") {
  TempDir dir("img_presets");
  write_png(dir / "a.png", 2, 2, 3, px2x2);
  const ir::Graph g = inputs_graph({{"img", {1, 3, 2, 2}}});
  auto read = [&](Normalization n, std::optional<ChannelOrder> order = std::nullopt) {
    ReadOptions o;
    o.image.normalization = n;
    o.image.channel_order = order;
    const CalibrationSet set = read_calibration_set(dir.path, g, o);
    REQUIRE(set.size() == 1);
    CHECK(set.samples[0].origin == "a.png");
    return set.samples[0].inputs.at("img");
  };
  // value(channel plane, pixel) in NCHW
  auto at = [](const exec::Array& a, int ch, int p) { return static_cast<double>(a.f[static_cast<std::size_t>(ch * 4 + p)]); };

  const exec::Array none = read(Normalization::none);
  CHECK(none.shape == ir::Dims{1, 3, 2, 2});
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p) CHECK(at(none, c, p) == colour(p, c));

  const exec::Array unit = read(Normalization::unit);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p) CHECK(at(unit, c, p) == Approx(colour(p, c) / 255.0).epsilon(1e-6));

  const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
  const exec::Array imagenet = read(Normalization::imagenet);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p) CHECK(at(imagenet, c, p) == Approx((colour(p, c) / 255.0 - mean[c]) / sd[c]).margin(1e-6));
  // imagenet in BGR order: plane 0 is blue.
  const exec::Array imagenet_bgr = read(Normalization::imagenet, ChannelOrder::bgr);
  for (int p = 0; p < 4; ++p) CHECK(at(imagenet_bgr, 0, p) == Approx((colour(p, 2) / 255.0 - 0.406) / 0.225).margin(1e-6));

  // mxnet: the imagenet formula, planes B, G, R by default (onnxruntime's preprocess_mxnet_raw).
  const exec::Array mxnet = read(Normalization::mxnet);
  for (int ch = 0; ch < 3; ++ch) {
    const int c = 2 - ch;
    for (int p = 0; p < 4; ++p) CHECK(at(mxnet, ch, p) == Approx((colour(p, c) / 255.0 - mean[c]) / sd[c]).margin(1e-6));
  }
  // caffe2: x - mean with mean R 123.68, G 116.779, B 103.939, planes B, G, R by default.
  const double caffe_mean[3] = {123.68, 116.779, 103.939};
  const exec::Array caffe2 = read(Normalization::caffe2);
  for (int ch = 0; ch < 3; ++ch) {
    const int c = 2 - ch;
    for (int p = 0; p < 4; ++p) CHECK(at(caffe2, ch, p) == Approx(colour(p, c) - caffe_mean[c]).margin(1e-4));
  }
  CHECK(at(caffe2, 0, 0) == Approx(50 - 103.939).margin(1e-4));  // pixel 0 blue = 50
  // An explicit order overrides the preset's.
  const exec::Array caffe2_rgb = read(Normalization::caffe2, ChannelOrder::rgb);
  CHECK(at(caffe2_rgb, 0, 0) == Approx(200 - 123.68).margin(1e-4));

  CHECK(parse_normalization("mxnet") == Normalization::mxnet);
  REQUIRE_THROWS_WITH(parse_normalization("tf"), Contains("'tf'") && Contains("imagenet"));
  CHECK(parse_channel_order("bgr") == ChannelOrder::bgr);
}

TEST_CASE("images: luma for 1-channel models, gray images feed 3 channels, alpha dropped", "[codegen][calib][image]") {
  TempDir dir("img_gray");
  write_png(dir / "rgb.png", 2, 2, 3, px2x2);
  const CalibrationSet luma = read_calibration_set(dir.path, inputs_graph({{"x", {1, 1, 2, 2}}}));
  for (int p = 0; p < 4; ++p)
    CHECK(luma.samples[0].inputs.at("x").f[static_cast<std::size_t>(p)] ==
          Approx(0.299 * colour(p, 0) + 0.587 * colour(p, 1) + 0.114 * colour(p, 2)).margin(1e-4));

  TempDir gray("img_gray1");
  write_png(gray / "g.png", 2, 1, 1, {17, 240});
  const CalibrationSet three = read_calibration_set(gray.path, inputs_graph({{"x", {1, 3, 1, 2}}}));
  CHECK(three.samples[0].inputs.at("x").f == std::vector<float>{17, 240, 17, 240, 17, 240});

  TempDir rgba("img_rgba");
  write_png(rgba / "a.png", 1, 1, 4, {10, 20, 30, 0});  // fully transparent: alpha is ignored
  CHECK(read_calibration_set(rgba.path, inputs_graph({{"x", {1, 3, 1, 1}}})).samples[0].inputs.at("x").f ==
        std::vector<float>{10, 20, 30});
}

TEST_CASE("images: bilinear resize with half-pixel centres, up and down", "[codegen][calib][image]") {
  // A linear ramp f(y, x) = 100 x + 200 y: bilinear interpolation reproduces it exactly at the
  // (clamped) source coordinates s = (o + 0.5) * in / out - 0.5.
  auto ramp = [](int h, int w) {
    std::vector<float> v;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) v.push_back(100.0f * x + 200.0f * y);
    return v;
  };
  auto src = [](int o, int in, int out) { return std::clamp((o + 0.5) * in / out - 0.5, 0.0, in - 1.0); };
  for (auto [in_h, in_w, out_h, out_w] : {std::array<int, 4>{2, 2, 4, 4}, {4, 4, 2, 2}, {3, 5, 7, 2}, {2, 3, 2, 3}}) {
    INFO(in_h << "x" << in_w << " -> " << out_h << "x" << out_w);
    const std::vector<float> out = resize_bilinear(ramp(in_h, in_w), in_h, in_w, out_h, out_w);
    REQUIRE(out.size() == static_cast<std::size_t>(out_h * out_w));
    for (int y = 0; y < out_h; ++y)
      for (int x = 0; x < out_w; ++x)
        CHECK(out[static_cast<std::size_t>(y * out_w + x)] ==
              Approx(100 * src(x, in_w, out_w) + 200 * src(y, in_h, out_h)).margin(1e-3));
  }
  // Hand values for 2x2 -> 4x4 of [[0, 100], [200, 300]]: row 1, col 1 samples (0.25, 0.25).
  const std::vector<float> up = resize_bilinear({0, 100, 200, 300}, 2, 2, 4, 4);
  CHECK(up[0] == 0);
  CHECK(up[1] == Approx(25));
  CHECK(up[5] == Approx(75));
  CHECK(up[15] == 300);

  // Through the reader: a 2x2 PNG for a 4x4 model input.
  TempDir dir("img_resize");
  write_png(dir / "r.png", 2, 2, 1, {0, 100, 200, 250});
  const CalibrationSet set = read_calibration_set(dir.path, inputs_graph({{"x", {1, 1, 4, 4}}}));
  CHECK(set.samples[0].inputs.at("x").f[5] == Approx(0.75 * (0.75 * 0 + 0.25 * 100) + 0.25 * (0.75 * 200 + 0.25 * 250)));
}

TEST_CASE("images: JPEG decodes, folder sorted, other files ignored, max_samples", "[codegen][calib][image]") {
  TempDir dir("img_jpeg");
  std::vector<unsigned char> flat;
  for (int i = 0; i < 16 * 16; ++i) flat.insert(flat.end(), {200, 100, 50});
  REQUIRE(stbi_write_jpg((dir / "b.JPG").string().c_str(), 16, 16, 3, flat.data(), 100) != 0);
  write_png(dir / "a.png", 16, 16, 3, flat);
  write_bytes(dir / "README.txt", "not an image");
  const CalibrationSet set = read_calibration_set(dir.path, inputs_graph({{"x", {1, 3, 8, 8}}}));
  REQUIRE(set.size() == 2);
  CHECK(set.samples[0].origin == "a.png");
  CHECK(set.samples[1].origin == "b.JPG");
  const exec::Array& j = set.samples[1].inputs.at("x");
  for (std::size_t i = 0; i < 64; ++i) {
    CHECK(j.f[i] == Approx(200).margin(3));
    CHECK(j.f[64 + i] == Approx(100).margin(3));
    CHECK(j.f[128 + i] == Approx(50).margin(3));
  }
  ReadOptions one;
  one.max_samples = 1;
  CHECK(read_calibration_set(dir.path, inputs_graph({{"x", {1, 3, 8, 8}}}), one).size() == 1);
}

TEST_CASE("images: unreadable image, empty folder, unsuitable model input or preset", "[codegen][calib][image][errors]") {
  TempDir dir("img_err");
  write_bytes(dir / "broken.png", "\x89PNG this is not really a png");
  const ir::Graph g = inputs_graph({{"x", {1, 3, 2, 2}}});
  REQUIRE_THROWS_WITH(read_calibration_set(dir.path, g),
                      Contains("broken.png") && Contains("cannot decode") && Contains("convert or remove"));
  TempDir empty("img_empty");
  write_bytes(empty / "notes.md", "x");
  REQUIRE_THROWS_WITH(read_calibration_set(empty.path, g),
                      Contains("img_empty") && Contains("no .png/.jpg/.jpeg image"));

  TempDir ok("img_ok");
  write_png(ok / "a.png", 2, 2, 3, px2x2);
  REQUIRE_THROWS_WITH(read_calibration_set(ok.path, inputs_graph({{"x", {1, 12}}})),
                      Contains("a.png") && Contains("[1,C,H,W]") && Contains("[1,12]"));
  ReadOptions imagenet;
  imagenet.image.normalization = Normalization::imagenet;
  REQUIRE_THROWS_WITH(read_calibration_set(ok.path, inputs_graph({{"x", {1, 1, 2, 2}}}), imagenet),
                      Contains("'imagenet'") && Contains("1 channel"));
}

// ---- observers --------------------------------------------------------------------------------

TEST_CASE("MinMaxObserver: exact extremes over chunks, empty chunks, unknown names", "[codegen][calib][observer]") {
  MinMaxObserver obs;
  obs.observe("t", std::vector<float>{3, -1, 2});
  obs.observe("t", std::vector<float>{});
  obs.observe("t", exec::Array::floats({2}, {5, 0.5f}));
  obs.observe("z", std::vector<float>{});
  CHECK(obs.range("t").min == -1);
  CHECK(obs.range("t").max == 5);
  CHECK(obs.range("z").min == 0);
  CHECK(obs.range("z").max == 0);
  CHECK(obs.tensor_names() == std::vector<std::string>{"t", "z"});
  REQUIRE_THROWS_WITH(obs.range("nope"), Contains("'nope'") && Contains("never observed"));
  REQUIRE_THROWS_AS(obs.observe("i", exec::Array::ints({1}, {3})), std::invalid_argument);
}

TEST_CASE("Histogram follows numpy.histogram's bins", "[codegen][calib][observer]") {
  Histogram h = Histogram::with_range(0, 4, 4);
  for (float v : {0.0f, 0.999f, 1.0f, 2.5f, 3.0f, 4.0f}) h.add(v);
  CHECK(h.counts == std::vector<std::int64_t>{2, 1, 1, 2});  // last bin closed: 4 counts in [3, 4]
  CHECK(h.edges == std::vector<float>{0, 1, 2, 3, 4});
  const Histogram d = Histogram::with_range(2, 2, 2);  // numpy widens (2, 2) to (1.5, 2.5)
  CHECK(d.edges == std::vector<float>{1.5f, 2.0f, 2.5f});
}

TEST_CASE("PercentileObserver: |x| percentile and both tails on known data", "[codegen][calib][observer]") {
  // Values 0..9999, one each; 9999 bins of width 1 over [0, 9999]: bin j holds j (the last, closed
  // bin holds 9998 and 9999). cdf_j = (j + 1) / 10000 >= 0.98995 first at j = 9899 -> t = 9899.
  std::vector<float> v(10000);
  for (int i = 0; i < 10000; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  PercentileObserver sym(98.995, true, 9999);
  feed(sym, "t", v);
  CHECK(sym.range("t").min == 0);  // -9899 clipped to the observed min
  CHECK(sym.range("t").max == 9899);

  std::vector<float> neg(v);
  for (float& x : neg) x = -x;
  PercentileObserver sym_neg(98.995, true, 9999);
  feed(sym_neg, "t", neg);
  CHECK(sym_neg.range("t").min == -9899);
  CHECK(sym_neg.range("t").max == 0);

  // Both tails: -5000..4999 over (-5000, 5000) in 10000 unit bins; the cut 0.505 % per side keeps
  // the order statistics sorted[ceil(N * cut) - 1] and sorted[ceil(N * (1 - cut)) - 1] (bin left
  // edges coincide with the values here).
  std::vector<float> w(10000);
  for (int i = 0; i < 10000; ++i) w[static_cast<std::size_t>(i)] = static_cast<float>(i - 5000);
  std::shuffle(w.begin(), w.end(), std::mt19937(7));
  PercentileObserver tails(98.99, false, 10000);
  feed(tails, "w", w, 7);
  std::vector<float> sorted(w);
  std::sort(sorted.begin(), sorted.end());
  const double cut = (100 - 98.99) / 200;
  CHECK(tails.range("w").min == sorted[static_cast<std::size_t>(std::ceil(10000 * cut)) - 1]);
  CHECK(tails.range("w").max == sorted[static_cast<std::size_t>(std::ceil(10000 * (1 - cut))) - 1]);
  CHECK(tails.range("w").min == -4950);
  CHECK(tails.range("w").max == 4949);

  PercentileObserver all(100.0, true, 64);
  feed(all, "t", v);
  CHECK(all.range("t").max == 9999);  // never beyond the observed max

  PercentileObserver early;
  early.observe("t", v);
  REQUIRE_THROWS_WITH(early.range("t"), Contains("both passes") && Contains("begin_pass(1)"));
  REQUIRE_THROWS_AS(PercentileObserver(101.0), std::invalid_argument);
}

TEST_CASE("EntropyObserver: clips a long tail, keeps a uniform range, degenerate cases", "[codegen][calib][observer]") {
  // Laplace(b = 1) body, |x| <= ~10.8 on this grid, plus rare outliers at +-100.
  std::vector<float> tail = laplace_grid(200000, 1.0);
  tail.push_back(100.0f);
  tail.push_back(-100.0f);
  EntropyObserver e;
  feed(e, "t", tail);
  const Range r = e.range("t");
  CHECK(r.max < 30.0f);  // far below the max 100
  CHECK(r.max > 2.0f);   // but keeps the bulk (|x| < 2 holds 86 % of a Laplace(1))
  CHECK(r.min < -2.0f);
  CHECK(r.min > -30.0f);

  // A pure Laplace (max |x| = ln(200000) = 12.2 on this grid) is long-tailed too: clipped inside.
  const std::vector<float> laplace = laplace_grid(200000, 1.0);
  EntropyObserver l;
  feed(l, "l", laplace);
  CHECK(l.range("l").max < 0.9f * laplace.back());
  CHECK(l.range("l").max > 4.0f);

  std::vector<float> uniform(100000);
  for (std::size_t i = 0; i < uniform.size(); ++i)
    uniform[i] = -1.0f + 2.0f * (static_cast<float>(i) + 0.5f) / static_cast<float>(uniform.size());
  EntropyObserver u;
  feed(u, "u", uniform);
  const float umax = uniform.back();
  CHECK(u.range("u").max >= 0.95f * umax);
  CHECK(u.range("u").max <= umax);
  CHECK(u.range("u").min <= -0.95f * umax);

  // With as many bins as quantized bins the search has one candidate, the whole range
  // (onnxruntime's defaults, num_bins = num_quantized_bins = 128): the observed min/max.
  EntropyObserver single(128, 128);
  feed(single, "t", tail);
  CHECK(single.range("t").min == -100.0f);
  CHECK(single.range("t").max == 100.0f);

  EntropyObserver zeros;
  feed(zeros, "z", std::vector<float>(50, 0.0f));
  CHECK(zeros.range("z").min == 0);
  CHECK(zeros.range("z").max == 0);
  REQUIRE_THROWS_AS(EntropyObserver(100, 128), std::invalid_argument);
}

// ---- progress bar -----------------------------------------------------------------------------

TEST_CASE("ProgressBar draws only when asked or on a terminal", "[codegen][calib][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    ProgressBar bar("work", 4, ProgressBar::Mode::always, f);
    CHECK(bar.enabled());
    for (int i = 0; i < 4; ++i) bar.advance();
  }
  const std::string drawn = read_all(f);
  CHECK_THAT(drawn, Contains("work [") && Contains("4/4") && Contains("100%"));
  CHECK(drawn.back() == '\n');
  CHECK(std::count(drawn.begin(), drawn.end(), '\n') == 1);
  std::fclose(f);

  for (auto mode : {ProgressBar::Mode::automatic, ProgressBar::Mode::never}) {
    std::FILE* g = std::tmpfile();  // a regular file, not a terminal
    {
      ProgressBar bar("quiet", 10, mode, g);
      CHECK(!bar.enabled());
      bar.advance(10);
    }
    CHECK(read_all(g).empty());
    std::fclose(g);
  }
}

// ---- calibrate() ------------------------------------------------------------------------------

TEST_CASE("calibrate: every float tensor of a hand graph, exact min/max", "[codegen][calib][calibrate]") {
  const ir::Graph g = relu_graph();
  CalibrationSet set;
  set.source = "hand";
  for (auto v : {std::vector<float>{-1, 2, 3, -4}, std::vector<float>{0.5f, -0.5f, 7, 1}}) {
    Sample s;
    s.origin = "hand " + std::to_string(set.size());
    s.inputs.emplace("x", exec::Array::floats({1, 4}, v));
    set.samples.push_back(s);
  }
  const auto ranges = calibrate(g, set, {}, ProgressBar::Mode::never);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges.at("x").min == -4);
  CHECK(ranges.at("x").max == 7);
  CHECK(ranges.at("y").min == 0);
  CHECK(ranges.at("y").max == 7);

  CalibrationOptions pct;
  pct.method = CalibrationMethod::percentile;
  const auto p = calibrate(g, set, pct, ProgressBar::Mode::never);
  CHECK(p.at("y").min == 0);
  CHECK(p.at("y").max <= 7);

  CHECK(parse_calibration_method("entropy") == CalibrationMethod::entropy);
  REQUIRE_THROWS_WITH(parse_calibration_method("kl"), Contains("'kl'") && Contains("minmax"));

  CalibrationSet nan = set;
  nan.samples[1].inputs.at("x").f[2] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(calibrate(g, nan, {}, ProgressBar::Mode::never),
                      Contains("'hand 1'") && Contains("NaN at element 2"));
  CalibrationSet wrong = set;
  wrong.samples[0].inputs.at("x") = exec::Array::floats({4}, {1, 2, 3, 4});
  REQUIRE_THROWS_WITH(calibrate(g, wrong, {}, ProgressBar::Mode::never),
                      Contains("'hand 0'") && Contains("rank 1") && Contains("[1,4]"));
  CalibrationSet empty;
  empty.source = "nothing.npy";
  REQUIRE_THROWS_WITH(calibrate(g, empty, {}, ProgressBar::Mode::never), Contains("nothing.npy") && Contains("empty"));
}

TEST_CASE("calibrate: mnist8 on real digits gives plausible ranges", "[codegen][calib][calibrate][models]") {
  const fs::path model = fs::path(STATIQ_SHARED_DIR) / "models" / "mnist8" / "model.onnx";
  const fs::path digits = fs::path(STATIQ_SHARED_DIR) / "data" / "mnist_10k_u8.npy";
  if (!fs::exists(model) || !fs::exists(digits)) {
    WARN("shared models/data not found under " << STATIQ_SHARED_DIR);
    return;
  }
  const ir::Graph g = load_onnx(model);
  ReadOptions opt;
  opt.max_samples = 60;
  const CalibrationSet set = read_calibration_set(digits, g, opt);
  REQUIRE(set.size() == 60);

  // Independent min/max: the digits themselves, and every tensor the executor records.
  const statiq::io::NpyArray raw = statiq::io::read_npy(digits);
  const auto pixels = raw.view<std::uint8_t>().first(60 * 784);
  const auto [plo, phi] = std::minmax_element(pixels.begin(), pixels.end());
  std::map<std::string, Range> expected;
  expected[g.inputs[0]] = {static_cast<float>(*plo), static_cast<float>(*phi)};
  const exec::FloatExecutor ex(g);
  exec::RunOptions rec;
  rec.record_intermediates = true;
  for (const Sample& s : set.samples) {
    const auto result = ex.run({s.inputs.at(g.inputs[0])}, rec);
    for (const auto& [name, a] : result.tensors) {
      if (!a.is_float()) continue;
      const auto [lo, hi] = std::minmax_element(a.f.begin(), a.f.end());
      auto [it, fresh] = expected.try_emplace(name, Range{*lo, *hi});
      if (!fresh) it->second = {std::min(it->second.min, *lo), std::max(it->second.max, *hi)};
    }
  }

  const auto minmax = calibrate(g, set, {}, ProgressBar::Mode::never);
  REQUIRE(minmax.size() == expected.size());
  for (const auto& [name, r] : expected) {
    INFO("tensor " << name);
    REQUIRE(minmax.count(name));
    CHECK(minmax.at(name).min == r.min);
    CHECK(minmax.at(name).max == r.max);
  }
  CHECK(minmax.at(g.inputs[0]).min == 0);
  CHECK(minmax.at(g.inputs[0]).max == 255);

  for (auto method : {CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    INFO("method " << to_string(method));
    CalibrationOptions o;
    o.method = method;
    const auto ranges = calibrate(g, set, o, ProgressBar::Mode::never);
    REQUIRE(ranges.size() == expected.size());
    for (const auto& [name, r] : ranges) {
      INFO("tensor " << name);
      CHECK(r.min >= expected.at(name).min);
      CHECK(r.max <= expected.at(name).max);
      CHECK(r.min <= r.max);
      CHECK(r.max > 0);
    }
    CHECK(ranges.at(g.inputs[0]).min == 0);
    CHECK(ranges.at(g.inputs[0]).max >= 200);  // digits are mostly saturated strokes
  }
}
