# cmake -P script of the codegen_emit_compile test: configures, builds and runs the emit_consumer
# project (statiq_add_model() with the emitter's stand-in generator), so the generated engines must
# compile without warnings and reproduce the golden vectors bit-exactly.
# Inputs: SOURCE_DIR (statiq), CONSUMER_DIR, BINARY_DIR, GENERATOR, CXX_COMPILER.
file(REMOVE_RECURSE ${BINARY_DIR})
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${BINARY_DIR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
          -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DSTATIQ_SOURCE_DIR=${SOURCE_DIR}
          -DSTATIQ_CODEGEN_EXECUTABLE=${GENERATOR}
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer project failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} -j2 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the generated code did not compile cleanly")
endif()
foreach(exe tiny_cpu_selftest tiny_akida_lib_selftest tiny_dag_selftest)
  execute_process(COMMAND ${BINARY_DIR}/${exe} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${exe}: the generated engine does not reproduce its golden vectors")
  endif()
endforeach()
# Golden vectors that expect one value everywhere cannot check an engine: its self-test fails, saying so.
execute_process(COMMAND ${BINARY_DIR}/tiny_degenerate_selftest RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc)
  message(FATAL_ERROR "tiny_degenerate_selftest passed on degenerate golden vectors")
endif()
if(NOT err MATCHES "the golden vectors expect the same output value everywhere")
  message(FATAL_ERROR "tiny_degenerate_selftest failed for another reason: ${err}")
endif()
