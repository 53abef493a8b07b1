// The time parsers: parse_rfc3339 and parse_rfc2822 over any text. A time
// they accept formats and parses back to the same instant (leap seconds and
// years the formatters cannot write aside).
#include <cstdint>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace tf = siphon::timefmt;
  try {
    int64_t ms = tf::parse_rfc3339(text);
    std::string shown;
    try {
      shown = tf::rfc3339(ms, true);
    } catch (const siphon::Error&) {
      return 0;  // before year 0 or after 9999 once the offset is applied
    }
    if (tf::parse_rfc3339(shown) != ms)
      siphon::fuzz::property_failed("rfc3339 round trip: " + std::string(text) + " -> " + shown);
  } catch (const siphon::Error&) {
  }
  try {
    int64_t ms = tf::parse_rfc2822(text);
    std::string shown;
    try {
      shown = tf::rfc2822(ms);
    } catch (const siphon::Error&) {
      return 0;
    }
    if (tf::parse_rfc2822(shown) != ms)
      siphon::fuzz::property_failed("rfc2822 round trip: " + std::string(text) + " -> " + shown);
  } catch (const siphon::Error&) {
  }
  return 0;
}
