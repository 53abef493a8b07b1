// Durations as the config and the command line write them: "30s", "10m",
// "1h", "1d", a bare number of seconds, or StreamAlert's "rate(10 minutes)".
#ifndef SIPHON_HOST_CONFIG_DURATION_HPP
#define SIPHON_HOST_CONFIG_DURATION_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace siphon {

// Seconds, or nullopt with `why` set when the text is not a duration.
std::optional<int64_t> parse_duration_seconds(std::string_view text, std::string* why = nullptr);

// "10m", "1h30m" style text for display.
std::string format_duration(int64_t seconds);

}  // namespace siphon

#endif
