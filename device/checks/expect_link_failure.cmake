# cmake -DBUILD_DIR=<dir> -DTARGET=<program> -DEXPECTED=<text> -P expect_link_failure.cmake: building the
# program must fail, with the expected text in the build's output (the no-heap link's message).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} linked: the heap is not kept out of the board's programs")
endif()
string(FIND "${out}${err}" "${EXPECTED}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TARGET} failed to build, but not with '${EXPECTED}':\n${out}${err}")
endif()
message("${TARGET} does not link, as intended: ${EXPECTED}")
