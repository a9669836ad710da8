// The identity of a stream task: one sub-topology bound to one partition number of its sources.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace rivulet {

struct TaskId {
  std::int32_t subtopology = 0;
  std::int32_t partition = 0;

  // "<subtopology>_<partition>", as Kafka Streams prints task ids.
  std::string to_string() const {
    return std::to_string(subtopology) + "_" + std::to_string(partition);
  }
  friend auto operator<=>(const TaskId&, const TaskId&) = default;
};

}  // namespace rivulet
