// Clock helpers: milliseconds since the Unix epoch, RFC 3339 text, and a
// monotonic clock for deadlines.
#ifndef SIPHON_HOST_UTIL_CLOCK_HPP
#define SIPHON_HOST_UTIL_CLOCK_HPP

#include <chrono>
#include <cstdint>
#include <string>

namespace siphon {

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds on the steady clock (deadlines; not a time of day).
inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "2026-11-27T17:00:00.123Z"
std::string rfc3339_ms(int64_t unix_ms);

// Parses --since: RFC 3339, or a duration meaning "that long ago".
// Returns false with `why` set when it is neither.
bool parse_since(const std::string& text, int64_t now, int64_t& out_ms, std::string& why);

}  // namespace siphon

#endif
