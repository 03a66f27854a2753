#===- test/Downstream/RunDownstream.cmake - Install, build, run ----------===#
#
# Part of the Attune project.
#
# The `install-downstream` ctest (cmake -P): installs the already built
# Attune build tree into a fresh prefix, configures and builds the project in
# this folder against it (find_package(Attune) through CMAKE_PREFIX_PATH),
# runs its tool on an example and FileChecks the lowered IR; also runs the
# installed attune-opt, whose RPATH must still find libMLIR.so. Every step
# that fails stops the test with its output. Variables (-D):
#   ATTUNE_BUILD   the Attune build tree to install
#   WORK           scratch directory (emptied first)
#   GENERATOR, MAKE_PROGRAM, CXX_COMPILER, CXX_LAUNCHER, BUILD_TYPE
#                  how to configure the downstream project (as Attune's build)
#   MLIR_DIR       MLIR's CMake package directory
#   FILECHECK, EXAMPLE, CHECK_FILE
#
#===----------------------------------------------------------------------===#
cmake_minimum_required(VERSION 3.20)

# Runs the command after NAME; on failure prints its output and stops.
function(run_step name)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${name}: ok")
endfunction()

set(prefix ${WORK}/prefix)
set(build ${WORK}/build)
file(REMOVE_RECURSE ${WORK})

# `cmake --install` only copies: it needs the build to be complete.
run_step("cmake --install" ${CMAKE_COMMAND} --install ${ATTUNE_BUILD}
  --prefix ${prefix})

set(launcher)
if(CXX_LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()
run_step("configure the downstream project" ${CMAKE_COMMAND}
  -G ${GENERATOR} -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}
  -S ${CMAKE_CURRENT_LIST_DIR} -B ${build}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher}
  -DCMAKE_PREFIX_PATH=${prefix} -DMLIR_DIR=${MLIR_DIR})
run_step("build the downstream project" ${CMAKE_COMMAND} --build ${build})

execute_process(COMMAND ${build}/attune-downstream ${EXAMPLE}
  OUTPUT_FILE ${WORK}/lowered.mlir ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "attune-downstream ${EXAMPLE} failed (${rc}):\n${err}")
endif()
run_step("FileCheck the lowered IR" ${FILECHECK} ${CHECK_FILE}
  --input-file ${WORK}/lowered.mlir)

execute_process(COMMAND ${prefix}/bin/attune-opt --version
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "Attune version")
  message(FATAL_ERROR "the installed attune-opt does not run (${rc}):\n${out}")
endif()
message(STATUS "installed attune-opt --version: ok")
