// Internal: readable type names for error messages. Not API.
#pragma once

#include <string>
#include <typeindex>

namespace rivulet::detail {

// The demangled name of a type ("std::__cxx11::basic_string<char, ...>" shortened to
// "std::string" for the common cases).
std::string type_name(std::type_index type);

}  // namespace rivulet::detail
