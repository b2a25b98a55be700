# cmake -P script of a compile_fail.<test>.clang test: the OK build compiles with clang and the KO
# build (-DSTATIQ_KO) prints one library error, the static_assert of statiq::diag::<RULE>, showing
# the layer (or target) spelled out as text, statiq::diag::spelled<'c', 'o', 'n', 'v', '1'>, and
# in the same line the names of the numbers it prints in order: "[arguments: fixed_string Layer, ...]".
# Inputs: COMPILE_CHECK, EXPECT_ONE_ERROR (the scripts beside this file), COMPILER, RULE, FLAGS.
execute_process(COMMAND bash ${COMPILE_CHECK} ok "" ${COMPILER} ${FLAGS} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the OK build does not compile with ${COMPILER}")
endif()
execute_process(COMMAND bash ${EXPECT_ONE_ERROR} ${RULE} "statiq::diag::spelled<'[^']+'.*\\[arguments: fixed_string [A-Za-z]+" ${COMPILER} ${FLAGS} -DSTATIQ_KO RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the KO build does not give one statiq::diag::${RULE} error with ${COMPILER}")
endif()
