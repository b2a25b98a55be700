// tests/codegen/emit_fixture_main.cpp — a stand-in for statiq-codegen with its command-line shape
// (<model> --target T --calib C -o DIR --name N --weights-encoding E), emitting a hand-built model: it
// lets the statiq_add_model() test run before the full pipeline exists.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "emit_fixture.hpp"

int main(int argc, char** argv) try {
  std::string target, out, name, encoding = "literal";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--target") target = argv[i + 1];
    else if (flag == "-o") out = argv[i + 1];
    else if (flag == "--name") name = argv[i + 1];
    else if (flag == "--weights-encoding") encoding = argv[i + 1];
  }
  if (argc < 2 || out.empty()) {
    std::fprintf(stderr, "usage: %s <model> --target T --calib C -o DIR [--name N]\n", argv[0]);
    return 2;
  }
  // the stand-in's own target names "cpu-int8-dag" and "cpu-int8-degenerate" pick the DAG model and
  // degenerate golden vectors (their target is cpu_int8)
  statiq::codegen::LoweredModel m = target == "akida-v2"       ? statiq::test::akida_v2_model()
                                    : target == "cpu-int8-dag" ? statiq::test::cpu_int8_dag_model()
                                                               : statiq::test::cpu_int8_model();
  statiq::codegen::EmitOptions options = statiq::test::emit_options(m);  // golden of the hand model
  options.weights_encoding = statiq::codegen::parse_weights_encoding(encoding);
  if (target == "cpu-int8-degenerate")  // golden vectors expecting one value everywhere: the self-test must refuse them
    for (auto& g : options.golden) {
      std::fill(g.quantized_output.begin(), g.quantized_output.end(), options.golden[0].quantized_output[0]);
      std::fill(g.output.begin(), g.output.end(), options.golden[0].output[0]);
    }
  if (!name.empty()) m.name = name;
  for (const auto& p : statiq::codegen::emit(m, options, out)) std::printf("wrote %s\n", p.string().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "emit_fixture: %s\n", e.what());
  return 1;
}
