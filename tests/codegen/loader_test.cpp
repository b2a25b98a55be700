// ONNX loading: node naming, Constant -> initializer, opset conversion, external data and its
// confinement to the model folder, and every rejection naming the file or node. Plus the CLI.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "onnx_builder.hpp"
#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
using Dims = std::vector<std::int64_t>;

namespace {

const fs::path models_dir = fs::path(STATIQ_SHARED_DIR) / "models";

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("statiq_codegen_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string load_error(const fs::path& p) {
  try {
    load_onnx(p);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

std::string import_error(const OnnxBuilder& b, const fs::path& dir = ".") {
  try {
    import_onnx(b.model, dir, "built.onnx");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("non-ONNX, empty, truncated and missing files are refused naming the file", "[codegen][onnx]") {
  const fs::path dir = scratch("bad_files");
  spit(dir / "text.onnx", "this is not a protobuf, just some text that happens to be here\n");
  spit(dir / "empty.onnx", "");
  CHECK_THAT(load_error(dir / "text.onnx"), Catch::Contains("text.onnx") && Catch::Contains("not an ONNX model"));
  CHECK_THAT(load_error(dir / "empty.onnx"), Catch::Contains("empty.onnx") && Catch::Contains("empty file"));
  CHECK_THAT(load_error(dir / "missing.onnx"), Catch::Contains("missing.onnx") && Catch::Contains("cannot open"));
  if (fs::exists(models_dir / "mnist8" / "model.onnx")) {
    const std::string model = slurp(models_dir / "mnist8" / "model.onnx");
    // Cut at several places: inside the weights, near the end, after the first bytes.
    for (std::size_t cut : {model.size() / 2, model.size() - 7, std::size_t{20}}) {
      spit(dir / "cut.onnx", model.substr(0, cut));
      const std::string msg = load_error(dir / "cut.onnx");
      INFO("cut at " << cut << ": " << msg);
      CHECK(msg.find("cut.onnx") != std::string::npos);
      CHECK(msg != "no error");
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("unnamed nodes get op_type_index names, named nodes keep theirs", "[codegen][onnx]") {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("z", {1, 4});
  b.node("Relu", {"x"}, {"a"});
  b.node("Sigmoid", {"a"}, {"b"}, "my_sigmoid");
  b.node("Relu", {"b"}, {"z"});
  const ir::Graph g = import_onnx(b.model, ".", "built.onnx");
  REQUIRE(g.nodes.size() == 3);
  CHECK(g.nodes[0].name == "Relu_0");
  CHECK(g.nodes[1].name == "my_sigmoid");
  CHECK(g.nodes[2].name == "Relu_2");
  CHECK(g.tensor("a").shape == Dims{1, 4});  // inferred
  CHECK(g.producer("b") == 1);
  CHECK(g.consumers("a") == std::vector<std::size_t>{1});
}

TEST_CASE("an op the executor lacks fails naming the node and op type", "[codegen][exec]") {
  OnnxBuilder b;
  b.input("x", {2}).output("y", {2}).output("z", {2});
  b.node("Round", {"x"}, {"y"}, "my_round");
  b.node("Round", {"x"}, {"z"});
  const ir::Graph g = import_onnx(b.model, ".", "built.onnx");
  CHECK_THROWS_WITH(exec::FloatExecutor(g), "node 'my_round' (Round): not supported by the float executor");
  ir::Graph only_unnamed = g;
  only_unnamed.nodes.erase(only_unnamed.nodes.begin());
  CHECK_THROWS_WITH(exec::FloatExecutor(only_unnamed), "node 'Round_1' (Round): not supported by the float executor");
  CHECK_FALSE(exec::FloatExecutor::supports("Round"));
  CHECK(exec::FloatExecutor::supports("Conv"));
}

TEST_CASE("run-time op errors name the node", "[codegen][exec]") {
  OnnxBuilder b;
  b.input("x", {2, 3}).input("s", {2}, onnx::TensorProto::INT64).output("y", {-1, -1});
  b.node("Reshape", {"x", "s"}, {"y"}, "rs");
  const ir::Graph g = import_onnx(b.model, ".", "built.onnx");
  const exec::FloatExecutor ex(g);
  const auto x = exec::Array::floats({2, 3});
  CHECK(ex.run({x, exec::Array::ints({2}, {3, -1})}).outputs[0].shape == Dims{3, 2});
  CHECK_THROWS_WITH(ex.run({x, exec::Array::ints({2}, {5, 5})}),
                    Catch::StartsWith("node 'rs' (Reshape): cannot view [2,3] as [5,5]"));
  CHECK_THROWS_WITH(ex.run({exec::Array::floats({3, 2}), exec::Array::ints({2}, {3, 2})}),
                    Catch::Contains("graph input 'x' expects shape [2,3], got [3,2]"));
}

TEST_CASE("Constant nodes become initializers", "[codegen][onnx]") {
  OnnxBuilder b;
  b.input("x", {3}).output("y", {3});
  auto& c = b.node("Constant", {}, {"k"}, "const_k");
  auto* a = c.add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float v : {1.0f, 2.0f, 3.0f}) a->add_floats(v);
  b.node("Add", {"x", "k"}, {"y"});
  const ir::Graph g = import_onnx(b.model, ".", "built.onnx");
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].op_type == "Add");
  CHECK(g.nodes[0].name == "Add_0");  // indices count nodes after the Constant removal
  const ir::Tensor& k = g.tensor("k");
  CHECK(k.is_initializer);
  CHECK(k.shape == Dims{3});
  CHECK(k.float_data == std::vector<float>{1, 2, 3});
  const auto y = exec::FloatExecutor(g).run({exec::Array::floats({3}, {10, 20, 30})}).outputs[0];
  CHECK(y.f == std::vector<float>{11, 22, 33});
}

TEST_CASE("older opsets are converted to 13; opsets outside 7..18 refused", "[codegen][onnx]") {
  OnnxBuilder b(/*opset=*/10, /*ir_version=*/5);
  b.input("x", {4}).output("y", {4});
  auto& n = b.node("Clip", {"x"}, {"y"}, "clip6");
  OnnxBuilder::attr(n, "min", 0.0f);
  OnnxBuilder::attr(n, "max", 6.0f);
  const ir::Graph g = import_onnx(b.model, ".", "built.onnx");
  CHECK(g.opset == 13);
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].name == "clip6");
  CHECK(g.nodes[0].inputs.size() == 3);  // opset 11 moved min/max to inputs
  const auto y = exec::FloatExecutor(g).run({exec::Array::floats({4}, {-1, 3, 6.5f, 100})}).outputs[0];
  CHECK(y.f == std::vector<float>{0, 3, 6, 6});

  // 13..18 are kept (ONNX 1.12 cannot convert down); 19 is refused.
  OnnxBuilder newer(/*opset=*/18, /*ir_version=*/8);
  newer.input("x", {4}).output("y", {4});
  newer.node("Relu", {"x"}, {"y"}, "r");
  const ir::Graph g18 = import_onnx(newer.model, ".", "built.onnx");
  CHECK(g18.opset == 18);
  CHECK(exec::FloatExecutor(g18).run({exec::Array::floats({4}, {-1, 3, 6.5f, 100})}).outputs[0].f ==
        std::vector<float>{0, 3, 6.5f, 100});
  OnnxBuilder newest(/*opset=*/19, /*ir_version=*/9);
  newest.input("x", {4}).output("y", {4});
  newest.node("Relu", {"x"}, {"y"});
  CHECK_THAT(import_error(newest), Catch::Contains("built.onnx") && Catch::Contains("opset 19 is outside"));

  OnnxBuilder old(/*opset=*/6, /*ir_version=*/3);
  old.input("x", {4}).output("y", {4});
  old.node("Relu", {"x"}, {"y"});
  CHECK_THAT(import_error(old), Catch::Contains("built.onnx") && Catch::Contains("opset 6 is outside"));
}

TEST_CASE("checker and shape-inference failures are reported with the file", "[codegen][onnx]") {
  OnnxBuilder unknown;
  unknown.input("x", {2}).output("y", {2});
  unknown.node("NoSuchOp", {"x"}, {"y"});
  CHECK_THAT(import_error(unknown), Catch::Contains("built.onnx") && Catch::Contains("checker"));

  OnnxBuilder mismatch;
  mismatch.input("a", {2, 3}).input("b", {4}).output("y", {2, 3});
  mismatch.node("Add", {"a", "b"}, {"y"}, "bad_add");
  CHECK_THAT(import_error(mismatch), Catch::Contains("built.onnx") && Catch::Contains("shape inference failed"));
}

TEST_CASE("external data is read from the model's folder and refused outside it", "[codegen][onnx]") {
  const fs::path root = scratch("external");
  const fs::path dir = root / "model";
  fs::create_directories(dir);
  const std::vector<float> w{0.5f, -1.0f, 2.0f};
  std::string bytes(8, 'x');  // an offset, to check it is honoured
  bytes.append(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(float));
  spit(dir / "weights.bin", bytes);
  spit(root / "outside.bin", bytes);

  auto make = [&](const std::string& location) {
    OnnxBuilder b;
    b.input("x", {3}).output("y", {3});
    auto* t = b.graph->add_initializer();
    t->set_name("w");
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(3);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto kv = [&](const char* k, const std::string& v) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    kv("location", location);
    kv("offset", "8");
    kv("length", "12");
    b.node("Mul", {"x", "w"}, {"y"});
    return b;
  };
  {
    const OnnxBuilder b = make("weights.bin");
    spit(dir / "m.onnx", b.model.SerializeAsString());
    const ir::Graph g = load_onnx(dir / "m.onnx");
    CHECK(g.tensor("w").float_data == w);
    const auto y = exec::FloatExecutor(g).run({exec::Array::floats({3}, {2, 2, 2})}).outputs[0];
    CHECK(y.f == std::vector<float>{1, -2, 4});
  }
  for (const std::string& location :
       std::vector<std::string>{"../outside.bin", (root / "outside.bin").string(), "sub/../../outside.bin"}) {
    const OnnxBuilder b = make(location);
    spit(dir / "evil.onnx", b.model.SerializeAsString());
    const std::string msg = load_error(dir / "evil.onnx");
    INFO(msg);
    CHECK(msg.find("evil.onnx") != std::string::npos);
    CHECK((msg.find("outside the model's folder") != std::string::npos || msg.find("absolute") != std::string::npos));
  }
  {
    const OnnxBuilder b = make("missing.bin");
    spit(dir / "m2.onnx", b.model.SerializeAsString());
    CHECK_THAT(load_error(dir / "m2.onnx"), Catch::Contains("m2.onnx") && Catch::Contains("missing.bin"));
  }
  fs::remove_all(root);
}

TEST_CASE("Graph::sort_topologically orders producers first and detects missing inputs", "[codegen][ir]") {
  ir::Graph g;
  g.name = "g";
  g.inputs = {"x"};
  g.outputs = {"z"};
  for (const char* t : {"x", "y", "z"}) g.tensors[t].name = t;
  ir::Node second{"second", "Relu", "", {"y"}, {"z"}, {}};
  ir::Node first{"first", "Relu", "", {"x"}, {"y"}, {}};
  g.nodes = {second, first};
  CHECK_THROWS_WITH(g.validate(), Catch::Contains("node 'second' (Relu): input 'y' is not produced before"));
  g.sort_topologically();
  CHECK(g.nodes[0].name == "first");
  CHECK(g.nodes[1].name == "second");
  CHECK_NOTHROW(g.validate());
  g.nodes[0].inputs = {"nowhere"};
  CHECK_THROWS_WITH(g.sort_topologically(), Catch::Contains("node 'first' (Relu): input 'nowhere'"));
}

#ifdef STATIQ_CODEGEN_EXE
TEST_CASE("statiq-codegen run-float writes outputs and fails with a message", "[codegen][cli]") {
  const fs::path model = models_dir / "mnist8" / "model.onnx";
  if (!fs::exists(model)) {
    WARN("shared models not found");  // Catch2 v2 has no SKIP
    return;
  }
  const fs::path dir = scratch("cli");
  const std::string exe = STATIQ_CODEGEN_EXE;
  auto run = [&](const std::string& args) {
    const std::string cmd = "'" + exe + "' " + args + " > '" + (dir / "log.txt").string() + "' 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  const std::string inputs = (models_dir / "mnist8" / "inputs.npy").string();
  REQUIRE(run("run-float '" + model.string() + "' --input '" + inputs + "' --row 2 -o '" + (dir / "y.npy").string() + "'") == 0);
  const auto y = statiq::io::read_npy(dir / "y.npy");
  CHECK(y.shape == std::vector<std::size_t>{1, 10});
  const auto ref = statiq::io::read_npy(models_dir / "mnist8" / "outputs.npy").as<float>();
  const auto got = y.as<float>();
  for (std::size_t k = 0; k < 10; ++k) CHECK(got[k] == Approx(ref[20 + k]).epsilon(1e-4).margin(1e-2));
  CHECK(slurp(dir / "log.txt").find("row 2: output Plus214_Output_0 [1,10] argmax 9") != std::string::npos);

  REQUIRE(run("run-float '" + model.string() + "' --input '" + inputs + "' -o '" + (dir / "all.npy").string() + "'") == 0);
  CHECK(statiq::io::read_npy(dir / "all.npy").shape == std::vector<std::size_t>{13, 10});

  CHECK(run("run-float '" + (dir / "nope.onnx").string() + "' --input '" + inputs + "'") != 0);
  CHECK(slurp(dir / "log.txt").find("nope.onnx") != std::string::npos);
  CHECK(run("run-float '" + model.string() + "' --input '" + inputs + "' --row 13") != 0);
  CHECK(slurp(dir / "log.txt").find("--row 13") != std::string::npos);
  CHECK(run("run-float '" + model.string() + "'") != 0);  // --input is required
  fs::remove_all(dir);
}
#endif
