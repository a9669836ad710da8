#include "runtime/internal_topics.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

#include "kafka/client.h"
#include "runtime/host_registry.h"
#include "runtime/stream_thread.h"
#include "topology/topology_impl.h"

namespace rivulet::runtime {

namespace {

std::string describe_counts(const std::vector<std::string>& topics,
                            const std::map<std::string, std::int32_t>& counts) {
  std::vector<std::string> parts;
  for (const std::string& topic : topics) {
    parts.push_back(fmt::format("'{}' ({} partitions)", topic, counts.at(topic)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

kafka::NewTopic changelog_topic(const RuntimeContext& context, const detail::StoreFactory& store) {
  // Windowed stores forget old windows, so their changelogs may too: compact plus delete, kept
  // for the store's retention and a day more (Kafka Streams'
  // windowstore.changelog.additional.retention.ms default).
  constexpr std::int64_t kAdditionalRetentionMs = 24 * 60 * 60 * 1000;
  kafka::NewTopic topic;
  topic.name = detail::TopologyImpl::changelog_topic(context.application_id, store.name);
  topic.replication_factor = context.config.replication_factor();
  if (store.kind == StoreKind::key_value) {
    topic.configs = {{"cleanup.policy", "compact"}};
  } else {
    topic.configs = {
        {"cleanup.policy", "compact,delete"},
        {"retention.ms", std::to_string(store.retention_period + kAdditionalRetentionMs)}};
  }
  for (const auto& [key, value] : context.config.internal_topic_configs()) {
    topic.configs[key] = value;
  }
  for (const auto& [key, value] : store.log_config) topic.configs[key] = value;
  return topic;
}

std::map<std::string, std::int32_t> prepare_topics(const RuntimeContext& context) {
  const detail::TopologyImpl& topology = *context.topology;
  const std::string& app = context.application_id;
  const auto timeout = context.config.default_api_timeout();
  std::unique_ptr<kafka::Admin> admin = context.clients->admin(context.config.admin_configs());

  std::vector<std::string> internal;  // Kafka names
  for (const auto& [name, partitions] : topology.internal_topics()) {
    internal.push_back(topology.resolve_topic(app, name));
  }
  std::vector<std::string> wanted = context.source_topics;
  wanted.insert(wanted.end(), internal.begin(), internal.end());
  std::map<std::string, std::int32_t> counts = admin->describe_topics(wanted, timeout);

  std::vector<std::string> missing;
  for (const std::string& topic : context.source_topics) {
    const bool is_internal = std::find(internal.begin(), internal.end(), topic) != internal.end();
    if (!is_internal && counts.count(topic) == 0) missing.push_back(topic);
  }
  if (!missing.empty()) {
    throw StreamsException(fmt::format(
        "missing source topic(s) {}: application '{}' reads them, but they do not exist on the "
        "cluster. Create them first (Kafka Streams fails the same way, with "
        "MissingSourceTopicException)",
        fmt::join(missing, ", "), app));
  }

  // Partition counts of the repartition topics: as given, else that of the sub-topology writing
  // them (the largest of its inputs), resolved in rounds since one may feed another. Then, as
  // Kafka Streams' co-partitioning does, a repartition topic read together with other topics
  // takes their count: that of the user's topics the same sub-topology reads (the largest), else
  // the largest among the repartition topics read there. Such fixed counts can change what
  // downstream sub-topologies write, so the two steps repeat until nothing changes.
  const std::vector<detail::SubtopologyInfo> subtopologies = topology.subtopologies();
  std::map<std::string, std::int32_t> fixed;  // internal topic -> partitions, given or enforced
  std::set<std::string> given;
  for (const auto& [name, partitions] : topology.internal_topics()) {
    if (partitions > 0) {
      fixed[topology.resolve_topic(app, name)] = partitions;
      given.insert(topology.resolve_topic(app, name));
    }
  }
  std::map<std::string, std::int32_t> needed;  // internal topic -> partitions
  // Each repartition topic is read by one sub-topology, so each is fixed at most once per
  // count it can take; the bound only guards against a mistake here looping forever.
  std::size_t rounds = 0;
  for (bool enforced = true; enforced; ++rounds) {
    if (rounds > subtopologies.size() + 1) {
      throw StreamsException("the partition counts of the repartition topics do not settle");
    }
    needed = fixed;
    for (bool changed = true; changed;) {
      changed = false;
      for (const detail::SubtopologyInfo& sub : subtopologies) {
        std::int32_t inputs = 0;
        bool known = true;
        for (const std::string& topic : sub.source_topics) {
          const std::string name = topology.resolve_topic(app, topic);
          const bool is_internal = topology.is_internal_topic(topic);
          auto found = is_internal ? needed.find(name) : counts.find(name);
          if (found == (is_internal ? needed.end() : counts.end())) {
            known = false;
            break;
          }
          inputs = std::max(inputs, found->second);
        }
        if (!known) continue;
        for (const std::string& topic : sub.sink_topics) {
          if (!topology.is_internal_topic(topic)) continue;
          const std::string name = topology.resolve_topic(app, topic);
          if (needed.count(name) == 0) {
            needed[name] = inputs;
            changed = true;
          }
        }
      }
    }
    enforced = false;
    for (const detail::SubtopologyInfo& sub : subtopologies) {
      std::int32_t external = 0;
      std::int32_t largest_internal = 0;
      std::vector<std::string> adjustable;
      for (const std::string& topic : sub.source_topics) {
        const std::string name = topology.resolve_topic(app, topic);
        if (!topology.is_internal_topic(topic)) {
          if (auto found = counts.find(name); found != counts.end()) {
            external = std::max(external, found->second);
          }
          continue;
        }
        if (auto found = needed.find(name); found != needed.end()) {
          largest_internal = std::max(largest_internal, found->second);
        }
        if (given.count(name) == 0) adjustable.push_back(name);
      }
      const std::int32_t target = external > 0 ? external : largest_internal;
      if (sub.source_topics.size() < 2 || target == 0) continue;
      for (const std::string& name : adjustable) {
        auto found = needed.find(name);
        if (found != needed.end() && found->second != target) {
          fixed[name] = target;
          enforced = true;
        }
      }
    }
  }

  std::vector<kafka::NewTopic> to_create;
  for (const std::string& name : internal) {
    auto found = needed.find(name);
    if (found == needed.end()) {
      throw StreamsException(fmt::format(
          "cannot tell how many partitions internal topic '{}' needs: no sub-topology with "
          "known inputs writes it; give the count in the topology",
          name));
    }
    auto existing = counts.find(name);
    if (existing != counts.end() && existing->second != found->second) {
      throw StreamsException(fmt::format(
          "internal topic '{}' exists with {} partitions, but the topology needs {}; delete it "
          "or reset the application",
          name, existing->second, found->second));
    }
    kafka::NewTopic topic;
    topic.name = name;
    topic.partitions = found->second;
    topic.replication_factor = context.config.replication_factor();
    topic.configs = {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}};
    for (const auto& [key, value] : context.config.internal_topic_configs()) {
      topic.configs[key] = value;
    }
    to_create.push_back(std::move(topic));
    counts[name] = found->second;
  }
  // Changelogs: one partition per task of the sub-topology that owns the store.
  std::vector<std::string> changelogs;
  for (const detail::SubtopologyInfo& sub : subtopologies) {
    std::int32_t tasks = 0;
    for (const std::string& topic : sub.source_topics) {
      const std::string name = topology.resolve_topic(app, topic);
      auto found = counts.find(name);
      if (found != counts.end()) tasks = std::max(tasks, found->second);
    }
    for (const std::string& store_name : sub.stores) {
      const detail::StoreFactory& store = *topology.find_store(store_name);
      if (!store.logging) continue;
      kafka::NewTopic topic = changelog_topic(context, store);
      topic.partitions = tasks;
      changelogs.push_back(topic.name);
      to_create.push_back(std::move(topic));
    }
  }
  if (!changelogs.empty()) {
    const std::map<std::string, std::int32_t> existing =
        admin->describe_topics(changelogs, timeout);
    for (const kafka::NewTopic& topic : to_create) {
      auto found = existing.find(topic.name);
      if (found != existing.end() && found->second != topic.partitions) {
        throw StreamsException(fmt::format(
            "changelog topic '{}' exists with {} partitions, but the topology has {} tasks for "
            "its store; delete it or reset the application",
            topic.name, found->second, topic.partitions));
      }
    }
  }
  // Interactive queries: the instances' hosts and tasks (runtime/host_registry.h).
  if (!context.config.application_server().empty()) {
    kafka::NewTopic topic;
    topic.name = hosts_topic(app);
    topic.partitions = 1;
    topic.replication_factor = context.config.replication_factor();
    topic.configs = {{"cleanup.policy", "compact"}};
    topic.any_partition_count = true;
    to_create.push_back(std::move(topic));
  }
  if (!to_create.empty()) admin->create_topics(to_create, timeout);

  // Co-partitioning: the topics one sub-topology reads go to the same task by partition number.
  for (const detail::SubtopologyInfo& sub : subtopologies) {
    std::vector<std::string> topics;
    for (const std::string& topic : sub.source_topics) {
      topics.push_back(topology.resolve_topic(app, topic));
    }
    std::set<std::int32_t> distinct;
    for (const std::string& topic : topics) distinct.insert(counts.at(topic));
    if (distinct.size() > 1) {
      throw StreamsException(fmt::format(
          "sub-topology {} reads {}, which must be co-partitioned: they need the same number of "
          "partitions (repartition one of them, or recreate it with a matching count)",
          sub.id, describe_counts(topics, counts)));
    }
  }
  context.logger->info(
      "start-up checks passed: {} source, {} repartition and {} changelog topic(s)",
      context.source_topics.size(), internal.size(), changelogs.size());
  return counts;
}

}  // namespace rivulet::runtime
