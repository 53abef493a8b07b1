#include "util/clock.hpp"

#include <cstdio>
#include <ctime>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

#include "config/duration.hpp"

namespace siphon {

std::string rfc3339_ms(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

bool parse_since(const std::string& text, int64_t now, int64_t& out_ms, std::string& why) {
  if (auto d = parse_duration_seconds(text)) {
    out_ms = now - *d * 1000;
    return true;
  }
  try {
    out_ms = timefmt::parse_rfc3339(text);
    return true;
  } catch (const std::exception&) {
    why = "\"" + text + "\" is neither an RFC 3339 time (2026-11-27T00:00:00Z) nor a duration (2h)";
    return false;
  }
}

}  // namespace siphon
