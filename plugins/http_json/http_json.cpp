// http_json.cpp - any JSON REST API, described by options (app type http_json).
//
// Each run reads one window: with cursor.type time, the records from the
// bound (where the last window ended, minus the lookback) up to now minus
// the delay, whose ids in the lookback are remembered so that none is
// delivered twice (siphon::WindowCursor, advance_to_end); with cursor.type
// id, the records after the greatest id delivered. The window's pages are
// followed in the configured paging style; the position of the next page is
// part of the cursor, so a stop between pages resumes at the page not read.
//
// Cursor, time:  {"after":"<RFC 3339>","seen":[..]} between windows, and
//   inside one also "before", "seen_next", "newest", "newest_ids" and the
//   page position: "next" (a URL), "token", "offset" or "pages_read".
// Cursor, id:    {"last_id":N} between windows, and inside one also "open",
//   "newest_id" and the page position.
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/token_cache.hpp>
#include <siphon/window_cursor.hpp>

#include "http_json_settings.hpp"

namespace siphon::http_json {

namespace {

WindowFormat cursor_format(const Settings& s) {
  WindowFormat f;
  f.app_type = "http_json";
  f.noun = "records";
  if (s.by_id) {
    f.time = WindowFormat::Time::kMillis;  // the ids, kept as they are
    f.lower = "last_id";
    f.lower_ids = "";
    f.upper = "open";
    f.newest = "newest_id";
    f.newest_ids = "";
  } else {
    f.time = WindowFormat::Time::kRfc3339;
    f.advance_to_end = true;
    f.lookback = s.lookback_s * 1000;
  }
  return f;
}

// A dedupe key short enough for the cursor: as it is up to 16 characters,
// else a 64-bit hash of it.
std::string short_key(std::string key) { return key.size() <= 16 ? key : auth::dedupe_hash(key); }

}  // namespace

class HttpJson : public App {
 public:
  static std::string service() { return "http"; }
  static std::string type() { return "json"; }
  static std::string description() {
    return "any JSON REST API, described by options (URL, templates, auth, paging, cursor)";
  }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() { return option_specs(); }

  explicit HttpJson(Context& ctx) : App(ctx), s_(read_settings(ctx)), format_(cursor_format(s_)) {
    if (s_.auth == AuthStyle::kOAuth2)
      tokens_ = std::make_unique<TokenCache>([this] {
        return oauth2::client_credentials(
            this->ctx(), this->ctx().vendor_url(s_.token_url), this->ctx().auth("client_id"),
            this->ctx().auth("client_secret"), s_.scope, s_.client_basic);
      });
  }

  Logs gather_logs(const Cursor& cursor) override {
    WindowCursor w(format_);
    w.load(cursor, s_.by_id ? 0 : whole(cursor.start_time_ms));
    Logs logs;
    if (!w.is_open()) {
      const int64_t end = s_.by_id ? w.bound() + 1 : whole(ctx().now_ms() - s_.delay_s * 1000);
      if (!w.open(end)) return w.done(logs);
    }

    const auto value = [&](const TextTemplate::Variable& v) { return variable(w, v); };
    std::string url = w.page("next");
    if (url.empty()) url = first_url(value);
    const std::string where = s_.method + " " + Poco::URI(url).getPath();
    Headers headers{{"Accept", "application/json"}};
    if (s_.method == "POST") headers.emplace_back("Content-Type", "application/json");
    for (const auto& [name, text] : s_.headers) {
      std::string v = text.expand(value);
      if (v.find_first_of("\r\n") != std::string::npos)
        throw Error("header " + name + ": its value holds a line break");
      if (v.empty()) continue;
      std::erase_if(headers, [&](const auto& h) { return same_name(h.first, name); });
      headers.emplace_back(name, std::move(v));
    }
    const std::string body =
        s_.method == "POST" ? s_.body.expand(value, TextTemplate::json_escape) : std::string();
    Response resp = send(url, headers, body);
    check_response(resp, where);
    rapidjson::Document page = resp.json(where);
    const json::Array records = json::get<json::Array>(page, s_.records, where);

    w.start_page();
    for (const auto& record : records) take(w, logs, record);
    next_page(w, page, resp, url, records.size());
    return w.done(logs);
  }

 private:
  // Window bounds are whole seconds unless a template writes milliseconds.
  int64_t whole(int64_t unix_ms) const {
    return s_.millis ? unix_ms : unix_ms - ((unix_ms % 1000) + 1000) % 1000;
  }

  static bool same_name(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }

  // The value of a template variable on the current page.
  std::string variable(const WindowCursor& w, const TextTemplate::Variable& v) const {
    auto time = [&](int64_t ms, TimeFormat fallback) {
      return format_time(ms, v.format.empty() ? fallback : *time_format_named(v.format));
    };
    if (v.name == "start_time") return time(w.bound(), TimeFormat::kRfc3339);
    if (v.name == "end_time") return time(w.end(), TimeFormat::kRfc3339);
    if (v.name == "cursor") {
      if (!s_.by_id) return time(w.bound(), s_.time_format);
      return w.bound() > 0 ? std::to_string(w.bound()) : std::string();
    }
    if (v.name == "page_token") return w.page("token");
    if (v.name == "offset") return std::to_string(w.page_int("offset"));
    if (v.name == "page") return std::to_string(s_.first_page + w.page_int("pages_read"));
    if (v.name == "page_size") return std::to_string(s_.page_size);
    return {};
  }

  // The URL of a window's page that no link names: url and query.NAME filled in.
  std::string first_url(const TextTemplate::Lookup& value) {
    std::string url = s_.url.expand(value, [](std::string_view v) { return url_encode(v); });
    const size_t q = url.find('?');
    url = ctx().vendor_url(url.substr(0, q)) + (q == std::string::npos ? "" : url.substr(q));
    Params query;
    for (const auto& [name, text] : s_.query)
      if (std::string v = text.expand(value); !v.empty()) query.emplace_back(name, std::move(v));
    if (query.empty()) return url;
    return url + (q == std::string::npos ? "?" : "&") + encode_params(query);
  }

  Response send(const std::string& url, Headers headers, const std::string& body) {
    switch (s_.auth) {
      case AuthStyle::kBearer:
        headers.emplace_back("Authorization", "Bearer " + ctx().auth("token"));
        break;
      case AuthStyle::kBasic:
        headers.emplace_back(
            "Authorization",
            "Basic " + auth::base64_encode(ctx().auth("username") + ":" + ctx().auth("password")));
        break;
      case AuthStyle::kHeader:
        headers.emplace_back(s_.auth_header, s_.auth_prefix + ctx().auth("token"));
        break;
      case AuthStyle::kOAuth2:
        return tokens_->send_authorized(ctx(), [&](const std::string& token) {
          Headers h = headers;
          h.emplace_back("Authorization", "Bearer " + token);
          return ctx().send(s_.method, url, h, body);
        });
    }
    return ctx().send(s_.method, url, headers, body);
  }

  void take(WindowCursor& w, Logs& logs, const rapidjson::Value& record) {
    std::string key = s_.dedupe_key.empty() ? "" : json::text(record, s_.dedupe_key);
    if (key.empty() && record.IsObject()) key = to_json(record);
    key = short_key(std::move(key));
    if (!s_.by_id) {
      w.take(logs, record, key, read_time(record, s_.cursor_field, s_.time_format));
      return;
    }
    if (!record.IsObject()) throw Error("http_json: an item of the page is not a JSON object");
    const auto id = json::find_integer(record, s_.cursor_field);
    if ((id && w.bound() > 0 && *id <= w.bound()) || !w.fresh(key)) {
      ++logs.duplicates_dropped;
      return;
    }
    logs.add(record);
    if (id) w.note(*id, key);
    if (!s_.event_time_field.empty())
      if (auto t = read_time(record, s_.event_time_field, s_.time_format)) logs.event_time(*t);
  }

  void next_page(WindowCursor& w, const rapidjson::Value& page, const Response& resp,
                 const std::string& url, size_t received) {
    std::optional<int64_t> total;
    if (!s_.total_field.empty()) total = json::find_integer(page, s_.total_field);
    std::string next;                 // a URL or a token
    std::optional<int64_t> position;  // an offset or the pages read
    switch (s_.paging) {
      case Paging::kNone:
        break;
      case Paging::kNextUrl:
        next = paging::next_link(page, s_.next_url_field, url);
        break;
      case Paging::kLinkHeader:
        next = paging::link_header(resp, url);
        break;
      case Paging::kNextToken:
        next = paging::next_token(page, s_.token_field, w.page("token"));
        break;
      case Paging::kOffset:
        position = paging::next_offset(w.page_int("offset"), received, s_.page_size, total);
        break;
      case Paging::kPage: {
        const int64_t read = w.page_int("pages_read");
        if (paging::next_offset(read * s_.page_size, received, s_.page_size, total))
          position = read + 1;
        break;
      }
    }
    if (next.empty() && !position) return w.close(ctx());
    if (s_.paging == Paging::kNextToken)
      w.set_page("token", next);
    else if (s_.paging == Paging::kOffset)
      w.set_page("offset", *position);
    else if (s_.paging == Paging::kPage)
      w.set_page("pages_read", *position);
    else
      w.set_page("next", next);
  }

  Settings s_;
  WindowFormat format_;
  std::unique_ptr<TokenCache> tokens_;
};

}  // namespace siphon::http_json

SIPHON_PLUGIN("siphon-http_json", "1.0.0", siphon::http_json::HttpJson)
