# Warnings for code we own. Applied per target (never to dependencies' headers).
add_library(rivulet_warnings INTERFACE)
target_compile_options(rivulet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
# GCC 12 reports -Wrestrict on std::string concatenation at -O3 where no overlap is possible
# (GCC bug 105329); keep the warning visible but never fatal there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(rivulet_warnings INTERFACE -Wno-error=restrict)
endif()
if(RIVULET_WERROR)
  target_compile_options(rivulet_warnings INTERFACE -Werror)
endif()
