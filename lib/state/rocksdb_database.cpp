#include "state/rocksdb_database.h"

#include <algorithm>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <rivulet/errors.h>

#include "state/rocksdb_resources.h"

namespace rivulet::state {

namespace {

// Never a null pointer, even for empty bytes: RocksDB asserts on that.
rocksdb::Slice slice(ByteView bytes) {
  if (bytes.empty()) return {"", 0};
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Bytes to_bytes(const rocksdb::Slice& s) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(s.data());
  return Bytes(data, data + s.size());
}

[[noreturn]] void fail(const std::string& store, const std::string& what,
                       const rocksdb::Status& status) {
  throw StreamsException("RocksDB store '" + store + "': " + what +
                         " failed: " + status.ToString());
}

void check(const std::string& store, const std::string& what, const rocksdb::Status& status) {
  if (!status.ok()) fail(store, what, status);
}

class RocksDbIterator final : public BytesMap::Iterator {
 public:
  RocksDbIterator(std::string store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle,
                  const KeyBounds& bounds, bool forward)
      : store_(std::move(store)), forward_(forward) {
    rocksdb::ReadOptions options;
    if (bounds.lower) {
      lower_ = *bounds.lower;
      lower_slice_ = slice(lower_);
      options.iterate_lower_bound = &lower_slice_;
    }
    if (bounds.upper) {
      upper_ = *bounds.upper;
      if (bounds.upper_inclusive) upper_.push_back(0);  // the next key after it: exclusive
      upper_slice_ = slice(upper_);
      options.iterate_upper_bound = &upper_slice_;
    }
    iterator_.reset(db->NewIterator(options, handle));
    if (forward_) {
      iterator_->SeekToFirst();
    } else {
      iterator_->SeekToLast();
    }
  }

  bool has_next() override {
    if (iterator_->Valid()) return true;
    check(store_, "iteration", iterator_->status());
    return false;
  }

  KeyValue<Bytes, Bytes> next() override {
    KeyValue<Bytes, Bytes> entry{to_bytes(iterator_->key()), to_bytes(iterator_->value())};
    if (forward_) {
      iterator_->Next();
    } else {
      iterator_->Prev();
    }
    return entry;
  }

 private:
  std::string store_;
  bool forward_;
  Bytes lower_;
  Bytes upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> iterator_;  // last: destroyed before the bounds it reads
};

// Buffered writes over a RocksDB iterator: a buffered key hides the database's entry, and a
// buffered delete hides it altogether. The buffer's part is copied when the iterator is created,
// so that later writes change neither part.
class BufferedIterator final : public BytesMap::Iterator {
 public:
  using Entry = std::pair<Bytes, std::optional<Bytes>>;

  BufferedIterator(std::unique_ptr<BytesMap::Iterator> base, std::vector<Entry> buffered,
                   bool forward)
      : base_(std::move(base)), buffered_(std::move(buffered)), forward_(forward) {}

  bool has_next() override {
    settle();
    return head_.has_value();
  }

  KeyValue<Bytes, Bytes> next() override {
    settle();
    KeyValue<Bytes, Bytes> entry = std::move(*head_);
    head_.reset();
    return entry;
  }

 private:
  // Finds the next visible entry, unless one is in hand.
  void settle() {
    while (!head_) {
      if (!base_head_ && base_->has_next()) base_head_ = base_->next();
      const bool have_buffered = next_ < buffered_.size();
      if (!base_head_ && !have_buffered) return;
      int order = 0;  // < 0: the base entry comes first
      if (!base_head_) {
        order = 1;
      } else if (!have_buffered) {
        order = -1;
      } else {
        order = compare_bytes(base_head_->key, buffered_[next_].first);
        if (!forward_) order = -order;
      }
      if (order < 0) {
        head_ = std::move(base_head_);
        base_head_.reset();
        continue;
      }
      if (order == 0) base_head_.reset();  // the buffered write replaces it
      Entry& entry = buffered_[next_++];
      if (entry.second) head_ = KeyValue<Bytes, Bytes>{std::move(entry.first), *entry.second};
    }
  }

  std::unique_ptr<BytesMap::Iterator> base_;
  std::vector<Entry> buffered_;
  bool forward_;
  std::size_t next_ = 0;
  std::optional<KeyValue<Bytes, Bytes>> base_head_;
  std::optional<KeyValue<Bytes, Bytes>> head_;
};

constexpr const char* kCommittedFamily = "rivulet-committed";
constexpr std::string_view kOffsetKey = "changelog-offset";

}  // namespace

RocksDbColumnFamily::RocksDbColumnFamily(std::string store, rocksdb::DB* db,
                                         rocksdb::ColumnFamilyHandle* handle, const bool* buffering)
    : store_(std::move(store)), db_(db), handle_(handle), buffering_(buffering) {}

RocksDbColumnFamily::~RocksDbColumnFamily() {
  db_->DestroyColumnFamilyHandle(handle_);
}

std::optional<Bytes> RocksDbColumnFamily::get(ByteView key) {
  if (!buffered_.empty()) {
    if (auto found = buffered_.find(key); found != buffered_.end()) return found->second;
  }
  rocksdb::PinnableSlice value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), handle_, slice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  check(store_, "get", status);
  return to_bytes(value);
}

void RocksDbColumnFamily::put(ByteView key, std::optional<ByteView> value) {
  if (*buffering_) {
    std::optional<Bytes> copy;
    if (value) copy.emplace(value->begin(), value->end());
    buffered_.insert_or_assign(Bytes(key.begin(), key.end()), std::move(copy));
    return;
  }
  const rocksdb::Status status =
      value ? db_->Put(rocksdb::WriteOptions(), handle_, slice(key), slice(*value))
            : db_->Delete(rocksdb::WriteOptions(), handle_, slice(key));
  check(store_, value ? "put" : "delete", status);
}

void RocksDbColumnFamily::write(std::span<const BytesWrite> writes) {
  if (*buffering_) {
    for (const BytesWrite& w : writes) put(w.key, w.value);
    return;
  }
  rocksdb::WriteBatch batch;
  for (const BytesWrite& w : writes) {
    const rocksdb::Status status = w.value ? batch.Put(handle_, slice(w.key), slice(*w.value))
                                           : batch.Delete(handle_, slice(w.key));
    check(store_, "batch", status);
  }
  check(store_, "write", db_->Write(rocksdb::WriteOptions(), &batch));
}

std::unique_ptr<BytesMap::Iterator> RocksDbColumnFamily::range(const KeyBounds& bounds,
                                                               bool forward) {
  auto base = std::make_unique<RocksDbIterator>(store_, db_, handle_, bounds, forward);
  if (buffered_.empty()) return base;
  auto first = bounds.lower ? buffered_.lower_bound(*bounds.lower) : buffered_.begin();
  auto last = buffered_.end();
  if (bounds.upper) {
    last = bounds.upper_inclusive ? buffered_.upper_bound(*bounds.upper)
                                  : buffered_.lower_bound(*bounds.upper);
  }
  std::vector<BufferedIterator::Entry> entries;
  if (first != buffered_.end() &&
      (last == buffered_.end() || BytesLess()(first->first, last->first))) {
    entries.assign(first, last);
  }
  if (entries.empty()) return base;
  if (!forward) std::reverse(entries.begin(), entries.end());
  return std::make_unique<BufferedIterator>(std::move(base), std::move(entries), forward);
}

void RocksDbColumnFamily::append_buffered(rocksdb::WriteBatch& batch) const {
  for (const auto& [key, value] : buffered_) {
    const rocksdb::Status status =
        value ? batch.Put(handle_, slice(key), slice(*value)) : batch.Delete(handle_, slice(key));
    check(store_, "batch", status);
  }
}

std::uint64_t RocksDbColumnFamily::approximate_num_entries() {
  std::uint64_t keys = 0;
  if (!db_->GetIntProperty(handle_, rocksdb::DB::Properties::kEstimateNumKeys, &keys)) keys = 0;
  return keys + buffered_.size();  // an estimate: buffered keys may exist already or be deletes
}

RocksDbDatabase::RocksDbDatabase(std::string store, std::filesystem::path path,
                                 RocksDbResources* resources)
    : store_(std::move(store)), path_(std::move(path)), resources_(resources) {
  rocksdb::DBOptions db_options;
  column_family_options_ = std::make_unique<rocksdb::ColumnFamilyOptions>();
  database_options(resources_, db_options, *column_family_options_);

  std::error_code error;
  std::filesystem::create_directories(path_, error);
  if (error) {
    throw StreamsException("RocksDB store '" + store_ + "': cannot create its directory " +
                           path_.string() + ": " + error.message());
  }
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(db_options, path_.string(), &names).ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // a new database
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const std::string& name : names) descriptors.emplace_back(name, *column_family_options_);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status =
      rocksdb::DB::Open(db_options, path_.string(), descriptors, &handles, &db);
  if (!status.ok()) {
    std::string hint;
    if (status.ToString().find("lock") != std::string::npos) {
      hint =
          " (is it open already, by another store of this process or by another process "
          "with the same state.dir?)";
    }
    throw StreamsException("Cannot open RocksDB store '" + store_ + "' at " + path_.string() +
                           ": " + status.ToString() + hint);
  }
  db_.reset(db);
  for (std::size_t i = 0; i < names.size(); ++i) {
    column_families_[names[i]] =
        std::make_shared<RocksDbColumnFamily>(store_, db, handles[i], &buffering_);
  }
  if (resources_ != nullptr) resources_->attach(db);
}

RocksDbDatabase::~RocksDbDatabase() {
  try {
    close();
  } catch (const StreamsException&) {
    // A store that did not close cleanly has nothing better to do in a destructor.
  }
}

std::vector<std::string> RocksDbDatabase::column_family_names() const {
  std::vector<std::string> names;
  for (const auto& [name, family] : column_families_) {
    if (name != rocksdb::kDefaultColumnFamilyName && name != kCommittedFamily) {
      names.push_back(name);
    }
  }
  return names;
}

std::shared_ptr<RocksDbColumnFamily> RocksDbDatabase::default_column_family() {
  return column_families_.at(rocksdb::kDefaultColumnFamilyName);
}

std::shared_ptr<RocksDbColumnFamily> RocksDbDatabase::column_family(const std::string& name) {
  auto found = column_families_.find(name);
  if (found != column_families_.end()) return found->second;
  if (auto dropped = pending_drops_.find(name); dropped != pending_drops_.end()) {
    // Dropped and wanted again before the commit: drop the old one for real first.
    check(store_, "dropping column family " + name,
          db_->DropColumnFamily(dropped->second->handle()));
    pending_drops_.erase(dropped);
  }
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  check(store_, "creating column family " + name,
        db_->CreateColumnFamily(*column_family_options_, name, &handle));
  auto family = std::make_shared<RocksDbColumnFamily>(store_, db_.get(), handle, &buffering_);
  column_families_.emplace(name, family);
  return family;
}

void RocksDbDatabase::drop_column_family(const std::string& name) {
  const auto found = column_families_.find(name);
  if (found == column_families_.end()) return;
  if (buffering_) {
    // Dropped at the commit: an abort must find the segment as it was.
    found->second->clear_buffered();
    pending_drops_.insert(*found);
  } else {
    check(store_, "dropping column family " + name, db_->DropColumnFamily(found->second->handle()));
  }
  column_families_.erase(found);
}

std::optional<std::int64_t> RocksDbDatabase::committed_offset() {
  const auto found = column_families_.find(kCommittedFamily);
  if (found == column_families_.end()) return std::nullopt;
  rocksdb::PinnableSlice value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), found->second->handle(), kOffsetKey, &value);
  if (status.IsNotFound()) return std::nullopt;
  check(store_, "reading the committed offset", status);
  if (value.size() != 8) {
    throw StreamsException("RocksDB store '" + store_ + "': the committed changelog offset has " +
                           std::to_string(value.size()) + " bytes instead of 8");
  }
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    offset = (offset << 8) | static_cast<std::uint8_t>(value.data()[i]);
  }
  return static_cast<std::int64_t>(offset);
}

void RocksDbDatabase::commit(std::optional<std::int64_t> changelog_offset) {
  if (!db_) return;
  rocksdb::WriteBatch batch;
  for (const auto& [name, family] : column_families_) family->append_buffered(batch);
  if (changelog_offset) {
    const auto family = column_family(kCommittedFamily);
    char bytes[8];
    auto offset = static_cast<std::uint64_t>(*changelog_offset);
    for (int i = 7; i >= 0; --i) {
      bytes[i] = static_cast<char>(offset & 0xff);
      offset >>= 8;
    }
    check(store_, "batch", batch.Put(family->handle(), kOffsetKey, rocksdb::Slice(bytes, 8)));
  }
  if (batch.Count() > 0) check(store_, "commit", db_->Write(rocksdb::WriteOptions(), &batch));
  for (const auto& [name, family] : column_families_) family->clear_buffered();
  for (const auto& [name, family] : pending_drops_) {
    check(store_, "dropping column family " + name, db_->DropColumnFamily(family->handle()));
  }
  pending_drops_.clear();
  flush_wal();
}

void RocksDbDatabase::discard() {
  for (const auto& [name, family] : column_families_) family->clear_buffered();
  pending_drops_.clear();
}

std::size_t RocksDbDatabase::buffered_writes() const {
  std::size_t writes = 0;
  for (const auto& [name, family] : column_families_) writes += family->buffered();
  return writes;
}

std::uint64_t RocksDbDatabase::int_property(const std::string& property) const {
  if (!db_) return 0;
  std::uint64_t total = 0;
  for (const auto& [name, family] : column_families_) {
    if (name == kCommittedFamily) continue;
    std::uint64_t value = 0;
    if (db_->GetIntProperty(family->handle(), property, &value)) total += value;
  }
  return total;
}

void RocksDbDatabase::flush_wal() {
  if (db_) check(store_, "flushing the WAL", db_->FlushWAL(false));
}

void RocksDbDatabase::close() {
  if (!db_) return;
  column_families_.clear();  // with what they buffered: only a commit writes it
  pending_drops_.clear();
  if (resources_ != nullptr) resources_->detach(db_.get());
  const rocksdb::Status status = db_->Close();
  db_.reset();
  check(store_, "close", status);
}

}  // namespace rivulet::state
