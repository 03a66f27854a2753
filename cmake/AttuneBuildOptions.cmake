#===- cmake/AttuneBuildOptions.cmake - Checked and sanitized builds --------===#
#
# Part of the Attune project.
#
# Build options for Attune's own sources (lib/, tools/, unittests/, runtime/,
# fuzz/); LLVM and MLIR are the installed release libraries either way.
#
#   ATTUNE_ENABLE_ASSERTIONS  Keep assert() in every build type (-UNDEBUG).
#                             scripts/setup.sh turns it on, so the tests CI
#                             runs check the invariants lib/ asserts.
#   ATTUNE_SANITIZE           A ;-list of sanitizers, e.g. "address;undefined"
#                             (-fsanitize=..., frame pointers kept, the first
#                             report is fatal). scripts/sanitize.sh uses it.
#   ATTUNE_BUILD_FUZZERS      Build the libFuzzer targets of fuzz/ (clang
#                             only). Every object also gets the coverage
#                             instrumentation libFuzzer needs
#                             (-fsanitize=fuzzer-no-link), so one build serves
#                             the sanitized tests and the fuzzers.
#
# Included from the top-level CMakeLists.txt after HandleLLVMOptions and
# before any target, so the flags reach every target below it.
#
#===----------------------------------------------------------------------===#

option(ATTUNE_ENABLE_ASSERTIONS
  "Keep assertions in Attune's sources in every build type" OFF)
set(ATTUNE_SANITIZE "" CACHE STRING
  "Sanitizers for Attune's sources, e.g. address;undefined")
option(ATTUNE_BUILD_FUZZERS "Build the libFuzzer targets in fuzz/ (clang)" OFF)

if(ATTUNE_ENABLE_ASSERTIONS)
  # CMake puts -DNDEBUG in the Release flags; a later -U wins.
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-UNDEBUG>)
  message(STATUS "Attune: assertions enabled")
endif()

if(ATTUNE_BUILD_FUZZERS AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "ATTUNE_BUILD_FUZZERS needs clang (libFuzzer); "
    "configure with -DCMAKE_CXX_COMPILER=clang++-22 -DCMAKE_C_COMPILER=clang-22")
endif()

set(ATTUNE_SANITIZER_FLAGS)
if(ATTUNE_SANITIZE)
  string(REPLACE ";" "," sanitizers "${ATTUNE_SANITIZE}")
  set(ATTUNE_SANITIZER_FLAGS
    -fsanitize=${sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${ATTUNE_SANITIZER_FLAGS})
  add_link_options(-fsanitize=${sanitizers})
  if("address" IN_LIST ATTUNE_SANITIZE)
    # No false reports from LLVM's header allocator (see the file).
    add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${CMAKE_CURRENT_LIST_DIR}/AttuneASanPrelude.h>")
  endif()
  # Shared libraries take the sanitizer runtime from the executable that
  # loads them, so HandleLLVMOptions' -z defs cannot hold (LLVM drops it
  # too when it is sanitized).
  foreach(kind SHARED MODULE)
    string(REPLACE "-Wl,-z,defs" "" CMAKE_${kind}_LINKER_FLAGS
      "${CMAKE_${kind}_LINKER_FLAGS}")
  endforeach()
  message(STATUS "Attune: sanitizers ${sanitizers}")
endif()

if(ATTUNE_BUILD_FUZZERS)
  # Coverage feedback everywhere; only the fuzz targets link libFuzzer's
  # main (-fsanitize=fuzzer, in fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
  message(STATUS "Attune: fuzz targets enabled")
endif()
