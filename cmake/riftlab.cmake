# Small helpers shared by every component's CMakeLists.txt.

# riftlab_test(NAME SOURCES a.c b.c LIBS x y LABELS unit [TIMEOUT s] [ARGS ...])
# One cmocka (or plain) test executable registered with ctest. Tests that
# need root and network namespaces carry the label `root` and exit 77 when
# not run as root, which ctest reports as skipped.
function(riftlab_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       SKIP_RETURN_CODE 77
                       ENVIRONMENT "RIFTLAB_BIN=${CMAKE_BINARY_DIR}/bin;RIFTLAB_SHARED=${CMAKE_SOURCE_DIR}/../shared;RIFTLAB_SOURCE=${CMAKE_SOURCE_DIR}")
endfunction()

# riftlab_fuzz(NAME SOURCES a.c LIBS x CORPUS dir)
# A libFuzzer target (only in the RIFTLAB_FUZZ build) plus a ctest that runs
# it for a few seconds over its seed corpus (label `fuzz`).
function(riftlab_fuzz name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT RIFTLAB_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  # Copy the seed corpus so the fuzzer's discoveries never land in the source tree.
  set(work ${CMAKE_BINARY_DIR}/fuzz/${name}.corpus)
  add_test(NAME ${name}
           COMMAND sh -c "rm -rf '${work}' && mkdir -p '${work}' && cp -r '${F_CORPUS}'/. '${work}'/ && exec '$<TARGET_FILE:${name}>' -max_total_time=$\{RIFTLAB_FUZZ_SECONDS:-5} -timeout=5 -rss_limit_mb=1024 '${work}'")
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()
