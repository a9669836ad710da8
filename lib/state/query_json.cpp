#include <rivulet/state/query_json.h>

namespace rivulet::detail {

std::string base64_encode(ByteView data) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U) |
                            std::uint32_t{data[i + 2]};
    out.push_back(kAlphabet[(n >> 18U) & 0x3FU]);
    out.push_back(kAlphabet[(n >> 12U) & 0x3FU]);
    out.push_back(kAlphabet[(n >> 6U) & 0x3FU]);
    out.push_back(kAlphabet[n & 0x3FU]);
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{data[i]} << 16U;
    if (rest == 2) n |= std::uint32_t{data[i + 1]} << 8U;
    out.push_back(kAlphabet[(n >> 18U) & 0x3FU]);
    out.push_back(kAlphabet[(n >> 12U) & 0x3FU]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6U) & 0x3FU] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace rivulet::detail
