# cmake/toolchains/cortex-m55.cmake — Cortex-M55 (FPU, MVE) on QEMU's mps3-an547 (Arm MPS3 AN547,
# Corstone SSE-300: code in the 512 KiB ITCM, data in the 512 KiB DTCM, 32 MHz).
set(STATIQ_BOARD mps3-an547)
set(STATIQ_BOARD_CPU "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
set(STATIQ_BOARD_CPU_HZ 32000000)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
