#include <algorithm>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>

namespace siphon {

namespace {

std::string first_of(const rapidjson::Value& body, std::initializer_list<const char*> paths) {
  for (const char* path : paths) {
    const rapidjson::Value* v = json::at(body, path);
    if (v == nullptr || !(v->IsString() || v->IsNumber())) continue;
    std::string text = json::text(body, path);
    if (text.empty()) continue;
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    return text;
  }
  return {};
}

}  // namespace

std::string describe_error(const Response& resp) {
  std::string out = "HTTP " + std::to_string(resp.status);
  auto body = json::parse(resp.body);
  if (!body || !(body->IsObject() || body->IsArray())) return out;
  const std::string code = first_of(*body, {"errors.0.code", "status.type", "error.status", "code",
                                            "error", "Code", "0.errorCode", "errorCode"});
  const std::string message =
      first_of(*body, {"errors.0.message", "status.message", "error.message", "message",
                       "error_description", "Message", "0.message", "errorSummary"});
  const std::string detail = first_of(
      *body,
      {"message_detail", "errors.0.detail", "error.errors.0.reason", "errorCauses.0.errorSummary"});
  if (!code.empty()) out += " " + code;
  if (!message.empty() && message != code) out += ": " + message;
  if (!detail.empty() && detail != message) out += " (" + detail + ")";
  return out;
}

void check_response(const Response& resp, std::string_view what, const ErrorPolicy& policy) {
  if (resp.ok()) return;
  std::string why = std::string(what) + ": " + describe_error(resp);
  const auto& auth = policy.auth_rejected;
  if (std::find(auth.begin(), auth.end(), resp.status) != auth.end())
    throw AuthRejected(policy.auth_hint.empty() ? why : why + " " + policy.auth_hint);
  if (resp.status == 429 || resp.status >= 500) throw RetryLater(why);
  throw Error(why);
}

}  // namespace siphon
