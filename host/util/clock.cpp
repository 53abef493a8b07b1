#include "util/clock.hpp"

#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

#include "config/duration.hpp"

namespace siphon {

std::string rfc3339_ms(int64_t unix_ms) { return timefmt::rfc3339(unix_ms, true); }

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
