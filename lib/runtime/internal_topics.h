// Start-up checks against the cluster and the creation of internal topics.
//
// Before its threads start, an instance checks that every source topic exists (Kafka Streams'
// MissingSourceTopicException), that the topics a sub-topology reads together have equal
// partition counts (co-partitioning, which the range assignor relies on), and creates the
// repartition topics, `<application.id>-<name>`, with as many partitions as the sub-topology
// that writes them reads (or the count the topology gives), and the stores' changelogs,
// `<application.id>-<store>-changelog`, with one partition per task of the store's sub-topology
// (compacted; windowed stores' changelogs also delete after the retention plus a day). Every
// failure throws StreamsException with a message naming the topics and the counts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "kafka/client.h"

namespace rivulet::detail {
struct StoreFactory;
}

namespace rivulet::runtime {

struct RuntimeContext;

// The changelog topic of `store` (name, cleanup policy, retention, configs); partitions unset.
kafka::NewTopic changelog_topic(const RuntimeContext& context, const detail::StoreFactory& store);

// Runs the checks and creates the internal topics. Returns the partition count of every source
// and internal topic (Kafka names).
std::map<std::string, std::int32_t> prepare_topics(const RuntimeContext& context);

}  // namespace rivulet::runtime
