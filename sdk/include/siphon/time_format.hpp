// siphon/time_format.hpp - the time formats vendor APIs speak.
//
// Times cross as milliseconds since the Unix epoch (int64_t, UTC). All
// functions are pure and thread-safe; parsers throw siphon::Error naming the
// text they could not read.
#ifndef SIPHON_TIME_FORMAT_HPP
#define SIPHON_TIME_FORMAT_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace siphon::timefmt {

// RFC 2822 date as HTTP and Duo want it, always English names and UTC:
// "Tue, 21 Aug 2012 17:29:18 -0000".
std::string rfc2822(int64_t unix_ms);
// Parses an RFC 2822 / RFC 7231 HTTP-date ("Tue, 21 Aug 2012 17:29:18 GMT"
// or "... -0000" / "+0200").
int64_t parse_rfc2822(std::string_view text);

// RFC 3339 in UTC with a Z: "2026-11-27T17:00:00Z", or with `millis`
// "2026-11-27T17:00:00.123Z".
std::string rfc3339(int64_t unix_ms, bool millis = false);
// RFC 3339 with a numeric offset instead of Z, as Box wants:
// "2026-11-27T17:00:00-00:00".
std::string rfc3339_offset(int64_t unix_ms);
// Parses RFC 3339 with Z or an offset, with or without fractional seconds
// (fractions beyond milliseconds are truncated).
int64_t parse_rfc3339(std::string_view text);

}  // namespace siphon::timefmt

#endif  // SIPHON_TIME_FORMAT_HPP
