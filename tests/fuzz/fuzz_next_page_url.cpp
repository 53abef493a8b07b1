// next_page_url(next, current): the input is split at the first newline into
// the vendor's next link and the current URL. A URL it returns keeps the
// current URL's origin.
#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

// scheme://host[:port] with the default port written out, for comparison.
std::string origin(const std::string& url) {
  auto sep = url.find("://");
  std::string scheme = lower(url.substr(0, sep));
  std::string authority = lower(url.substr(sep + 3, url.find_first_of("/?#", sep + 3) - sep - 3));
  size_t close = authority.rfind(']');
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string::npos && (close == std::string::npos || colon > close);
  if (!has_port) authority += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + authority;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  std::string_view next = in.substr(0, nl);
  std::string_view current =
      nl == std::string_view::npos ? "https://api.example.com/v1/logs" : in.substr(nl + 1);
  std::string url;
  try {
    url = siphon::next_page_url(next, current);
  } catch (const siphon::Error&) {
    return 0;
  }
  if (url.find("://") == std::string::npos) siphon::fuzz::property_failed("not absolute: " + url);
  if (origin(url) != origin(std::string(current)))
    siphon::fuzz::property_failed("left the origin: " + url + " from " + std::string(current));
  return 0;
}
