// intercom_admin_activity_logs.cpp - Intercom admin activity logs: GET
// /admins/activity_logs with a created_at_after/created_at_before window,
// paged through pages.next, with the workspace's access token.
//
// Each run reads one window: from the newest activity already delivered up
// to now minus delay_seconds. Intercom does not say in which order a window
// comes, so the lower bound moves only after the window's last page, to the
// newest created_at seen in it; the ids delivered at that second are kept
// and not delivered again. The cursor also holds the next page to read, so a
// stop between pages resumes there.
//
// Cursor: {"after":<unix s>,"after_ids":[..],"before":<unix s>,"next":"<url>",
//          "page":N,"starting_after":"..","newest":<unix s>,"newest_ids":[..]}
// (before, next/page and newest only while a window is open).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <siphon/edge_ids.hpp>
#include <siphon/sdk.hpp>
#include <vector>

namespace {

constexpr char kPath[] = "/admins/activity_logs";
constexpr size_t kMaxIds = 1000;

struct State {
  // after (Unix s) with the activities delivered at it; newest created_at
  // read in the open window
  siphon::EdgeIds edge{0, {}, kMaxIds};
  std::optional<int64_t> before_s;  // set while a window is open
  std::string next;                 // pages.next URL to read
  int64_t page = 0;                 // or the page number (pages.next as an object)
  std::string starting_after;
};

std::optional<int64_t> whole_number(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Unix seconds, sent as a number or (older payloads) as a string.
std::optional<int64_t> seconds_of(const rapidjson::Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsString()) return whole_number(v.GetString());
  return std::nullopt;
}

std::optional<int64_t> member_seconds(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return std::nullopt;
  return seconds_of(it->value);
}

State read_cursor(const siphon::Cursor& cursor) {
  State s;
  if (cursor.empty()) {
    s.edge = siphon::EdgeIds(cursor.start_time_ms / 1000, {}, kMaxIds);
    return s;
  }
  rapidjson::Document doc;
  doc.Parse(cursor.value.data(), cursor.value.size());
  std::optional<int64_t> after;
  if (!doc.HasParseError() && doc.IsObject()) after = member_seconds(doc, "after");
  if (!after)
    throw siphon::Error(
        "intercom_admin_activity_logs cursor is not valid (reset it with siphon state reset "
        "APP)");
  s.edge = siphon::EdgeIds(*after, siphon::EdgeIds::read_ids(doc, "after_ids"), kMaxIds);
  s.before_s = member_seconds(doc, "before");
  if (!s.before_s) return s;
  if (doc.HasMember("next") && doc["next"].IsString()) s.next = doc["next"].GetString();
  s.page = member_seconds(doc, "page").value_or(0);
  if (doc.HasMember("starting_after") && doc["starting_after"].IsString())
    s.starting_after = doc["starting_after"].GetString();
  if (auto newest = member_seconds(doc, "newest"))
    s.edge.restore_newest(*newest, siphon::EdgeIds::read_ids(doc, "newest_ids"));
  return s;
}

std::string write_cursor(const State& s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("after");
  w.Int64(s.edge.bound());
  siphon::EdgeIds::write_ids(w, "after_ids", s.edge.bound_ids());
  if (s.before_s) {
    w.Key("before");
    w.Int64(*s.before_s);
    if (!s.next.empty()) {
      w.Key("next");
      w.String(s.next);
    }
    if (s.page > 0) {
      w.Key("page");
      w.Int64(s.page);
    }
    if (!s.starting_after.empty()) {
      w.Key("starting_after");
      w.String(s.starting_after);
    }
    if (s.edge.newest()) {
      w.Key("newest");
      w.Int64(*s.edge.newest());
      siphon::EdgeIds::write_ids(w, "newest_ids", s.edge.newest_ids());
    }
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

// "HTTP 401 unauthorized: Access Token Invalid" from Intercom's error.list.
std::string describe(const siphon::Response& resp) {
  std::string out = "HTTP " + std::to_string(resp.status);
  rapidjson::Document body;
  body.Parse(resp.body.data(), resp.body.size());
  if (body.HasParseError() || !body.IsObject() || !body.HasMember("errors") ||
      !body["errors"].IsArray())
    return out;
  for (const auto& e : body["errors"].GetArray()) {
    if (!e.IsObject()) continue;
    if (e.HasMember("code") && e["code"].IsString())
      out += std::string(" ") + e["code"].GetString();
    if (e.HasMember("message") && e["message"].IsString())
      out += std::string(": ") + e["message"].GetString();
    break;
  }
  return out;
}

}  // namespace

class IntercomAdminActivityLogs : public siphon::App {
 public:
  static std::string service() { return "intercom"; }
  static std::string type() { return "admin_activity_logs"; }
  static std::string description() {
    return "Intercom admin activity logs (GET /admins/activity_logs)";
  }
  static uint32_t default_interval_seconds() { return 300; }
  static siphon::AuthInfo required_auth_info() {
    return {{"token", "access token of the workspace's Intercom app (needs read_admins)",
             R"(^dG9r([0-9A-Za-z+\/=]*)$)", true}};
  }
  static siphon::Options options() {
    return {{"base_url",
             "replaces scheme, host and port of the Intercom API URL (proxy, local tests)", ""},
            {"region", "workspace region: us (api.intercom.io), eu or au", "us"},
            {"intercom_version",
             "Intercom-Version header to send (e.g. 2.11); unset: the app's default version", ""},
            {"per_page", "activities per page, 1 to 250 (API 2.17 and later); unset: not sent", ""},
            {"delay_seconds",
             "read activities up to now minus this, so that late ones are not passed by", "60"},
            {"rate_limit_max_wait_seconds",
             "longest pause before the next page when Intercom says no calls are left", "60"}};
  }

  explicit IntercomAdminActivityLogs(siphon::Context& ctx)
      : App(ctx),
        delay_s_(ctx.option_int("delay_seconds", 60)),
        max_wait_s_(ctx.option_int("rate_limit_max_wait_seconds", 60)),
        version_(ctx.option("intercom_version")),
        per_page_(ctx.option("per_page")) {
    if (!ctx.has_auth("token")) throw siphon::Error("auth field token is not set");
    if (delay_s_ < 0 || delay_s_ > 86400)
      throw siphon::Error("option delay_seconds: must be 0 to 86400");
    if (max_wait_s_ < 0 || max_wait_s_ > 3600)
      throw siphon::Error("option rate_limit_max_wait_seconds: must be 0 to 3600");
    if (!per_page_.empty()) {
      auto n = whole_number(per_page_);
      if (!n || *n < 1 || *n > 250) throw siphon::Error("option per_page: must be 1 to 250");
    }
    if (!version_.empty() &&
        (version_.size() > 16 || !std::all_of(version_.begin(), version_.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.';
         })))
      throw siphon::Error("option intercom_version: expected a version such as 2.11");
    const std::string region = ctx.option("region", "us");
    if (region == "us")
      api_ = "https://api.intercom.io";
    else if (region == "eu" || region == "au")
      api_ = "https://api." + region + ".intercom.io";
    else
      throw siphon::Error("option region: must be us, eu or au");
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    pause_s_ = 0;
    State s = read_cursor(cursor);
    siphon::Logs logs;
    if (!s.before_s) {  // open a window; "now" is never the lower bound
      const int64_t before = ctx().now_ms() / 1000 - delay_s_;
      if (before <= s.edge.bound()) {
        logs.next_cursor = write_cursor(s);
        return logs;
      }
      s.before_s = before;
      s.next.clear();
      s.page = 0;
      s.starting_after.clear();
      s.edge.reset_window();
    }

    std::string url = s.next;
    if (url.empty()) {
      siphon::Params query{{"created_at_after", std::to_string(s.edge.bound())},
                           {"created_at_before", std::to_string(*s.before_s)}};
      if (!per_page_.empty()) query.emplace_back("per_page", per_page_);
      if (s.page > 0) query.emplace_back("page", std::to_string(s.page));
      if (!s.starting_after.empty()) query.emplace_back("starting_after", s.starting_after);
      url = ctx().vendor_url(api_ + kPath) + "?" + siphon::encode_params(query);
    }
    siphon::Headers headers{{"Authorization", "Bearer " + ctx().auth("token")},
                            {"Accept", "application/json"}};
    if (!version_.empty()) headers.emplace_back("Intercom-Version", version_);
    siphon::Response resp = ctx().get(url, {}, headers);
    const std::string where = std::string("GET ") + kPath;
    if (resp.status == 401) throw siphon::AuthRejected(where + ": " + describe(resp));
    if (resp.status == 429 || resp.status >= 500)
      throw siphon::RetryLater(where + ": " + describe(resp));
    if (!resp.ok()) throw siphon::Error(where + ": " + describe(resp));
    rapidjson::Document page = resp.json(where);
    if (!page.IsObject() || !page.HasMember("activity_logs") || !page["activity_logs"].IsArray())
      throw siphon::Error(where + ": the response has no activity_logs array");

    s.edge.start_page();
    for (const auto& activity : page["activity_logs"].GetArray()) {
      if (!activity.IsObject()) throw siphon::Error(where + ": an activity is not an object");
      const std::string id = siphon::EdgeIds::id_of(activity);
      if (!s.edge.fresh(id)) continue;  // delivered already
      logs.add(activity);
      if (auto created = member_seconds(activity, "created_at")) s.edge.note(*created, id);
    }

    if (!follow_next(page, url, s)) close_window(s);
    logs.more_to_poll = s.before_s.has_value();
    if (logs.more_to_poll) {
      // Intercom counts calls in short slices: when none are left, wait for
      // the slice to end instead of spending a call on a 429.
      auto remaining = whole_number(resp.header("X-RateLimit-Remaining"));
      auto reset = whole_number(resp.header("X-RateLimit-Reset"));  // Unix time
      if (remaining && *remaining <= 0 && reset) {
        const int64_t wait = *reset - ctx().now_ms() / 1000;
        if (wait > 0) pause_s_ = static_cast<uint32_t>(std::min(wait, max_wait_s_));
      }
    }
    logs.next_cursor = write_cursor(s);
    return logs;
  }

  uint32_t sleep_seconds(uint32_t) override { return pause_s_; }

 private:
  // Records where the next page is; false when this was the window's last.
  bool follow_next(const rapidjson::Value& page, const std::string& url, State& s) {
    if (!page.HasMember("pages") || !page["pages"].IsObject()) return false;
    const auto& pages = page["pages"];
    if (!pages.HasMember("next")) return false;
    const auto& next = pages["next"];
    if (next.IsString() && next.GetStringLength() > 0) {
      std::string target = siphon::next_page_url(next.GetString(), url);
      if (target == url)
        throw siphon::Error(std::string("GET ") + kPath + ": pages.next repeats the same page");
      s.next = std::move(target);
      s.page = 0;
      s.starting_after.clear();
      return true;
    }
    if (next.IsObject()) {  // the "cursor pages" shape: {"page":2,"starting_after":"..."}
      auto number = member_seconds(next, "page");
      std::string after = next.HasMember("starting_after") && next["starting_after"].IsString()
                              ? next["starting_after"].GetString()
                              : "";
      if (!number && after.empty()) return false;
      if (number && *number <= s.page && after.empty())
        throw siphon::Error(std::string("GET ") + kPath + ": pages.next repeats the same page");
      s.next.clear();
      s.page = number.value_or(0);
      s.starting_after = std::move(after);
      return true;
    }
    return false;
  }

  // The window was read to its end: the next one starts at the newest
  // activity it held, skipping the ids delivered at that second.
  void close_window(State& s) {
    if (s.edge.close_window())
      ctx().warn("more than " + std::to_string(kMaxIds) +
                 " activities share one second; only the last ids are kept for deduplication");
    s.before_s.reset();
    s.next.clear();
    s.page = 0;
    s.starting_after.clear();
  }

  int64_t delay_s_;
  int64_t max_wait_s_;
  std::string version_;
  std::string per_page_;
  std::string api_;
  uint32_t pause_s_ = 0;
};

SIPHON_PLUGIN("siphon-intercom", "1.0.0", IntercomAdminActivityLogs)
