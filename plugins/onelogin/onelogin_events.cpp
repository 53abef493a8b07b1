// onelogin_events.cpp - OneLogin events: GET /api/1/events with since/until
// and pagination.next_link paging, as an API credential whose bearer token
// comes from the OAuth 2.0 client-credentials grant (POST
// /auth/oauth2/v2/token).
//
// Each run reads one window of created_at: from the newest event already
// delivered up to now minus delay_seconds. The cursor holds the window, the
// next_link being followed (so a stop between pages resumes at the page that
// was not yet read), and the ids that carry the lower bound's time, which
// are not delivered again. The lower bound moves only when a window has been
// read to its last page, and then to the newest created_at seen in it.
//
// Cursor: {"since":"<RFC 3339>","since_ids":[..],"until":"..","next":"<url>",
//          "newest":"..","newest_ids":[..]} (until, next and newest only
// while a window is open).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <siphon/edge_ids.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <vector>

namespace {

constexpr char kTokenPath[] = "/auth/oauth2/v2/token";
constexpr char kEventsPath[] = "/api/1/events";
constexpr char kRateLimitPath[] = "/auth/rate_limit";
constexpr size_t kMaxIds = 1000;
// Rate-limit pauses in a row before the run gives up until its next interval.
constexpr int kMaxRateLimitPauses = 3;

struct State {
  // since (Unix ms) with the events delivered at it; newest created_at read
  // in the open window
  siphon::EdgeIds edge{0, {}, kMaxIds};
  std::optional<int64_t> until_ms;  // set while a window is open
  std::string next;                 // next_link to read, inside the open window
};

std::optional<int64_t> parse_time(const rapidjson::Value& v) {
  if (!v.IsString()) return std::nullopt;
  try {
    return siphon::timefmt::parse_rfc3339(v.GetString());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

State read_cursor(const siphon::Cursor& cursor) {
  State s;
  if (cursor.empty()) {
    s.edge = siphon::EdgeIds(cursor.start_time_ms, {}, kMaxIds);
    return s;
  }
  rapidjson::Document doc;
  doc.Parse(cursor.value.data(), cursor.value.size());
  std::optional<int64_t> since;
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("since"))
    since = parse_time(doc["since"]);
  if (!since)
    throw siphon::Error(
        "onelogin_events cursor is not valid (reset it with siphon state reset APP)");
  s.edge = siphon::EdgeIds(*since, siphon::EdgeIds::read_ids(doc, "since_ids"), kMaxIds);
  if (doc.HasMember("until")) s.until_ms = parse_time(doc["until"]);
  if (s.until_ms && doc.HasMember("next") && doc["next"].IsString())
    s.next = doc["next"].GetString();
  if (s.until_ms && doc.HasMember("newest"))
    if (auto newest = parse_time(doc["newest"]))
      s.edge.restore_newest(*newest, siphon::EdgeIds::read_ids(doc, "newest_ids"));
  return s;
}

std::string write_cursor(const State& s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("since");
  w.String(siphon::timefmt::rfc3339(s.edge.bound(), true));
  siphon::EdgeIds::write_ids(w, "since_ids", s.edge.bound_ids());
  if (s.until_ms) {
    w.Key("until");
    w.String(siphon::timefmt::rfc3339(*s.until_ms, true));
    if (!s.next.empty()) {
      w.Key("next");
      w.String(s.next);
    }
    if (s.edge.newest()) {
      w.Key("newest");
      w.String(siphon::timefmt::rfc3339(*s.edge.newest(), true));
      siphon::EdgeIds::write_ids(w, "newest_ids", s.edge.newest_ids());
    }
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

// OneLogin's {"status":{"code":..,"type":..,"message":..}} of an error reply.
std::string status_message(const rapidjson::Document& body) {
  if (!body.IsObject() || !body.HasMember("status") || !body["status"].IsObject()) return {};
  const auto& st = body["status"];
  return st.HasMember("message") && st["message"].IsString() ? st["message"].GetString() : "";
}

std::string describe(const siphon::Response& resp) {
  std::string out = "HTTP " + std::to_string(resp.status);
  rapidjson::Document body;
  body.Parse(resp.body.data(), resp.body.size());
  if (body.HasParseError()) return out;
  if (body.IsObject() && body.HasMember("status") && body["status"].IsObject() &&
      body["status"].HasMember("type") && body["status"]["type"].IsString())
    out += std::string(" ") + body["status"]["type"].GetString();
  if (std::string message = status_message(body); !message.empty()) out += ": " + message;
  return out;
}

bool is_rate_limited(const siphon::Response& resp) {
  if (resp.status == 429) return true;
  if (resp.status != 400) return false;
  rapidjson::Document body;
  body.Parse(resp.body.data(), resp.body.size());
  return !body.HasParseError() && status_message(body) == "rate_limit_exceeded";
}

std::optional<int64_t> whole_number(const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

class OneLoginEvents : public siphon::App {
 public:
  static std::string service() { return "onelogin"; }
  static std::string type() { return "events"; }
  static std::string description() { return "OneLogin events (API /api/1/events)"; }
  static uint32_t default_interval_seconds() { return 300; }
  static siphon::AuthInfo required_auth_info() {
    return {{"region", "OneLogin API region: us or eu", "^(us|eu)$", false},
            {"client_secret", "API credential client secret", "^[a-z0-9]{64}$", true},
            {"client_id", "API credential client ID (scope Read users, Manage users or Read All)",
             "^[a-z0-9]{64}$", true}};
  }
  static siphon::Options options() {
    return {
        {"base_url",
         "replaces scheme, host and port of the OneLogin API and token URLs (a tenant host "
         "such as https://acme.onelogin.com, a proxy, local tests)",
         ""},
        {"limit", "events per page, 1 to 1000", "50"},
        {"delay_seconds",
         "read events up to now minus this, so that late-indexed events are not passed by", "60"},
        {"rate_limit_max_wait_seconds",
         "longest pause for OneLogin's rate limit to reset within a run; a longer reset ends "
         "the run, to resume at the next interval",
         "60"}};
  }

  explicit OneLoginEvents(siphon::Context& ctx)
      : App(ctx),
        limit_(ctx.option_int("limit", 50)),
        delay_ms_(ctx.option_int("delay_seconds", 60) * 1000),
        max_wait_s_(ctx.option_int("rate_limit_max_wait_seconds", 60)) {
    if (limit_ < 1 || limit_ > 1000) throw siphon::Error("option limit: must be 1 to 1000");
    if (delay_ms_ < 0 || delay_ms_ > 86400000)
      throw siphon::Error("option delay_seconds: must be 0 to 86400");
    if (max_wait_s_ < 0 || max_wait_s_ > 3600)
      throw siphon::Error("option rate_limit_max_wait_seconds: must be 0 to 3600");
    for (const char* field : {"region", "client_id", "client_secret"})
      if (!ctx.has_auth(field))
        throw siphon::Error(std::string("auth field ") + field + " is not set");
    const std::string& region = ctx.auth("region");
    if (region != "us" && region != "eu")
      throw siphon::Error("auth field region: must be us or eu");
    api_ = "https://api." + region + ".onelogin.com";
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    pause_s_ = 0;
    State s = read_cursor(cursor);
    siphon::Logs logs;
    if (!s.until_ms) {  // open a window up to what OneLogin has settled
      const int64_t until = ctx().now_ms() - delay_ms_;
      if (until <= s.edge.bound()) {
        logs.next_cursor = write_cursor(s);
        return logs;
      }
      s.until_ms = until;
      s.next.clear();
      s.edge.reset_window();
    }

    std::string url;
    siphon::Response resp;
    if (!s.next.empty()) {
      url = s.next;
      resp = call(url);
      if ((resp.status == 400 && !is_rate_limited(resp)) || resp.status == 404) {
        // An expired after_cursor: read the window again from its start.
        // Events of its earlier pages may be delivered a second time.
        ctx().warn("the saved next_link was refused (" + describe(resp) +
                   "); reading the window again from its start");
        s.next.clear();
        s.edge.reset_window();
      }
    }
    if (s.next.empty()) {
      url = ctx().vendor_url(api_ + kEventsPath) + "?" +
            siphon::encode_params({{"since", siphon::timefmt::rfc3339(s.edge.bound(), true)},
                                   {"until", siphon::timefmt::rfc3339(*s.until_ms, true)},
                                   {"sort", "+id"},
                                   {"limit", std::to_string(limit_)}});
      resp = call(url);
    }

    if (is_rate_limited(resp)) {
      const int64_t reset_s = rate_limit_reset_seconds(resp);
      if (++rate_limit_pauses_ > kMaxRateLimitPauses || reset_s > max_wait_s_) {
        rate_limit_pauses_ = 0;
        throw siphon::RetryLater("GET " + std::string(kEventsPath) + ": " + describe(resp) +
                                 "; the OneLogin rate limit resets in " + std::to_string(reset_s) +
                                 " s");
      }
      ctx().info("OneLogin rate limit reached; the page is read again in " +
                 std::to_string(std::max<int64_t>(reset_s, 1)) + " s");
      pause_s_ = static_cast<uint32_t>(std::max<int64_t>(reset_s, 1));
      logs.more_to_poll = true;
      logs.next_cursor = write_cursor(s);
      return logs;
    }
    rate_limit_pauses_ = 0;
    check(resp);
    rapidjson::Document page = resp.json("GET /api/1/events");
    if (!page.IsObject() || !page.HasMember("data") || !page["data"].IsArray())
      throw siphon::Error("GET /api/1/events: the response has no data array");

    s.edge.start_page();
    for (const auto& event : page["data"].GetArray()) {
      if (!event.IsObject()) throw siphon::Error("GET /api/1/events: an event is not an object");
      // OneLogin sends ids as numbers.
      const std::string id = siphon::EdgeIds::id_of(event);
      if (!s.edge.fresh(id)) continue;  // delivered already
      logs.add(event);
      std::optional<int64_t> created;
      if (auto it = event.FindMember("created_at"); it != event.MemberEnd())
        created = parse_time(it->value);
      if (created) s.edge.note(*created, id);
    }

    std::string next;
    if (page.HasMember("pagination") && page["pagination"].IsObject()) {
      const auto& pagination = page["pagination"];
      if (pagination.HasMember("next_link") && pagination["next_link"].IsString())
        next = pagination["next_link"].GetString();
    }
    if (!next.empty()) {
      next = siphon::next_page_url(next, url);
      if (next == url) throw siphon::Error("GET /api/1/events: next_link repeats the same page");
      s.next = next;
      logs.more_to_poll = true;
      // OneLogin says how many calls are left: wait for the reset rather than
      // spend a call on a refusal.
      auto remaining = whole_number(resp.header("X-RateLimit-Remaining"));
      auto reset = whole_number(resp.header("X-RateLimit-Reset"));
      if (remaining && *remaining <= 0 && reset && *reset > 0)
        pause_s_ = static_cast<uint32_t>(std::min(*reset, max_wait_s_));
    } else {
      close_window(s);
    }
    logs.next_cursor = write_cursor(s);
    return logs;
  }

  uint32_t sleep_seconds(uint32_t) override { return pause_s_; }

 private:
  // The window was read to its end: the next one starts at the newest event
  // it held, skipping the ids delivered at that time.
  void close_window(State& s) {
    if (s.edge.close_window())
      ctx().warn("more than " + std::to_string(kMaxIds) +
                 " events share one created_at; only the last ids are kept for deduplication");
    s.until_ms.reset();
    s.next.clear();
  }

  // GET with the bearer token; a 401 gets one new token and one retry.
  siphon::Response call(const std::string& url) {
    siphon::Response resp = ctx().get(url, {}, {{"Authorization", "bearer:" + token()}});
    if (resp.status == 401) {
      token_.clear();
      resp = ctx().get(url, {}, {{"Authorization", "bearer:" + token()}});
      if (resp.status == 401)
        throw siphon::AuthRejected("GET /api/1/events: " + describe(resp) + " with a new token");
    }
    return resp;
  }

  void check(const siphon::Response& resp) {
    if (resp.ok()) return;
    std::string why = "GET /api/1/events: " + describe(resp);
    if (resp.status == 403) throw siphon::AuthRejected(why + " (the API credential's scope)");
    if (resp.status >= 500) throw siphon::RetryLater(why);
    throw siphon::Error(why);
  }

  // Seconds until the limit resets: the reply's X-RateLimit-Reset, else
  // what GET /auth/rate_limit says.
  int64_t rate_limit_reset_seconds(const siphon::Response& resp) {
    if (auto reset = whole_number(resp.header("X-RateLimit-Reset")))
      return std::max<int64_t>(*reset, 0);
    siphon::Response limit = ctx().get(ctx().vendor_url(api_ + kRateLimitPath), {},
                                       {{"Authorization", "bearer:" + token()}});
    if (!limit.ok()) throw siphon::RetryLater("GET /auth/rate_limit: " + describe(limit));
    rapidjson::Document body = limit.json("GET /auth/rate_limit");
    if (body.IsObject() && body.HasMember("data") && body["data"].IsObject() &&
        body["data"].HasMember("X-RateLimit-Reset") && body["data"]["X-RateLimit-Reset"].IsInt64())
      return std::max<int64_t>(body["data"]["X-RateLimit-Reset"].GetInt64(), 0);
    throw siphon::RetryLater("GET /auth/rate_limit: the response has no data.X-RateLimit-Reset");
  }

  // The cached access token, or a new one (OneLogin keeps a token 10 hours).
  std::string token() {
    const int64_t now_ms = ctx().now_ms();
    if (!token_.empty() && now_ms < token_expiry_ms_) return token_;
    token_.clear();
    siphon::Response resp = ctx().post_json(
        ctx().vendor_url(api_ + kTokenPath), R"({"grant_type":"client_credentials"})",
        {{"Authorization", "client_id:" + ctx().auth("client_id") +
                               ", client_secret:" + ctx().auth("client_secret")}});
    const std::string what = std::string("POST ") + kTokenPath;
    if (resp.status == 401 || resp.status == 403)
      throw siphon::AuthRejected(what + ": " + describe(resp));
    if (resp.status >= 500) throw siphon::RetryLater(what + ": " + describe(resp));
    if (!resp.ok()) throw siphon::Error(what + ": " + describe(resp));
    rapidjson::Document body = resp.json(what);
    if (!body.IsObject() || !body.HasMember("access_token") || !body["access_token"].IsString() ||
        body["access_token"].GetStringLength() == 0)
      throw siphon::Error(what + ": the response has no access_token");
    int64_t expires_in = body.HasMember("expires_in") && body["expires_in"].IsInt64()
                             ? body["expires_in"].GetInt64()
                             : 36000;
    // Renew a little early: a tenth of the lifetime, at most a minute.
    const int64_t early_ms = std::min<int64_t>(60000, expires_in * 100);
    token_ = body["access_token"].GetString();
    token_expiry_ms_ = now_ms + expires_in * 1000 - early_ms;
    return token_;
  }

  int64_t limit_;
  int64_t delay_ms_;
  int64_t max_wait_s_;
  std::string api_;
  std::string token_;
  int64_t token_expiry_ms_ = 0;
  uint32_t pause_s_ = 0;
  int rate_limit_pauses_ = 0;
};

SIPHON_PLUGIN("siphon-onelogin", "1.0.0", OneLoginEvents)
