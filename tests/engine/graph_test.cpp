// The Graph engine: the DAG runs in its arena exactly as its layers run one by one on separate
// buffers; arena plans worked by hand; the summary table.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "model_fixture.hpp"

using namespace statiq;

TEST_CASE("plan_arena reuses dead buffers and never overlaps live ones") {
  // a chain: in(160) -> t1(320) -> t2(160) -> t3(48), scratch 0
  const std::array<BufferUse, 4> uses{{{160, 0, 0}, {320, 0, 1}, {160, 1, 2}, {48, 2, 2}}};
  const auto plan = plan_arena(uses);
  // t1 first at 0; in and t2 live with t1 -> above it at 320; t3 lives with t2 (at 320) but not
  // with t1 -> placed at 0.
  CHECK(plan.offsets[1] == 0);
  CHECK(plan.offsets[0] == 320);
  CHECK(plan.offsets[2] == 320);
  CHECK(plan.offsets[3] == 0);
  CHECK(plan.bytes == 480);

  // sizes are aligned to 16
  const std::array<BufferUse, 2> odd{{{1, 0, 1}, {1, 0, 1}}};
  const auto p2 = plan_arena(odd);
  CHECK(p2.bytes == 32);
  CHECK(p2.offsets[0] != p2.offsets[1]);
}

TEST_CASE("arena_lower_bound is the most bytes live at one step, and no plan goes below it") {
  // step 0: in 160 + t1 320 = 480; step 1: t1 320 + t2 160 = 480; step 2: t2 160 + t3 48 = 208.
  const std::array<BufferUse, 4> chain{{{160, 0, 0}, {320, 0, 1}, {160, 1, 2}, {48, 2, 2}}};
  const ArenaBound b = arena_lower_bound(chain);
  CHECK(b.bytes == 480);
  CHECK(b.step == 0);  // the first step that reaches it
  CHECK(b.aligned_bytes == 480);
  CHECK(plan_arena(chain).bytes == b.aligned_bytes);  // this plan is optimal
  // Odd sizes: 1 + 17 + 3 live at step 1 (21 bytes), 16 + 32 + 16 aligned; a scratch of 0 adds nothing.
  const std::vector<BufferUse> odd{{1, 0, 1}, {17, 1, 1}, {3, 1, 2}, {0, 0, 2}, {5, 2, 2}};
  const ArenaBound o = arena_lower_bound(odd);
  CHECK(o.bytes == 21);
  CHECK(o.step == 1);
  CHECK(o.aligned_bytes == 64);
  // D (48, step 3) at 0; A (32, steps 0-1) and B (32, step 2) share [0, 32); C (16, steps 1-2) goes
  // above them at 32. Live at most: 48 bytes at step 1 (A + C), reached by the plan.
  const std::array<BufferUse, 4> shared{{{32, 0, 1}, {32, 2, 2}, {16, 1, 2}, {48, 3, 3}}};
  CHECK(arena_lower_bound(shared).bytes == 48);
  CHECK(arena_lower_bound(shared).step == 1);
  CHECK(plan_arena(shared).bytes == 48);
}

TEST_CASE("an elementwise step writes over its input when no later step reads it") {
  // step 0: r = f(in); step 1: a = g(r); step 2: b = lut(a); step 3: c = add(b, r). All 64 bytes.
  // Buffers: in (0-0), r (0-3), a (1-2), b (2-3), c (3-3).
  std::array<BufferUse, 5> uses{{{64, 0, 0}, {64, 0, 3}, {64, 1, 2}, {64, 2, 3}, {64, 3, 3}}};
  // Each in its own space: r, a and b live together at step 2.
  CHECK(plan_arena(uses).bytes == 192);
  CHECK(arena_lower_bound(uses).bytes == 192);
  CHECK_FALSE(share_in_place(uses, 1, 0));  // never over the graph input
  CHECK_FALSE(share_in_place(uses, 2, 1));  // a over r: r is read again at step 3
  CHECK(share_in_place(uses, 3, 2));        // b over a: a's last reader is b's step
  CHECK_FALSE(share_in_place(uses, 3, 2));  // once
  CHECK(share_in_place(uses, 4, 3));        // c over b, so over a too: one chain
  const auto plan = plan_arena(uses);
  CHECK(plan.offsets[3] == plan.offsets[2]);
  CHECK(plan.offsets[4] == plan.offsets[2]);
  CHECK(plan.offsets[1] != plan.offsets[2]);
  CHECK(plan.bytes == 128);  // {a, b, c} (steps 1-3) beside r; in where the chain is not yet
  CHECK(arena_lower_bound(uses).bytes == 128);
  // Sizes must match: a 32-byte output never takes a 64-byte input's place.
  std::array<BufferUse, 3> sizes{{{64, 0, 0}, {64, 0, 1}, {32, 1, 1}}};
  CHECK_FALSE(share_in_place(sizes, 2, 1));
}

TEST_CASE("a DAG (residual Add, Concat) runs in its arena as its layers do on separate buffers") {
  using fixture::model;
  static_assert(model::valid);
  static_assert(model::input_shape == Shape{10, 10, 3});
  static_assert(model::output_shape == Shape{1, 1, 4});
  static_assert(model::arena_bytes < model::arena_bytes_without_reuse);
  static_assert(model::arena_lower_bound.bytes > 0 && model::arena_lower_bound.aligned_bytes <= model::arena_bytes);
  // The residual Add (node 4) is the last reader of both its inputs (nodes 2 and 3): it writes over
  // the first, so the check below runs it in place.
  static_assert(model::in_place_nodes == 1);
  static_assert(model::buffer_offset(1 + 4) == model::buffer_offset(1 + 2));
  static_assert(model::arena_bytes <= model::arena_bytes_without_in_place);

  const fixture::data d;
  static model m = d.make();
  std::mt19937 rng(7);
  std::vector<float> x(300);
  for (auto& v : x) v = std::uniform_real_distribution<float>(-2.5f, 2.5f)(rng);
  std::copy(x.begin(), x.end(), m.input().begin());
  m.run();

  // The same layers, one by one, each output in its own vector.
  std::vector<std::int32_t> scratch(4096);
  std::vector<std::uint8_t> tq(300), t1(200), t2(200), t3(200), ta(200), tc(400), tg(16);
  std::vector<std::int8_t> tf(4);
  std::vector<float> out(4);
  m.layer<0>()(x.data(), tq.data(), scratch.data());
  m.layer<1>()(tq.data(), t1.data(), scratch.data());
  m.layer<2>()(t1.data(), t2.data(), scratch.data());
  m.layer<3>()(t1.data(), t3.data(), scratch.data());
  m.layer<4>()(t2.data(), t3.data(), ta.data(), scratch.data());
  m.layer<5>()(std::array<const std::uint8_t*, 2>{ta.data(), t1.data()}, tc.data(), scratch.data());
  m.layer<6>()(tc.data(), tg.data(), scratch.data());
  m.layer<7>()(tg.data(), tf.data(), scratch.data());
  m.layer<8>()(tf.data(), out.data(), scratch.data());

  auto same = [](auto span, const auto& vec) { return std::equal(span.begin(), span.end(), vec.begin(), vec.end()); };
  // Dead tensors have been overwritten by the time run() returns (that is the reuse); the output,
  // which depends on all of them, and the last live tensor must match.
  CHECK(same(m.output(), out));
  CHECK(same(m.tensor<7>(), tf));
  // Non-trivial data went through: the ReLU layers did not collapse everything.
  CHECK(std::count(t1.begin(), t1.end(), std::uint8_t{5}) < 150);
  CHECK(std::count(tc.begin(), tc.end(), tc[0]) < 350);
  CHECK((out[0] != out[1] || out[1] != out[2]));
}

TEST_CASE("summary lists every layer with its numbers and the totals") {
  using fixture::model;
  const std::string s = summary<model>();
  for (const char* name : {"input_q", "conv1", "conv2", "conv3_dw", "add", "concat", "gap", "fc", "output_dq"})
    CHECK(s.find(name) != std::string::npos);
  // params: conv1 8*3*3*3 + 8, conv2 8*3*3*8 + 8, dw 8*3*3 + 8, fc 16*4 + 4
  const int params = (216 + 8) + (576 + 8) + (72 + 8) + (64 + 4);
  CHECK(s.find("Total params: " + std::to_string(params)) != std::string::npos);
  // MACs: conv1 5*5*216, conv2 5*5*576, dw 5*5*72, fc 64
  const int macs = 25 * 216 + 25 * 576 + 25 * 72 + 64;
  CHECK(s.find("MACs: " + std::to_string(macs)) != std::string::npos);
  CHECK(s.find("Conv2D (Relu)") != std::string::npos);
  // The kernel each layer runs in this build: the 3x3 convolutions and the depthwise one have fast
  // kernels where the ISA allows, the Add does not.
  const bool vnni = kernels::isa == kernels::Isa::avx512_vnni, avx2 = kernels::isa == kernels::Isa::avx2;
  CHECK(s.find(vnni ? "x86::conv2d (avx512_vnni)" : avx2 ? "x86::avx2::conv2d (avx2)" : "reference::conv2d") !=
        std::string::npos);
  CHECK(s.find(vnni ? "x86::depthwise_conv2d (avx512)" : avx2 ? "x86::avx2::depthwise_conv2d (avx2)" : "reference::conv2d") !=
        std::string::npos);
  CHECK(s.find("Runs on") != std::string::npos);
  // The element-wise layers' rows end with their own kernel_name (kernels/kernel_names_test checks those
  // against the kernels that run), here the ones this ISA has: a 200-element qlinear Add runs onnxruntime's
  // x86 formula (or the loop, which the name says), the 400-element Concat the byte-table kernel.
  const auto row_ends_with = [&](const char* layer, std::string_view kernel) {
    const std::size_t at = s.find(std::string(layer) + " ");
    const std::size_t end = s.find('\n', at);
    INFO(layer << " row, want " << kernel);
    CHECK((at != std::string::npos && s.substr(at, end - at).ends_with("  " + std::string(kernel))));
  };
  row_ends_with("input_q", fixture::q::kernel_name);
  row_ends_with("add", fixture::add::kernel_name);
  row_ends_with("concat", fixture::cat::kernel_name);
  row_ends_with("gap", fixture::gap::kernel_name);
  row_ends_with("output_dq", fixture::dq::kernel_name);
  CHECK(fixture::add::kernel_name.starts_with(vnni   ? "x86::add_qlinear_fma (avx512) or reference::add"
                                              : avx2 ? "x86::avx2::add_qlinear_fma (avx2) or reference::add"
                                                     : "reference::add"));
  CHECK(fixture::cat::kernel_name.starts_with(vnni   ? "x86::concat_bytes (avx512"
                                              : avx2 ? "x86::avx2::concat_bytes (avx2)"
                                                     : "reference::concat"));
  CHECK(fixture::gap::kernel_name == std::string(vnni ? "x86::global_sum (avx512)" : avx2 ? "x86::avx2::global_sum (avx2)"
                                                                                          : "reference::global_sum") +
                                         " + requantize_map");
  CHECK(s.find("Arena: " + std::to_string(model::arena_bytes) + " bytes") != std::string::npos);
  CHECK(s.find("lower bound " + std::to_string(model::arena_lower_bound.bytes) + " bytes at step " +
               std::to_string(model::arena_lower_bound.step)) != std::string::npos);
}
