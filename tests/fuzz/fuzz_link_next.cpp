// link_next over any Link header: returns "" or a target that was written
// between angle brackets in the header.
#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  std::string target = siphon::link_next(header);
  if (!target.empty() && header.find("<" + target + ">") == std::string_view::npos)
    siphon::fuzz::property_failed("target not found in the header: " + target);
  return 0;
}
