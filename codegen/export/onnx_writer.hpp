// codegen/export/onnx_writer.hpp — writing ONNX graphs, as both exporters (QDQ, dynamic) need it:
// the model frame, nodes, attributes, initializers, statiq's weight layouts turned into ONNX's, and
// the all-or-nothing write of the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codegen/ir/graph.hpp"
#include "codegen/model/lowered_model.hpp"

namespace onnx {
class ModelProto;
class GraphProto;
class NodeProto;
class TensorProto;
class ValueInfoProto;
}  // namespace onnx

namespace statiq::codegen::onnx_writer {

// A model of one graph named `graph_name`: IR version 7, default-domain opset 13.
onnx::ModelProto new_model(const std::string& graph_name);

// A graph input or output: a tensor of ONNX element type `elem_type` and fixed dims.
void value_info(onnx::ValueInfoProto* v, const std::string& name, int elem_type, const std::vector<std::int64_t>& dims);

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);
void set_attribute(onnx::NodeProto* n, const std::string& name, std::int64_t value);
void set_attribute(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& values);
void set_attribute(onnx::NodeProto* n, const std::string& name, float value);
onnx::TensorProto* add_initializer(onnx::GraphProto& g, const std::string& name, int type,
                                   const std::vector<std::int64_t>& dims);

// A node of the IR (a float tail after the engine) as it was in the source model, with its
// attributes; an initializer it reads, with its data (float32 or int64). Throws naming the node or
// tensor when the IR no longer holds what ONNX needs (an attribute kept opaque, another data type).
void add_ir_node(onnx::GraphProto& g, const ir::Node& node);
void add_ir_initializer(onnx::GraphProto& g, const ir::Tensor& tensor);

// kernel_shape, strides, dilations, pads (resolved) and group of a Conv / ConvInteger node.
void set_conv_attributes(onnx::NodeProto* n, const ConvAttributes& a);
// kernel_shape, strides and pads (resolved against the pooled map `in`) of a MaxPool / AveragePool.
void set_pool_attributes(onnx::NodeProto* n, const Pool& pool, Shape in);

// A convolution's integer weights, statiq's OHWI as ONNX's OIHW. Throws (naming the layer) when
// the count does not match the attributes.
std::vector<std::int32_t> oihw_weights(const Layer& l, const ConvAttributes& a);
// A Dense layer's integer weights [units][inputs], the inputs re-ordered from statiq's H, W, C
// flattening to the C, H, W of the exported NCHW tensor (Gemm's B with transB = 1).
std::vector<std::int32_t> nchw_dense_weights(const Layer& l, const DenseAttributes& a);

// Serializes `model` to a temporary file beside `file`, then renames it: `file` is whole or absent.
// `what` starts the error message ("QDQ export").
void write_model(const onnx::ModelProto& model, const std::filesystem::path& file, const std::string& what);

}  // namespace statiq::codegen::onnx_writer
