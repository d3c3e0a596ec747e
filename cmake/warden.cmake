# warden_library(NAME DEPS...): a static library from every src/NAME/*.cc.
# Adding a source file needs no CMake edit; a new folder needs one line in src/CMakeLists.txt.
function(warden_library name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${name}/*.cc
                                   ${CMAKE_SOURCE_DIR}/src/${name}/*/*.cc)
  if(NOT srcs)  # a folder still being built: headers only
    add_library(warden_${name} INTERFACE)
    target_include_directories(warden_${name} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(warden_${name} INTERFACE ${ARGN})
    return()
  endif()
  add_library(warden_${name} STATIC ${srcs})
  target_include_directories(warden_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(warden_${name} PUBLIC ${ARGN})
endfunction()

# warden_unit_tests(NAME DEPS...): one GoogleTest binary from tests/unit/NAME/*_test.cc.
function(warden_unit_tests name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/${name}/*_test.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name}_tests ${srcs})
  target_link_libraries(${name}_tests PRIVATE ${ARGN} warden_test_support GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit
                       ENVIRONMENT "WARDEN_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
