#include "config/duration.hpp"

#include <Poco/RegularExpression.h>

#include <charconv>

namespace siphon {
namespace {

std::optional<int64_t> unit_seconds(std::string_view unit) {
  if (unit == "s" || unit == "second" || unit == "seconds") return 1;
  if (unit == "m" || unit == "minute" || unit == "minutes") return 60;
  if (unit == "h" || unit == "hour" || unit == "hours") return 3600;
  if (unit == "d" || unit == "day" || unit == "days") return 86400;
  return std::nullopt;
}

// Longer durations are surely typing errors, and larger values would
// overflow once turned into milliseconds.
constexpr int64_t kMaxSeconds = 100LL * 366 * 86400;

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int64_t> parse_duration_seconds(std::string_view text, std::string* why) {
  auto fail = [&](const std::string& reason) -> std::optional<int64_t> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty duration");
  // StreamAlert's schedule expression: singular unit only with 1.
  static const Poco::RegularExpression kRate(
      "^rate\\((?:(1) (minute|hour|day)|([1-9][0-9]*) (minutes|hours|days))\\)$");
  if (text.rfind("rate(", 0) == 0) {
    Poco::RegularExpression::MatchVec m;
    if (kRate.match(std::string(text), 0, m) == 0)
      return fail("\"" + std::string(text) +
                  "\" is not a rate expression like rate(1 hour) or rate(10 minutes)");
    std::string s(text);
    bool singular = m[1].offset != std::string::npos;
    std::string n =
        singular ? s.substr(m[1].offset, m[1].length) : s.substr(m[3].offset, m[3].length);
    std::string unit =
        singular ? s.substr(m[2].offset, m[2].length) : s.substr(m[4].offset, m[4].length);
    if (!singular && n == "1") return fail("\"" + s + "\": use the singular unit with 1");
    auto count = to_int(n);
    if (!count || *count > kMaxSeconds / *unit_seconds(unit))
      return fail("\"" + s + "\": longer than 100 years");
    return *count * *unit_seconds(unit);
  }
  auto too_long = [&] { return fail("\"" + std::string(text) + "\" is longer than 100 years"); };
  if (auto bare = to_int(text)) return *bare > kMaxSeconds ? too_long() : *bare;
  // Sequence of <number><unit>, e.g. 1h30m.
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    size_t k = j;
    while (k < text.size() && !(text[k] >= '0' && text[k] <= '9')) ++k;
    auto n = to_int(text.substr(i, j - i));
    auto u = unit_seconds(text.substr(j, k - j));
    if (!n || !u)
      return fail("\"" + std::string(text) + "\" is not a duration (examples: 30s, 10m, 1h, 1d)");
    if (*n > (kMaxSeconds - total) / *u) return too_long();
    total += *n * *u;
    i = k;
  }
  return total;
}

std::string format_duration(int64_t seconds) {
  if (seconds % 86400 == 0 && seconds) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0 && seconds) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0 && seconds) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

}  // namespace siphon
