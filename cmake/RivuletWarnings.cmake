# Warnings for code we own. Applied per target (never to dependencies' headers).
add_library(rivulet_warnings INTERFACE)
target_compile_options(rivulet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(RIVULET_WERROR)
  target_compile_options(rivulet_warnings INTERFACE -Werror)
endif()
