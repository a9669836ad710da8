// What librdkafka knows about its configuration properties.
//
// Values are checked by setting them on a scratch rd_kafka_conf_t, so librdkafka's own rules and
// messages apply. The list of property names and which clients they apply to (for suggestions and
// routing) comes from rd_kafka_conf_properties_show(), read once into a const table.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "config/config_internal.h"

namespace rivulet::config_detail {
namespace {

struct PropertyTable {
  std::map<std::string, ClientScope, std::less<>> scopes;
  std::vector<std::string> names;  // sorted
};

// Parses the Markdown tables of rd_kafka_conf_properties_show():
//   name | C/P | range | default | importance | description
PropertyTable read_property_table() {
  PropertyTable table;
  char* buffer = nullptr;
  std::size_t size = 0;
  FILE* stream = open_memstream(&buffer, &size);
  if (stream == nullptr) return table;
  rd_kafka_conf_properties_show(stream);
  std::fclose(stream);
  const std::unique_ptr<char, decltype(&std::free)> owner(buffer, &std::free);

  std::istringstream lines(std::string(buffer, size));
  std::string line;
  while (std::getline(lines, line)) {
    const auto first_bar = line.find('|');
    if (first_bar == std::string::npos) continue;
    const auto second_bar = line.find('|', first_bar + 1);
    if (second_bar == std::string::npos) continue;
    const std::string_view text(line);
    const auto name = trim(text.substr(0, first_bar));
    const auto scope = trim(text.substr(first_bar + 1, second_bar - first_bar - 1));
    if (name.empty() || name == "Property" || name.front() == '-') continue;
    ClientScope client_scope = ClientScope::any;
    if (scope == "C") {
      client_scope = ClientScope::consumer;
    } else if (scope == "P") {
      client_scope = ClientScope::producer;
    } else if (scope != "*") {
      continue;
    }
    table.scopes.emplace(std::string(name), client_scope);
  }
  for (const auto& [name, scope] : table.scopes) table.names.push_back(name);
  return table;
}

const PropertyTable& property_table() {
  static const PropertyTable table = read_property_table();
  return table;
}

}  // namespace

LibrdkafkaCheck check_librdkafka_property(const std::string& name, const std::string& value) {
  const std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(
      rd_kafka_conf_new(), &rd_kafka_conf_destroy);
  char error[512] = "";
  const rd_kafka_conf_res_t result =
      rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error);
  switch (result) {
    case RD_KAFKA_CONF_OK:
      return {};
    case RD_KAFKA_CONF_UNKNOWN:
      return {LibrdkafkaCheck::Result::unknown, error};
    case RD_KAFKA_CONF_INVALID:
      break;
  }
  return {LibrdkafkaCheck::Result::invalid, error};
}

bool is_librdkafka_property(const std::string& name) {
  if (property_table().scopes.contains(name)) return true;
  // Hidden properties are settable but not listed.
  return check_librdkafka_property(name, "").result != LibrdkafkaCheck::Result::unknown;
}

std::optional<ClientScope> librdkafka_scope(std::string_view name) {
  const auto& scopes = property_table().scopes;
  const auto found = scopes.find(name);
  if (found == scopes.end()) return std::nullopt;
  return found->second;
}

std::span<const std::string> librdkafka_property_names() {
  return property_table().names;
}

}  // namespace rivulet::config_detail
