#include "slack_client.hpp"

#include <set>
#include <siphon/auth_helpers.hpp>

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

std::string text_member(const rapidjson::Value& doc, const char* name) {
  if (!doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) return {};
  return doc[name].GetString();
}

}  // namespace

AuthInfo auth_fields() {
  return {{"auth_token",
           "user token (xoxp-) of a Slack app installed by a workspace admin, with the admin scope",
           "^xoxp-[a-zA-Z0-9-]+$", true}};
}

Options common_options() {
  return {
      {"base_url", "replaces scheme, host and port of https://slack.com (proxy, local imitation)",
       ""},
      {"poll_pause_seconds",
       "pause between the calls of one run; team logs are Tier 2 (about 20 calls a minute)", "3"},
      {"team_id", "workspace to read with an Enterprise Grid org-level token (T...)", ""},
  };
}

Client::Client(Context& ctx) : ctx_(ctx), team_id_(ctx.option("team_id")) {
  if (!ctx.has_auth("auth_token")) throw Error("auth field auth_token is not set");
  const int64_t pause = ctx.option_int("poll_pause_seconds", 3);
  if (pause < 0 || pause > 3600) throw Error("option poll_pause_seconds must be 0..3600");
  poll_pause_seconds_ = static_cast<uint32_t>(pause);
}

rapidjson::Document Client::call(const std::string& method, Params form) {
  if (!team_id_.empty()) form.emplace_back("team_id", team_id_);
  const std::string where = "Slack " + method;
  Response r = ctx_.post_form(
      ctx_.vendor_url(kApiBase + method), form,
      {{"Authorization", "Bearer " + ctx_.auth("auth_token")}, {"Accept", "application/json"}});
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  const bool is_json = !doc.HasParseError() && doc.IsObject();
  const std::string code = is_json ? text_member(doc, "error") : "";
  std::string reason = where + ": HTTP " + std::to_string(r.status);
  if (!code.empty()) reason += ", error " + code;

  if (r.status == 429 || r.status >= 500) {
    const std::string retry_after = r.header("Retry-After");
    throw RetryLater(reason + (retry_after.empty() ? "" : " (Retry-After " + retry_after + " s)"));
  }
  if (!r.ok()) throw Error(reason);
  if (!is_json) {
    if (doc.HasParseError()) r.json(where);  // throws, naming the parse error
    throw Error(where + ": reply is not a JSON object");
  }
  if (!doc.HasMember("ok") || !doc["ok"].IsBool()) throw Error(where + ": reply has no \"ok\"");
  if (!doc["ok"].GetBool()) {
    if (code == "missing_scope") {
      reason += " (needed: " + text_member(doc, "needed") +
                ", provided: " + text_member(doc, "provided") + ")";
    } else if (code == "paid_only") {
      reason += " (team logs need a paid Slack plan)";
    }
    if (auth_errors().count(code)) throw SlackError(reason, code, SIPHON_AUTH_REJECTED);
    if (transient_errors().count(code)) throw SlackError(reason, code, SIPHON_RETRY_LATER);
    throw SlackError(reason, code, SIPHON_ERROR);
  }
  if (std::string warning = text_member(doc, "warning"); !warning.empty())
    ctx_.warn(where + ": Slack warns: " + warning);
  return doc;
}

std::string row_hash(const std::string& row_json) {
  return auth::hex(auth::sha256(row_json)).substr(0, 12);
}

std::vector<std::string> string_array(const rapidjson::Value& object, const char* name) {
  std::vector<std::string> out;
  if (object.IsObject() && object.HasMember(name) && object[name].IsArray())
    for (const auto& v : object[name].GetArray())
      if (v.IsString()) out.emplace_back(v.GetString());
  return out;
}

void put_array(rapidjson::Writer<rapidjson::StringBuffer>& out, const char* name,
               const std::vector<std::string>& values) {
  out.Key(name);
  out.StartArray();
  for (const auto& v : values) out.String(v);
  out.EndArray();
}

const rapidjson::Value* read_cursor_head(const Cursor& cursor, const char* app_type,
                                         rapidjson::Document& doc, CursorHead& head) {
  if (cursor.empty()) {
    head.since = cursor.start_time_ms / 1000;
    return nullptr;
  }
  doc.Parse(cursor.value.data(), cursor.value.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("since") || !doc["since"].IsInt64())
    throw Error(std::string(app_type) + " cursor is not valid (reset it with siphon state reset)");
  head.since = doc["since"].GetInt64();
  head.known = string_array(doc, "known");
  auto scan = doc.FindMember("scan");
  return scan != doc.MemberEnd() && scan->value.IsObject() ? &scan->value : nullptr;
}

std::string write_cursor(const CursorHead& head, const ScanWriter& scan) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> out(sb);
  out.StartObject();
  out.Key("since");
  out.Int64(head.since);
  put_array(out, "known", head.known);
  if (scan) {
    out.Key("scan");
    out.StartObject();
    scan(out);
    out.EndObject();
  }
  out.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace siphon::slack
