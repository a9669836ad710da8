#include "state/state_manager.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

#include "state/thread_cache.h"

namespace rivulet::state {

namespace {
constexpr const char* kCheckpointFile = ".checkpoint";

std::string changelog_topic(const std::string& application_id, const std::string& store) {
  return fmt::format("{}-{}-changelog", application_id, store);
}
}  // namespace

StateManager::StateManager(Options options, std::vector<const detail::StoreFactory*> stores,
                           detail::RecordCollector& collector)
    : options_(std::move(options)), collector_(collector), factories_(std::move(stores)) {
  if (options_.directory != nullptr) dir_ = options_.directory->task_dir(options_.task);
}

StateManager::~StateManager() {
  if (!closed_) {
    try {
      close(false);
    } catch (const std::exception& error) {
      if (options_.logger) options_.logger->error("closing the stores failed: {}", error.what());
    }
  }
}

bool StateManager::needs_directory() const {
  return std::any_of(factories_.begin(), factories_.end(),
                     [](const detail::StoreFactory* f) { return f->persistent; });
}

bool StateManager::try_lock() {
  if (lock_ || !needs_directory()) return true;
  if (options_.directory == nullptr) {
    throw StreamsException(fmt::format("task {} has persistent stores but no state directory",
                                       options_.task.to_string()));
  }
  lock_ = options_.directory->try_lock(options_.task);
  return lock_.has_value();
}

const std::filesystem::path& StateManager::state_dir() const {
  return dir_;
}

std::filesystem::path StateManager::checkpoint_file() const {
  return dir_ / kCheckpointFile;
}

void StateManager::open_store(Entry& entry) {
  entry.store = entry.factory->build();
  registering_ = &entry;
  try {
    entry.store->init(*this);
  } catch (...) {
    registering_ = nullptr;
    throw;
  }
  registering_ = nullptr;
  if (!entry.restore && !entry.changelog.empty()) {
    throw StreamsException(
        fmt::format("store '{}' did not register itself for restoration", entry.factory->name));
  }
  entry.database = nullptr;
  if (options_.exactly_once && entry.factory->persistent) {
    if (auto* backed = dynamic_cast<RocksDbBacked*>(entry.registered)) {
      entry.database = backed->database();
      if (entry.database != nullptr) entry.database->buffer_writes();
    }
  }
}

void StateManager::initialize() {
  if (initialized_) return;
  if (needs_directory() && !lock_) {
    throw StreamsException(fmt::format("task {} initialized its stores without holding the lock",
                                       options_.task.to_string()));
  }
  entries_.reserve(factories_.size());
  for (const detail::StoreFactory* factory : factories_) {
    Entry entry;
    entry.factory = factory;
    if (factory->logging) entry.changelog = changelog_topic(options_.application_id, factory->name);
    entries_.push_back(std::move(entry));
  }
  std::vector<std::string> existed;  // persistent stores that had local data
  for (Entry& entry : entries_) {
    std::error_code ignored;
    if (entry.factory->persistent && lock_ &&
        std::filesystem::exists(dir_ / "rocksdb" / entry.factory->name, ignored)) {
      existed.push_back(entry.factory->name);
    }
    open_store(entry);
  }

  std::map<std::string, std::int64_t> checkpoint;
  if (lock_) checkpoint = read_checkpoint();
  if (lock_ && options_.exactly_once) {
    // Valid once: what the stores hold from now on is described by their commits.
    std::error_code ignored;
    std::filesystem::remove(checkpoint_file(), ignored);
  }
  std::vector<std::string> to_wipe;
  for (Entry& entry : entries_) {
    if (entry.changelog.empty()) continue;
    Changelog changelog;
    changelog.store = entry.factory->name;
    changelog.topic = entry.changelog;
    changelog.partition = options_.partition;
    // Only a persistent store keeps what a checkpoint describes.
    if (entry.factory->persistent) {
      if (entry.database != nullptr) changelog.checkpointed = entry.database->committed_offset();
      if (!changelog.checkpointed) {
        if (auto it = checkpoint.find(fmt::format("{} {}", entry.changelog, options_.partition));
            it != checkpoint.end()) {
          changelog.checkpointed = it->second;
        }
      }
      entry.position = changelog.checkpointed;
      if (options_.exactly_once && !changelog.checkpointed &&
          std::find(existed.begin(), existed.end(), entry.factory->name) != existed.end()) {
        to_wipe.push_back(entry.factory->name);
      }
    }
    changelogs_.push_back(std::move(changelog));
  }
  for (const std::string& store : to_wipe) {
    if (options_.logger) {
      options_.logger->info(
          "task {}: store '{}' has local data but no committed changelog offset; under "
          "exactly-once it is wiped and restored from the changelog",
          options_.task.to_string(), store);
    }
    wipe(store);
  }
  initialized_ = true;
}

StateManager::Entry& StateManager::entry(std::string_view store) {
  for (Entry& e : entries_) {
    if (e.factory->name == store) return e;
  }
  throw StreamsException(
      fmt::format("task {} has no state store '{}'", options_.task.to_string(), store));
}

void StateManager::restore(const std::string& store, std::span<const ChangelogRecord> batch) {
  if (batch.empty()) return;
  Entry& e = entry(store);
  e.restore(batch);
  e.position = batch.back().offset;
  // Restored records are committed: store them with their offset, so that a crash in the middle
  // of restoration resumes after them.
  if (e.database != nullptr) e.database->commit(e.position);
}

void StateManager::wipe(const std::string& store) {
  Entry& e = entry(store);
  e.store->close();
  e.store.reset();
  e.restore = nullptr;
  e.position.reset();
  if (e.factory->persistent) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_ / "rocksdb" / e.factory->name, ignored);
  }
  open_store(e);
  for (Changelog& changelog : changelogs_) {
    if (changelog.store == store) changelog.checkpointed.reset();
  }
}

StateStore* StateManager::store(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.factory->name == name) return e.store.get();
  }
  return nullptr;
}

std::vector<std::string> StateManager::store_names() const {
  std::vector<std::string> names;
  for (const detail::StoreFactory* factory : factories_) names.push_back(factory->name);
  return names;
}

std::vector<StateManager::StoreStats> StateManager::store_stats() const {
  std::vector<StoreStats> out;
  if (closed_) return out;
  for (const Entry& entry : entries_) {
    if (!entry.store || !entry.store->is_open()) continue;
    StoreStats stats;
    stats.name = entry.factory->name;
    RocksDbDatabase* database = nullptr;
    if (auto* backed = dynamic_cast<RocksDbBacked*>(entry.registered)) {
      database = backed->database();
    }
    if (auto* key_value = dynamic_cast<KeyValueBytesStore*>(entry.store.get())) {
      stats.entries = key_value->approximate_num_entries();
    } else if (database != nullptr) {
      stats.entries = database->int_property("rocksdb.estimate-num-keys");
    }
    if (database != nullptr) {
      stats.size_bytes = database->int_property("rocksdb.total-sst-files-size") +
                         database->int_property("rocksdb.cur-size-all-mem-tables");
    }
    out.push_back(std::move(stats));
  }
  return out;
}

void StateManager::register_store(StateStore& store, RestoreCallback restore) {
  if (registering_ == nullptr) {
    throw StreamsException(
        fmt::format("store '{}' registered itself outside of its init", store.name()));
  }
  if (registering_->restore) {
    throw StreamsException(fmt::format("store '{}' registered twice", store.name()));
  }
  registering_->restore = std::move(restore);
  registering_->registered = &store;
}

void StateManager::log_change(const std::string& store, ByteView key,
                              std::optional<ByteView> value) {
  Entry& e = entry(store);
  if (e.changelog.empty()) return;
  collector_.send(e.changelog, key, value, options_.record_timestamp(), no_headers_,
                  options_.partition);
}

void StateManager::flush() {
  std::exception_ptr first;
  for (Entry& e : entries_) {
    try {
      if (e.store) e.store->flush();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void StateManager::checkpoint() {
  if (!lock_) return;
  for (Entry& e : entries_) {
    if (!e.factory->persistent) continue;
    if (!e.changelog.empty()) {
      if (std::optional<std::int64_t> written =
              collector_.written_offset(e.changelog, options_.partition)) {
        if (!e.position || *written > *e.position) e.position = written;
      }
    }
    if (e.database != nullptr) e.database->commit(e.changelog.empty() ? std::nullopt : e.position);
  }
  if (!options_.exactly_once) write_checkpoint(committed_positions());
}

void StateManager::close(bool clean) {
  if (closed_) return;
  closed_ = true;
  std::exception_ptr first;
  // A dirty close drops what the record caches hold instead of writing it below. Under
  // exactly-once so does a clean one: the stream thread committed just before, and whatever a
  // flush would write now would belong to no transaction.
  if ((!clean || options_.exactly_once) && options_.cache != nullptr) {
    options_.cache->close_task(options_.task);
  }
  if (clean && initialized_) {
    try {
      if (options_.exactly_once) {
        write_checkpoint(committed_positions());
      } else {
        flush();
        checkpoint();
      }
    } catch (...) {
      first = std::current_exception();
    }
  }
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    try {
      if (it->store && it->store->is_open()) it->store->close();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  entries_.clear();
  lock_.reset();
  if (first) std::rethrow_exception(first);
}

std::map<std::string, std::int64_t> StateManager::committed_positions() const {
  std::map<std::string, std::int64_t> offsets;
  for (const Entry& e : entries_) {
    if (e.changelog.empty() || !e.factory->persistent || !e.position) continue;
    offsets[fmt::format("{} {}", e.changelog, options_.partition)] = *e.position;
  }
  return offsets;
}

std::map<std::string, std::int64_t> StateManager::read_checkpoint() {
  std::map<std::string, std::int64_t> offsets;
  std::ifstream in(checkpoint_file());
  if (!in) return offsets;
  int version = -1;
  std::size_t count = 0;
  in >> version >> count;
  bool ok = static_cast<bool>(in) && version == 0;
  for (std::size_t i = 0; ok && i < count; ++i) {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    in >> topic >> partition >> offset;
    if (!in) {
      ok = false;
      break;
    }
    offsets[fmt::format("{} {}", topic, partition)] = offset;
  }
  if (!ok) {
    // A damaged checkpoint only costs a full restore.
    if (options_.logger) {
      options_.logger->warn("task {}: ignoring the unreadable checkpoint {}",
                            options_.task.to_string(), checkpoint_file().string());
    }
    offsets.clear();
  }
  return offsets;
}

void StateManager::write_checkpoint(const std::map<std::string, std::int64_t>& offsets) {
  const std::filesystem::path file = checkpoint_file();
  const std::filesystem::path temp = dir_ / ".checkpoint.tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << 0 << '\n' << offsets.size() << '\n';
    for (const auto& [topic_partition, offset] : offsets) {
      out << topic_partition << ' ' << offset << '\n';
    }
    out.flush();
    if (!out) {
      throw StreamsException(fmt::format("cannot write the checkpoint {}", temp.string()));
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, file, error);
  if (error) {
    throw StreamsException(
        fmt::format("cannot write the checkpoint {}: {}", file.string(), error.message()));
  }
}

}  // namespace rivulet::state
