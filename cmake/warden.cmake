# warden_library(NAME DEPS...): the static library warden_NAME from every src/NAME/*.cc.
# warden_folder_library(TARGET FOLDER DEPS...): the same for a nested folder (src/proxy/server).
# Adding a source file needs no CMake edit; a new folder needs one line in src/CMakeLists.txt.
function(warden_library name)
  warden_folder_library(warden_${name} ${name} ${ARGN})
endfunction()

function(warden_folder_library target folder)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${folder}/*.cc)
  if(NOT srcs)  # a folder still being built: headers only
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${ARGN})
    return()
  endif()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARGN})
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
