// A strict reader of Prometheus' text exposition format (version 0.0.4), for tests of
// KafkaStreams::prometheus_metrics(): it parses every line (throwing on one that is not a
// comment, a HELP or TYPE line, or a well-formed sample), and looks samples up by name and labels.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rivulet::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PromText {
 public:
  // Throws std::runtime_error naming the line when `text` is not valid exposition format.
  explicit PromText(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty()) continue;
      try {
        if (line[0] == '#') {
          comment(line);
        } else {
          samples_.push_back(sample(line));
        }
      } catch (const std::runtime_error& error) {
        throw std::runtime_error("line " + std::to_string(number) + " '" + line +
                                 "': " + error.what());
      }
    }
    for (const PromSample& s : samples_) {
      if (!family_of(s.name)) {
        throw std::runtime_error("sample " + s.name + " belongs to no family with a # TYPE line");
      }
    }
  }

  const std::vector<PromSample>& samples() const { return samples_; }
  const std::map<std::string, std::string>& types() const { return types_; }

  // The family (a # TYPE name) of a sample name: itself, or a histogram's or summary's name
  // without _bucket, _sum or _count.
  std::optional<std::string> family_of(const std::string& sample) const {
    if (types_.count(sample) > 0) return sample;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (sample.size() > s.size() && sample.ends_with(s)) {
        const std::string base = sample.substr(0, sample.size() - s.size());
        auto found = types_.find(base);
        if (found != types_.end() && (found->second == "histogram" || found->second == "summary")) {
          return base;
        }
      }
    }
    return std::nullopt;
  }

  // The samples named `name` whose labels include every one of `match`.
  std::vector<PromSample> find(const std::string& name,
                               const std::map<std::string, std::string>& match = {}) const {
    std::vector<PromSample> out;
    for (const PromSample& s : samples_) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [key, value] : match) {
        auto found = s.labels.find(key);
        all = all && found != s.labels.end() && found->second == value;
      }
      if (all) out.push_back(s);
    }
    return out;
  }
  // The sum of those samples' values (0 when there are none).
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const PromSample& s : find(name, match)) total += s.value;
    return total;
  }
  bool has(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    return !find(name, match).empty();
  }
  // The values of label `label` over the samples named `name`.
  std::set<std::string> label_values(const std::string& name, const std::string& label) const {
    std::set<std::string> out;
    for (const PromSample& s : find(name)) {
      if (auto found = s.labels.find(label); found != s.labels.end()) out.insert(found->second);
    }
    return out;
  }

 private:
  static bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c));
  }

  static std::string metric_name(const std::string& line, std::size_t& i) {
    const std::size_t start = i;
    if (i >= line.size() || !name_start(line[i])) throw std::runtime_error("bad metric name");
    while (i < line.size() && name_char(line[i])) ++i;
    return line.substr(start, i - start);
  }

  void comment(const std::string& line) {
    std::istringstream words(line);
    std::string hash, keyword, name;
    words >> hash >> keyword >> name;
    if (keyword != "TYPE" && keyword != "HELP") return;  // any other comment is allowed
    std::size_t i = 0;
    if (name.empty() || (metric_name(name, i), i != name.size())) {
      throw std::runtime_error("bad metric name in " + keyword);
    }
    if (keyword == "TYPE") {
      std::string type;
      words >> type;
      static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary",
                                                "untyped"};
      if (kTypes.count(type) == 0) throw std::runtime_error("unknown type " + type);
      if (!types_.emplace(name, type).second) throw std::runtime_error("second TYPE for " + name);
      for (const PromSample& s : samples_) {
        if (s.name == name) throw std::runtime_error("TYPE after samples of " + name);
      }
    }
  }

  static PromSample sample(const std::string& line) {
    PromSample s;
    std::size_t i = 0;
    s.name = metric_name(line, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::string label = metric_name(line, i);
        if (label.find(':') != std::string::npos) throw std::runtime_error("':' in a label name");
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          throw std::runtime_error("expected =\" after label " + label);
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) throw std::runtime_error("dangling escape");
            if (line[i] == 'n') {
              value += '\n';
            } else if (line[i] == '\\' || line[i] == '"') {
              value += line[i];
            } else {
              throw std::runtime_error("bad escape");
            }
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) throw std::runtime_error("unterminated label value");
        ++i;  // the closing quote
        if (!s.labels.emplace(label, value).second) throw std::runtime_error("label twice");
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) throw std::runtime_error("unterminated label set");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') throw std::runtime_error("expected a space");
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (value == "+Inf") {
      s.value = HUGE_VAL;
    } else if (value == "-Inf") {
      s.value = -HUGE_VAL;
    } else if (value == "NaN") {
      s.value = NAN;
    } else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') throw std::runtime_error("bad value '" + value + "'");
    }
    if (!timestamp.empty()) {
      char* end = nullptr;
      static_cast<void>(std::strtoll(timestamp.c_str(), &end, 10));
      if (*end != '\0') throw std::runtime_error("bad timestamp");
    }
    if (!extra.empty()) throw std::runtime_error("trailing text");
    return s;
  }

  std::vector<PromSample> samples_;
  std::map<std::string, std::string> types_;
};

}  // namespace rivulet::test
