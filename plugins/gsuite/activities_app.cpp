#include "activities_app.hpp"

#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/time_format.hpp>
#include <unordered_set>

namespace siphon::gsuite {
namespace {

constexpr char kActivitiesUrl[] =
    "https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/";
constexpr int64_t kMaxResults = 1000;
constexpr int64_t kMaxLookbackSeconds = 7 * 24 * 3600;
constexpr int64_t kMaxDelaySeconds = 24 * 3600;
constexpr int64_t kMaxDedupe = 2000;  // two sets of these stay far below the 64 KiB cursor

// A 400 answer to a page of a window that had a page token.
class PageTokenRefused : public Error {
 public:
  using Error::Error;
};

int64_t bounded_option(Context& ctx, const char* name, int64_t fallback, int64_t min, int64_t max) {
  int64_t value = ctx.option_int(name, fallback);
  if (value < min || value > max)
    throw Error(std::string("option ") + name + ": must be " + std::to_string(min) + " to " +
                std::to_string(max));
  return value;
}

}  // namespace

AuthInfo ActivitiesApp::required_auth_info() {
  return {{"keyfile",
           "the service account's JSON key file (domain-wide delegation), e.g. "
           "${file:gsuite-key.json}",
           R"((?s)\s*\{.*\}\s*)", true},
          {"delegation_email", "email of the Workspace admin the service account acts as",
           R"([A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", true}};
}

Options ActivitiesApp::options() {
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

ActivitiesApp::ActivitiesApp(Context& ctx, std::string application)
    : App(ctx),
      application_(std::move(application)),
      key_(KeyFile::parse(ctx.auth("keyfile"))),
      max_results_(bounded_option(ctx, "max_results", kMaxResults, 1, kMaxResults)),
      lookback_ms_(bounded_option(ctx, "lookback_seconds", 3600, 0, kMaxLookbackSeconds) * 1000),
      delay_ms_(bounded_option(ctx, "delay_seconds", 0, 0, kMaxDelaySeconds) * 1000),
      dedupe_max_(
          static_cast<size_t>(bounded_option(ctx, "dedupe_max", kMaxDedupe, 0, kMaxDedupe))) {}

rapidjson::Document ActivitiesApp::fetch(const Window& window) {
  const std::string url = ctx().vendor_url(kActivitiesUrl + application_);
  const std::string what = "GET activities/" + application_;
  Params query{{"startTime", timefmt::rfc3339(window.start_ms, true)},
               {"endTime", timefmt::rfc3339(window.end_ms, true)},
               {"maxResults", std::to_string(window.max_results)}};
  if (!window.page_token.empty()) query.emplace_back("pageToken", window.page_token);
  Response resp = tokens_.send_authorized(ctx(), [&](const std::string& token) {
    return ctx().get(url, query, {{"Authorization", "Bearer " + token}});
  });
  if (resp.status == 403) {
    const std::string reason =
        json::text(json::parse(resp.body).value_or(rapidjson::Document()), "error.errors.0.reason");
    if (reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" ||
        reason == "quotaExceeded")
      throw RetryLater(what + ": " + describe_error(resp));
  }
  if (resp.status == 400 && !window.page_token.empty())
    throw PageTokenRefused(what + ": " + describe_error(resp));
  check_response(resp, what,
                 {{401, 403},
                  "(delegation_email must be a Workspace admin, and the service account needs "
                  "domain-wide delegation of the admin.reports.audit.readonly scope)"});
  rapidjson::Document page = resp.json(what);
  if (!page.IsObject()) throw Error(what + ": the response is not a JSON object");
  if (json::at(page, "items")) json::get<json::Array>(page, "items", what);
  return page;
}

Logs ActivitiesApp::gather_logs(const Cursor& cursor) {
  ActivityCursor state;
  if (!cursor.empty()) state = ActivityCursor::parse(cursor.value);
  Logs logs;
  if (!state.window) {
    const int64_t end_ms = ctx().now_ms() - delay_ms_;
    const int64_t start_ms = state.lower_ms ? *state.lower_ms - lookback_ms_ : cursor.start_time_ms;
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
               "); reading the window again from its newest page, activities already delivered "
               "from it may be delivered again");
    window.page_token.clear();
    page = fetch(window);
  }

  std::unordered_set<std::string> seen(state.seen.begin(), state.seen.end());
  std::unordered_set<std::string> next(window.next.begin(), window.next.end());
  const int64_t remember_from_ms = window.end_ms - lookback_ms_;
  bool overflow = false;
  for (const auto& item : json::find<json::Array>(page, "items").value_or(json::Array{})) {
    if (!item.IsObject())
      throw Error("GET activities/" + application_ + ": an item is not a JSON object");
    const std::optional<int64_t> item_ms = json::find_rfc3339(item, "id.time");
    if (json::find<json::Object>(item, "id") && json::at(item, "id.time") &&
        json::at(item, "id.uniqueQualifier")) {
      const std::string time = json::text(item, "id.time");
      const std::string key = activity_key(time, json::text(item, "id.uniqueQualifier"));
      const bool delivered = seen.count(key) > 0 || next.count(key) > 0;
      // An unreadable time is remembered, to be safe.
      const int64_t time_ms = item_ms.value_or(window.end_ms);
      if (time_ms >= remember_from_ms && !next.count(key)) {
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
               ") activities in the lookback; older ones in it may be delivered again by the next "
               "run (raise dedupe_max or lower lookback_seconds)");

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

}  // namespace siphon::gsuite
