// statiq/targets/boards.hpp — the boards statiq's engines run on (device/boards/*.ld) as memory
// sizes, and on_board<T, Board, "model">: target T on such a board, so that an engine whose arena
// does not fit the board's data memory fails to compile, naming the model, the board and the numbers.
#pragma once

#include <cstddef>
#include <string_view>

#include "statiq/core/fixed_string.hpp"
#include "statiq/targets/host.hpp"

namespace statiq::boards {

// A board's data RAM and what the program keeps of it besides the arena: the stack the linker
// script reserves and the other statics (the board support's few bytes, the engine's layer
// parameters: under 1 KiB for the shared models; 4 KiB allowed). The rest may hold the arena.
template <fixed_string Name, std::size_t RamBytes, std::size_t StackBytes>
struct board {
  static constexpr fixed_string name = Name;
  static constexpr std::size_t ram_bytes = RamBytes;
  static constexpr std::size_t reserved_bytes = StackBytes + 4096;
  static_assert(RamBytes > reserved_bytes, "statiq: a board's RAM must exceed its stack and statics");
  static constexpr std::size_t arena_bytes = RamBytes - reserved_bytes;
};

// The QEMU boards of cmake/toolchains (data memory, stack: device/boards/<name>.ld).
using mps2_an386 = board<"mps2-an386", 4096 * 1024, 64 * 1024>;  // Cortex-M4: ZBT SSRAM2/3
using mps2_an500 = board<"mps2-an500", 4096 * 1024, 64 * 1024>;  // Cortex-M7: ZBT SSRAM2/3
using mps3_an547 = board<"mps3-an547", 512 * 1024, 32 * 1024>;   // Cortex-M55: DTCM

// Every board, by its QEMU name (statiq-codegen --board; the C++ name has '_' for '-').
inline constexpr std::string_view board_names[] = {mps2_an386::name.view(), mps2_an500::name.view(),
                                                   mps3_an547::name.view()};

}  // namespace statiq::boards

namespace statiq::targets {

// T with the arena limit of Board; Model names the engine in the error when the arena is larger.
//   using target = statiq::targets::on_board<statiq::targets::tflite_int8, statiq::boards::mps2_an386, "kws">;
template <class T, class Board, fixed_string Model = "">
struct on_board : with_memory<T, Board::arena_bytes> {
  using board = Board;
  static constexpr fixed_string model_name = Model;
};

}  // namespace statiq::targets
