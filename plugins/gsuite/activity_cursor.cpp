#include "activity_cursor.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>

namespace siphon::gsuite {
namespace {

const char kBadCursor[] = "cursor: not a gsuite cursor; reset the app (siphon state reset APP)";

int64_t int_member(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsInt64()) throw Error(kBadCursor);
  return it->value.GetInt64();
}

void read_keys(const rapidjson::Value& v, const char* name, std::vector<std::string>& out) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd()) return;
  if (!it->value.IsArray()) throw Error(kBadCursor);
  for (const auto& key : it->value.GetArray())
    if (key.IsString()) out.emplace_back(key.GetString(), key.GetStringLength());
}

void write_keys(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* name,
                const std::vector<std::string>& keys) {
  w.Key(name);
  w.StartArray();
  for (const auto& k : keys) w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  w.EndArray();
}

}  // namespace

ActivityCursor ActivityCursor::parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) throw Error(kBadCursor);
  ActivityCursor c;
  if (doc.HasMember("lower")) c.lower_ms = int_member(doc, "lower");
  read_keys(doc, "seen", c.seen);
  auto w = doc.FindMember("window");
  if (w != doc.MemberEnd()) {
    if (!w->value.IsObject()) throw Error(kBadCursor);
    Window window;
    window.start_ms = int_member(w->value, "start");
    window.end_ms = int_member(w->value, "end");
    window.max_results = int_member(w->value, "max");
    auto page = w->value.FindMember("page");
    if (page != w->value.MemberEnd()) {
      if (!page->value.IsString()) throw Error(kBadCursor);
      window.page_token = page->value.GetString();
    }
    read_keys(w->value, "next", window.next);
    c.window = std::move(window);
  }
  if (!c.lower_ms && !c.window) throw Error(kBadCursor);
  return c;
}

std::string ActivityCursor::to_json() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  if (lower_ms) {
    w.Key("lower");
    w.Int64(*lower_ms);
  }
  write_keys(w, "seen", seen);
  if (window) {
    w.Key("window");
    w.StartObject();
    w.Key("start");
    w.Int64(window->start_ms);
    w.Key("end");
    w.Int64(window->end_ms);
    w.Key("max");
    w.Int64(window->max_results);
    w.Key("page");
    w.String(window->page_token.data(),
             static_cast<rapidjson::SizeType>(window->page_token.size()));
    write_keys(w, "next", window->next);
    w.EndObject();
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

std::string activity_key(std::string_view time, std::string_view unique_qualifier) {
  std::string text;
  text.reserve(time.size() + unique_qualifier.size() + 1);
  text.append(time).append(1, '|').append(unique_qualifier);
  return auth::base64url_encode(auth::sha256(text).substr(0, 8));
}

}  // namespace siphon::gsuite
