# The emitter's tests, included from tests/codegen/CMakeLists.txt.
# codegen_emit: Catch2 unit tests. codegen_emit_compile: the generated code compiled by a consumer
# project through statiq_add_model() (with a stand-in generator) and its self-tests run.
statiq_add_test(codegen_emit emit_test.cpp)
target_link_libraries(codegen_emit PRIVATE statiq_codegen_lib)

add_executable(codegen_emit_fixture emit_fixture_main.cpp)
target_link_libraries(codegen_emit_fixture PRIVATE statiq_codegen_lib)

add_test(NAME codegen_emit_compile
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DCONSUMER_DIR=${CMAKE_CURRENT_SOURCE_DIR}/emit_consumer
                 -DBINARY_DIR=${CMAKE_CURRENT_BINARY_DIR}/emit_consumer
                 -DGENERATOR=$<TARGET_FILE:codegen_emit_fixture> -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/emit_compile_test.cmake)
set_tests_properties(codegen_emit_compile PROPERTIES LABELS ${STATIQ_TEST_LABEL})
