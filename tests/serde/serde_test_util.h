// Helpers shared by the serde tests: hex dumps of bytes and capturing exception messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/record.h>

#include "rivulet_test_helpers.h"

namespace rivulet::testing {

// "00 00 00 2A": upper-case hex bytes separated by single spaces.
inline std::string hex(ByteView bytes) {
  std::string text;
  for (std::uint8_t byte : bytes) {
    char digits[3];
    std::snprintf(digits, sizeof digits, "%02X", static_cast<unsigned>(byte));
    if (!text.empty()) text += ' ';
    text += digits;
  }
  return text;
}

// The bytes written as "00 00 00 2A" (whitespace between bytes is optional).
inline Bytes from_hex(std::string_view text) {
  Bytes bytes;
  std::istringstream in{std::string(text)};
  std::string pair;
  while (in >> pair) bytes.push_back(static_cast<std::uint8_t>(std::stoul(pair, nullptr, 16)));
  return bytes;
}

// Runs `action`, which must throw SerializationException, and returns the exception's message.
template <class F>
std::string serialization_error(F&& action) {
  return rivulet::test::message_of<SerializationException>(std::forward<F>(action));
}

}  // namespace rivulet::testing
