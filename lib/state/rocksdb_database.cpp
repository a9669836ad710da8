#include "state/rocksdb_database.h"

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

}  // namespace

RocksDbColumnFamily::RocksDbColumnFamily(std::string store, rocksdb::DB* db,
                                         rocksdb::ColumnFamilyHandle* handle)
    : store_(std::move(store)), db_(db), handle_(handle) {}

RocksDbColumnFamily::~RocksDbColumnFamily() {
  db_->DestroyColumnFamilyHandle(handle_);
}

std::optional<Bytes> RocksDbColumnFamily::get(ByteView key) {
  rocksdb::PinnableSlice value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), handle_, slice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  check(store_, "get", status);
  return to_bytes(value);
}

void RocksDbColumnFamily::put(ByteView key, std::optional<ByteView> value) {
  const rocksdb::Status status =
      value ? db_->Put(rocksdb::WriteOptions(), handle_, slice(key), slice(*value))
            : db_->Delete(rocksdb::WriteOptions(), handle_, slice(key));
  check(store_, value ? "put" : "delete", status);
}

void RocksDbColumnFamily::write(std::span<const BytesWrite> writes) {
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
  return std::make_unique<RocksDbIterator>(store_, db_, handle_, bounds, forward);
}

std::uint64_t RocksDbColumnFamily::approximate_num_entries() {
  std::uint64_t keys = 0;
  if (!db_->GetIntProperty(handle_, rocksdb::DB::Properties::kEstimateNumKeys, &keys)) return 0;
  return keys;
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
    column_families_[names[i]] = std::make_shared<RocksDbColumnFamily>(store_, db, handles[i]);
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
    if (name != rocksdb::kDefaultColumnFamilyName) names.push_back(name);
  }
  return names;
}

std::shared_ptr<RocksDbColumnFamily> RocksDbDatabase::default_column_family() {
  return column_families_.at(rocksdb::kDefaultColumnFamilyName);
}

std::shared_ptr<RocksDbColumnFamily> RocksDbDatabase::column_family(const std::string& name) {
  auto found = column_families_.find(name);
  if (found != column_families_.end()) return found->second;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  check(store_, "creating column family " + name,
        db_->CreateColumnFamily(*column_family_options_, name, &handle));
  auto family = std::make_shared<RocksDbColumnFamily>(store_, db_.get(), handle);
  column_families_.emplace(name, family);
  return family;
}

void RocksDbDatabase::drop_column_family(const std::string& name) {
  const auto found = column_families_.find(name);
  if (found == column_families_.end()) return;
  check(store_, "dropping column family " + name, db_->DropColumnFamily(found->second->handle()));
  column_families_.erase(found);
}

void RocksDbDatabase::flush_wal() {
  if (db_) check(store_, "flushing the WAL", db_->FlushWAL(false));
}

void RocksDbDatabase::close() {
  if (!db_) return;
  column_families_.clear();
  if (resources_ != nullptr) resources_->detach(db_.get());
  const rocksdb::Status status = db_->Close();
  db_.reset();
  check(store_, "close", status);
}

}  // namespace rivulet::state
