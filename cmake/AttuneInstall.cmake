#===- cmake/AttuneInstall.cmake - cmake --install and AttuneConfig --------===#
#
# Part of the Attune project.
#
# `cmake --install build --prefix P` installs, besides the targets that
# AddAttune.cmake (and runtime/) install:
#   P/include/attune/...          headers, .td files and the generated .inc
#   P/lib/cmake/attune/           AttuneConfig.cmake, AttuneConfigVersion.cmake
#                                 and AttuneTargets.cmake (the exported targets)
# so that another CMake project can find_package(Attune) (docs/GettingStarted.md).
# Included last from the top-level CMakeLists.txt, once every target exists.
#
#===----------------------------------------------------------------------===#

include(CMakePackageConfigHelpers)

install(DIRECTORY ${ATTUNE_SOURCE_DIR}/include/attune
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${ATTUNE_BINARY_DIR}/include/attune
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE)

set(ATTUNE_INSTALL_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/attune)
install(EXPORT AttuneTargets DESTINATION ${ATTUNE_INSTALL_PACKAGE_DIR})

# Generated outside lib/cmake so that nobody mistakes build/ for a prefix.
set(config_dir ${ATTUNE_BINARY_DIR}/CMakeFiles/AttuneConfig)
get_property(ATTUNE_EXPORTS GLOBAL PROPERTY ATTUNE_EXPORTS)
get_property(ATTUNE_ALL_LIBS GLOBAL PROPERTY ATTUNE_ALL_LIBS)
get_property(ATTUNE_DIALECT_LIBS GLOBAL PROPERTY ATTUNE_DIALECT_LIBS)
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/AttuneConfig.cmake.in
  ${config_dir}/AttuneConfig.cmake
  INSTALL_DESTINATION ${ATTUNE_INSTALL_PACKAGE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR)
# 0.x: a new minor version may break the API.
write_basic_package_version_file(
  ${config_dir}/AttuneConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${config_dir}/AttuneConfig.cmake
  ${config_dir}/AttuneConfigVersion.cmake
  DESTINATION ${ATTUNE_INSTALL_PACKAGE_DIR})
