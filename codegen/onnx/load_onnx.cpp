// codegen/onnx/load_onnx.cpp — ONNX ModelProto -> statiq IR.
#include "codegen/onnx/load_onnx.hpp"

#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/input/input_file.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

namespace statiq::codegen {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw std::runtime_error("ONNX model '" + source + "': " + what);
}

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

std::int64_t default_opset(const onnx::ModelProto& m, const std::string& source) {
  for (const auto& op : m.opset_import())
    if (is_default_domain(op.domain())) return op.version();
  fail(source, "no opset_import for the default ONNX domain");
}

// Bytes per element of an ONNX TensorProto data type; 0 for those without a fixed size (strings).
std::uint64_t element_bytes(std::int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto::UINT8: case onnx::TensorProto::INT8: case onnx::TensorProto::BOOL: return 1;
    case onnx::TensorProto::UINT16: case onnx::TensorProto::INT16: case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: return 2;
    case onnx::TensorProto::FLOAT: case onnx::TensorProto::INT32: case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::INT64: case onnx::TensorProto::UINT64: case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::COMPLEX64: return 8;
    case onnx::TensorProto::COMPLEX128: return 16;
    default: return 0;
  }
}

// Reads external tensor data into raw_data. The location must stay inside the model's folder:
// a model file must not make the generator read arbitrary files (e.g. "../../etc/passwd").
void inline_external_data(onnx::TensorProto& t, const std::filesystem::path& model_dir, const std::string& source) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  std::string location;
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
  const std::string who = "external data of tensor '" + display_name(t.name()) + "'";
  auto number = [&](const std::string& key, const std::string& text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail(source, who + ": " + key + " '" + display_name(text) + "' is not a non-negative integer; fix the model's "
                         "external_data entries");
    return v;
  };
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = number(kv.key(), kv.value());
    else if (kv.key() == "length") length = number(kv.key(), kv.value());
  }
  // The bytes the tensor's dims and type need, known before the file is opened: a length that
  // differs, or a tensor over the input limit, is refused without reading anything.
  std::uint64_t expected = 0;
  {
    std::uint64_t count = 1;
    for (const std::int64_t d : t.dims()) {
      if (d < 0) fail(source, who + ": negative dimension " + std::to_string(d) + " in its dims");
      if (!mul_fits(count, std::uint64_t(d), count)) fail(source, who + ": its dims overflow 64 bits (corrupt model)");
    }
    const std::uint64_t element = element_bytes(t.data_type());
    if (element == 0)
      fail(source, who + ": data type " + std::to_string(t.data_type()) + " cannot be stored as external data here");
    if (!mul_fits(count, element, expected)) fail(source, who + ": its dims overflow 64 bits (corrupt model)");
    check_declared_bytes(expected, source + ": " + who);
    if (length && *length != expected)
      fail(source, who + ": length " + std::to_string(*length) + " but its dims and type need " +
                       std::to_string(expected) + " bytes (corrupt model)");
  }
  if (location.empty()) fail(source, who + " has no location");
  const std::filesystem::path rel(location);
  if (rel.is_absolute()) fail(source, who + ": absolute location '" + display_name(location) + "' refused");
  std::error_code ec;
  const auto dir = std::filesystem::weakly_canonical(model_dir.empty() ? "." : model_dir, ec);
  const auto file = std::filesystem::weakly_canonical(dir / rel, ec);
  if (ec) fail(source, who + ": cannot resolve '" + display_name(location) + "'");
  auto [dir_end, file_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (dir_end != dir.end() || file_it == file.end())
    fail(source, who + ": location '" + display_name(location) + "' points outside the model's folder " +
                     printable(dir.string()));
  // a regular file only (a FIFO would block forever); its size may exceed the limit, the tensor not
  std::error_code st_ec;
  if (!std::filesystem::is_regular_file(file, st_ec))
    fail(source, who + ": '" + printable(file.string()) + "' is missing or not a regular file (a FIFO, folder or "
                       "device); put the tensor's data file next to the model");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(source, who + ": cannot open '" + printable(file.string()) + "'");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (offset > size) fail(source, who + ": offset " + std::to_string(offset) + " beyond the file");
  const std::uint64_t n = length ? *length : expected;
  if (!range_inside(offset, n, size))
    fail(source, who + ": '" + display_name(location) + "' is truncated (" + std::to_string(size) +
                     " bytes, the tensor needs " + std::to_string(n) + " from offset " + std::to_string(offset) + ")");
  std::string bytes(static_cast<std::size_t>(n), '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  if (!in) fail(source, who + ": read error");
  t.set_raw_data(std::move(bytes));
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::DEFAULT);
}

// What the ONNX library itself would crash on (SIGFPE, SIGSEGV) instead of reporting, checked
// before the checker, the version converter and shape inference see the model: window
// attributes that divide (strides, dilations, kernel_shape, group must be positive, pads not
// negative), and graph outputs that nothing produces (the opset 7-12 converter dereferences their
// producer).
void validate_for_onnx_library(const onnx::GraphProto& g, const std::string& source, bool subgraph = false) {
  std::set<std::string> defined;
  for (const auto& i : g.input()) defined.insert(i.name());
  for (const auto& t : g.initializer()) defined.insert(t.name());
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) defined.insert(o);
    const std::string who = "node '" + display_name(n.name()) + "' (" + display_name(n.op_type()) + ")";
    for (const auto& a : n.attribute()) {
      const std::string& key = a.name();
      const bool positive = key == "strides" || key == "dilations" || key == "kernel_shape";
      if (positive || key == "pads") {
        for (const std::int64_t v : a.ints())
          if (positive ? v <= 0 : v < 0)
            fail(source, who + ": attribute " + key + " holds " + std::to_string(v) + "; " + key +
                             (positive ? " must be positive" : " must not be negative") + ": fix the model");
      }
      if (key == "group" && a.i() <= 0)
        fail(source, who + ": attribute group is " + std::to_string(a.i()) + "; it must be positive: fix the model");
    }
    for (const auto& a : n.attribute())
      if (a.has_g()) validate_for_onnx_library(a.g(), source, true);
  }
  for (const auto& o : g.output())  // a subgraph's outputs may name the enclosing graph's values
    if (!subgraph && !defined.count(o.name()))
      fail(source, "graph '" + display_name(g.name()) + "' output '" + display_name(o.name()) +
                       "' is produced by no node, initializer or input; fix or re-export the model");
}

// Constant nodes become initializers so that every weight is found in one place.
void constants_to_initializers(onnx::GraphProto& g, const std::string& source) {
  auto* nodes = g.mutable_node();
  for (int i = 0; i < nodes->size();) {
    const onnx::NodeProto& n = nodes->Get(i);
    if (n.op_type() != "Constant" || !is_default_domain(n.domain())) {
      ++i;
      continue;
    }
    const std::string who = "Constant node '" + n.name() + "' (output '" + n.output(0) + "')";
    if (n.attribute_size() != 1) fail(source, who + ": expected exactly one attribute");
    const onnx::AttributeProto& a = n.attribute(0);
    onnx::TensorProto t;
    if (a.name() == "value") {
      t = a.t();
    } else if (a.name() == "value_float") {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_float_data(a.f());
    } else if (a.name() == "value_floats") {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_dims(a.floats_size());
      for (float f : a.floats()) t.add_float_data(f);
    } else if (a.name() == "value_int") {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_int64_data(a.i());
    } else if (a.name() == "value_ints") {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_dims(a.ints_size());
      for (auto v : a.ints()) t.add_int64_data(v);
    } else {
      fail(source, who + ": attribute '" + a.name() + "' is not supported");
    }
    t.set_name(n.output(0));
    *g.add_initializer() = std::move(t);
    nodes->DeleteSubrange(i, 1);
  }
}

ir::Dims dims_of(const onnx::TensorShapeProto& s) {
  ir::Dims d;
  for (const auto& dim : s.dim()) d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return d;
}

void merge_value_info(ir::Graph& g, const onnx::ValueInfoProto& vi) {
  ir::Tensor& t = g.tensors[vi.name()];
  t.name = vi.name();
  if (!vi.type().has_tensor_type()) return;
  const auto& tt = vi.type().tensor_type();
  if (t.dtype == ir::DataType::undefined) t.dtype = ir::from_onnx_elem_type(tt.elem_type());
  if (tt.has_shape() && !t.is_initializer) t.shape = dims_of(tt.shape());
}

template <class T>
T read_le(const std::string& raw, std::size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: normalise
      int e = -1;
      std::uint32_t m = mant;
      do { ++e; m <<= 1; } while ((m & 0x400u) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

ir::Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& source) {
  ir::Tensor t;
  t.name = p.name();
  t.dtype = ir::from_onnx_elem_type(p.data_type());
  t.is_initializer = true;
  ir::Dims dims(p.dims().begin(), p.dims().end());
  t.shape = dims;
  const std::size_t n = static_cast<std::size_t>(ir::element_count(dims));
  const std::string& raw = p.raw_data();
  const bool has_raw = p.has_raw_data();
  auto check_count = [&](std::size_t got) {
    if (got != n)
      fail(source, "initializer '" + p.name() + "' holds " + std::to_string(got) + " values, its shape " +
                       ir::to_string(dims) + " needs " + std::to_string(n));
  };
  auto check_raw = [&](std::size_t item) {
    if (raw.size() != n * item)
      fail(source, "initializer '" + p.name() + "' has " + std::to_string(raw.size()) + " raw bytes, its shape " +
                       ir::to_string(dims) + " needs " + std::to_string(n * item));
  };
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (has_raw) {
        check_raw(4);
        for (std::size_t i = 0; i < n; ++i) t.float_data.push_back(read_le<float>(raw, i));
      } else {
        check_count(p.float_data_size());
        t.float_data.assign(p.float_data().begin(), p.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (has_raw) {
        check_raw(8);
        for (std::size_t i = 0; i < n; ++i) t.float_data.push_back(static_cast<float>(read_le<double>(raw, i)));
      } else {
        check_count(p.double_data_size());
        for (double d : p.double_data()) t.float_data.push_back(static_cast<float>(d));
      }
      break;
    case onnx::TensorProto::FLOAT16:
      if (has_raw) {
        check_raw(2);
        for (std::size_t i = 0; i < n; ++i) t.float_data.push_back(half_to_float(read_le<std::uint16_t>(raw, i)));
      } else {
        check_count(p.int32_data_size());
        for (auto v : p.int32_data()) t.float_data.push_back(half_to_float(static_cast<std::uint16_t>(v)));
      }
      break;
    case onnx::TensorProto::INT64:
      if (has_raw) {
        check_raw(8);
        for (std::size_t i = 0; i < n; ++i) t.int64_data.push_back(read_le<std::int64_t>(raw, i));
      } else {
        check_count(p.int64_data_size());
        t.int64_data.assign(p.int64_data().begin(), p.int64_data().end());
      }
      break;
    case onnx::TensorProto::UINT64:
      if (has_raw) {
        check_raw(8);
        for (std::size_t i = 0; i < n; ++i) t.int64_data.push_back(static_cast<std::int64_t>(read_le<std::uint64_t>(raw, i)));
      } else {
        check_count(p.uint64_data_size());
        for (auto v : p.uint64_data()) t.int64_data.push_back(static_cast<std::int64_t>(v));
      }
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
    case onnx::TensorProto::UINT32: {
      const int dt = p.data_type();
      if (has_raw) {
        const std::size_t item = dt == onnx::TensorProto::INT32 || dt == onnx::TensorProto::UINT32 ? 4
                                 : dt == onnx::TensorProto::INT16 || dt == onnx::TensorProto::UINT16 ? 2
                                                                                                      : 1;
        check_raw(item);
        for (std::size_t i = 0; i < n; ++i) {
          std::int64_t v = 0;
          switch (dt) {
            case onnx::TensorProto::INT32: v = read_le<std::int32_t>(raw, i); break;
            case onnx::TensorProto::UINT32: v = read_le<std::uint32_t>(raw, i); break;
            case onnx::TensorProto::INT16: v = read_le<std::int16_t>(raw, i); break;
            case onnx::TensorProto::UINT16: v = read_le<std::uint16_t>(raw, i); break;
            case onnx::TensorProto::INT8: v = read_le<std::int8_t>(raw, i); break;
            default: v = read_le<std::uint8_t>(raw, i); break;
          }
          t.int64_data.push_back(v);
        }
      } else if (dt == onnx::TensorProto::UINT32) {
        check_count(p.uint64_data_size());
        for (auto v : p.uint64_data()) t.int64_data.push_back(static_cast<std::int64_t>(v));
      } else {
        check_count(p.int32_data_size());
        t.int64_data.assign(p.int32_data().begin(), p.int32_data().end());
      }
      break;
    }
    default:
      fail(source, "initializer '" + p.name() + "' has element type " + std::to_string(p.data_type()) +
                       ", which statiq does not support");
  }
  return t;
}

ir::AttributeValue attribute_from_proto(const onnx::AttributeProto& a, const std::string& source) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return a.i();
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::INTS: return std::vector<std::int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case onnx::AttributeProto::TENSOR: return tensor_from_proto(a.t(), source);
    default: return ir::OpaqueAttribute{onnx::AttributeProto::AttributeType_Name(a.type())};
  }
}

ir::Graph to_ir(const onnx::ModelProto& m, const std::string& source) {
  const onnx::GraphProto& gp = m.graph();
  ir::Graph g;
  g.name = gp.name();
  g.source = source;
  g.opset = default_opset(m, source);

  std::set<std::string> initializer_names;
  for (const auto& init : gp.initializer()) {
    g.tensors[init.name()] = tensor_from_proto(init, source);
    initializer_names.insert(init.name());
  }
  for (const auto& vi : gp.input()) {
    merge_value_info(g, vi);
    // IR < 4 lists initializers among the inputs too; they are weights, not inputs.
    if (!initializer_names.count(vi.name())) g.inputs.push_back(vi.name());
  }
  for (const auto& vi : gp.value_info()) merge_value_info(g, vi);
  for (const auto& vi : gp.output()) {
    merge_value_info(g, vi);
    g.outputs.push_back(vi.name());
  }

  std::set<std::string> used_names;
  for (const auto& n : gp.node())
    if (!n.name().empty()) used_names.insert(n.name());
  for (int i = 0; i < gp.node_size(); ++i) {
    const onnx::NodeProto& np = gp.node(i);
    ir::Node n;
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.name = np.name();
    if (n.name.empty()) {
      // Stable: depends only on the node's position in the file (after Constant removal).
      n.name = np.op_type() + "_" + std::to_string(i);
      while (used_names.count(n.name)) n.name += "_";
      used_names.insert(n.name);
    }
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& a : np.attribute()) n.attributes[a.name()] = attribute_from_proto(a, source);
    for (const auto& name : n.inputs)
      if (!name.empty() && !g.tensors.count(name)) g.tensors[name].name = name;
    for (const auto& name : n.outputs)
      if (!name.empty() && !g.tensors.count(name)) g.tensors[name].name = name;
    g.nodes.push_back(std::move(n));
  }
  try {
    g.sort_topologically();
    g.validate();
  } catch (const std::exception& e) {
    fail(source, e.what());
  }
  return g;
}

}  // namespace

ir::Graph import_onnx(const onnx::ModelProto& model_in, const std::filesystem::path& model_dir,
                      const std::string& source) {
  if (!model_in.has_graph()) fail(source, "not an ONNX model (no graph)");
  if (model_in.ir_version() <= 0) fail(source, "not an ONNX model (no ir_version)");
  if (model_in.opset_import_size() == 0) fail(source, "not an ONNX model (no opset_import)");
  onnx::ModelProto model = model_in;

  for (auto& t : *model.mutable_graph()->mutable_initializer()) inline_external_data(t, model_dir, source);
  for (auto& n : *model.mutable_graph()->mutable_node())
    for (auto& a : *n.mutable_attribute())
      if (a.has_t()) inline_external_data(*a.mutable_t(), model_dir, source);

  const std::int64_t opset = default_opset(model, source);
  if (opset < onnx_min_opset || opset > onnx_max_opset)
    fail(source, "default-domain opset " + std::to_string(opset) + " is outside the supported range " +
                     std::to_string(onnx_min_opset) + ".." + std::to_string(onnx_max_opset));

  validate_for_onnx_library(model.graph(), source);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail(source, std::string("rejected by the ONNX checker: ") + e.what());
  }

  if (opset < onnx_target_opset) {
    try {
      model = onnx::version_conversion::ConvertVersion(model, static_cast<int>(onnx_target_opset));
    } catch (const std::exception& e) {
      fail(source, "conversion from opset " + std::to_string(opset) + " to " + std::to_string(onnx_target_opset) +
                       " failed: " + e.what());
    }
  }

  constants_to_initializers(*model.mutable_graph(), source);
  // IR < 4 models list initializers as graph inputs; shape inference then treats them as
  // run-time inputs and cannot propagate constant shape tensors. They are weights here.
  {
    std::set<std::string> inits;
    for (const auto& t : model.graph().initializer()) inits.insert(t.name());
    auto* inputs = model.mutable_graph()->mutable_input();
    for (int i = 0; i < inputs->size();) {
      if (inits.count(inputs->Get(i).name())) inputs->DeleteSubrange(i, 1);
      else ++i;
    }
    if (model.ir_version() < 4) model.set_ir_version(4);
  }

  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    fail(source, std::string("shape inference failed: ") + e.what());
  }
  ir::Graph graph = to_ir(model, source);
  exec::complete_shapes(graph);
  return graph;
}

ir::Graph load_onnx(const std::filesystem::path& path) {
  const std::string source = printable(path.string());
  const std::string bytes = read_input_file(path, "ONNX model");
  if (bytes.empty()) fail(source, "empty file");
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) fail(source, "not an ONNX model (protobuf parsing failed: corrupt or truncated file); "
                                                   "export or download the model again");
  return import_onnx(model, path.parent_path(), source);
}

}  // namespace statiq::codegen
