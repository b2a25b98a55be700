# cmake/toolchains/cortex-m4.cmake — Cortex-M4F on QEMU's mps2-an386 (Arm MPS2+ AN386: 4 MiB code
# SSRAM, 4 MiB data SSRAM, 25 MHz). cmake -DCMAKE_TOOLCHAIN_FILE=<statiq>/cmake/toolchains/cortex-m4.cmake
set(STATIQ_BOARD mps2-an386)
set(STATIQ_BOARD_CPU "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(STATIQ_BOARD_CPU_HZ 25000000)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
