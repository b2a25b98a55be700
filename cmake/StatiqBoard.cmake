# cmake/StatiqBoard.cmake — statiq_board: the project's own board support for the QEMU Cortex-M
# boards (device/bsp: vector table and reset, semihosting console and exit status, heap-free
# printf, instruction counter, stack painting; device/boards: the linker scripts). Defined when a
# toolchain file of cmake/toolchains/ set STATIQ_BOARD; link it into every program for the board:
#   target_link_libraries(<program> PRIVATE statiq_board)
# statiq_add_model(... SELFTEST) does so for the self-test it adds.
set(STATIQ_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. CACHE INTERNAL "")

function(statiq_define_board_library)
  if(NOT STATIQ_BOARD OR TARGET statiq_board)
    return()
  endif()
  string(REPLACE "-" "_" script ${STATIQ_BOARD})
  set(boards ${STATIQ_SOURCE_ROOT}/device/boards)
  if(NOT EXISTS ${boards}/${script}.ld)
    message(FATAL_ERROR "statiq_board: no linker script ${boards}/${script}.ld for STATIQ_BOARD '${STATIQ_BOARD}'; "
                        "the boards are mps2-an386, mps2-an500 and mps3-an547 (cmake/toolchains/)")
  endif()
  # OBJECT: every object is linked, so the vector table is in and this printf takes the place of
  # newlib's.
  add_library(statiq_board OBJECT ${STATIQ_SOURCE_ROOT}/device/bsp/startup.cpp ${STATIQ_SOURCE_ROOT}/device/bsp/stdio.cpp)
  target_include_directories(statiq_board PUBLIC ${STATIQ_SOURCE_ROOT}/device/bsp)
  target_compile_definitions(statiq_board PRIVATE STATIQ_BOARD="${STATIQ_BOARD}" STATIQ_BOARD_CPU_HZ=${STATIQ_BOARD_CPU_HZ})
  target_compile_features(statiq_board PUBLIC cxx_std_20)
  target_link_options(statiq_board INTERFACE -L${boards} -T${boards}/${script}.ld)
  set_property(TARGET statiq_board APPEND PROPERTY INTERFACE_LINK_DEPENDS ${boards}/${script}.ld ${boards}/cortex_m.ld)
endfunction()
statiq_define_board_library()
