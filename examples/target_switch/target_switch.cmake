# examples/target_switch/target_switch.cmake — run with cmake -P: generates mlperf_resnet8 for akida-v2
# (--legalize), switches the generated `using target` alias to akida_v1, compiles the header with
# -fsyntax-only (no -Wfatal-errors: every error is wanted) and checks that the compiler names every
# layer that no longer fits, each with its rule, and nothing else.
#
# -D CODEGEN=<statiq-codegen> CXX=<compiler> SOURCE_DIR=<statiq checkout> SHARED_DIR=<../shared>
#    WORK_DIR=<scratch folder in the build tree>
foreach(v CODEGEN CXX SOURCE_DIR SHARED_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "target_switch.cmake: -D${v}=... is required")
  endif()
endforeach()

set(model ${SHARED_DIR}/models/mlperf_resnet8)
set(v2 ${WORK_DIR}/akida_v2)
set(v1 ${WORK_DIR}/akida_v1)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${v1})

execute_process(COMMAND ${CODEGEN} ${model}/model.onnx --target akida-v2 --legalize --calib ${model}/inputs.npy
                        --name mlperf_resnet8 -o ${v2}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "statiq-codegen failed for akida-v2:\n${out}")
endif()

# The switch a user makes: one line of the generated header. The data file goes next to it, since
# #include "mlperf_resnet8.hpp" looks in the including file's folder first.
file(READ ${v2}/mlperf_resnet8.hpp header)
set(v2_alias "using target = statiq::targets::akida_v2;")
string(FIND "${header}" "${v2_alias}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the generated header has no line '${v2_alias}'")
endif()
string(REPLACE "${v2_alias}" "using target = statiq::targets::akida_v1;" header "${header}")
file(WRITE ${v1}/mlperf_resnet8.hpp "${header}")
file(COPY ${v2}/mlperf_resnet8_data.cpp DESTINATION ${v1})

execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${SOURCE_DIR}/include -I${v1} ${v1}/mlperf_resnet8_data.cpp
                RESULT_VARIABLE status OUTPUT_VARIABLE log ERROR_VARIABLE log)
file(WRITE ${WORK_DIR}/compiler_output.txt "${log}")
if(status EQUAL 0)
  message(FATAL_ERROR "the akida_v2 model compiled as akida_v1: the target's rules were not checked")
endif()

# What Akida 1.0 refuses (TARGETS.md): activations of 1, 2 or 4 bits (the generated layers are 8-bit:
# the input layer reads 8-bit pixels but outputs 8 bits, every later layer reads 8 bits), and no Add.
set(expected
    "output_bits_not_supported conv2d"
    "input_bits_not_supported conv2d_1" "input_bits_not_supported conv2d_2" "input_bits_not_supported conv2d_3"
    "input_bits_not_supported conv2d_4" "input_bits_not_supported conv2d_5" "input_bits_not_supported conv2d_6"
    "input_bits_not_supported conv2d_7" "input_bits_not_supported conv2d_8"
    "input_bits_not_supported average_pooling2d" "input_bits_not_supported dense"
    "layer_kind_not_supported_by_target add" "layer_kind_not_supported_by_target add_1"
    "layer_kind_not_supported_by_target add_2")

# Each diagnostic reads diag::<rule><statiq::fixed_string<N>{"<layer>"}, ...>.
string(REGEX MATCHALL "diag::[a-z_0-9]+<statiq::fixed_string<[0-9]+>{\"[^\"]*\"}" hits "${log}")
set(found "")
foreach(hit IN LISTS hits)
  string(REGEX REPLACE "diag::([a-z_0-9]+)<statiq::fixed_string<[0-9]+>{\"([^\"]*)\"}" "\\1 \\2" pair "${hit}")
  list(APPEND found "${pair}")
endforeach()
list(REMOVE_DUPLICATES found)
list(SORT found)
list(SORT expected)
if(NOT found STREQUAL expected)
  string(REPLACE ";" "\n  " f "${found}")
  string(REPLACE ";" "\n  " e "${expected}")
  message(FATAL_ERROR "the compiler named\n  ${f}\nexpected\n  ${e}\n(full output: ${WORK_DIR}/compiler_output.txt)")
endif()
list(LENGTH found n)
message(STATUS "akida_v2 -> akida_v1: the compiler names all ${n} layers that no longer fit, each with its rule")
