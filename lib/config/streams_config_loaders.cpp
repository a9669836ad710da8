// StreamsConfig loaders: YAML text and files, and environment variables.
//
// Each loader works on a copy and commits it only when every setting was accepted, so a failed
// load leaves the configuration as it was.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

#include "config/config_internal.h"

namespace rivulet {
namespace {

class YamlLoader {
 public:
  YamlLoader(StreamsConfig& config, std::string_view source) : config_(config), source_(source) {}

  void load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& error) {
      fail(error.mark, fmt::format("YAML syntax error: {}", error.msg));
    }
    try {
      if (root.IsNull()) return;  // an empty document
      if (!root.IsMap()) fail(root.Mark(), "expected a mapping of configuration keys to values");
      load_mapping(root, "");
    } catch (const YAML::Exception& error) {
      fail(error.mark, fmt::format("YAML error: {}", error.msg));
    }
  }

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view message) const {
    if (mark.is_null()) throw ConfigException(fmt::format("{}: {}", source_, message));
    throw ConfigException(
        fmt::format("{}:{}:{}: {}", source_, mark.line + 1, mark.column + 1, message));
  }

  void load_mapping(const YAML::Node& mapping, const std::string& prefix) {
    for (const auto& entry : mapping) {
      // Copies: Nodes are handles, and the iterator's pair is a temporary.
      const YAML::Node key_node = entry.first;
      const YAML::Node value_node = entry.second;
      if (!key_node.IsScalar() || key_node.Scalar().empty()) {
        fail(key_node.Mark(), "expected a configuration key (a non-empty scalar)");
      }
      const std::string key = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
      switch (value_node.Type()) {
        case YAML::NodeType::Map:
          load_mapping(value_node, key);
          break;
        case YAML::NodeType::Sequence:
          apply(key, join_sequence(key, value_node), key_node.Mark(), value_node.Mark());
          break;
        case YAML::NodeType::Scalar:
          apply(key, value_node.Scalar(), key_node.Mark(), value_node.Mark());
          break;
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
          fail(key_node.Mark(), fmt::format("configuration key '{}' has no value (write \"\" "
                                            "for an empty string)",
                                            key));
      }
    }
  }

  // A sequence stands for a comma-separated list: allowed for list keys and librdkafka
  // properties (librdkafka judges the joined value), not for other Streams keys.
  std::string join_sequence(const std::string& key, const YAML::Node& sequence) const {
    if (const ConfigDefinition* definition = config_detail::find_definition(key);
        definition != nullptr && definition->type != ConfigType::list) {
      fail(sequence.Mark(),
           fmt::format("invalid value for configuration key '{}': expected type {}, got a "
                       "sequence (only list keys take one)",
                       key, to_string(definition->type)));
    }
    std::vector<std::string> items;
    for (const auto& item : sequence) {
      if (!item.IsScalar()) {
        fail(item.Mark(),
             fmt::format("invalid entry in the list for configuration key '{}': expected a "
                         "scalar",
                         key));
      }
      items.push_back(item.Scalar());
    }
    return fmt::format("{}", fmt::join(items, ","));
  }

  void apply(const std::string& key, const std::string& value, const YAML::Mark& key_mark,
             const YAML::Mark& value_mark) {
    try {
      config_.set(key, value);
    } catch (const config_detail::ConfigKeyError& error) {
      fail(key_mark, error.what());
    } catch (const ConfigException& error) {
      fail(value_mark, error.what());
    }
  }

  StreamsConfig& config_;
  std::string_view source_;
};

}  // namespace

StreamsConfig& StreamsConfig::load_yaml(std::string_view yaml_text, std::string_view source_name) {
  StreamsConfig updated = *this;
  YamlLoader(updated, source_name).load(yaml_text);
  *this = std::move(updated);
  return *this;
}

StreamsConfig& StreamsConfig::load_yaml_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw ConfigException(fmt::format("cannot open configuration file '{}': {}", path.string(),
                                      std::strerror(errno)));
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    throw ConfigException(fmt::format("cannot read configuration file '{}'", path.string()));
  }
  return load_yaml(text.str(), path.string());
}

StreamsConfig& StreamsConfig::load_env(std::string_view prefix, const char* const* envp) {
  if (envp == nullptr) envp = environ;
  std::vector<std::pair<std::string_view, std::string_view>> variables;
  for (const char* const* entry = envp; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const auto name = text.substr(0, equals);
    if (name.starts_with(prefix)) variables.emplace_back(name, text.substr(equals + 1));
  }
  std::sort(variables.begin(), variables.end());

  StreamsConfig updated = *this;
  for (const auto& [name, value] : variables) {
    if (name.size() == prefix.size()) {
      throw ConfigException(fmt::format(
          "environment variable {}: no configuration key after the prefix '{}'", name, prefix));
    }
    const std::string key = config_detail::env_name_to_key(name.substr(prefix.size()));
    try {
      updated.set(key, value);
    } catch (const ConfigException& error) {
      throw ConfigException(fmt::format("environment variable {}: {}", name, error.what()));
    }
  }
  *this = std::move(updated);
  return *this;
}

}  // namespace rivulet
