// onelogin_events.cpp - OneLogin events: GET /api/1/events with since/until
// and pagination.next_link paging, as an API credential whose bearer token
// comes from the OAuth 2.0 client-credentials grant (POST
// /auth/oauth2/v2/token, OneLogin's variant: credentials in the header).
//
// Each run reads one window of created_at up to now minus delay_seconds
// (siphon::WindowCursor). The cursor keeps the format it always had:
// {"since":"<RFC 3339>","since_ids":[..],"until":"..","next":"<url>",
//  "newest":"..","newest_ids":[..]} (until, next and newest only in a window).
//
// OneLogin may state a rate limit in a 400 body (status.message
// rate_limit_exceeded) rather than as a 429: that is the vendor's body, so it
// is mapped here; 429, 5xx and X-RateLimit-* headers are the host's.
#include <algorithm>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/raw_page.hpp>
#include <siphon/time_format.hpp>
#include <siphon/token_cache.hpp>
#include <siphon/window_cursor.hpp>

namespace {

constexpr char kTokenPath[] = "/auth/oauth2/v2/token";
constexpr char kEventsPath[] = "/api/1/events";
constexpr char kWhere[] = "GET /api/1/events";
// Rate-limit pauses in a row before the run gives up until its next interval.
constexpr int kMaxRateLimitPauses = 3;
// A page: {"data":[events],"pagination":{"next_link":..}}; an event's id and created_at.
const siphon::RawPage::Spec kPage{"data", {"id", "created_at"}, {"pagination.next_link"}};

siphon::WindowFormat cursor_format() {
  siphon::WindowFormat f;
  f.app_type = "onelogin_events";
  f.time = siphon::WindowFormat::Time::kRfc3339;
  f.lower = "since";
  f.lower_ids = "since_ids";
  f.upper = "until";
  f.noun = "events";
  return f;
}

bool is_rate_limited(const siphon::Response& resp) {
  if (resp.status != 400) return false;
  auto body = siphon::json::parse(resp.body);
  return body && siphon::json::text(*body, "status.message") == "rate_limit_exceeded";
}

}  // namespace

class OneLoginEvents : public siphon::App {
 public:
  static std::string service() { return "onelogin"; }
  static std::string type() { return "events"; }
  static std::string description() { return "OneLogin events (API /api/1/events)"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"region", "OneLogin API region: us or eu", "^(us|eu)$", false},
            {"client_secret", "API credential client secret", "^[a-z0-9]{64}$", true},
            {"client_id", "API credential client ID (scope Read users, Manage users or Read All)",
             "^[a-z0-9]{64}$", true}};
  }
  static siphon::Options options() {
    return {
        {"limit", "events per page, 1 to 1000", "50"},
        {"delay_seconds",
         "read events up to now minus this, so that late-indexed events are not passed by", "60"},
        {"rate_limit_max_wait_seconds",
         "longest pause for a rate limit OneLogin states in a reply body; a longer reset ends "
         "the run, to resume at the next interval",
         "60"}};
  }

  explicit OneLoginEvents(siphon::Context& ctx)
      : App(ctx),
        limit_(ctx.option_int("limit", 50, 1, 1000)),
        delay_ms_(ctx.option_int("delay_seconds", 60, 0, 86400) * 1000),
        max_wait_s_(ctx.option_int("rate_limit_max_wait_seconds", 60, 0, 3600)),
        api_("https://api." + ctx.auth("region") + ".onelogin.com") {}

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    pause_s_ = 0;
    siphon::WindowCursor w(cursor_format());
    w.load(cursor, cursor.start_time_ms);
    siphon::Logs logs;
    if (!w.is_open() && !w.open(ctx().now_ms() - delay_ms_)) return w.done(logs);

    std::string url = w.page("next");
    siphon::Response resp;
    if (!url.empty()) {
      resp = call(url);
      if ((resp.status == 400 && !is_rate_limited(resp)) || resp.status == 404) {
        // An expired after_cursor: read the window again from its start.
        // Events of its earlier pages may be delivered a second time.
        ctx().warn("the saved next_link was refused (" + siphon::describe_error(resp) +
                   "); reading the window again from its start");
        w.restart();
        url.clear();
      }
    }
    if (url.empty()) {
      url = ctx().vendor_url(api_ + kEventsPath) + "?" +
            siphon::encode_params({{"since", siphon::timefmt::rfc3339(w.bound(), true)},
                                   {"until", siphon::timefmt::rfc3339(w.end(), true)},
                                   {"sort", "+id"},
                                   {"limit", std::to_string(limit_)}});
      resp = call(url);
    }

    if (is_rate_limited(resp)) {
      const int64_t reset_s = rate_limit_reset_seconds(resp);
      if (++rate_limit_pauses_ > kMaxRateLimitPauses || reset_s > max_wait_s_) {
        rate_limit_pauses_ = 0;
        throw siphon::RetryLater(std::string(kWhere) + ": " + siphon::describe_error(resp) +
                                 "; the OneLogin rate limit resets in " + std::to_string(reset_s) +
                                 " s");
      }
      pause_s_ = static_cast<uint32_t>(std::max<int64_t>(reset_s, 1));
      ctx().info("OneLogin rate limit reached; the page is read again in " +
                 std::to_string(pause_s_) + " s");
      w.done(logs);
      logs.more_to_poll = true;
      return logs;
    }
    rate_limit_pauses_ = 0;
    siphon::check_response(resp, kWhere, {{401, 403}, "(the API credential or its scope)"});
    const siphon::RawPage page(resp, kPage, kWhere);
    if (page.skipped() > 0)
      throw siphon::Error("onelogin_events: an item of the page is not a JSON object");

    w.start_page();
    logs.reserve(resp.body.size(), page.size());
    for (size_t i = 0; i < page.size(); ++i)
      w.take(logs, page.record(i), page.text(i, 0), page.rfc3339(i, 1));
    w.set_page("next", siphon::paging::next_link(page.member(0), "pagination.next_link", url));
    if (w.page("next").empty()) w.close(ctx());
    return w.done(logs);
  }

  uint32_t sleep_seconds(uint32_t) override { return pause_s_; }

 private:
  // GET with the bearer token; a 401 gets one new token and one retry.
  siphon::Response call(const std::string& url) {
    return tokens_.send_authorized(ctx(), [&](const std::string& token) {
      return ctx().get(url, {}, {{"Authorization", "bearer:" + token}});
    });
  }

  // OneLogin keeps a token 10 hours.
  siphon::Token fetch_token() {
    return siphon::oauth2::read_token(
        ctx().post_json(ctx().vendor_url(api_ + kTokenPath),
                        R"({"grant_type":"client_credentials"})",
                        {{"Authorization", "client_id:" + ctx().auth("client_id") +
                                               ", client_secret:" + ctx().auth("client_secret")}}),
        std::string("POST ") + kTokenPath, 36000);
  }

  // Seconds until the limit resets: the reply's X-RateLimit-Reset, else
  // what GET /auth/rate_limit says.
  int64_t rate_limit_reset_seconds(const siphon::Response& resp) {
    if (auto reset = resp.header_int("X-RateLimit-Reset")) return std::max<int64_t>(*reset, 0);
    siphon::Response limit = call(ctx().vendor_url(api_ + "/auth/rate_limit"));
    siphon::check_response(limit, "GET /auth/rate_limit");
    rapidjson::Document body = limit.json("GET /auth/rate_limit");
    return std::max<int64_t>(
        siphon::json::get<int64_t>(body, "data.X-RateLimit-Reset", "GET /auth/rate_limit"), 0);
  }

  int64_t limit_;
  int64_t delay_ms_;
  int64_t max_wait_s_;
  std::string api_;
  siphon::TokenCache tokens_{[this] { return fetch_token(); }};
  uint32_t pause_s_ = 0;
  int rate_limit_pauses_ = 0;
};

SIPHON_PLUGIN("siphon-onelogin", "1.0.0", OneLoginEvents)
