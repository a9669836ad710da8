// Start-up checks against the cluster and the creation of internal topics.
//
// Before its threads start, an instance checks that every source topic exists (Kafka Streams'
// MissingSourceTopicException), that the topics a sub-topology reads together have equal
// partition counts (co-partitioning, which the range assignor relies on), and creates the
// repartition topics, `<application.id>-<name>`, with as many partitions as the sub-topology
// that writes them reads (or the count the topology gives). Every failure throws
// StreamsException with a message naming the topics and the counts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace rivulet::runtime {

struct RuntimeContext;

// Runs the checks and creates the internal topics. Returns the partition count of every source
// and internal topic (Kafka names).
std::map<std::string, std::int32_t> prepare_topics(const RuntimeContext& context);

}  // namespace rivulet::runtime
