#include <siphon/json.hpp>
#include <siphon/paging.hpp>

namespace siphon::paging {

namespace {

std::string checked(std::string_view next, std::string_view current, std::string_view what) {
  std::string url = next_page_url(next, current);
  if (url == current) throw Error(std::string(what) + " repeats the same page");
  return url;
}

}  // namespace

std::string next_link(const rapidjson::Value& body, std::string_view path,
                      std::string_view current_url) {
  auto next = json::find<std::string>(body, path);
  if (!next || next->empty()) return {};
  return checked(*next, current_url, path);
}

std::string next_link(std::optional<std::string_view> link, std::string_view path,
                      std::string_view current_url) {
  if (!link || link->empty()) return {};
  return checked(*link, current_url, path);
}

std::string link_header(const Response& resp, std::string_view current_url, bool may_repeat) {
  std::string next = link_next(resp.joined_header("Link"));
  if (next.empty()) return {};
  if (may_repeat) return next_page_url(next, current_url);
  return checked(next, current_url, "the Link header's next");
}

std::string next_token(const rapidjson::Value& body, std::string_view path,
                       std::string_view current_token) {
  std::string token = json::find<std::string>(body, path).value_or("");
  if (!token.empty() && token == current_token)
    throw Error(std::string(path) + " repeats the same page");
  return token;
}

std::optional<int64_t> next_offset(int64_t offset, size_t received, int64_t limit,
                                   std::optional<int64_t> total) {
  if (received == 0 || static_cast<int64_t>(received) < limit) return std::nullopt;
  const int64_t next = offset + static_cast<int64_t>(received);
  if (total && next >= *total) return std::nullopt;
  return next;
}

}  // namespace siphon::paging
