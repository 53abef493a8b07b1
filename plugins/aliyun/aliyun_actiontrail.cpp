// aliyun_actiontrail.cpp - Alibaba Cloud ActionTrail events through the RPC
// API LookupEvents (version 2020-07-06), signed with HMAC-SHA1
// (aliyun_signer.hpp).
//
// Events are read in windows [StartTime, EndTime], EndTime being now minus
// delay_seconds (ActionTrail shows events a few minutes late). A window comes
// newest first, paged by NextToken, so the checkpoint moves to the window's
// end only once its last page is read; until then the cursor keeps the window
// and the NextToken, and a stopped run resumes inside it. Both bounds are
// inclusive: the next window starts at the previous end (less
// lookback_seconds), and the events of that overlap already delivered are
// recognised by their eventId.
#include <algorithm>
#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>
#include <siphon/time_format.hpp>
#include <siphon/window_cursor.hpp>

#include "aliyun_signer.hpp"

namespace siphon::aliyun {
namespace {

constexpr char kVersion[] = "2020-07-06";
constexpr char kWhere[] = "ActionTrail LookupEvents";
// ActionTrail keeps 90 days of events; stay a little inside that.
constexpr int64_t kRetentionS = 90LL * 24 * 3600 - 600;
constexpr size_t kMaxIds = 1500;  // bounds the cursor: about 15 bytes each
constexpr int64_t kMaxRestarts = 3;

// Codes that mean the key cannot be used (unknown, disabled, wrong secret,
// no permission for LookupEvents).
bool is_auth_code(const std::string& code) {
  return code.rfind("InvalidAccessKeyId", 0) == 0 || code == "SignatureDoesNotMatch" ||
         code.rfind("Forbidden", 0) == 0 || code == "NoPermission" ||
         code == "IncompleteSignature" || code == "InvalidSecurityToken.Expired";
}

// The cursor keeps its format: {"checkpoint":<s>,"known":[hashed eventIds at or after
// it]} and, while a window is open, "end", the NextToken ("token"), "restarts" and the
// hashed ids of its events at or after the next checkpoint ("boundary").
WindowFormat cursor_format(int64_t lookback_seconds) {
  WindowFormat f;
  f.app_type = "aliyun_actiontrail";
  f.lower = "checkpoint";
  f.lower_ids = f.newest = "";
  f.upper = "end";
  f.seen = "known";
  f.seen_next = "boundary";
  f.max_ids = kMaxIds;
  f.advance_to_end = true;
  f.lookback = lookback_seconds;
  return f;
}

}  // namespace

class AliyunActionTrail : public App {
 public:
  static std::string service() { return "aliyun"; }
  static std::string type() { return "actiontrail"; }
  static std::string description() {
    return "Alibaba Cloud ActionTrail events (LookupEvents, API version 2020-07-06)";
  }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() {
    return {
        {"access_key_id", "AccessKey ID of a RAM user allowed actiontrail:LookupEvents", ".*",
         true},
        {"access_key_secret", "AccessKey secret of that key", ".*", true},
        {"region_id", "region of the ActionTrail endpoint, e.g. cn-hangzhou",
         "^(cn-qingdao|cn-beijing|cn-zhangjiakou|cn-huhehaote|cn-hangzhou|cn-shanghai|cn-shenzhen|"
         "cn-hongkong|ap-southeast-1|ap-southeast-2|ap-southeast-3|ap-southeast-5|ap-northeast-1|"
         "ap-south-1|us-west-1|us-east-1|eu-central-1|me-east-1)$",
         false},
    };
  }
  static Options options() {
    return {
        {"max_results", "events per call (MaxResults), 1..50", "50"},
        {"delay_seconds", "ActionTrail shows events late: a window ends this long before now",
         "300"},
        {"lookback_seconds",
         "each window starts this long before the previous one ended, for events that arrive "
         "late; events already delivered are recognised by eventId",
         "0"},
        {"calls_per_second", "LookupEvents calls per second (ActionTrail allows 2; 0: no pause)",
         "2"},
    };
  }

  explicit AliyunActionTrail(Context& ctx)
      : App(ctx),
        max_results_(ctx.option_int("max_results", 50, 1, 50)),
        delay_seconds_(ctx.option_int("delay_seconds", 300, 0, 86400)),
        lookback_seconds_(ctx.option_int("lookback_seconds", 0, 0, 86400)),
        calls_per_second_(ctx.option_int("calls_per_second", 2, 0, 100)) {
    for (const char* field : {"access_key_id", "access_key_secret"}) {  // regexes: any value
      const std::string& value = ctx.auth(field);
      if (value.empty()) throw Error(std::string("auth field ") + field + " is empty");
      if (std::any_of(value.begin(), value.end(),
                      [](unsigned char c) { return c <= ' ' || c >= 0x7f; }))
        throw Error(std::string("auth field ") + field +
                    " holds spaces or control characters (value not shown)");
    }
    endpoint_ = ctx.vendor_url("https://actiontrail." + ctx.auth("region_id") + ".aliyuncs.com/");
  }

  Logs gather_logs(const Cursor& cursor) override {
    WindowCursor w(cursor_format(lookback_seconds_));
    w.load(cursor, cursor.start_time_ms / 1000);
    const int64_t now = ctx().now_ms() / 1000;
    Logs logs;
    if (!w.is_open()) {
      const int64_t oldest = now - kRetentionS;
      if (w.bound() < oldest) {
        ctx().warn("aliyun_actiontrail: ActionTrail keeps 90 days; starting at " +
                   timefmt::rfc3339(oldest * 1000));
        w.raise_bound(oldest);
      }
      if (!w.open(now - delay_seconds_)) return w.done(logs);  // nothing ActionTrail shows yet
    }

    const std::string token = w.page("token");
    Params params = {{"StartTime", timefmt::rfc3339(w.bound() * 1000)},
                     {"EndTime", timefmt::rfc3339(w.end() * 1000)},
                     {"MaxResults", std::to_string(max_results_)}};
    if (!token.empty()) params.emplace_back("NextToken", token);
    rapidjson::Document doc;
    try {
      doc = lookup_events(params);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (token.empty() || e.status() != SIPHON_ERROR ||
          what.find("NextToken") == std::string::npos)
        throw;
      const int64_t restarts = w.page_int("restarts");
      if (restarts >= kMaxRestarts)
        throw Error(what + " (the window " + timefmt::rfc3339(w.bound() * 1000) + " to " +
                    timefmt::rfc3339(w.end() * 1000) + " was already read again " +
                    std::to_string(restarts) + " times)");
      // A NextToken ActionTrail no longer accepts: read the window again; what
      // was delivered from it may be delivered again.
      ctx().warn("aliyun_actiontrail: NextToken refused; reading the window from its start again");
      w.restart();
      w.set_page("restarts", restarts + 1);
      return w.done(logs);
    }

    w.start_page();
    for (const auto& event : json::get<json::Array>(doc, "Events", kWhere)) {
      const std::string id = json::text(event, "eventId");  // without one it cannot be deduplicated
      // An unreadable time counts as the window's end: the id is remembered.
      const int64_t time_s = json::find_rfc3339(event, "eventTime").value_or(w.end() * 1000) / 1000;
      w.take(logs, event, id.empty() ? id : auth::dedupe_hash(id, 12), time_s);
    }

    const std::string next = json::text(doc, "NextToken");
    if (!next.empty() && next != token)
      w.set_page("token", next);
    else  // the window is complete: move the checkpoint to its end
      w.close(ctx());
    return w.done(logs);
  }

  // ActionTrail allows 2 LookupEvents calls a second: a one-second pause
  // after every calls_per_second calls.
  uint32_t sleep_seconds(uint32_t polls_done) override {
    if (calls_per_second_ == 0) return 0;
    return polls_done % static_cast<uint32_t>(calls_per_second_) == 0 ? 1 : 0;
  }

 private:
  rapidjson::Document lookup_events(Params params) {
    params.insert(params.end(), {{"Action", "LookupEvents"},
                                 {"Version", kVersion},
                                 {"Format", "JSON"},
                                 {"AccessKeyId", ctx().auth("access_key_id")},
                                 {"SignatureMethod", "HMAC-SHA1"},
                                 {"SignatureVersion", "1.0"},
                                 {"SignatureNonce", auth::random_token(32)},
                                 {"Timestamp", timefmt::rfc3339(ctx().now_ms())}});
    const std::string query = signed_query("GET", params, ctx().auth("access_key_secret"));
    Response r = ctx().send("GET", endpoint_ + "?" + query, {{"Accept", "application/json"}}, "");

    auto doc = json::parse(r.body).value_or(rapidjson::Document());
    const bool is_object = doc.IsObject();
    if (r.ok() && is_object && !doc.HasMember("Code")) return doc;
    if (r.ok()) {
      r.json(kWhere);  // throws, naming the parse error
      throw Error(std::string(kWhere) + ": reply is not a JSON object");
    }

    const std::string code = is_object ? json::text(doc, "Code") : "";
    std::string message = is_object ? json::text(doc, "Message") : "";
    // Aliyun quotes its string to sign, which holds the AccessKeyId: keep it out.
    if (const size_t cut = message.find(" server string to sign"); cut != std::string::npos)
      message.resize(cut);
    std::string reason = std::string(kWhere) + ": HTTP " + std::to_string(r.status);
    if (!code.empty()) reason += ", " + code;
    if (!message.empty()) reason += ": " + message;
    if (const std::string id = json::text(doc, "RequestId"); !id.empty())
      reason += " (RequestId " + id + ")";
    if (code == "InvalidTimeStamp.Expired") reason += "; check this host's clock";

    // Throttling stated in a 400 body (429 and 5xx are the host's).
    if (code.rfind("Throttling", 0) == 0) throw RetryLater(reason);
    if (is_auth_code(code) || r.status == 401 || r.status == 403) throw AuthRejected(reason);
    throw Error(reason);
  }

  std::string endpoint_;
  int64_t max_results_;
  int64_t delay_seconds_;
  int64_t lookback_seconds_;
  int64_t calls_per_second_;
};

}  // namespace siphon::aliyun

SIPHON_PLUGIN("siphon-aliyun", "1.0.0", siphon::aliyun::AliyunActionTrail)
