// Named: a name for a DSL operation's processor node. Internal topics and, later, stores are named
// from it, so naming the operations of a long-lived application keeps those names stable when
// the topology changes.
#pragma once

#include <string>

#include <rivulet/errors.h>

namespace rivulet {

class Named {
 public:
  Named() = default;
  // REQUIRES: 1 to 249 characters, each an ASCII letter or digit, '.', '_' or '-' (the names
  // become part of Kafka topic names). Throws TopologyException otherwise.
  static Named as(std::string name) {
    validate(name);
    Named named;
    named.name_ = std::move(name);
    return named;
  }
  const std::string& name() const { return name_; }
  bool empty() const { return name_.empty(); }

  static void validate(const std::string& name) {
    if (name.empty() || name.size() > 249) {
      throw TopologyException("Name \"" + name + "\" is illegal: it must have 1 to 249 characters");
    }
    for (char c : name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) {
        throw TopologyException("Name \"" + name +
                                "\" is illegal: it contains a character other than ASCII "
                                "alphanumerics, '.', '_' and '-'");
      }
    }
  }

 private:
  std::string name_;
};

}  // namespace rivulet
