#include "slack_client.hpp"

#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>

namespace siphon::slack {
namespace {

constexpr char kApiBase[] = "https://slack.com/api/";

// Replies that mean the token cannot read these logs (revoked, wrong kind,
// not an admin's, lacking the admin scope).
const std::set<std::string>& auth_errors() {
  static const std::set<std::string> codes = {"invalid_auth",
                                              "not_authed",
                                              "token_revoked",
                                              "token_expired",
                                              "account_inactive",
                                              "not_allowed_token_type",
                                              "is_bot",
                                              "user_is_bot",
                                              "missing_scope",
                                              "access_denied",
                                              "team_access_not_granted",
                                              "no_permission",
                                              "ekm_access_denied"};
  return codes;
}

// Slack's own transient failures: try again at the next run.
const std::set<std::string>& transient_errors() {
  static const std::set<std::string> codes = {"ratelimited", "internal_error", "fatal_error",
                                              "service_unavailable", "request_timeout"};
  return codes;
}

}  // namespace

AuthInfo auth_fields() {
  return {{"auth_token",
           "user token (xoxp-) of a Slack app installed by a workspace admin, with the admin scope",
           "^xoxp-[a-zA-Z0-9-]+$", true}};
}

Options common_options() {
  return {
      {"poll_pause_seconds",
       "pause between the calls of one run; team logs are Tier 2 (about 20 calls a minute)", "3"},
      {"team_id", "workspace to read with an Enterprise Grid org-level token (T...)", ""},
  };
}

Client::Client(Context& ctx)
    : ctx_(ctx),
      team_id_(ctx.option("team_id")),
      poll_pause_seconds_(static_cast<uint32_t>(ctx.option_int("poll_pause_seconds", 3, 0, 3600))) {
}

rapidjson::Document Client::call(const std::string& method, Params form) {
  if (!team_id_.empty()) form.emplace_back("team_id", team_id_);
  const std::string where = "Slack " + method;
  Response r = ctx_.post_form(
      ctx_.vendor_url(kApiBase + method), form,
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
    if (auth_errors().count(code)) throw SlackError(reason, code, SIPHON_AUTH_REJECTED);
    if (transient_errors().count(code)) throw SlackError(reason, code, SIPHON_RETRY_LATER);
    throw SlackError(reason, code, SIPHON_ERROR);
  }
  if (std::string warning = json::text(doc, "warning"); !warning.empty())
    ctx_.warn(where + ": Slack warns: " + warning);
  return doc;
}

std::string row_hash(const std::string& row_json) { return auth::dedupe_hash(row_json, 12); }

const rapidjson::Value* read_cursor_head(const Cursor& cursor, const char* app_type,
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

std::string write_cursor(const CursorHead& head, const std::string& scan) {
  std::vector<json::Member> members{{"since", head.since}, {"known", head.known}};
  if (!scan.empty()) members.push_back({"scan", json::Raw{scan}});
  return json::object(members);
}

}  // namespace siphon::slack
