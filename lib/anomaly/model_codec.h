// The byte layout the built-in detectors and AnomalyModel share: a version byte, then big-endian
// integers and doubles (IEEE-754 bits). ModelReader names what it reads in every error, so a bad
// blob says which model, which byte and what was wrong.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/record.h>

namespace rivulet::anomaly {

inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_u64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_i64(Bytes& out, std::int64_t v) {
  put_u64(out, static_cast<std::uint64_t>(v));
}
inline void put_f64(Bytes& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}

class ModelReader {
 public:
  // `what` names the blob in errors ("zscore model").
  ModelReader(std::string what, ByteView bytes) : what_(std::move(what)), bytes_(bytes) {}

  // Reads the version byte; throws unless it is `expected`.
  void expect_version(std::uint8_t expected) {
    if (bytes_.empty()) fail("the blob is empty");
    const std::uint8_t version = u8();
    if (version != expected) {
      fail("format version " + std::to_string(version) + " is not one this build reads (" +
           std::to_string(expected) + "): the blob was written by another version or is not " +
           "such a model");
    }
  }
  std::uint8_t u8() {
    need(1);
    return bytes_[at_++];
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(read_bits(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(read_bits(8)); }
  double f64() { return std::bit_cast<double>(read_bits(8)); }
  ByteView take(std::size_t n) {
    need(n);
    ByteView out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }
  ByteView rest() { return take(bytes_.size() - at_); }
  void expect_end() const {
    if (at_ != bytes_.size()) {
      fail(std::to_string(bytes_.size() - at_) + " bytes left over after the model (" +
           std::to_string(bytes_.size()) + " bytes in all)");
    }
  }
  [[noreturn]] void fail(const std::string& problem) const {
    throw SerializationException(what_ + ": " + problem);
  }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - at_ < n) {
      fail("truncated: " + std::to_string(n) + " more bytes needed at byte " + std::to_string(at_) +
           " of " + std::to_string(bytes_.size()));
    }
  }
  std::uint64_t read_bits(std::size_t n) {
    need(n);
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) bits = (bits << 8U) | bytes_[at_ + i];
    at_ += n;
    return bits;
  }

  std::string what_;
  ByteView bytes_;
  std::size_t at_ = 0;
};

}  // namespace rivulet::anomaly
