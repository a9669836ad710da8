// StateRestoreListener: told when a store's restoration from its changelog starts, progresses
// and ends (Kafka Streams' StateRestoreListener). Set one per instance with
// KafkaStreams::set_global_state_restore_listener. Calls come from stream threads, possibly
// several at once: an implementation must be thread-safe. Offsets are changelog offsets.
#pragma once

#include <cstdint>
#include <string>

namespace rivulet {

class StateRestoreListener {
 public:
  virtual ~StateRestoreListener() = default;
  // Restoration of `store` reads its changelog partition from `start_offset` up to (excluding)
  // `end_offset`.
  virtual void on_restore_start(const std::string& topic, std::int32_t partition,
                                const std::string& store, std::int64_t start_offset,
                                std::int64_t end_offset) {
    (void)topic, (void)partition, (void)store, (void)start_offset, (void)end_offset;
  }
  // A batch of `num_restored` records up to `batch_end_offset` (inclusive) was applied.
  virtual void on_batch_restored(const std::string& topic, std::int32_t partition,
                                 const std::string& store, std::int64_t batch_end_offset,
                                 std::uint64_t num_restored) {
    (void)topic, (void)partition, (void)store, (void)batch_end_offset, (void)num_restored;
  }
  virtual void on_restore_end(const std::string& topic, std::int32_t partition,
                              const std::string& store, std::uint64_t total_restored) {
    (void)topic, (void)partition, (void)store, (void)total_restored;
  }
};

}  // namespace rivulet
