#include "runtime/stream_task.h"

#include <algorithm>
#include <numeric>
#include <typeinfo>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <rivulet/detail/type_name.h>
#include <rivulet/errors.h>

#include "kafka/client.h"
#include "metrics/local_histogram.h"

namespace rivulet::runtime {

namespace {
// One record in this many is timed for the process latency histogram: two clock reads per record
// cost about 2% of a pass-through thread's CPU, a sample of one in eight a quarter of that
// (docs/benchmarks.md, "Metrics").
constexpr std::uint64_t kLatencySampleEvery = 8;

// The smallest `start + k * interval` (k >= 1) strictly after `now`: punctuations that were
// missed while time jumped ahead are skipped, not fired in a burst (as Kafka Streams does).
std::int64_t next_after(std::int64_t start, std::int64_t interval, std::int64_t now) {
  std::int64_t next = start + interval;
  if (now >= next) next += interval * ((now - next) / interval + 1);
  return next;
}
}  // namespace

StreamTask::StreamTask(TaskId id, std::unique_ptr<detail::ProcessorGraph> graph,
                       TaskSettings settings, detail::RecordCollector& collector, Clock wall_clock,
                       std::shared_ptr<spdlog::logger> logger, TaskStateOptions state)
    : id_(id),
      graph_(std::move(graph)),
      settings_(std::move(settings)),
      collector_(collector),
      wall_clock_(std::move(wall_clock)),
      logger_(std::move(logger)) {
  for (std::size_t i = 0; i < graph_->source_topics().size(); ++i) {
    const std::string& topic = graph_->source_topics()[i];
    detail::SourceNodeBase* source = graph_->source_for(topic);
    inputs_.push_back(Input{topic, source, source->make_slot()});
  }
  if (!graph_->stores().empty()) {
    state::StateManager::Options options;
    options.application_id = settings_.application_id;
    options.task = id_;
    options.partition = id_.partition;
    options.directory = state.directory;
    options.rocksdb = state.rocksdb;
    options.cache = state.cache;
    options.exactly_once = state.exactly_once;
    options.record_timestamp = [this] { return record_timestamp_; };
    options.logger = logger_;
    state_ =
        std::make_unique<state::StateManager>(std::move(options), graph_->stores(), collector_);
  }
}

StreamTask::~StreamTask() {
  if (!closed_) {
    try {
      close();
    } catch (const std::exception& error) {
      logger_->error("task {}: error while closing: {}", id_.to_string(), error.what());
    }
  }
}

bool StreamTask::initialize_state() {
  if (!state_) return true;
  if (!state_->try_lock()) return false;
  state_->initialize();
  return true;
}

void StreamTask::initialize() {
  if (!initialize_state()) {
    throw StreamsException(
        fmt::format("task {}: the state directory is locked by another instance", id_.to_string()));
  }
  processors_initialized_ = true;
  graph_->init(*this);
}

void StreamTask::flush_state() {
  if (!state_) return;
  metadata_.reset();
  record_timestamp_ = stream_time_;
  state_->flush();
}

void StreamTask::checkpoint_state() {
  if (state_) state_->checkpoint();
}

void StreamTask::close(bool clean) {
  if (closed_) return;
  closed_ = true;
  std::exception_ptr first;
  try {
    if (processors_initialized_) graph_->close();
  } catch (...) {
    first = std::current_exception();
  }
  if (state_) {
    try {
      metadata_.reset();
      record_timestamp_ = stream_time_;
      state_->close(clean && !first);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

StateStore& StreamTask::state_store(const detail::ProcessorNode& node, std::string_view name) {
  if (!graph_->connected(node, name)) {
    throw StreamsException(
        fmt::format("processor '{}' has no access to state store '{}': connect it with "
                    "Topology::add_state_store or connect_processor_and_state_stores",
                    node.name(), name));
  }
  StateStore* store = state_ ? state_->store(name) : nullptr;
  if (store == nullptr) {
    throw StreamsException(
        fmt::format("task {}: state store '{}' is not open", id_.to_string(), name));
  }
  return *store;
}

std::size_t StreamTask::input_index(std::string_view topic) const {
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].topic == topic) return i;
  }
  throw StreamsException(fmt::format("task {} does not read topic '{}'", id_.to_string(), topic));
}

bool StreamTask::process(const detail::RawRecord& raw) {
  const std::size_t input = input_index(raw.topic);
  if (!prepare(input, raw)) return false;
  process_prepared(input, raw);
  return true;
}

namespace {
// Points the task at the record in hand (for handlers and record metadata) for one call.
struct CurrentRecord {
  const detail::RawRecord*& slot;
  CurrentRecord(const detail::RawRecord*& current, const detail::RawRecord& raw) : slot(current) {
    slot = &raw;
  }
  ~CurrentRecord() { slot = nullptr; }
  CurrentRecord(const CurrentRecord&) = delete;
  CurrentRecord& operator=(const CurrentRecord&) = delete;
};
}  // namespace

void StreamTask::set_metadata(const detail::RawRecord& raw) {
  // Assigned in place: the topic's string keeps its buffer from record to record.
  if (!metadata_) metadata_.emplace();
  metadata_->topic.assign(raw.topic);
  metadata_->partition = raw.partition;
  metadata_->offset = raw.offset;
}

std::optional<std::int64_t> StreamTask::prepare(std::size_t index, const detail::RawRecord& raw) {
  Input& input = inputs_[index];
  set_metadata(raw);
  CurrentRecord current(current_raw_, raw);
  std::optional<std::int64_t> timestamp =
      input.source->deserialize(raw, input.partition_time, *input.slot);
  if (timestamp) {
    input.partition_time = std::max(input.partition_time, *timestamp);
    input.head_timestamp = *timestamp;
  }
  return timestamp;
}

void StreamTask::process_prepared(std::size_t index, const detail::RawRecord& raw) {
  Input& input = inputs_[index];
  set_metadata(raw);
  CurrentRecord current(current_raw_, raw);
  stream_time_ = std::max(stream_time_, input.partition_time);
  record_timestamp_ = input.head_timestamp;
  if (process_latency_ != nullptr && ++latency_sample_ % kLatencySampleEvery == 0) {
    const auto start = std::chrono::steady_clock::now();
    input.source->process_slot(*input.slot);
    process_latency_->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } else {
    input.source->process_slot(*input.slot);
  }
  ++metrics_.records_processed;
}

Cancellable StreamTask::schedule(detail::ProcessorNode& node, std::chrono::milliseconds interval,
                                 PunctuationType type, Punctuator punctuator) {
  if (interval.count() < 1) {
    throw StreamsException(
        fmt::format("processor '{}' scheduled a punctuation every {} ms: the "
                    "interval must be at least 1 ms",
                    node.name(), interval.count()));
  }
  auto cancelled = std::make_shared<bool>(false);
  // Stream time punctuations are aligned to 0 and fire as soon as there is data; wall-clock ones
  // fire one interval after scheduling.
  const std::int64_t next =
      type == PunctuationType::stream_time ? 0 : wall_clock_() + interval.count();
  schedules_.push_back(
      Schedule{&node, interval.count(), type, next, std::move(punctuator), cancelled});
  return Cancellable(cancelled);
}

int StreamTask::maybe_punctuate_stream_time() {
  if (stream_time_ < 0) return 0;
  return punctuate(PunctuationType::stream_time, stream_time_);
}

int StreamTask::maybe_punctuate_system_time() {
  return punctuate(PunctuationType::wall_clock_time, wall_clock_());
}

int StreamTask::punctuate(PunctuationType type, std::int64_t now) {
  std::erase_if(schedules_, [](const Schedule& s) { return *s.cancelled; });
  // Due schedules fire in order of their due time (ties in order of scheduling), once each.
  std::vector<std::size_t> due;
  for (std::size_t i = 0; i < schedules_.size(); ++i) {
    if (schedules_[i].type == type && schedules_[i].next <= now) due.push_back(i);
  }
  std::stable_sort(due.begin(), due.end(), [&](std::size_t a, std::size_t b) {
    return schedules_[a].next < schedules_[b].next;
  });
  int fired = 0;
  for (std::size_t i : due) {
    // Copy what is needed: a punctuator may schedule more, which can reallocate schedules_.
    Schedule& schedule = schedules_[i];
    if (*schedule.cancelled) continue;
    schedule.next = next_after(schedule.next, schedule.interval, now);
    detail::ProcessorNode* node = schedule.node;
    Punctuator punctuator = schedule.punctuator;
    metadata_.reset();
    record_timestamp_ = now;
    ++metrics_.punctuations;
    ++fired;
    try {
      punctuator(now);
    } catch (const ProcessingFailedException&) {
      throw;
    } catch (const std::exception& error) {
      on_processing_error(*node, error);
    }
  }
  return fired;
}

std::int64_t StreamTask::default_timestamp(const detail::RawRecord& raw,
                                           std::int64_t partition_time) {
  switch (settings_.timestamp_policy) {
    case detail::TimestampPolicy::wall_clock:
      return wall_clock_();
    case detail::TimestampPolicy::log_and_skip_on_invalid:
      return raw.timestamp;
    case detail::TimestampPolicy::use_previous_on_invalid:
      if (raw.timestamp >= 0) return raw.timestamp;
      if (partition_time >= 0) return partition_time;
      throw ProcessingFailedException(fmt::format(
          "task {}: record at {}-{} offset {} has an invalid (negative) timestamp {} and no "
          "earlier record of the partition gives a time to use instead",
          id_.to_string(), raw.topic, raw.partition, raw.offset, raw.timestamp));
    case detail::TimestampPolicy::fail_on_invalid:
      break;
  }
  if (raw.timestamp < 0) {
    throw ProcessingFailedException(fmt::format(
        "task {}: record at {}-{} offset {} has an invalid (negative) timestamp {}. Set "
        "default.timestamp.extractor to log_and_skip_on_invalid_timestamp or "
        "use_previous_on_invalid_timestamp, or give the source a timestamp extractor",
        id_.to_string(), raw.topic, raw.partition, raw.offset, raw.timestamp));
  }
  return raw.timestamp;
}

std::string StreamTask::describe_origin() const {
  if (!metadata_) return "in a punctuation";
  return fmt::format("on record {}-{} offset {}", metadata_->topic, metadata_->partition,
                     metadata_->offset);
}

void StreamTask::dead_letter(const detail::RawRecord& raw, const std::exception& error) {
  if (settings_.dead_letter_topic.empty()) return;
  Headers headers = raw.headers != nullptr ? *raw.headers : Headers{};
  headers.add("__streams.errors.exception", detail::type_name(typeid(error)))
      .add("__streams.errors.message", std::string_view(error.what()))
      .add("__streams.errors.topic", raw.topic)
      .add("__streams.errors.partition", std::to_string(raw.partition))
      .add("__streams.errors.offset", std::to_string(raw.offset));
  collector_.send(settings_.dead_letter_topic, raw.key, raw.value, raw.timestamp, headers,
                  std::nullopt);
  ++metrics_.dead_lettered;
}

void StreamTask::on_deserialization_error(const detail::ProcessorNode& source,
                                          const detail::RawRecord& raw,
                                          const std::exception& error) {
  const std::string where =
      fmt::format("task {}, source '{}', record {}-{} offset {}", id_.to_string(), source.name(),
                  raw.topic, raw.partition, raw.offset);
  if (settings_.on_deserialization_error == ErrorAction::fail) {
    throw ProcessingFailedException(
        fmt::format("deserialization failed ({}): {}. default.deserialization.exception.handler is "
                    "log_and_fail; set it to log_and_continue to skip such records",
                    where, error.what()));
  }
  ++metrics_.deserialization_errors;
  logger_->warn("skipping record that failed to deserialize ({}): {}", where, error.what());
  dead_letter(raw, error);
}

void StreamTask::on_invalid_timestamp(const detail::ProcessorNode& source,
                                      const detail::RawRecord& raw, std::int64_t extracted) {
  ++metrics_.invalid_timestamps;
  logger_->warn(
      "task {}: source '{}' dropped record {}-{} offset {}: invalid extracted timestamp {}",
      id_.to_string(), source.name(), raw.topic, raw.partition, raw.offset, extracted);
}

void StreamTask::on_processing_error(const detail::ProcessorNode& node,
                                     const std::exception& error) {
  // A broken transaction or a fenced producer is no record's fault: no handler applies, the
  // stream thread goes back to the last commit (exactly-once) or dies.
  if (const auto* kafka_error = dynamic_cast<const kafka::KafkaException*>(&error);
      kafka_error != nullptr && (kafka_error->fatal() || kafka_error->abortable())) {
    throw kafka::KafkaException(*kafka_error);
  }
  const std::string where =
      fmt::format("task {}, processor '{}', {}", id_.to_string(), node.name(), describe_origin());
  if (settings_.on_processing_error == ErrorAction::fail) {
    throw ProcessingFailedException(fmt::format(
        "processing failed ({}): {}. processing.exception.handler is log_and_fail; set it to "
        "log_and_continue to skip such records",
        where, error.what()));
  }
  ++metrics_.processing_errors;
  logger_->warn("skipping record that failed in processing ({}): {}", where, error.what());
  if (current_raw_ != nullptr) dead_letter(*current_raw_, error);
}

void StreamTask::on_production_error(const detail::ProcessorNode& sink, std::string_view topic,
                                     const std::exception& error) {
  const std::string where = fmt::format("task {}, sink '{}', topic '{}', {}", id_.to_string(),
                                        sink.name(), topic, describe_origin());
  if (settings_.on_production_error == ErrorAction::fail) {
    throw ProcessingFailedException(fmt::format(
        "producing an output record failed ({}): {}. default.production.exception.handler is "
        "fail; set it to continue to skip such records",
        where, error.what()));
  }
  ++metrics_.production_errors;
  logger_->warn("skipping output record that could not be produced ({}): {}", where, error.what());
  if (current_raw_ != nullptr) dead_letter(*current_raw_, error);
}

void StreamTask::on_late_record(const detail::ProcessorNode& node, std::int64_t timestamp,
                                std::int64_t window_close) {
  ++metrics_.late_records_dropped;
  if (auto found = late_by_processor_.find(node.name()); found != late_by_processor_.end()) {
    ++found->second;
  } else {
    late_by_processor_.emplace(node.name(), 1);
  }
  logger_->debug(
      "task {}, processor '{}': dropping a late record ({}) with timestamp {}: its "
      "window closed at stream time {}",
      id_.to_string(), node.name(), describe_origin(), timestamp, window_close);
  if (settings_.dead_letter_late_records && current_raw_ != nullptr) {
    dead_letter(*current_raw_, StreamsException(fmt::format(
                                   "late record: timestamp {} is behind the window close time {} "
                                   "of processor '{}'",
                                   timestamp, window_close, node.name())));
  }
}

void StreamTask::on_dropped_record(const detail::ProcessorNode& node, std::string_view reason) {
  ++metrics_.dropped_records;
  logger_->debug("task {}, processor '{}': dropping a record ({}): {}", id_.to_string(),
                 node.name(), describe_origin(), reason);
}

}  // namespace rivulet::runtime
