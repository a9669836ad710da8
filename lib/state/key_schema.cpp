#include "state/key_schema.h"

namespace rivulet::state {

void append_int64(Bytes& out, std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(bits >> shift));
}

void append_int32(Bytes& out, std::int32_t value) {
  const auto bits = static_cast<std::uint32_t>(value);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(bits >> shift));
}

std::int64_t read_int64(ByteView bytes) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8) | bytes[i];
  return static_cast<std::int64_t>(bits);
}

std::int32_t read_int32(ByteView bytes) {
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < 4; ++i) bits = (bits << 8) | bytes[i];
  return static_cast<std::int32_t>(bits);
}

Bytes window_key(ByteView key, std::int64_t window_start, std::int32_t sequence) {
  Bytes out;
  out.reserve(key.size() + kWindowSuffixSize);
  out.assign(key.begin(), key.end());
  append_int64(out, window_start);
  append_int32(out, sequence);
  return out;
}

Bytes session_key(ByteView key, std::int64_t end, std::int64_t start) {
  Bytes out;
  out.reserve(key.size() + kSessionSuffixSize);
  out.assign(key.begin(), key.end());
  append_int64(out, end);
  append_int64(out, start);
  return out;
}

std::optional<WindowKey> parse_window_key(ByteView bytes) {
  if (bytes.size() < kWindowSuffixSize) return std::nullopt;
  const std::size_t key_size = bytes.size() - kWindowSuffixSize;
  return WindowKey{bytes.first(key_size), read_int64(bytes.subspan(key_size)),
                   read_int32(bytes.subspan(key_size + 8))};
}

std::optional<SessionKey> parse_session_key(ByteView bytes) {
  if (bytes.size() < kSessionSuffixSize) return std::nullopt;
  const std::size_t key_size = bytes.size() - kSessionSuffixSize;
  return SessionKey{bytes.first(key_size), read_int64(bytes.subspan(key_size)),
                    read_int64(bytes.subspan(key_size + 8))};
}

Bytes upper_bound_for_keys_up_to(ByteView to, ByteView max_suffix) {
  Bytes best;
  Bytes candidate;
  for (std::size_t n = 0; n <= to.size(); ++n) {
    candidate.assign(to.begin(), to.begin() + static_cast<std::ptrdiff_t>(n));
    candidate.insert(candidate.end(), max_suffix.begin(), max_suffix.end());
    if (n == 0 || compare_bytes(candidate, best) > 0) best.swap(candidate);
  }
  return best;
}

Bytes max_window_suffix(std::int64_t from, std::int64_t to) {
  Bytes suffix;
  if (from >= 0 && to >= 0) {
    append_int64(suffix, to);  // every start in [from, to] is at most `to` as bytes too
    append_int32(suffix, -1);
  } else {
    suffix.assign(kWindowSuffixSize, 0xff);
  }
  return suffix;
}

Bytes max_session_suffix(std::int64_t earliest_end) {
  Bytes suffix;
  if (earliest_end >= 0) {
    append_int64(suffix, std::numeric_limits<std::int64_t>::max());
    append_int64(suffix, -1);
  } else {
    suffix.assign(kSessionSuffixSize, 0xff);
  }
  return suffix;
}

}  // namespace rivulet::state
