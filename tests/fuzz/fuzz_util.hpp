// Helpers shared by the fuzz targets.
#ifndef SIPHON_TESTS_FUZZ_FUZZ_UTIL_HPP
#define SIPHON_TESTS_FUZZ_FUZZ_UTIL_HPP

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace siphon::fuzz {

// Inputs that would make the code under test read device or kernel files
// (a blocking /proc/kmsg, an endless /dev/zero) are skipped: they test the
// machine, not the parser.
inline bool touches_system_files(std::string_view text) {
  for (std::string_view word : {"proc", "dev", "sys", "\\", "run/"})
    if (text.find(word) != std::string_view::npos) return true;
  return false;
}

// A property the target checks failed: report and abort so libFuzzer keeps the input.
[[noreturn]] inline void property_failed(const std::string& what) {
  std::fprintf(stderr, "property failed: %s\n", what.c_str());
  std::abort();
}

}  // namespace siphon::fuzz

#endif
