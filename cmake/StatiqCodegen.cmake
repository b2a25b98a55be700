# cmake/StatiqCodegen.cmake — statiq_add_model(): run statiq-codegen at build time (like
# protobuf_generate) and make the generated engine a library target.
#
#   statiq_add_model(<target_name>
#     MODEL <model.onnx> TARGET <hardware target, e.g. cpu-int8 or akida-v2> CALIB <samples>
#     [NAME <C++ namespace and file stem; default: target_name>]
#     [OUTPUT_DIR <dir; default: ${CMAKE_CURRENT_BINARY_DIR}/<target_name>>]
#     [SELFTEST]                 # also add <target_name>_selftest and register it with CTest
#     [ARCH <-march value | reference | "">]  # the engine's instruction set; default: STATIQ_ARCH if
#                                              # set, else native (the build machine's), or in a cross
#                                              # build "" (the toolchain file's CPU)
#     [WEIGHTS_ENCODING <incbin | literal>]     # default: incbin with g++/clang on ELF, else literal
#     [OPTIONS <more statiq-codegen arguments>...])
#
# The generator is the statiq-codegen target when it is part of the build, otherwise the program
# in STATIQ_CODEGEN_EXECUTABLE (found on PATH if not set). The custom command reruns when the
# model, the samples or the generator change. <target_name> is a static library of the generated
# <name>_data.cpp with <name>.hpp on its include path, linking statiq::statiq; include "<name>.hpp"
# and call <name>::make_model().
#
# WEIGHTS_ENCODING incbin (statiq-codegen --weights-encoding incbin) writes the weights to
# <name>_weights.bin, which <name>_data.cpp assembles in with .incbin: the data translation unit then
# compiles in seconds whatever the model's size. The assembler finds the file through the include
# path (<output dir> is on it). literal writes them as string literals, for any compiler.
#
# Cross builds (cmake/toolchains/): the generator runs on the build machine, so give a host-built
# one in STATIQ_CODEGEN_EXECUTABLE (or have it on PATH); on a Cortex-M board the SELFTEST program
# links statiq_board (cmake/StatiqBoard.cmake) and its test runs under qemu-system-arm.

include(${CMAKE_CURRENT_LIST_DIR}/StatiqBoard.cmake)

function(statiq_add_model target_name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "SELFTEST" "MODEL;TARGET;CALIB;NAME;OUTPUT_DIR;ARCH;WEIGHTS_ENCODING" "OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "statiq_add_model(${target_name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required MODEL TARGET CALIB)
    if(NOT ARG_${required})
      message(FATAL_ERROR "statiq_add_model(${target_name}): ${required} is required")
    endif()
  endforeach()
  if(NOT ARG_NAME)
    set(ARG_NAME ${target_name})
  endif()
  if(NOT ARG_NAME MATCHES "^[a-z][a-z0-9_]*$" OR ARG_NAME MATCHES "__")
    message(FATAL_ERROR "statiq_add_model(${target_name}): NAME '${ARG_NAME}' must be a snake_case C++ "
                        "namespace name (lower case, digits, single underscores)")
  endif()
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/${target_name})
  endif()
  get_filename_component(model ${ARG_MODEL} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  get_filename_component(calib ${ARG_CALIB} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  get_filename_component(out ${ARG_OUTPUT_DIR} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})

  if(TARGET statiq-codegen)
    set(generator $<TARGET_FILE:statiq-codegen>)
    set(generator_dependency statiq-codegen)
  else()
    if(NOT STATIQ_CODEGEN_EXECUTABLE)
      find_program(STATIQ_CODEGEN_EXECUTABLE statiq-codegen)
    endif()
    if(NOT STATIQ_CODEGEN_EXECUTABLE)
      message(FATAL_ERROR "statiq_add_model(${target_name}): statiq-codegen not found; build it in this "
                          "project or set STATIQ_CODEGEN_EXECUTABLE (in a cross build: a statiq-codegen built "
                          "for the build machine)")
    endif()
    set(generator ${STATIQ_CODEGEN_EXECUTABLE})
    set(generator_dependency ${STATIQ_CODEGEN_EXECUTABLE})
  endif()

  # On a board (a Cortex-M toolchain file), the arena is checked against its memory when the engine compiles.
  if(STATIQ_BOARD AND NOT "--board" IN_LIST ARG_OPTIONS)
    list(APPEND ARG_OPTIONS --board ${STATIQ_BOARD})
  endif()
  if(NOT ARG_WEIGHTS_ENCODING)
    if(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang)$" AND CMAKE_EXECUTABLE_FORMAT STREQUAL "ELF")
      set(ARG_WEIGHTS_ENCODING incbin)
    else()
      set(ARG_WEIGHTS_ENCODING literal)
    endif()
  endif()
  if(NOT ARG_WEIGHTS_ENCODING MATCHES "^(incbin|literal)$")
    message(FATAL_ERROR "statiq_add_model(${target_name}): WEIGHTS_ENCODING '${ARG_WEIGHTS_ENCODING}' must be "
                        "incbin (GNU toolchains on ELF) or literal (any compiler)")
  endif()

  set(outputs ${out}/${ARG_NAME}.hpp ${out}/${ARG_NAME}_data.cpp ${out}/${ARG_NAME}_selftest.cpp
              ${out}/${ARG_NAME}_report.txt ${out}/${ARG_NAME}_report.json)
  if(ARG_WEIGHTS_ENCODING STREQUAL "incbin")
    # a weights-only change must rebuild the object: the compiler's dependency scan does not see .incbin
    list(APPEND outputs ${out}/${ARG_NAME}_weights.bin)
    set_source_files_properties(${out}/${ARG_NAME}_data.cpp PROPERTIES OBJECT_DEPENDS ${out}/${ARG_NAME}_weights.bin)
    # LTO would assemble the .incbin again at link time, without the include path that finds the
    # file; the data TU has no code worth optimising across units
    set_property(SOURCE ${out}/${ARG_NAME}_data.cpp APPEND PROPERTY COMPILE_OPTIONS -fno-lto)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${generator} ${model} --target ${ARG_TARGET} --calib ${calib} -o ${out} --name ${ARG_NAME}
            --weights-encoding ${ARG_WEIGHTS_ENCODING} ${ARG_OPTIONS}
    DEPENDS ${model} ${calib} ${generator_dependency}
    COMMENT "statiq-codegen: ${ARG_MODEL} -> ${ARG_NAME} (${ARG_TARGET})"
    VERBATIM)

  add_library(${target_name} STATIC ${out}/${ARG_NAME}_data.cpp ${out}/${ARG_NAME}.hpp)
  target_include_directories(${target_name} PUBLIC ${out})
  target_link_libraries(${target_name} PUBLIC statiq::statiq)
  target_compile_features(${target_name} PUBLIC cxx_std_20)
  # The kernels are chosen at compile time from the instruction set (statiq/kernels/isa.hpp), in
  # every translation unit that runs the engine: PUBLIC.
  if(NOT DEFINED ARG_ARCH AND NOT "ARCH" IN_LIST ARG_KEYWORDS_MISSING_VALUES)
    if(DEFINED STATIQ_ARCH)
      set(ARG_ARCH "${STATIQ_ARCH}")
    elseif(CMAKE_CROSSCOMPILING)
      set(ARG_ARCH "")
    else()
      set(ARG_ARCH native)
    endif()
  endif()
  if(ARG_ARCH STREQUAL "reference")
    target_compile_definitions(${target_name} PUBLIC STATIQ_REFERENCE_KERNELS)
  elseif(ARG_ARCH)
    target_compile_options(${target_name} PUBLIC -march=${ARG_ARCH})
  endif()

  if(ARG_SELFTEST)
    add_executable(${target_name}_selftest ${out}/${ARG_NAME}_selftest.cpp)
    target_link_libraries(${target_name}_selftest PRIVATE ${target_name})
    if(TARGET statiq_board)
      target_link_libraries(${target_name}_selftest PRIVATE statiq_board)
    endif()
    add_test(NAME ${target_name}_selftest COMMAND ${target_name}_selftest)
  endif()
endfunction()
