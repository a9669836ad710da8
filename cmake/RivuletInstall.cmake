# `cmake --install` lays out headers, the library and a CMake package so that
# `find_package(rivulet REQUIRED)` and `target_link_libraries(app rivulet::rivulet)` work.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/rivulet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS rivulet EXPORT rivuletTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rivuletTargets NAMESPACE rivulet:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rivulet)
configure_package_config_file(cmake/rivuletConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rivuletConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rivulet)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rivuletConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rivuletConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rivuletConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rivulet)
