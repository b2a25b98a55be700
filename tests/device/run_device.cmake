# cmake -DSOURCE_DIR -DWORK_DIR -DTOOLCHAIN -DCODEGEN -DSHARED_DIR -DMODELS=a,b -DTARGETS=x,y -P run_device.cmake
# Cross-builds device/ in WORK_DIR (fresh) and runs its CTest under QEMU; then checks that every model and
# target printed its self-test's "bit-exact" line, so a test that did not run cannot pass unnoticed.
string(REPLACE "," ";" models "${MODELS}")
string(REPLACE "," ";" targets "${TARGETS}")
foreach(tool arm-none-eabi-g++ qemu-system-arm aarch64-linux-gnu-g++ qemu-aarch64)
  find_program(found_${tool} ${tool})
  if(NOT found_${tool})
    message(FATAL_ERROR "${tool} not found: install the cross toolchains and QEMU with scripts/setup.sh")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
# -O1 like the host tests: the bits must not depend on the optimisation level either.
run("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/device -B ${WORK_DIR} -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}
    -DSTATIQ_CODEGEN_EXECUTABLE=${CODEGEN} -DSTATIQ_SHARED_DIR=${SHARED_DIR} -DSTATIQ_DEVICE_MODELS=${MODELS}
    -DSTATIQ_DEVICE_TARGETS=${TARGETS} -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g0")
run("build" ${CMAKE_COMMAND} --build ${WORK_DIR} -j2)
run("ctest under QEMU" ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR} --output-on-failure -V)
message("${output}")

foreach(model IN LISTS models)
  foreach(target IN LISTS targets)
    string(REPLACE "-" "_" name ${model}_${target})
    string(REPLACE "-" "_" profile ${target})
    string(REGEX MATCH "${name} self-test \\(${profile}\\): [0-9]+ golden vectors, bit-exact" line "${output}")
    if(NOT line)
      message(FATAL_ERROR "${name}: no 'bit-exact' line from its self-test in the output above")
    endif()
    # 64-bit Arm: the engine ran the NEON kernels (kernels/arm/neon), not the reference loops.
    if(TOOLCHAIN MATCHES "aarch64" AND NOT output MATCHES "${name} kernels: neon")
      message(FATAL_ERROR "${name}: its self-test did not say it ran the NEON kernels ('${name} kernels: neon')")
    endif()
  endforeach()
endforeach()
if(TOOLCHAIN MATCHES "aarch64")
  foreach(variant neon neon_dotprod)
    if(NOT output MATCHES "Test +#[0-9]+: kernels_${variant}_test \\.+ +Passed")
      message(FATAL_ERROR "kernels_${variant}_test (tests/device/neon_kernels_test.cpp) did not pass in the output above")
    endif()
  endforeach()
endif()
