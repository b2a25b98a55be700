# cmake/toolchains/cortex-m7.cmake — Cortex-M7 (double-precision FPU) on QEMU's mps2-an500 (Arm
# MPS2+ AN500: 4 MiB code SSRAM, 4 MiB data SSRAM, 25 MHz).
set(STATIQ_BOARD mps2-an500)
set(STATIQ_BOARD_CPU "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
set(STATIQ_BOARD_CPU_HZ 25000000)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
