# Warnings for code we own. Applied per target (never to dependencies' headers).
# Not -Wnull-dereference: at -O3 GCC 12 raises it inside libstdc++ for checked optional and
# pointer accesses in tests (false positives that depend on inlining).
add_library(rivulet_warnings INTERFACE)
target_compile_options(rivulet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
# At -O3 GCC 12 reports -Wrestrict on std::string concatenation where no overlap is possible
# (GCC bug 105329), -Wmaybe-uninitialized inside std::optional copies, and -Wstringop-overread
# inside std::lexicographical_compare_three_way on byte vectors (comparing Bytes); keep them
# visible but never fatal, so that a Release build does not fail on them.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(rivulet_warnings INTERFACE -Wno-error=restrict -Wno-error=maybe-uninitialized
                                                    -Wno-error=stringop-overread)
endif()
if(RIVULET_WERROR)
  target_compile_options(rivulet_warnings INTERFACE -Werror)
endif()
