#include <rivulet/streams_config.h>

#include "runtime/stream_task.h"

namespace rivulet::runtime {

TaskSettings task_settings_from(const StreamsConfig& config, std::string application_id) {
  TaskSettings settings;
  settings.application_id = std::move(application_id);
  switch (config.default_timestamp_extractor()) {
    case TimestampExtractorKind::record:
      settings.timestamp_policy = detail::TimestampPolicy::fail_on_invalid;
      break;
    case TimestampExtractorKind::log_and_skip_on_invalid_timestamp:
      settings.timestamp_policy = detail::TimestampPolicy::log_and_skip_on_invalid;
      break;
    case TimestampExtractorKind::use_previous_on_invalid_timestamp:
      settings.timestamp_policy = detail::TimestampPolicy::use_previous_on_invalid;
      break;
    case TimestampExtractorKind::wall_clock:
      settings.timestamp_policy = detail::TimestampPolicy::wall_clock;
      break;
  }
  settings.on_deserialization_error =
      config.deserialization_handler() == DeserializationHandler::log_and_continue
          ? ErrorAction::skip
          : ErrorAction::fail;
  settings.on_processing_error = config.processing_handler() == ProcessingHandler::log_and_continue
                                     ? ErrorAction::skip
                                     : ErrorAction::fail;
  settings.on_production_error =
      config.production_handler() == ProductionHandler::continue_processing ? ErrorAction::skip
                                                                            : ErrorAction::fail;
  settings.dead_letter_topic = config.dead_letter_queue_topic().value_or("");
  settings.dead_letter_late_records = config.get_bool("errors.dead.letter.queue.late.records");
  return settings;
}

}  // namespace rivulet::runtime
