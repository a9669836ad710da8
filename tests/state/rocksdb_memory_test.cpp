// The RocksDB memory budget: stores sharing RocksDbResources stay within it, whatever they write.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/write_buffer_manager.h>

#include "state/bytes_stores.h"
#include "state/rocksdb_resources.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using testing_support::TempDir;
using testing_support::TestStoreContext;

constexpr std::uint64_t kMiB = 1024 * 1024;

// ~100 MiB of incompressible values through four stores (two key-value, a window and a session
// store) under an 8 MiB budget, then random reads that fill the block cache. memory_usage(),
// sampled all along, must stay within the budget plus 10%. The slack: the cache's capacity is the
// budget, but it is not strict (RocksDB's recommended setting: an insert never fails), so pinned
// entries (index and filter blocks of level-0 files, the memtable charges of the write buffer
// manager, in 256 KiB units) may push it over by a little before the next eviction, and the
// table readers' memory outside the cache is counted on top.
TEST(RocksDbMemoryTest, StoresStayWithinTheBudget) {
  constexpr std::uint64_t kBudget = 8 * kMiB;
  auto resources = state::make_rocksdb_resources(kBudget, "");
  TempDir dir;
  TestStoreContext context(dir.path(), resources.get());

  auto kv1 = state::make_rocksdb_key_value_store("kv1");
  auto kv2 = state::make_rocksdb_key_value_store("kv2");
  auto windows = state::make_rocksdb_window_store("windows", 3'600'000, 60'000, false, 600'000);
  auto sessions = state::make_rocksdb_session_store("sessions", 3'600'000, 600'000);
  kv1->init(context);
  kv2->init(context);
  windows->init(context);
  sessions->init(context);

  std::mt19937_64 random(42);
  Bytes value(4096);
  auto randomize = [&] {
    for (std::size_t i = 0; i < value.size(); i += 8) {
      const std::uint64_t r = random();
      std::copy_n(reinterpret_cast<const std::uint8_t*>(&r), 8,
                  value.begin() + static_cast<std::ptrdiff_t>(i));
    }
  };
  auto key = [](int i) { return to_bytes("key-" + std::to_string(i)); };

  std::uint64_t peak = 0;
  std::uint64_t peak_memtables = 0;
  auto sample = [&] {
    peak = std::max(peak, resources->memory_usage());
    peak_memtables =
        std::max<std::uint64_t>(peak_memtables, resources->write_buffer_manager->memory_usage());
  };
  constexpr int kWrites = 100 * 256;  // 4 KiB each: 100 MiB
  for (int i = 0; i < kWrites; ++i) {
    randomize();
    switch (i % 4) {
      case 0:
        kv1->put(key(i), value);
        break;
      case 1:
        kv2->put(key(i % 2000), value);
        break;  // overwrites
      case 2:
        windows->put(key(i % 500), value, std::int64_t{i} * 100);
        break;
      default:
        sessions->put(key(i % 500), std::int64_t{i} * 100, std::int64_t{i} * 100 + 50, value);
    }
    if (i % 64 == 0) sample();
  }
  for (int i = 0; i < 5000; ++i) {
    kv1->get(key(static_cast<int>(random() % kWrites) / 4 * 4));
    kv2->get(key(static_cast<int>(random() % 2000)));
    if (i % 64 == 0) sample();
  }
  sample();
  std::printf("peak memory_usage: %.2f MiB of an %.0f MiB budget (memtables: %.2f MiB at most)\n",
              static_cast<double>(peak) / kMiB, static_cast<double>(kBudget) / kMiB,
              static_cast<double>(peak_memtables) / kMiB);
  EXPECT_LE(peak, kBudget + kBudget / 10);
  // Memtables (a third of the budget for the write buffer manager) stay near their share even
  // though this loop writes faster than RocksDB flushes: flushes wait, memtables do not pile up.
  EXPECT_LE(peak_memtables, kBudget * 5 / 8);
  EXPECT_GT(peak, kBudget / 2);  // the reads filled the cache: the measure is real

  kv1->close();
  kv2->close();
  windows->close();
  sessions->close();
}

}  // namespace
}  // namespace rivulet
