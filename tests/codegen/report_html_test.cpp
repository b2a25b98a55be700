// tests/codegen/report_html_test.cpp — --report-html (codegen/emit/report_html.hpp): the page is
// self-contained (no script, nothing fetched), has the charts the model calls for, and headless
// Chromium renders it: its DOM holds those charts and its screenshot shows them (skipped, with a
// message, where Chromium is not installed).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

// The PNG decoder for the screenshot, private to this file (the library's own copy is static too).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>

#include "codegen/emit/report_html.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report html: mnist8 on akida-v2 at 4 bits, rendered by headless Chromium", "[codegen][report]") {
  statiq::test::ScratchDir dir("statiq_report_html");
  const fs::path shared = fs::path(STATIQ_SHARED_DIR);
  const fs::path page = dir.path / "page.html";
  const std::string command = std::string("'") + STATIQ_CODEGEN_EXE + "' '" +
                              (shared / "models" / "mnist8" / "model.onnx").string() + "' --calib '" +
                              (shared / "models" / "mnist8" / "inputs.npy").string() +
                              "' --target akida-v2 --unmapped host --weight-bits 4 --activation-bits 4 "
                              "--calib-method mse --bias-correction float --adaround --adaround-iterations 50 "
                              "--budget bytes=5000 --report-html '" + page.string() + "'";
  REQUIRE(statiq::test::run_command(command, dir.path / "run.log") == 0);
  const std::string html = statiq::test::slurp(page);
  // Self-contained: no script, no link, no resource from anywhere (the SVG namespace is a name, not fetched).
  for (const char* never : {"<script", "src=", "href=", "url(", "@import", "<link"}) {
    INFO(never);
    CHECK(html.find(never) == std::string::npos);
  }
  CHECK(count(html, "http") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  // Charts: per-layer SQNR by method and the budget's sensitivity (2); the weights of the three
  // conv/dense layers (3); the activations of the four layers with a float tensor (Convolution28,
  // Convolution110, Pooling160, Times212; the Quantize reads the graph input, the Dequantize is float).
  const std::size_t charts = 2 + 3 + 4;
  CHECK(count(html, "<svg") == charts);
  CHECK(count(html, "</svg>") == charts);
  CHECK(html.find("<th>none</th><th>bias correction</th><th>adaround</th><th>all (generated)</th>") != std::string::npos);
  CHECK(html.find("Mixed precision (--budget: weight memory at most 5000 bytes)") != std::string::npos);
  CHECK(html.find("weights: float vs 8-bit (200 values)") != std::string::npos);  // the input layer: 8 bits only

  if (std::system("command -v chromium > /dev/null 2>&1") != 0) {
    WARN("chromium not installed (Debian package chromium; scripts/setup.sh): the page was not rendered");
    return;
  }
  const std::string chromium = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1800 ";
  const fs::path png = dir.path / "page.png", dom = dir.path / "dom.html";
  REQUIRE(statiq::test::run_command(chromium + "--screenshot='" + png.string() + "' 'file://" + page.string() + "'",
                                    dir.path / "shot.log") == 0);
  REQUIRE(std::system((chromium + "--dump-dom 'file://" + page.string() + "' > '" + dom.string() + "' 2> /dev/null").c_str()) == 0);
  // Chromium parsed every chart into the DOM.
  const std::string parsed = statiq::test::slurp(dom);
  CHECK(count(parsed, "<svg") == charts);
  CHECK(count(parsed, "<rect") > 200);
  // The screenshot shows them: coloured pixels of the charts' palette, not a blank page.
  int w = 0, h = 0, channels = 0;
  unsigned char* pixels = stbi_load(png.string().c_str(), &w, &h, &channels, 3);
  REQUIRE(pixels);
  CHECK(w == 1280);
  CHECK(h == 1800);
  std::size_t non_white = 0, blue = 0, red = 0;
  std::set<int> colours;
  for (int i = 0; i < w * h; ++i) {
    const int r = pixels[3 * i], g = pixels[3 * i + 1], b = pixels[3 * i + 2];
    non_white += r < 240 || g < 240 || b < 240;
    blue += std::abs(r - 0x4e) < 24 && std::abs(g - 0x79) < 24 && std::abs(b - 0xa7) < 24;  // "none", "float"
    red += std::abs(r - 0xe1) < 24 && std::abs(g - 0x57) < 24 && std::abs(b - 0x59) < 24;   // "bias correction", "discretized"
    colours.insert((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
  }
  stbi_image_free(pixels);
  INFO("non-white " << non_white << ", blue " << blue << ", red " << red << ", colours " << colours.size());
  CHECK(non_white > std::size_t(w * h / 20));
  CHECK(blue > 500);
  CHECK(red > 500);
  CHECK(colours.size() > 50);
}

TEST_CASE("report html: names and notes from the model are escaped", "[codegen][report]") {
  // A dense layer of 2 x 2 weights named as markup, with a note and a budget row naming it.
  const std::string hostile = "<script>alert('x')</script>&\"";
  LoweredModel m;
  m.name = "m";
  m.target = "akida_v2";
  Layer l;
  l.name = hostile;
  l.kind = statiq::LayerKind::dense;
  statiq::DenseAttributes a;
  a.input = {1, 1, 2};
  a.units = 2;
  a.bits = {8, 4, 8};
  l.attributes = a;
  l.weights = {0.5f, -0.25f, 1.0f, 0.0f};
  l.qweights = {4, -2, 7, 0};
  l.weight_scales = {0.125f, 0.125f};
  l.output_tensor = hostile;
  m.layers.push_back(l);
  Report report;
  report.layers.resize(1);
  report.layers[0].ptq = {"adaround: " + hostile};
  ptq::MixedPrecision mp;
  ptq::LayerSensitivity row;
  row.node = hostile;
  row.weights = 4;
  row.entries.push_back({4, 2, {}});
  row.chosen = 4;
  mp.layers.push_back(row);
  const ir::Graph graph;
  const calib::CalibrationSet none;
  const std::string html = report_html({m, graph, report, none, {{hostile, {12.5}}}, &mp, true});
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("alert('x')") == std::string::npos);
  CHECK(count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;") >= 5);  // heading, note, tables
  CHECK(html.find("weights: float vs 4-bit (4 values)") != std::string::npos);
}
