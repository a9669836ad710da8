#include <cstdlib>
#include <memory>
#include <string>

#include <cxxabi.h>

#include <rivulet/detail/type_name.h>

namespace rivulet::detail {

namespace {
void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}
}  // namespace

std::string type_name(std::type_index type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  std::string name = status == 0 && demangled ? demangled.get() : type.name();
  replace_all(name,
              "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
              "std::string");
  replace_all(name, "std::vector<unsigned char, std::allocator<unsigned char> >", "rivulet::Bytes");
  return name;
}

}  // namespace rivulet::detail
