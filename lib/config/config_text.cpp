// Text helpers for StreamsConfig: trimming, lists, typo suggestions, masking, env names.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_internal.h"

namespace rivulet::config_detail {

namespace {
char lower_char(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
}  // namespace

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower_char);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower_char(x) == lower_char(y);
         });
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  if (trim(text).empty()) return items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.emplace_back(trim(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows: i-2, i-1, i.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest_match(std::string_view key,
                                         std::span<const std::string> candidates) {
  // A typo: at most one edit per four characters, never more than three.
  const std::size_t limit = std::clamp<std::size_t>(key.size() / 4, 1, 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::size_t length_gap = candidate.size() > key.size() ? candidate.size() - key.size()
                                                                 : key.size() - candidate.size();
    if (length_gap >= best_distance) continue;
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

bool is_sensitive(std::string_view key) {
  constexpr std::array<std::string_view, 5> kMarkers{"password", "secret", "token",
                                                     "sasl.oauthbearer.config", "ssl.key"};
  const std::string lower = to_lower(key);
  return std::any_of(kMarkers.begin(), kMarkers.end(), [&](std::string_view marker) {
    return lower.find(marker) != std::string::npos;
  });
}

std::string printable_value(std::string_view key, std::string_view value) {
  return is_sensitive(key) ? std::string("[hidden]") : std::string(value);
}

std::string env_name_to_key(std::string_view name) {
  // As Confluent's images do it: every '_' becomes '.', then "..." becomes '-' and ".." '_'.
  std::string dotted = to_lower(name);
  std::replace(dotted.begin(), dotted.end(), '_', '.');
  std::string out;
  for (std::size_t i = 0; i < dotted.size();) {
    if (dotted.compare(i, 3, "...") == 0) {
      out += '-';
      i += 3;
    } else if (dotted.compare(i, 2, "..") == 0) {
      out += '_';
      i += 2;
    } else {
      out += dotted[i];
      ++i;
    }
  }
  return out;
}

bool is_legal_topic_chars(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace rivulet::config_detail
