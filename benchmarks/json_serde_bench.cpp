// Which JSON library for JsonSerde: nlohmann-json, RapidJSON or simdjson, by measurement.
//
// Each benchmark converts one vehicle telemetry record per iteration (a struct of 8 fields, about
// 170 bytes of JSON), cycling through 1024 distinct records so that branch prediction and caches
// see realistic variety. Time per iteration is time per record.
//
//   Nlohmann_*     rivulet::JsonSerde<Telemetry>, the shipped serde (nlohmann DOM + get<T>)
//   RapidJson_*    hand-written mapping: Writer into a StringBuffer; parsing with a Document (DOM,
//                  stack-buffer allocator) or with the SAX Reader straight into the struct
//   Simdjson_*     ondemand parsing into the struct. simdjson 3.0 (Debian bookworm) cannot write
//                  JSON, so it has no serialize side. librdkafka payloads are not padded, so each
//                  record is first copied into a padded buffer (as a real serde would have to).
//
// Every variant does what a serde must: checks field types, rejects missing fields and trailing
// bytes, keeps doubles exact (RapidJSON needs kParseFullPrecisionFlag for that), and fills a
// caller-owned Bytes. Each benchmark checks its result against the source record before timing.
//
// Run: build-serde/benchmarks/rivulet_json_serde_bench (build in Release or RelWithDebInfo).
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <rivulet/serdes.h>

#if RIVULET_BENCH_HAVE_RAPIDJSON
#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#endif

#if RIVULET_BENCH_HAVE_SIMDJSON
#include <simdjson.h>
#endif

namespace bench {

struct Telemetry {
  std::string vehicle_id;
  std::int64_t timestamp = 0;
  double speed = 0;
  double engine_temp = 0;
  double lat = 0;
  double lon = 0;
  std::int32_t rpm = 0;
  std::string status;

  friend bool operator==(const Telemetry&, const Telemetry&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Telemetry, vehicle_id, timestamp, speed, engine_temp, lat, lon,
                                   rpm, status)

constexpr std::size_t kRecordCount = 1024;  // a power of two, cycled with a mask
constexpr std::string_view kTopic = "vehicle-telemetry";

// Deterministic, varied records: ids, statuses and numbers of realistic magnitude and precision.
const std::vector<Telemetry>& records() {
  static const std::vector<Telemetry> all = [] {
    std::vector<Telemetry> result;
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    auto next = [&state] {
      state ^= state << 13U;
      state ^= state >> 7U;
      state ^= state << 17U;
      return state;
    };
    auto uniform = [&next](double low, double high) {
      return low + (high - low) * static_cast<double>(next() >> 11U) * 0x1.0p-53;
    };
    const char* statuses[] = {"DRIVING", "IDLE", "PARKED", "CHARGING", "MAINTENANCE"};
    for (std::size_t i = 0; i < kRecordCount; ++i) {
      Telemetry t;
      t.vehicle_id = "VH-" + std::to_string(100000 + next() % 900000);
      t.timestamp = 1'718'035'200'000 + static_cast<std::int64_t>(i * 250 + next() % 250);
      t.speed = static_cast<double>(static_cast<std::int64_t>(uniform(0, 180) * 100)) / 100;
      t.engine_temp = uniform(60, 120);
      t.lat = uniform(-90, 90);
      t.lon = uniform(-180, 180);
      t.rpm = static_cast<std::int32_t>(600 + next() % 6000);
      t.status = statuses[next() % 5];
      result.push_back(std::move(t));
    }
    return result;
  }();
  return all;
}

// The records as JSON, written by the shipped serde.
const std::vector<rivulet::Bytes>& encoded() {
  static const std::vector<rivulet::Bytes> all = [] {
    std::vector<rivulet::Bytes> result;
    for (const Telemetry& t : records()) {
      rivulet::Bytes bytes;
      rivulet::JsonSerde<Telemetry>{}.serialize(kTopic, t, bytes);
      result.push_back(std::move(bytes));
    }
    return result;
  }();
  return all;
}

void report(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  std::size_t total = 0;
  for (const auto& bytes : encoded()) total += bytes.size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(total / encoded().size()));
}

// Checks that `serialize` writes JSON that reads back as the record.
template <class Serialize>
bool serializes_correctly(Serialize serialize) {
  rivulet::Bytes out;
  for (const Telemetry& t : records()) {
    serialize(t, out);
    if (rivulet::JsonSerde<Telemetry>{}.deserialize(kTopic, out) != t) return false;
  }
  return true;
}

// Checks that `deserialize` reads every encoded record back exactly.
template <class Deserialize>
bool deserializes_correctly(Deserialize deserialize) {
  for (std::size_t i = 0; i < kRecordCount; ++i) {
    Telemetry t;
    if (!deserialize(rivulet::ByteView(encoded()[i]), t) || t != records()[i]) return false;
  }
  // Missing field, wrong type and trailing bytes must fail.
  Telemetry t;
  for (
      std::string_view bad :
      {R"({"vehicle_id":"v"})",
       R"({"vehicle_id":"v","timestamp":"x","speed":1,"engine_temp":1,"lat":1,"lon":1,"rpm":1,"status":"s"})",
       R"({"vehicle_id":"v","timestamp":1,"speed":1,"engine_temp":1,"lat":1,"lon":1,"rpm":1,"status":"s"} x)"}) {
    const rivulet::Bytes bytes = rivulet::to_bytes(bad);
    if (deserialize(rivulet::ByteView(bytes), t)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// (a) nlohmann-json through rivulet::JsonSerde.

void Nlohmann_Serialize(benchmark::State& state) {
  const rivulet::JsonSerde<Telemetry> serde;
  if (!serializes_correctly(
          [&](const Telemetry& t, rivulet::Bytes& out) { serde.serialize(kTopic, t, out); })) {
    state.SkipWithError("wrong output");
    return;
  }
  rivulet::Bytes out;
  std::size_t i = 0;
  for (auto _ : state) {
    serde.serialize(kTopic, records()[i++ & (kRecordCount - 1)], out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state);
}
BENCHMARK(Nlohmann_Serialize);

void Nlohmann_Deserialize(benchmark::State& state) {
  const rivulet::JsonSerde<Telemetry> serde;
  if (!deserializes_correctly([&](rivulet::ByteView data, Telemetry& t) {
        try {
          t = serde.deserialize(kTopic, data);
          return true;
        } catch (const rivulet::SerializationException&) {
          return false;
        }
      })) {
    state.SkipWithError("wrong result");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Telemetry t = serde.deserialize(kTopic, encoded()[i++ & (kRecordCount - 1)]);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}
BENCHMARK(Nlohmann_Deserialize);

// The parts of Nlohmann_Serialize: building the DOM and dumping it, without the copy into Bytes.
void Nlohmann_SerializeDumpOnly(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    std::string text = nlohmann::json(records()[i++ & (kRecordCount - 1)]).dump();
    benchmark::DoNotOptimize(text.data());
  }
  report(state);
}
BENCHMARK(Nlohmann_SerializeDumpOnly);

// The parse half of Nlohmann_Deserialize: the DOM alone, without get<Telemetry>().
void Nlohmann_ParseDomOnly(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const rivulet::Bytes& data = encoded()[i++ & (kRecordCount - 1)];
    nlohmann::json json = nlohmann::json::parse(data.data(), data.data() + data.size());
    benchmark::DoNotOptimize(json);
  }
  report(state);
}
BENCHMARK(Nlohmann_ParseDomOnly);

// ---------------------------------------------------------------------------------------------
// (b) RapidJSON, hand-mapped.

#if RIVULET_BENCH_HAVE_RAPIDJSON

void rapidjson_serialize(const Telemetry& t, rivulet::Bytes& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("vehicle_id");
  writer.String(t.vehicle_id.data(), static_cast<rapidjson::SizeType>(t.vehicle_id.size()));
  writer.Key("timestamp");
  writer.Int64(t.timestamp);
  writer.Key("speed");
  writer.Double(t.speed);
  writer.Key("engine_temp");
  writer.Double(t.engine_temp);
  writer.Key("lat");
  writer.Double(t.lat);
  writer.Key("lon");
  writer.Double(t.lon);
  writer.Key("rpm");
  writer.Int(t.rpm);
  writer.Key("status");
  writer.String(t.status.data(), static_cast<rapidjson::SizeType>(t.status.size()));
  writer.EndObject();
  const auto* first = reinterpret_cast<const std::uint8_t*>(buffer.GetString());
  out.assign(first, first + buffer.GetSize());
}

void RapidJson_Serialize(benchmark::State& state) {
  if (!serializes_correctly(rapidjson_serialize)) {
    state.SkipWithError("wrong output");
    return;
  }
  rivulet::Bytes out;
  std::size_t i = 0;
  for (auto _ : state) {
    rapidjson_serialize(records()[i++ & (kRecordCount - 1)], out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state);
}
BENCHMARK(RapidJson_Serialize);

constexpr unsigned kRapidJsonParseFlags = rapidjson::kParseFullPrecisionFlag;

template <class Value>
bool get_string(const Value& object, const char* name, std::string& out) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return false;
  out.assign(member->value.GetString(), member->value.GetStringLength());
  return true;
}
template <class Value>
bool get_double(const Value& object, const char* name, double& out) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsNumber()) return false;
  out = member->value.GetDouble();
  return true;
}

bool rapidjson_document_deserialize(rivulet::ByteView data, Telemetry& t) {
  // A stack buffer serves the DOM of a small record without touching the heap.
  char value_buffer[4096];
  char parse_buffer[1024];
  rapidjson::MemoryPoolAllocator<> value_allocator(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_allocator(parse_buffer, sizeof parse_buffer);
  using PooledDocument =
      rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                 rapidjson::MemoryPoolAllocator<>>;
  PooledDocument document(&value_allocator, sizeof parse_buffer, &parse_allocator);
  document.Parse<kRapidJsonParseFlags>(reinterpret_cast<const char*>(data.data()), data.size());
  if (document.HasParseError() || !document.IsObject()) return false;
  const auto timestamp = document.FindMember("timestamp");
  if (timestamp == document.MemberEnd() || !timestamp->value.IsInt64()) return false;
  t.timestamp = timestamp->value.GetInt64();
  const auto rpm = document.FindMember("rpm");
  if (rpm == document.MemberEnd() || !rpm->value.IsInt()) return false;
  t.rpm = rpm->value.GetInt();
  return get_string(document, "vehicle_id", t.vehicle_id) &&
         get_string(document, "status", t.status) && get_double(document, "speed", t.speed) &&
         get_double(document, "engine_temp", t.engine_temp) && get_double(document, "lat", t.lat) &&
         get_double(document, "lon", t.lon);
}

void RapidJson_DeserializeDocument(benchmark::State& state) {
  if (!deserializes_correctly(rapidjson_document_deserialize)) {
    state.SkipWithError("wrong result");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Telemetry t;
    const bool ok = rapidjson_document_deserialize(encoded()[i++ & (kRecordCount - 1)], t);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}
BENCHMARK(RapidJson_DeserializeDocument);

// SAX: the Reader calls back per token; the handler writes the field named by the last key.
class TelemetryHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TelemetryHandler> {
 public:
  explicit TelemetryHandler(Telemetry& t) : t_(t) {}

  bool StartObject() { return depth_++ == 0; }
  bool EndObject(rapidjson::SizeType /*members*/) {
    --depth_;
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    const std::string_view key(text, length);
    field_ = kNone;
    for (int f = 0; f < kFieldCount; ++f) {
      if (key == kNames[f]) field_ = f;
    }
    return true;  // unknown keys are skipped, as nlohmann does
  }
  bool String(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    if (field_ == kVehicleId) {
      t_.vehicle_id.assign(text, length);
    } else if (field_ == kStatus) {
      t_.status.assign(text, length);
    } else if (field_ != kNone) {
      return false;
    }
    return seen(field_);
  }
  bool Int(int value) { return Int64(value); }
  bool Uint(unsigned value) { return Int64(value); }
  bool Uint64(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Double(static_cast<double>(value));
    }
    return Int64(static_cast<std::int64_t>(value));
  }
  bool Int64(std::int64_t value) {
    if (field_ == kTimestamp) {
      t_.timestamp = value;
    } else if (field_ == kRpm) {
      if (value < std::numeric_limits<std::int32_t>::min() ||
          value > std::numeric_limits<std::int32_t>::max()) {
        return false;
      }
      t_.rpm = static_cast<std::int32_t>(value);
    } else {
      return Double(static_cast<double>(value));
    }
    return seen(field_);
  }
  bool Double(double value) {
    switch (field_) {
      case kSpeed:
        t_.speed = value;
        break;
      case kEngineTemp:
        t_.engine_temp = value;
        break;
      case kLat:
        t_.lat = value;
        break;
      case kLon:
        t_.lon = value;
        break;
      case kNone:
        return true;
      default:
        return false;
    }
    return seen(field_);
  }
  // Anything else (null, bool, arrays, nested objects) is the wrong type for a known field.
  bool Default() { return field_ == kNone && depth_ == 1; }

  bool complete() const { return seen_ == (1U << kFieldCount) - 1; }

 private:
  enum Field { kNone = -1, kVehicleId, kTimestamp, kSpeed, kEngineTemp, kLat, kLon, kRpm, kStatus };
  static constexpr int kFieldCount = 8;
  static constexpr std::string_view kNames[kFieldCount] = {
      "vehicle_id", "timestamp", "speed", "engine_temp", "lat", "lon", "rpm", "status"};

  bool seen(int field) {
    if (field != kNone) seen_ |= 1U << static_cast<unsigned>(field);
    return true;
  }

  Telemetry& t_;
  int field_ = kNone;
  int depth_ = 0;
  unsigned seen_ = 0;
};

bool rapidjson_reader_deserialize(rivulet::ByteView data, Telemetry& t) {
  rapidjson::MemoryStream stream(reinterpret_cast<const char*>(data.data()), data.size());
  TelemetryHandler handler(t);
  rapidjson::Reader reader;
  const rapidjson::ParseResult result = reader.Parse<kRapidJsonParseFlags>(stream, handler);
  return !result.IsError() && handler.complete();
}

void RapidJson_DeserializeReader(benchmark::State& state) {
  if (!deserializes_correctly(rapidjson_reader_deserialize)) {
    state.SkipWithError("wrong result");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Telemetry t;
    const bool ok = rapidjson_reader_deserialize(encoded()[i++ & (kRecordCount - 1)], t);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}
BENCHMARK(RapidJson_DeserializeReader);

#endif  // RIVULET_BENCH_HAVE_RAPIDJSON

// ---------------------------------------------------------------------------------------------
// (c) simdjson ondemand (parse side only).

#if RIVULET_BENCH_HAVE_SIMDJSON

// Maps one member of a telemetry object; the same code serves simdjson's On Demand values and DOM
// elements, whose accessors have the same shape. Returns false on a type error.
template <class Value>
bool read_telemetry_field(std::string_view key, Value value, Telemetry& t, unsigned& seen) {
  std::string_view text;
  if (key == "vehicle_id") {
    if (value.get_string().get(text)) return false;
    t.vehicle_id.assign(text);
    seen |= 1U;
  } else if (key == "timestamp") {
    if (value.get_int64().get(t.timestamp)) return false;
    seen |= 2U;
  } else if (key == "speed") {
    if (value.get_double().get(t.speed)) return false;
    seen |= 4U;
  } else if (key == "engine_temp") {
    if (value.get_double().get(t.engine_temp)) return false;
    seen |= 8U;
  } else if (key == "lat") {
    if (value.get_double().get(t.lat)) return false;
    seen |= 16U;
  } else if (key == "lon") {
    if (value.get_double().get(t.lon)) return false;
    seen |= 32U;
  } else if (key == "rpm") {
    std::int64_t rpm = 0;
    if (value.get_int64().get(rpm) || rpm < std::numeric_limits<std::int32_t>::min() ||
        rpm > std::numeric_limits<std::int32_t>::max()) {
      return false;
    }
    t.rpm = static_cast<std::int32_t>(rpm);
    seen |= 64U;
  } else if (key == "status") {
    if (value.get_string().get(text)) return false;
    t.status.assign(text);
    seen |= 128U;
  }
  return true;
}

bool simdjson_deserialize(rivulet::ByteView data, Telemetry& t) {
  // A parser and a padded buffer per thread: a serde is shared by stream threads and const.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  if (padded.size() < data.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(data.size() + simdjson::SIMDJSON_PADDING);
  }
  if (!data.empty()) std::memcpy(padded.data(), data.data(), data.size());

  simdjson::ondemand::document document;
  if (parser.iterate(padded.data(), data.size(), padded.size()).get(document)) return false;
  simdjson::ondemand::object object;
  if (document.get_object().get(object)) return false;
  unsigned seen = 0;
  for (auto member : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(member).get(field) || field.unescaped_key().get(key)) return false;
    simdjson::ondemand::value value = field.value();
    if (!read_telemetry_field(key, std::move(value), t, seen)) return false;
  }
  // Past the object there must be nothing left: the iterator is out of bounds.
  const char* location = nullptr;
  return seen == 255U && document.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

#define RIVULET_BENCH_STRINGIFY2(x) #x
#define RIVULET_BENCH_STRINGIFY(x) RIVULET_BENCH_STRINGIFY2(x)

// On Demand runs the implementation chosen at compile time: "fallback" (no SIMD) unless the
// translation unit is built for a CPU with SSE4.2 / AVX2 (-march=...).
void Simdjson_DeserializeOndemand(benchmark::State& state) {
  state.SetLabel("builtin=" RIVULET_BENCH_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  if (!deserializes_correctly(simdjson_deserialize)) {
    state.SkipWithError("wrong result");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Telemetry t;
    const bool ok = simdjson_deserialize(encoded()[i++ & (kRecordCount - 1)], t);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}
BENCHMARK(Simdjson_DeserializeOndemand);

// The DOM front end picks its kernel at run time (haswell, westmere, ...), so it uses SIMD even
// in a portable build. It validates the whole document and copies the input into a padded buffer.
bool simdjson_dom_deserialize(rivulet::ByteView data, Telemetry& t) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(data.data(), data.size(), true).get(document)) return false;
  simdjson::dom::object object;
  if (document.get_object().get(object)) return false;
  unsigned seen = 0;
  for (const simdjson::dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    const simdjson::dom::element value = member.value;
    if (!read_telemetry_field(key, std::move(value), t, seen)) return false;
  }
  return seen == 255U;
}

void Simdjson_DeserializeDom(benchmark::State& state) {
  state.SetLabel("active=" + simdjson::get_active_implementation()->name());
  if (!deserializes_correctly(simdjson_dom_deserialize)) {
    state.SkipWithError("wrong result");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Telemetry t;
    const bool ok = simdjson_dom_deserialize(encoded()[i++ & (kRecordCount - 1)], t);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}
BENCHMARK(Simdjson_DeserializeDom);

#endif  // RIVULET_BENCH_HAVE_SIMDJSON

}  // namespace bench

BENCHMARK_MAIN();
