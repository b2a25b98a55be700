// tests/onnx_node/tensor_data.cpp — TensorProto files of the ONNX node tests into TensorData,
// and the comparison of a result with the reference output.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "node_test.hpp"

namespace statiq::onnx_node {

namespace ir = codegen::ir;

namespace {

template <class T>
T read_le(const std::string& raw, std::size_t index) {
  T v;
  std::memcpy(&v, raw.data() + index * sizeof(T), sizeof(T));  // the test data is little-endian, as this host
  return v;
}

// IEEE half to float: the node tests hold float16 data as 16-bit patterns.
double half_to_double(std::uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) v = std::ldexp(mantissa, -24);
  else if (exponent == 31) v = mantissa ? NAN : INFINITY;
  else v = std::ldexp(mantissa + 1024, exponent - 25);
  return sign ? -v : v;
}

template <class T>
void raw_ints(const std::string& raw, std::vector<std::int64_t>& out) {
  for (std::size_t k = 0; k < raw.size() / sizeof(T); ++k) out.push_back(static_cast<std::int64_t>(read_le<T>(raw, k)));
}

}  // namespace

TensorData tensor_from_proto(const onnx::TensorProto& p) {
  TensorData t;
  t.name = p.name();
  t.dtype = ir::from_onnx_elem_type(p.data_type());
  for (auto d : p.dims()) t.dims.push_back(d);
  const std::string& raw = p.raw_data();
  const bool has_raw = p.has_raw_data();
  using TP = onnx::TensorProto;
  switch (p.data_type()) {
    case TP::FLOAT:
      if (has_raw) for (std::size_t k = 0; k < raw.size() / 4; ++k) t.f.push_back(read_le<float>(raw, k));
      else for (float v : p.float_data()) t.f.push_back(v);
      break;
    case TP::DOUBLE:
      if (has_raw) for (std::size_t k = 0; k < raw.size() / 8; ++k) t.f.push_back(read_le<double>(raw, k));
      else for (double v : p.double_data()) t.f.push_back(v);
      break;
    case TP::FLOAT16:
      if (has_raw) for (std::size_t k = 0; k < raw.size() / 2; ++k) t.f.push_back(half_to_double(read_le<std::uint16_t>(raw, k)));
      else for (auto v : p.int32_data()) t.f.push_back(half_to_double(static_cast<std::uint16_t>(v)));
      break;
    case TP::INT64:
      if (has_raw) raw_ints<std::int64_t>(raw, t.i);
      else for (auto v : p.int64_data()) t.i.push_back(v);
      break;
    case TP::UINT64:
      if (has_raw) raw_ints<std::uint64_t>(raw, t.i);
      else for (auto v : p.uint64_data()) t.i.push_back(static_cast<std::int64_t>(v));
      break;
    case TP::INT32: case TP::INT16: case TP::INT8: case TP::UINT32: case TP::UINT16: case TP::UINT8: case TP::BOOL:
      if (!has_raw) {
        // Every type narrower than 64 bits is stored widened in int32_data (uint32 in uint64_data).
        if (p.data_type() == TP::UINT32) for (auto v : p.uint64_data()) t.i.push_back(static_cast<std::int64_t>(v));
        else for (auto v : p.int32_data()) t.i.push_back(v);
      } else {
        switch (p.data_type()) {
          case TP::INT32: raw_ints<std::int32_t>(raw, t.i); break;
          case TP::UINT32: raw_ints<std::uint32_t>(raw, t.i); break;
          case TP::INT16: raw_ints<std::int16_t>(raw, t.i); break;
          case TP::UINT16: raw_ints<std::uint16_t>(raw, t.i); break;
          case TP::INT8: raw_ints<std::int8_t>(raw, t.i); break;
          default: raw_ints<std::uint8_t>(raw, t.i); break;  // uint8, bool
        }
      }
      break;
    default:
      throw std::runtime_error(fmt::format("tensor '{}': element type {} ({}) is not read by this runner", p.name(),
                                           p.data_type(), TP::DataType_Name(static_cast<TP::DataType>(p.data_type()))));
  }
  std::int64_t expected = 1;
  for (auto d : t.dims) expected *= d;
  if (static_cast<std::int64_t>(t.size()) != expected)
    throw std::runtime_error(fmt::format("tensor '{}': {} values for dims {}", p.name(), t.size(), ir::to_string(t.dims)));
  return t;
}

TensorData read_tensor(const std::filesystem::path& pb) {
  std::ifstream in(pb, std::ios::binary);
  onnx::TensorProto p;
  if (!in || !p.ParseFromIstream(&in)) throw std::runtime_error("cannot read TensorProto " + pb.string());
  return tensor_from_proto(p);
}

onnx::ModelProto read_model(const std::filesystem::path& onnx_file) {
  std::ifstream in(onnx_file, std::ios::binary);
  onnx::ModelProto m;
  if (!in || !m.ParseFromIstream(&in)) throw std::runtime_error("cannot read ModelProto " + onnx_file.string());
  return m;
}

std::vector<TensorData> read_numbered(const std::filesystem::path& data_set, const std::string& prefix) {
  std::vector<TensorData> out;
  for (int k = 0;; ++k) {
    const auto file = data_set / fmt::format("{}_{}.pb", prefix, k);
    if (!std::filesystem::exists(file)) break;
    out.push_back(read_tensor(file));
  }
  return out;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "PASS";
    case Outcome::fail: return "FAIL";
    default: return "unsupported";
  }
}

std::string compare(const TensorData& expected, const ir::Dims& actual_dims, const std::vector<double>& actual_f,
                    const std::vector<std::int64_t>& actual_i, Tolerance tol) {
  if (actual_dims != expected.dims)
    return fmt::format("'{}': shape {} instead of {}", expected.name, ir::to_string(actual_dims), ir::to_string(expected.dims));
  if (expected.is_float()) {
    if (actual_f.size() != expected.f.size()) return fmt::format("'{}': a float output was expected", expected.name);
    for (std::size_t k = 0; k < expected.f.size(); ++k) {
      const double e = expected.f[k], a = actual_f[k];
      const bool ok = std::isnan(e) ? std::isnan(a)
                      : std::isinf(e) ? a == e
                                      : std::abs(a - e) <= tol.atol + tol.rtol * std::abs(e);
      if (!ok) return fmt::format("'{}'[{}] = {:.9g}, expected {:.9g}", expected.name, k, a, e);
    }
  } else {
    if (actual_i.size() != expected.i.size()) return fmt::format("'{}': an integer output was expected", expected.name);
    for (std::size_t k = 0; k < expected.i.size(); ++k)
      if (actual_i[k] != expected.i[k])
        return fmt::format("'{}'[{}] = {}, expected {}", expected.name, k, actual_i[k], expected.i[k]);
  }
  return {};
}

}  // namespace statiq::onnx_node
