// Durations: parse_duration_seconds over any text. A parsed duration is not
// negative and reads back the same through format_duration.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/duration.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  auto seconds = siphon::parse_duration_seconds(text, &why);
  if (!seconds) {
    if (why.empty()) siphon::fuzz::property_failed("refusal without a reason");
    return 0;
  }
  if (*seconds < 0) siphon::fuzz::property_failed("negative duration");
  std::string shown = siphon::format_duration(*seconds);
  auto again = siphon::parse_duration_seconds(shown);
  if (!again || *again != *seconds)
    siphon::fuzz::property_failed("format_duration(" + std::to_string(*seconds) + ") = " + shown +
                                  " does not read back");
  return 0;
}
