// A StateStoreContext for store tests: a temporary task directory, changelog writes captured in
// a list, and restoration that replays a list of changelog records into the registered stores.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <rivulet/state/state_store.h>

namespace rivulet::testing_support {

// A directory under the system's temp directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("rivulet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct LoggedChange {
  std::string store;
  Bytes key;
  std::optional<Bytes> value;
  std::int64_t timestamp = 0;
};

class TestStoreContext final : public StateStoreContext {
 public:
  explicit TestStoreContext(std::filesystem::path dir, state::RocksDbResources* resources = nullptr,
                            state::ThreadCache* cache = nullptr)
      : dir_(std::move(dir)), resources_(resources), cache_(cache) {
    std::filesystem::create_directories(dir_);
  }

  const std::string& application_id() const override { return application_id_; }
  TaskId task_id() const override { return TaskId{0, 0}; }
  const std::filesystem::path& state_dir() const override { return dir_; }
  void register_store(StateStore& store, RestoreCallback restore) override {
    restore_callbacks_[store.name()] = std::move(restore);
  }
  void log_change(const std::string& store, ByteView key, std::optional<ByteView> value) override {
    LoggedChange change;
    change.store = store;
    change.key.assign(key.begin(), key.end());
    if (value) change.value.emplace(value->begin(), value->end());
    change.timestamp = timestamp_;
    changelog_.push_back(std::move(change));
  }
  state::RocksDbResources* rocksdb_resources() override { return resources_; }
  state::ThreadCache* cache() override { return cache_; }
  std::int64_t record_timestamp() const override { return timestamp_; }

  void set_record_timestamp(std::int64_t timestamp) { timestamp_ = timestamp; }
  const std::vector<LoggedChange>& changelog() const { return changelog_; }
  bool registered(const std::string& store) const { return restore_callbacks_.count(store) > 0; }

  // Replays `changes` of `store` into the store registered under that name, in batches of
  // `batch_size`, as restoration from the changelog would.
  void restore(const std::string& store, const std::vector<LoggedChange>& changes,
               std::size_t batch_size = 100) {
    std::vector<ChangelogRecord> batch;
    std::int64_t offset = 0;
    auto apply = [&] {
      restore_callbacks_.at(store)(batch);
      batch.clear();
    };
    for (const LoggedChange& change : changes) {
      if (change.store != store) continue;
      ChangelogRecord record;
      record.key = change.key;
      if (change.value) record.value = ByteView(*change.value);
      record.offset = offset++;
      record.timestamp = change.timestamp;
      batch.push_back(record);
      if (batch.size() == batch_size) apply();
    }
    if (!batch.empty()) apply();
  }

 private:
  std::string application_id_ = "store-test";
  std::filesystem::path dir_;
  state::RocksDbResources* resources_;
  state::ThreadCache* cache_;
  std::int64_t timestamp_ = 0;
  std::vector<LoggedChange> changelog_;
  std::map<std::string, RestoreCallback> restore_callbacks_;
};

}  // namespace rivulet::testing_support
