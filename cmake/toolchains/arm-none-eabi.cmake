# cmake/toolchains/arm-none-eabi.cmake — what every bare-metal Cortex-M build of statiq shares,
# included by cortex-m4.cmake, cortex-m7.cmake and cortex-m55.cmake after they name the board:
#   STATIQ_BOARD         the QEMU machine (device/boards/<board>.ld with '-' as '_')
#   STATIQ_BOARD_CPU     the compiler's CPU flags
#   STATIQ_BOARD_CPU_HZ  the board's CPU clock (SysTick ticks -> instructions under -icount)
# Bare metal (no OS), newlib-nano, -fno-exceptions -fno-rtti, sections per function so the link
# keeps only what is called, and no heap: linking statiq_board (cmake/StatiqBoard.cmake) adds the
# board's linker script, which fails the link when malloc or operator new is in it.
# Executables run under qemu-system-arm (CMAKE_CROSSCOMPILING_EMULATOR): add_test() of an
# executable target runs it on the emulated board, its exit status through semihosting.
foreach(required STATIQ_BOARD STATIQ_BOARD_CPU STATIQ_BOARD_CPU_HZ)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "cmake/toolchains/arm-none-eabi.cmake: ${required} is not set; use one of the board "
                        "toolchain files (cortex-m4.cmake, cortex-m7.cmake, cortex-m55.cmake)")
  endif()
endforeach()

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# No OS to link a test program against before the board support exists: check the compiler with a
# static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# Programs (statiq-codegen, qemu) come from the host; libraries, headers and packages never do.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_C_FLAGS_INIT "${STATIQ_BOARD_CPU} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${STATIQ_BOARD_CPU} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${STATIQ_BOARD_CPU}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -nostartfiles -Wl,--gc-sections")

# -icount shift=0: one instruction per nanosecond of virtual time, so SysTick counts instructions
# (statiq::board::instructions) and every run is the same.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-system-arm -M ${STATIQ_BOARD} -nographic -monitor none -serial none
    -semihosting-config enable=on,target=native -icount shift=0 -kernel)

# Read by cmake/StatiqBoard.cmake (statiq_board) and statiq_add_model (SELFTEST on the board).
set(STATIQ_BOARD ${STATIQ_BOARD} CACHE STRING "the QEMU board this build runs on (set by the toolchain file)")
set(STATIQ_BOARD_CPU_HZ ${STATIQ_BOARD_CPU_HZ} CACHE STRING "the board's CPU clock in Hz (set by the toolchain file)")
