// statiq::io .npy: the shared MNIST files (checked against their raw bytes and documented class
// counts), round trips of every dtype, header layout, and rejection of broken files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using statiq::io::NpyArray;
using statiq::io::read_npy;
using statiq::io::write_npy;

namespace {

const fs::path shared = STATIQ_SHARED_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh folder per test case under the system temp dir.
fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("statiq_io_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A v1 .npy built by hand here (not by write_npy): header dict padded to 64 bytes.
std::string make_npy(const std::string& dict, const std::string& payload, char major = 1) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += major;
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
  return out + h + payload;
}

std::string message_of(const fs::path& p) {
  try {
    read_npy(p);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("mnist_10k_u8.npy reads as [10000,28,28] uint8 equal to the file's raw bytes", "[io][npy]") {
  const fs::path path = shared / "data" / "mnist_10k_u8.npy";
  if (!fs::exists(path)) {
    WARN("shared data not found: " << path);  // Catch2 v2 has no SKIP
    return;
  }
  const NpyArray a = read_npy(path);
  CHECK(a.dtype == "uint8");
  CHECK(a.shape == std::vector<std::size_t>{10000, 28, 28});
  REQUIRE(a.data.size() == 10000u * 28 * 28);
  // Independent decoding: v1 header length in bytes 8-9, data right after.
  const std::string raw = slurp(path);
  const std::size_t header_len = static_cast<unsigned char>(raw[8]) | static_cast<unsigned char>(raw[9]) << 8;
  REQUIRE(raw.size() == 10 + header_len + a.data.size());
  CHECK(std::memcmp(raw.data() + 10 + header_len, a.data.data(), a.data.size()) == 0);
  // Real digits: white strokes on a black border.
  const auto pixels = a.view<std::uint8_t>();
  CHECK(*std::max_element(pixels.begin(), pixels.end()) == 255);
  CHECK(pixels[0] == 0);
  const auto as_float = a.as<float>();
  CHECK(as_float[123456] == static_cast<float>(pixels[123456]));
}

TEST_CASE("mnist_10k_labels.npy holds the documented class counts", "[io][npy]") {
  const fs::path path = shared / "data" / "mnist_10k_labels.npy";
  if (!fs::exists(path)) {
    WARN("shared data not found: " << path);  // Catch2 v2 has no SKIP
    return;
  }
  const NpyArray a = read_npy(path);
  CHECK(a.shape == std::vector<std::size_t>{10000});
  const auto labels = a.as<std::int64_t>();
  std::array<int, 10> counts{};
  for (auto l : labels) {
    REQUIRE(l >= 0);
    REQUIRE(l <= 9);
    ++counts[static_cast<std::size_t>(l)];
  }
  // data/README.md: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978, ordered by class.
  CHECK(counts == std::array<int, 10>{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978});
  CHECK(std::is_sorted(labels.begin(), labels.end()));
}

TEST_CASE("mnist8 inputs rows 3-12 are the first digit of each class of mnist_10k_u8", "[io][npy]") {
  const fs::path inputs = shared / "models" / "mnist8" / "inputs.npy";
  const fs::path digits = shared / "data" / "mnist_10k_u8.npy";
  if (!fs::exists(inputs) || !fs::exists(digits)) {
    WARN("shared data not found");  // Catch2 v2 has no SKIP
    return;
  }
  const NpyArray in = read_npy(inputs);
  CHECK(in.dtype == "float32");
  CHECK(in.shape == std::vector<std::size_t>{13, 1, 28, 28});
  const auto x = in.as<float>();
  const auto d = read_npy(digits).as<float>();
  // First index of class k = sum of the counts of the classes before it.
  const std::array<std::size_t, 10> first{0, 1001, 2128, 3119, 4151, 5131, 5994, 7008, 8078, 9022};
  for (std::size_t k = 0; k < 10; ++k)
    CHECK(std::equal(x.begin() + (3 + k) * 784, x.begin() + (4 + k) * 784, d.begin() + first[k] * 784));
}

TEST_CASE("write_npy/read_npy round-trip every dtype and shape rank", "[io][npy]") {
  const fs::path dir = scratch("roundtrip");
  {
    const std::vector<float> v{1.5f, -2.25f, 0.0f, 3e38f, -1e-38f, 7.0f};
    write_npy<float>(dir / "f.npy", {2, 3}, v);
    const NpyArray a = read_npy(dir / "f.npy");
    CHECK(a.dtype == "float32");
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    const auto back = a.view<float>();
    CHECK(std::equal(back.begin(), back.end(), v.begin(), v.end()));
    // The header: NumPy's layout, data 64-byte aligned, 2-D tuple without trailing comma.
    const std::string raw = slurp(dir / "f.npy");
    CHECK(raw.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK((raw.size() - v.size() * 4) % 64 == 0);
    CHECK(raw.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") != std::string::npos);
    CHECK(raw[raw.size() - v.size() * 4 - 1] == '\n');
  }
  {
    const std::vector<double> v{1.0 / 3.0, -0.0, 1e300};
    write_npy<double>(dir / "d.npy", {3}, v);
    const NpyArray a = read_npy(dir / "d.npy");
    CHECK(a.dtype == "float64");
    CHECK(slurp(dir / "d.npy").find("'shape': (3,)") != std::string::npos);  // NumPy's 1-tuple
    const auto back = a.as<double>();
    CHECK(back == v);
  }
  {
    const std::vector<std::int8_t> v{-128, -1, 0, 127};
    write_npy<std::int8_t>(dir / "i8.npy", {2, 1, 2}, v);
    const NpyArray a = read_npy(dir / "i8.npy");
    CHECK(a.dtype == "int8");
    CHECK(slurp(dir / "i8.npy").find("'|i1'") != std::string::npos);
    CHECK(a.as<float>() == std::vector<float>{-128.0f, -1.0f, 0.0f, 127.0f});
  }
  {
    const std::vector<std::uint8_t> v{0, 255};
    write_npy<std::uint8_t>(dir / "u8.npy", {2}, v);
    CHECK(read_npy(dir / "u8.npy").as<std::int32_t>() == std::vector<std::int32_t>{0, 255});
  }
  {
    const std::vector<std::int32_t> v{-2147483647 - 1, 5};
    write_npy<std::int32_t>(dir / "i32.npy", {1, 2}, v);
    CHECK(read_npy(dir / "i32.npy").as<std::int64_t>() == std::vector<std::int64_t>{-2147483648LL, 5});
  }
  {
    const std::vector<std::int64_t> v{INT64_MIN, INT64_MAX};
    write_npy<std::int64_t>(dir / "i64.npy", {2}, v);
    const NpyArray a = read_npy(dir / "i64.npy");
    const auto back = a.view<std::int64_t>();
    CHECK(std::vector<std::int64_t>(back.begin(), back.end()) == v);
  }
  {
    const std::vector<float> v{42.0f};
    write_npy<float>(dir / "scalar.npy", std::span<const std::size_t>{}, v);  // 0-d array
    const NpyArray a = read_npy(dir / "scalar.npy");
    CHECK(a.shape.empty());
    CHECK(a.size() == 1);
    CHECK(a.as<float>() == v);
    CHECK(slurp(dir / "scalar.npy").find("'shape': ()") != std::string::npos);
  }
  {
    write_npy<float>(dir / "empty.npy", {0, 3}, std::vector<float>{});
    const NpyArray a = read_npy(dir / "empty.npy");
    CHECK(a.shape == std::vector<std::size_t>{0, 3});
    CHECK(a.data.empty());
  }
  // Atomic write: overwriting leaves the new content and no temp file behind.
  write_npy<float>(dir / "f.npy", {1}, std::vector<float>{9.0f});
  CHECK(read_npy(dir / "f.npy").as<float>() == std::vector<float>{9.0f});
  for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().extension() == ".npy");
  fs::remove_all(dir);
}

TEST_CASE("read_npy reads v2 and v3 headers and big-endian single bytes", "[io][npy]") {
  const fs::path dir = scratch("versions");
  const std::string payload{"\x01\x00\x00\x00\xff\xff\xff\xff", 8};
  spit(dir / "v2.npy", make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", payload, 2));
  spit(dir / "v3.npy", make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", payload, 3));
  CHECK(read_npy(dir / "v2.npy").as<std::int64_t>() == std::vector<std::int64_t>{1, -1});
  CHECK(read_npy(dir / "v3.npy").as<std::int64_t>() == std::vector<std::int64_t>{1, -1});
  // Byte order is meaningless for 1-byte types; NumPy may write '|u1' or '<u1'.
  spit(dir / "u1.npy", make_npy("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", "\x07"));
  CHECK(read_npy(dir / "u1.npy").as<int>() == std::vector<int>{7});
  fs::remove_all(dir);
}

TEST_CASE("as<T>() refuses values T cannot hold; view<T>() refuses another dtype", "[io][npy]") {
  const fs::path dir = scratch("convert");
  write_npy<float>(dir / "f.npy", {2}, std::vector<float>{2.5f, 1.0f});
  const NpyArray a = read_npy(dir / "f.npy");
  CHECK_THROWS_WITH(a.as<std::int32_t>(), Catch::Contains("not exactly representable"));
  CHECK_THROWS_WITH(a.view<double>(), Catch::Contains("holds float32, not float64"));
  write_npy<std::int32_t>(dir / "i.npy", {1}, std::vector<std::int32_t>{300});
  CHECK_THROWS_WITH(read_npy(dir / "i.npy").as<std::uint8_t>(), Catch::Contains("does not fit uint8"));
  fs::remove_all(dir);
}

TEST_CASE("broken .npy files are rejected with a message naming file and problem", "[io][npy]") {
  const fs::path dir = scratch("broken");
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const std::string payload(16, '\0');

  struct Case {
    const char* file;
    std::string bytes;
    const char* expected;
  };
  const std::vector<Case> cases{
      {"magic.npy", "PK\x03\x04 this is a zip file, not npy", "bad magic"},
      {"short.npy", "\x93NUM", "bad magic"},
      {"header_cut.npy", make_npy(good_dict, payload).substr(0, 40), "truncated (header)"},
      {"data_cut.npy", make_npy(good_dict, payload).substr(0, make_npy(good_dict, "").size() + 10),
       "truncated: 10 data bytes, the header's shape needs 16"},
      {"trailing.npy", make_npy(good_dict, payload + "xx"), "2 bytes after the array's data"},
      {"fortran.npy", make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", payload),
       "fortran_order"},
      {"big_endian.npy", make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", payload),
       "big-endian"},
      {"complex.npy", make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", payload),
       "unsupported dtype '<c8'"},
      {"float16.npy", make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }", payload),
       "unsupported dtype '<f2'"},
      {"version.npy", make_npy(good_dict, payload, 9), "unsupported format version 9"},
      {"no_shape.npy", make_npy("{'descr': '<f4', 'fortran_order': False, }", payload), "lacks"},
      {"bad_dict.npy", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", payload),
       "non-integer"},
  };
  for (const auto& c : cases) {
    spit(dir / c.file, c.bytes);
    const std::string msg = message_of(dir / c.file);
    INFO(c.file << ": " << msg);
    CHECK(msg.find(c.file) != std::string::npos);
    CHECK(msg.find(c.expected) != std::string::npos);
  }
  CHECK(message_of(dir / "missing.npy").find("cannot open") != std::string::npos);
  CHECK_THROWS_WITH(write_npy<float>(dir / "no_such_dir" / "x.npy", {1}, std::vector<float>{1.0f}),
                    Catch::Contains("x.npy"));
  CHECK_THROWS_WITH(write_npy<float>(dir / "wrong.npy", {2, 2}, std::vector<float>{1.0f}),
                    Catch::Contains("4 elements but 1"));
  fs::remove_all(dir);
}
