// slack_client.hpp - a call to a Slack Web API method, shared by the
// slack_access and slack_integration app types: a POST form with the user
// token as a Bearer header, and Slack's replies turned into exceptions:
// {"ok":false,"error":"ratelimited"} and transient errors become RetryLater,
// refused or insufficient tokens AuthRejected, anything else Error naming the
// method and Slack's error code. Also the cursor part every Slack app type
// keeps.
#ifndef SIPHON_PLUGINS_SLACK_CLIENT_HPP
#define SIPHON_PLUGINS_SLACK_CLIENT_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <string>
#include <vector>

namespace siphon::slack {

// Auth fields and options every Slack app type declares.
inline AuthInfo auth_fields() {
  return {{"auth_token",
           "user token (xoxp-) of a Slack app installed by a workspace admin, with the admin scope",
           "^xoxp-[a-zA-Z0-9-]+$", true}};
}
inline Options common_options() {
  return {
      {"poll_pause_seconds",
       "pause between the calls of one run; team logs are Tier 2 (about 20 calls a minute)", "3"},
      {"team_id", "workspace to read with an Enterprise Grid org-level token (T...)", ""},
  };
}

// A Slack error reply ({"ok":false,"error":CODE}) that the caller may handle.
class SlackError : public Error {
 public:
  SlackError(const std::string& what, std::string code, siphon_status status)
      : Error(what, status), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Client {
 public:
  explicit Client(Context& ctx)
      : ctx_(ctx),
        team_id_(ctx.option("team_id")),
        poll_pause_seconds_(
            static_cast<uint32_t>(ctx.option_int("poll_pause_seconds", 3, 0, 3600))) {}

  // POSTs https://slack.com/api/<method> with `form` (plus team_id when set)
  // and returns the reply once its "ok" is true. Throws SlackError for an
  // {"ok":false} reply, RetryLater / Error for HTTP failures.
  rapidjson::Document call(const std::string& method, Params form) {
    if (!team_id_.empty()) form.emplace_back("team_id", team_id_);
    const std::string where = "Slack " + method;
    Response r = ctx_.post_form(
        ctx_.vendor_url("https://slack.com/api/" + method), form,
        {{"Authorization", "Bearer " + ctx_.auth("auth_token")}, {"Accept", "application/json"}});
    check_response(r, where);
    rapidjson::Document doc = r.json(where);
    if (!doc.IsObject()) throw Error(where + ": reply is not a JSON object");
    const std::string code = json::find<std::string>(doc, "error").value_or("");
    std::string reason = where + ": HTTP " + std::to_string(r.status) + ", error " + code;
    if (!json::get<bool>(doc, "ok", where)) {
      if (code == "missing_scope") {
        reason += " (needed: " + json::text(doc, "needed") +
                  ", provided: " + json::text(doc, "provided") + ")";
      } else if (code == "paid_only") {
        reason += " (team logs need a paid Slack plan)";
      }
      // Replies that mean the token cannot read these logs (revoked, wrong
      // kind, not an admin's, lacking the admin scope).
      static const std::set<std::string> kAuthErrors(
          {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
           "not_allowed_token_type", "is_bot", "user_is_bot", "missing_scope", "access_denied",
           "team_access_not_granted", "no_permission", "ekm_access_denied"});
      // Slack's own transient failures: try again at the next run.
      static const std::set<std::string> kTransientErrors({"ratelimited", "internal_error",
                                                           "fatal_error", "service_unavailable",
                                                           "request_timeout"});
      if (kAuthErrors.count(code)) throw SlackError(reason, code, SIPHON_AUTH_REJECTED);
      if (kTransientErrors.count(code)) throw SlackError(reason, code, SIPHON_RETRY_LATER);
      throw SlackError(reason, code, SIPHON_ERROR);
    }
    if (std::string warning = json::text(doc, "warning"); !warning.empty())
      ctx_.warn(where + ": Slack warns: " + warning);
    return doc;
  }

  uint32_t poll_pause_seconds() const { return poll_pause_seconds_; }

 private:
  Context& ctx_;
  std::string team_id_;
  uint32_t poll_pause_seconds_;
};

// 48 bits of SHA-256 of a row's compact JSON, as 12 hex digits: tells apart
// the rows of one boundary without making the cursor large.
inline std::string row_hash(const std::string& row_json) { return auth::dedupe_hash(row_json, 12); }

// The part of the cursor every Slack app type keeps: {"since":<Unix s>,
// "known":[hashes...]}, and "scan":{...} while a scan is open.
struct CursorHead {
  int64_t since = 0;
  std::vector<std::string> known;
};

// Parses `cursor` into `doc` and fills `head`; an empty cursor starts at its
// start time. Returns the "scan" object, or nullptr when there is none.
// Throws Error naming `app_type` when the cursor is not an object with an
// integer since.
inline const rapidjson::Value* read_cursor_head(const Cursor& cursor, const char* app_type,
                                                rapidjson::Document& doc, CursorHead& head) {
  if (cursor.empty()) {
    head.since = cursor.start_time_ms / 1000;
    return nullptr;
  }
  auto parsed = json::parse(cursor.value);
  if (!parsed || !json::find<int64_t>(*parsed, "since"))
    throw Error(std::string(app_type) + " cursor is not valid (reset it with siphon state reset)");
  doc = std::move(*parsed);
  head.since = json::get<int64_t>(doc, "since");
  head.known = json::strings(doc, "known");
  auto scan = json::find<json::Object>(doc, "scan");
  return scan ? scan->value : nullptr;
}

// A cursor as JSON text: since, known and, when `scan` is not empty, the
// object `scan` (JSON text) as "scan".
inline std::string write_cursor(const CursorHead& head, const std::string& scan) {
  std::vector<json::Member> members{{"since", head.since}, {"known", head.known}};
  if (!scan.empty()) members.push_back({"scan", json::Raw{scan}});
  return json::object(members);
}

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_CLIENT_HPP
