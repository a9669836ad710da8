#include "state/caching_internal.h"

#include <stdexcept>

namespace rivulet::state::caching {

void append_key(Bytes& out, ByteView key) {
  for (std::uint8_t byte : key) {
    out.push_back(byte);
    if (byte == 0x00) out.push_back(0xFF);
  }
  out.push_back(0x00);
  out.push_back(0x00);
}

void append_time(Bytes& out, std::int64_t time) {
  const std::uint64_t bits = static_cast<std::uint64_t>(time) ^ (std::uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(bits >> shift));
  }
}

Bytes window_cache_key(ByteView key, std::int64_t window_start) {
  Bytes out;
  out.reserve(key.size() + 10);
  append_key(out, key);
  append_time(out, window_start);
  return out;
}

Bytes session_cache_key(ByteView key, std::int64_t start, std::int64_t end) {
  Bytes out;
  out.reserve(key.size() + 18);
  append_key(out, key);
  append_time(out, end);
  append_time(out, start);
  return out;
}

namespace {

std::int64_t read_time(ByteView bytes, std::size_t at) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8) | bytes[at + i];
  return static_cast<std::int64_t>(bits ^ (std::uint64_t{1} << 63));
}

}  // namespace

DecodedCacheKey decode_cache_key(ByteView cache_key, int times) {
  DecodedCacheKey out;
  std::size_t i = 0;
  while (true) {
    if (i + 1 >= cache_key.size()) throw std::logic_error("record cache: malformed windowed key");
    const std::uint8_t byte = cache_key[i];
    if (byte != 0x00) {
      out.key.push_back(byte);
      ++i;
      continue;
    }
    const std::uint8_t next = cache_key[i + 1];
    i += 2;
    if (next == 0x00) break;
    out.key.push_back(0x00);
  }
  if (cache_key.size() != i + 8 * static_cast<std::size_t>(times)) {
    throw std::logic_error("record cache: malformed windowed key");
  }
  out.first = read_time(cache_key, i);
  if (times == 2) out.second = read_time(cache_key, i + 8);
  return out;
}

std::int64_t earliest_retained(std::int64_t time, std::optional<std::int64_t> observed,
                               std::int64_t retention) {
  if (!observed) return time;
  // observed - retention + 1, without overflowing at the ends of the range.
  std::int64_t earliest;
  if (retention > 0 && *observed < kMinTime + retention) {
    earliest = kMinTime;
  } else {
    earliest = *observed - retention;
    if (earliest < kMaxTime) ++earliest;
  }
  return std::max(time, earliest);
}

}  // namespace rivulet::state::caching
