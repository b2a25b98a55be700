# cmake -DEMULATOR=<a|b|c> -DPROGRAM=<elf> -DSTATUS=<n> -DEXPECTED=<text> -P run_expect.cmake: runs the
# program on the emulated board; its exit status and its whole output must be the expected ones.
string(REPLACE "|" ";" emulator "${EMULATOR}")
# QEMU writes the semihosting console to its stderr: both streams, in order.
execute_process(COMMAND ${emulator} ${PROGRAM} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 60)
message("${out}")
if(NOT status STREQUAL "${STATUS}")
  message(FATAL_ERROR "${PROGRAM}: exit status '${status}', expected ${STATUS} (the program's checks, or semihosting's exit)")
endif()
string(FIND "${out}" "${EXPECTED}" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "${PROGRAM}: its output does not start with the expected text:\n${EXPECTED}")
endif()
