// Helpers shared by the foundation suites (dsl, topology, runtime, testing): processors built from
// lambdas, serdes that count or fail, and exception-message capture.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/key_value.h>
#include <rivulet/processor.h>
#include <rivulet/record.h>
#include <rivulet/serdes.h>
#include <rivulet/testing/topology_test_driver.h>

namespace rivulet::test {

// A processor whose `init`, `process` and `close` are lambdas. `process` receives the context
// given to `init`, so it can forward.
template <class KIn, class VIn, class KOut = Void, class VOut = Void>
class FnProcessor final : public Processor<KIn, VIn, KOut, VOut> {
 public:
  using Context = ProcessorContext<KOut, VOut>;
  using ProcessFn = std::function<void(Context&, Record<KIn, VIn>)>;
  using InitFn = std::function<void(Context&)>;
  using CloseFn = std::function<void()>;

  explicit FnProcessor(ProcessFn process, InitFn init = {}, CloseFn close = {})
      : process_(std::move(process)), init_(std::move(init)), close_(std::move(close)) {}

  void init(Context& context) override {
    context_ = &context;
    if (init_) init_(context);
  }
  void process(Record<KIn, VIn> record) override { process_(*context_, std::move(record)); }
  void close() override {
    if (close_) close_();
  }

 private:
  ProcessFn process_;
  InitFn init_;
  CloseFn close_;
  Context* context_ = nullptr;
};

// A supplier of FnProcessor: each call returns a new instance sharing the same lambdas.
template <class KIn, class VIn, class KOut = Void, class VOut = Void>
auto fn_supplier(typename FnProcessor<KIn, VIn, KOut, VOut>::ProcessFn process,
                 typename FnProcessor<KIn, VIn, KOut, VOut>::InitFn init = {},
                 typename FnProcessor<KIn, VIn, KOut, VOut>::CloseFn close = {}) {
  return [process, init, close]() {
    return std::make_unique<FnProcessor<KIn, VIn, KOut, VOut>>(process, init, close);
  };
}

// A supplier of a processor forwarding every record unchanged to all its children.
template <class K, class V>
auto forward_all_supplier() {
  return fn_supplier<K, V, K, V>([](ProcessorContext<K, V>& context, Record<K, V> record) {
    context.forward(std::move(record));
  });
}

// How many times a CountingStringSerde was asked to serialize and deserialize. Shared by copies.
struct SerdeCalls {
  std::atomic<int> serialize{0};
  std::atomic<int> deserialize{0};
};

// StringSerde that counts its calls in a shared SerdeCalls.
class CountingStringSerde {
 public:
  explicit CountingStringSerde(std::shared_ptr<SerdeCalls> calls) : calls_(std::move(calls)) {}
  void serialize(std::string_view topic, const std::string& value, Bytes& out) const {
    ++calls_->serialize;
    StringSerde{}.serialize(topic, value, out);
  }
  std::string deserialize(std::string_view topic, ByteView data) const {
    ++calls_->deserialize;
    return StringSerde{}.deserialize(topic, data);
  }

 private:
  std::shared_ptr<SerdeCalls> calls_;
};

// StringSerde whose `serialize` throws SerializationException for the value "poison".
class PoisonStringSerde {
 public:
  void serialize(std::string_view topic, const std::string& value, Bytes& out) const {
    if (value == "poison") throw SerializationException("cannot serialize poison");
    StringSerde{}.serialize(topic, value, out);
  }
  std::string deserialize(std::string_view topic, ByteView data) const {
    return StringSerde{}.deserialize(topic, data);
  }
};

// Runs `action`, which must throw `E`, and returns the exception's message ("" and a test
// failure when it throws nothing or something else).
template <class E, class F>
std::string message_of(F&& action) {
  try {
    std::forward<F>(action)();
  } catch (const E& error) {
    return error.what();
  } catch (const std::exception& other) {
    ADD_FAILURE() << "expected a different exception type, got: " << other.what();
    return {};
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return {};
}

// The value of the last header with `key` as text, or nullopt when absent (or null).
inline std::optional<std::string> header_text(const Headers& headers, std::string_view key) {
  const Header* header = headers.last_header(key);
  if (header == nullptr || !header->value) return std::nullopt;
  return to_string(*header->value);
}

// Strings where the empty string stands for Kafka's null, so that null values reach operators as
// the developer guide's tables have them.
struct EmptyIsNullSerde {
  void serialize(std::string_view topic, const std::string& value, Bytes& out) const {
    serdes::string().serialize(topic, value, out);
  }
  std::string deserialize(std::string_view topic, ByteView data) const {
    return serdes::string().deserialize(topic, data);
  }
  bool is_null(const std::string& value) const { return value.empty(); }
  std::string null_value(std::string_view /*topic*/) const { return {}; }
};

}  // namespace rivulet::test

// Readable gtest output for the value types the suites compare.
namespace rivulet {
template <class K, class V>
void PrintTo(const KeyValue<K, V>& kv, std::ostream* os) {
  *os << "{" << ::testing::PrintToString(kv.key) << ", " << ::testing::PrintToString(kv.value)
      << "}";
}
inline void PrintTo(const Headers& headers, std::ostream* os) {
  *os << "[";
  bool first = true;
  for (const Header& header : headers) {
    if (!first) *os << ", ";
    first = false;
    *os << header.key << "=";
    if (header.value) {
      *os << '"' << to_string(*header.value) << '"';
    } else {
      *os << "null";
    }
  }
  *os << "]";
}
namespace testing {
template <class K, class V>
void PrintTo(const TestRecord<K, V>& record, std::ostream* os) {
  *os << "{key " << ::testing::PrintToString(record.key) << ", value "
      << ::testing::PrintToString(record.value) << ", ts "
      << ::testing::PrintToString(record.timestamp) << ", headers ";
  PrintTo(record.headers, os);
  *os << "}";
}
}  // namespace testing
}  // namespace rivulet
