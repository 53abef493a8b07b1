#include "activity_cursor.hpp"

#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>

namespace siphon::gsuite {
namespace {

const char kBadCursor[] = "cursor: not a gsuite cursor; reset the app (siphon state reset APP)";

int64_t int_member(const rapidjson::Value& v, const char* name) {
  auto n = json::find<int64_t>(v, name);
  if (!n) throw Error(kBadCursor);
  return *n;
}

}  // namespace

ActivityCursor ActivityCursor::parse(const std::string& text) {
  auto doc = json::parse(text);
  if (!doc || !doc->IsObject()) throw Error(kBadCursor);
  ActivityCursor c;
  if (json::at(*doc, "lower")) c.lower_ms = int_member(*doc, "lower");
  c.seen = json::strings(*doc, "seen");
  if (json::at(*doc, "window")) {
    auto w = json::find<json::Object>(*doc, "window");
    if (!w || (json::at(**w, "page") && !json::find<std::string>(**w, "page")))
      throw Error(kBadCursor);
    c.window = Window{int_member(**w, "start"), int_member(**w, "end"), int_member(**w, "max"),
                      json::text(**w, "page"), json::strings(**w, "next")};
  }
  if (!c.lower_ms && !c.window) throw Error(kBadCursor);
  return c;
}

std::string ActivityCursor::to_json() const {
  std::vector<json::Member> members;
  if (lower_ms) members.push_back({"lower", *lower_ms});
  members.push_back({"seen", seen});
  std::string w;
  if (window) {
    w = json::object({{"start", window->start_ms},
                      {"end", window->end_ms},
                      {"max", window->max_results},
                      {"page", window->page_token},
                      {"next", window->next}});
    members.push_back({"window", json::Raw{w}});
  }
  return json::object(members);
}

std::string activity_key(std::string_view time, std::string_view unique_qualifier) {
  std::string text;
  text.reserve(time.size() + unique_qualifier.size() + 1);
  text.append(time).append(1, '|').append(unique_qualifier);
  return auth::base64url_encode(auth::sha256(text).substr(0, 8));
}

}  // namespace siphon::gsuite
