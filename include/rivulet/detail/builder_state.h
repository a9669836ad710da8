// Internal: what a StreamsBuilder and the streams it hands out share. Not API.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include <rivulet/errors.h>
#include <rivulet/topology.h>

namespace rivulet::detail {

struct BuilderState {
  Topology topology;
  int index = 0;
  bool built = false;
  // `default.dsl.store` of the config given to the builder: DSL stores without a supplier or
  // store type are kept in memory instead of in RocksDB.
  bool in_memory_dsl_stores = false;

  // "<prefix><index, ten digits>", Kafka Streams' scheme for generated names.
  std::string new_name(std::string_view prefix) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%010d", index++);
    return std::string(prefix) + digits;
  }
  std::string name_or_generate(const std::string& given, std::string_view prefix) {
    return given.empty() ? new_name(prefix) : given;
  }
  Topology& open_topology() {
    if (built)
      throw TopologyException("the StreamsBuilder was already built; streams of it cannot change");
    return topology;
  }
};

}  // namespace rivulet::detail
