// How window and session stores lay out their keys inside a segment (the same bytes as their
// changelog keys, state_store.h):
//
//   window:  [key][window start, 8 bytes big-endian][sequence number, 4 bytes big-endian]
//   session: [key][end, 8 bytes big-endian][start, 8 bytes big-endian]
//
// So a segment orders entries by key, then time. Keys have variable length, so the byte range of
// one key's entries can hold entries of longer keys that start with it, and the range of keys up
// to `to` must reach the entries of keys that are prefixes of `to`: scans compute their bounds
// with the helpers below and decode and filter every entry (exact key, times).
// Timestamps are ordered as unsigned bytes, so negative ones sort after positive ones (never
// wrong, only out of order: bounds fall back to wider ranges when a negative time may match).
#pragma once

#include <cstdint>
#include <optional>

#include <rivulet/state/state_store.h>

namespace rivulet::state {

constexpr std::size_t kWindowSuffixSize = 12;
constexpr std::size_t kSessionSuffixSize = 16;

void append_int64(Bytes& out, std::int64_t value);
void append_int32(Bytes& out, std::int32_t value);
std::int64_t read_int64(ByteView bytes);  // REQUIRES: bytes.size() >= 8
std::int32_t read_int32(ByteView bytes);  // REQUIRES: bytes.size() >= 4

Bytes window_key(ByteView key, std::int64_t window_start, std::int32_t sequence);
Bytes session_key(ByteView key, std::int64_t end, std::int64_t start);

// A decoded window-store key; nullopt when the bytes are too short to be one.
struct WindowKey {
  ByteView key;
  std::int64_t window_start = 0;
  std::int32_t sequence = 0;
};
std::optional<WindowKey> parse_window_key(ByteView bytes);

struct SessionKey {
  ByteView key;
  std::int64_t end = 0;
  std::int64_t start = 0;
};
std::optional<SessionKey> parse_session_key(ByteView bytes);

// The largest of `to[0, n) + max_suffix` over every n in [0, to.size()]: an inclusive upper
// bound for the entries of every key <= `to` whose suffix is at most `max_suffix` bytewise.
Bytes upper_bound_for_keys_up_to(ByteView to, ByteView max_suffix);

// The bytewise largest window suffix of an entry with window start in [from, to].
Bytes max_window_suffix(std::int64_t from, std::int64_t to);
// The bytewise largest session suffix of an entry that ends at or after `earliest_end`.
Bytes max_session_suffix(std::int64_t earliest_end);

}  // namespace rivulet::state
