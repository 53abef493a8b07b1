// gsuite_activities.cpp - one Reports API application's audit activities
// (GET /admin/reports/v1/activity/users/all/applications/{applicationName}):
// the app type gsuite_<applicationName> for each application listed at the end.
//
// Each run reads the window [lower - lookback, now - delay) from its newest
// page to its oldest, keeping the page token in the cursor (ActivityCursor
// below), and moves the lower bound to the window's end only after the last page.
// Activities that reach the API late (Google's reporting lag) fall inside the
// next window's lookback; those already delivered are recognised by their
// id.time and id.uniqueQualifier and skipped.
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/json_fields.hpp>
#include <siphon/paging.hpp>
#include <siphon/time_format.hpp>
#include <siphon/token_cache.hpp>
#include <unordered_set>

namespace siphon::gsuite {
namespace {

// Tokens: the service account (domain-wide delegation) acts for the
// Workspace admin delegation_email, through the JWT bearer grant.
constexpr char kReportsScope[] = "https://www.googleapis.com/auth/admin.reports.audit.readonly";

// The cursor: where a gsuite_* app stands.
//
// Reports lists activities newest first, so a time window is read from its
// end back to its start; its lower bound may move only once every page of it
// has been read. The cursor therefore holds the window in progress (its
// bounds, page size and page token) beside the end of the last window read
// in full, and two bounded sets of activity keys for the lookback overlap:
//
//   {"lower":1714582900000,                 end of the last window read in full
//    "seen":["k1",...],                     keys delivered at or after lower - lookback
//    "window":{"start":..,"end":..,"max":1000,"page":"<pageToken>","next":["k",...]}}
//
// A key is 11 characters (64 bits of SHA-256 over id.time and
// id.uniqueQualifier), so the sets stay within the host's cursor size.
const char kBadCursor[] = "cursor: not a gsuite cursor; reset the app (siphon state reset APP)";

struct Window {
  int64_t start_ms = 0;  // startTime (inclusive)
  int64_t end_ms = 0;    // endTime
  int64_t max_results = 0;
  std::string page_token;         // "" before the first page
  std::vector<std::string> next;  // keys to remember once this window is done
  template <class F>
  void fields(F& f) {
    f("start", start_ms)("end", end_ms)("max", max_results);
    f("page", page_token, json::kOptional)("next", next, json::kOptional);
  }
};

struct ActivityCursor {
  std::optional<int64_t> lower_ms;  // none before the first window is read in full
  std::vector<std::string> seen;
  std::optional<Window> window;

  template <class F>
  void fields(F& f) {
    f("lower", lower_ms)("seen", seen, json::kOptional)("window", window);
  }

  static ActivityCursor parse(const std::string& text) {
    ActivityCursor c;
    try {
      c = json::read_fields<ActivityCursor>(text);
    } catch (const Error& e) {
      throw Error(std::string(kBadCursor) + " (" + e.what() + ")");
    }
    if (!c.lower_ms && !c.window) throw Error(kBadCursor);
    return c;
  }
  std::string to_json() const { return json::write_fields(*this); }
};

// The dedupe key of an activity.
std::string activity_key(std::string_view time, std::string_view unique_qualifier) {
  std::string text(time);
  text.append(1, '|').append(unique_qualifier);
  return auth::base64url_encode(auth::sha256(text).substr(0, 8));
}

constexpr char kActivitiesUrl[] =
    "https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/";
constexpr int64_t kMaxResults = 1000;
constexpr int64_t kMaxDedupe = 2000;  // two sets of these stay far below the 64 KiB cursor

// A 400 answer to a page of a window that had a page token.
class PageTokenRefused : public Error {
 public:
  using Error::Error;
};

}  // namespace

class ActivitiesApp : public App {
 public:
  static std::string service() { return "gsuite"; }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() {
    return {{"keyfile",
             "the service account's JSON key file (domain-wide delegation), e.g. "
             "${file:gsuite-key.json}",
             R"((?s)\s*\{.*\}\s*)", true},
            {"delegation_email", "email of the Workspace admin the service account acts as",
             R"([A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", true}};
  }
  static Options options() {
    return {{"max_results", "activities per page, 1 to 1000", "1000"},
            {"lookback_seconds",
             "each run also re-reads this much before the last window's end, for activities "
             "Google reports late; those already delivered are skipped (0 to 604800)",
             "3600"},
            {"delay_seconds", "a window ends this long before now (0 to 86400)", "0"},
            {"dedupe_max",
             "activity ids remembered from the lookback (0 to 2000); beyond it the oldest ones "
             "in the lookback may be delivered twice",
             "2000"}};
  }

  // Checks the key file, the delegated admin and the options; no network.
  ActivitiesApp(Context& ctx, std::string application)
      : App(ctx),
        application_(std::move(application)),
        what_("GET activities/" + application_),
        key_(oauth2::ServiceAccount::parse(ctx.auth("keyfile"), "keyfile")),
        max_results_(ctx.option_int("max_results", kMaxResults, 1, kMaxResults)),
        lookback_ms_(ctx.option_int("lookback_seconds", 3600, 0, 7 * 24 * 3600) * 1000),
        delay_ms_(ctx.option_int("delay_seconds", 0, 0, 24 * 3600) * 1000),
        dedupe_max_(static_cast<size_t>(ctx.option_int("dedupe_max", kMaxDedupe, 0, kMaxDedupe))) {}

  Logs gather_logs(const Cursor& cursor) override {
    ActivityCursor state;
    if (!cursor.empty()) state = ActivityCursor::parse(cursor.value);
    Logs logs;
    if (!state.window) {
      const int64_t end_ms = ctx().now_ms() - delay_ms_;
      const int64_t start_ms =
          state.lower_ms ? *state.lower_ms - lookback_ms_ : cursor.start_time_ms;
      if (end_ms <= start_ms || (state.lower_ms && end_ms <= *state.lower_ms)) {
        logs.next_cursor = cursor.value;  // nothing to read yet
        return logs;
      }
      state.window = Window{start_ms, end_ms, max_results_, "", {}};
    }
    Window& window = *state.window;

    rapidjson::Document page;
    try {
      page = fetch(window);
    } catch (const PageTokenRefused& e) {
      // A page token that expired or no longer fits: read the window again from
      // its newest page rather than staying stuck on it.
      ctx().warn(std::string("the stored page token was refused (") + e.what() +
                 "); reading the window again from its newest page, activities already "
                 "delivered from it may be delivered again");
      window.page_token.clear();
      page = fetch(window);
    }

    std::unordered_set<std::string> seen(state.seen.begin(), state.seen.end());
    std::unordered_set<std::string> next(window.next.begin(), window.next.end());
    bool overflow = false;
    for (const auto& item : json::find<json::Array>(page, "items").value_or(json::Array{})) {
      if (!item.IsObject()) throw Error(what_ + ": an item is not a JSON object");
      const std::optional<int64_t> item_ms = json::find_rfc3339(item, "id.time");
      if (json::find<json::Object>(item, "id") && json::at(item, "id.time") &&
          json::at(item, "id.uniqueQualifier")) {
        const std::string key =
            activity_key(json::text(item, "id.time"), json::text(item, "id.uniqueQualifier"));
        const bool delivered = seen.count(key) > 0 || next.count(key) > 0;
        // Keys in the next window's lookback are remembered, delivered or not; an
        // unreadable time is remembered, to be safe.
        if (item_ms.value_or(window.end_ms) >= window.end_ms - lookback_ms_ && !next.count(key)) {
          if (window.next.size() < dedupe_max_) {
            window.next.push_back(key);
            next.insert(key);
          } else {
            overflow = true;
          }
        }
        if (delivered) {
          ++logs.duplicates_dropped;
          continue;
        }
      }
      logs.add(item);
      logs.event_time(item_ms.value_or(0));
    }
    if (overflow && dedupe_max_ > 0)
      ctx().warn("more than dedupe_max (" + std::to_string(dedupe_max_) +
                 ") activities in the lookback; older ones in it may be delivered again by the "
                 "next run (raise dedupe_max or lower lookback_seconds)");

    window.page_token = paging::next_token(page, "nextPageToken", window.page_token);
    if (!window.page_token.empty()) {
      logs.more_to_poll = true;
    } else {
      state.lower_ms = window.end_ms;
      state.seen = std::move(window.next);
      state.window.reset();
    }
    logs.next_cursor = state.to_json();
    return logs;
  }

 private:
  // One page of the window; a 401 gets one fresh token and one retry.
  rapidjson::Document fetch(const Window& window) {
    Params query{{"startTime", timefmt::rfc3339(window.start_ms, true)},
                 {"endTime", timefmt::rfc3339(window.end_ms, true)},
                 {"maxResults", std::to_string(window.max_results)}};
    if (!window.page_token.empty()) query.emplace_back("pageToken", window.page_token);
    const std::string url = ctx().vendor_url(kActivitiesUrl + application_);
    Response resp = tokens_.send_authorized(ctx(), [&](const std::string& token) {
      return ctx().get(url, query, {{"Authorization", "Bearer " + token}});
    });
    if (resp.status == 403) {  // Google states quota exhaustion as a 403
      const std::string reason = json::text(json::parse(resp.body).value_or(rapidjson::Document()),
                                            "error.errors.0.reason");
      if (reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" ||
          reason == "quotaExceeded")
        throw RetryLater(what_ + ": " + describe_error(resp));
    }
    if (resp.status == 400 && !window.page_token.empty())
      throw PageTokenRefused(what_ + ": " + describe_error(resp));
    check_response(resp, what_,
                   {{401, 403},
                    "(delegation_email must be a Workspace admin, and the service account needs "
                    "domain-wide delegation of the admin.reports.audit.readonly scope)"});
    rapidjson::Document page = resp.json(what_);
    if (!page.IsObject()) throw Error(what_ + ": the response is not a JSON object");
    if (json::at(page, "items")) json::get<json::Array>(page, "items", what_);
    return page;
  }

  std::string application_;
  std::string what_;
  oauth2::ServiceAccount key_;
  TokenCache tokens_{
      [this] { return key_.token(ctx(), kReportsScope, ctx().auth("delegation_email")); }};
  int64_t max_results_;
  int64_t lookback_ms_;
  int64_t delay_ms_;
  size_t dedupe_max_;
};

// The app type gsuite_<Application>: every type shares ActivitiesApp and
// differs only in the Reports applicationName it reads.
template <Literal Application, Literal Label>
class Reports : public ActivitiesApp {
 public:
  static std::string type() { return Application.value; }
  static std::string description() {
    return std::string("Google Workspace ") + Label.value + " audit activities (Reports API)";
  }
  explicit Reports(Context& ctx) : ActivitiesApp(ctx, Application.value) {}
};

}  // namespace siphon::gsuite

namespace g = siphon::gsuite;

SIPHON_PLUGIN("siphon-gsuite", "1.0.0",  //
              g::Reports<"access_transparency", "Access Transparency">,
              g::Reports<"admin", "Admin console">, g::Reports<"calendar", "Calendar">,
              g::Reports<"drive", "Drive">, g::Reports<"gcp", "Google Cloud (OS Login)">,
              g::Reports<"groups", "Groups">, g::Reports<"groups_enterprise", "Groups Enterprise">,
              g::Reports<"gplus", "Currents (Google+)">, g::Reports<"login", "Login">,
              g::Reports<"meet", "Meet">, g::Reports<"mobile", "Device management">,
              g::Reports<"rules", "Rules">, g::Reports<"saml", "SAML">,
              g::Reports<"token", "OAuth token">, g::Reports<"user_accounts", "User accounts">)
