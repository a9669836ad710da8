# Run by the CTest test install.find_package (see CMakeLists.txt beside this file):
#   cmake -DRIVULET_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... [-DCONFIG=...]
#         [-DGENERATOR=...] [-DCXX_COMPILER=...] [-DCXX_COMPILER_LAUNCHER=...] [-DSANITIZE=ON]
#         -P check_install.cmake
# Steps: install the build into WORK_DIR/prefix, configure and build consumer/ against it, run
# the consumer and check what it prints. Each step fails with a message naming it.
cmake_minimum_required(VERSION 3.25)

foreach(var RIVULET_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_install.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# Runs a command; on failure prints its output and stops with "<step> failed".
function(run_step step)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "install.find_package: ${step} failed (${result}).\n"
      "Command: ${cmd}\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# 1. Install.
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
run_step("cmake --install" ${CMAKE_COMMAND} --install ${RIVULET_BINARY_DIR} --prefix ${prefix}
  ${config_args})
message(STATUS "installed into ${prefix}")

# 2. Configure the consumer against the prefix only, with the same compiler and, for a
#    sanitized build, the sanitizer flags (a sanitized static library needs them to link).
set(configure_args -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND configure_args -G ${GENERATOR})
endif()
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(CXX_COMPILER_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER})
endif()
if(CONFIG)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
endif()
if(SANITIZE)
  list(APPEND configure_args
    "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer"
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run_step("configuring the consumer (find_package(rivulet))" ${CMAKE_COMMAND} ${configure_args})

# 3. Build it.
set(build_config_args)
if(CONFIG)
  set(build_config_args --config ${CONFIG})
endif()
run_step("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${build_config_args})

# 4. Run it and check its output.
find_program(consumer_exe NAMES rivulet-install-consumer
  PATHS ${consumer_build} ${consumer_build}/${CONFIG} NO_DEFAULT_PATH NO_CACHE)
if(NOT consumer_exe)
  message(FATAL_ERROR "install.find_package: the consumer built but its binary is not in "
    "${consumer_build}")
endif()
run_step("running the consumer" ${consumer_exe})
set(expected "key=V-1 speed=87.5")
string(FIND "${step_output}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "install.find_package: the consumer printed\n${step_output}\n"
    "but \"${expected}\" was expected")
endif()
message(STATUS "consumer printed: ${step_output}")
