#===- cmake/AddAttune.cmake - Attune's libraries and tools ----------------===#
#
# Part of the Attune project.
#
# Wrappers around MLIR's add_mlir_library / add_mlir_dialect_library and
# LLVM's add_llvm_executable that also install the target into the
# AttuneTargets export set, which cmake/AttuneInstall.cmake installs with
# AttuneConfig.cmake so that other projects can find_package(Attune).
# MLIR's own install rule is turned off (DISABLE_INSTALL) because it would
# put Attune's libraries into MLIR's export set instead.
#
#===----------------------------------------------------------------------===#

include(GNUInstallDirs)

# Installs target `name` (library or executable) and exports it in
# AttuneTargets. Linking an exported library also adds the installed include
# directory.
function(attune_install_target name)
  get_target_property(type ${name} TYPE)
  set(includes)
  if(NOT type STREQUAL "EXECUTABLE")
    set(includes INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    # Sanitized libraries need the sanitizer runtimes in whatever links them.
    if(ATTUNE_SANITIZE)
      string(REPLACE ";" "," sanitizers "${ATTUNE_SANITIZE}")
      target_link_options(${name} INTERFACE
        $<INSTALL_INTERFACE:-fsanitize=${sanitizers}>)
    endif()
  endif()
  install(TARGETS ${name}
    EXPORT AttuneTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    ${includes})
  set_property(GLOBAL APPEND PROPERTY ATTUNE_EXPORTS ${name})
endfunction()

# add_mlir_library with Attune's install and export.
function(add_attune_library name)
  add_mlir_library(${name} ${ARGN} DISABLE_INSTALL)
  attune_install_target(${name})
  set_property(GLOBAL APPEND PROPERTY ATTUNE_ALL_LIBS ${name})
endfunction()

# add_mlir_dialect_library with Attune's install and export.
function(add_attune_dialect_library name)
  set_property(GLOBAL APPEND PROPERTY ATTUNE_DIALECT_LIBS ${name})
  add_attune_library(${name} ${ARGN})
endfunction()

# An installed tool: add_llvm_executable (which applies LLVM's compile flags
# and sets the install RPATH) plus the install and export.
function(add_attune_tool name)
  add_llvm_executable(${name} ${ARGN})
  attune_install_target(${name})
endfunction()
