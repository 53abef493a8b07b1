#include "service_account.hpp"

#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>

namespace siphon::gsuite {
namespace {

constexpr int64_t kAssertionLifetimeSeconds = 3600;  // Google's maximum

std::string member(const rapidjson::Value& doc, const char* name, bool required) {
  if (!required && !json::at(doc, name)) return {};
  std::string text = json::get<std::string>(doc, name, "keyfile");
  if (text.empty() && required) throw Error(std::string("keyfile: ") + name + " is empty");
  return text;
}

}  // namespace

KeyFile KeyFile::parse(const std::string& text) {
  auto doc = json::parse(text);
  if (!doc || !doc->IsObject())
    throw Error("keyfile: not a JSON object (expected the service account's JSON key file)");
  std::string type = member(*doc, "type", true);
  if (type != "service_account")
    throw Error("keyfile: type is \"" + type +
                "\", expected \"service_account\" (a key file of a service account with "
                "domain-wide delegation)");
  KeyFile key;
  key.client_email = member(*doc, "client_email", true);
  key.private_key_id = member(*doc, "private_key_id", false);
  key.private_key = member(*doc, "private_key", true);
  key.token_uri = member(*doc, "token_uri", false);
  if (key.token_uri.empty()) key.token_uri = kDefaultTokenUri;
  if (key.token_uri.rfind("https://", 0) != 0)
    throw Error("keyfile: token_uri must be an https:// URL");
  try {
    auth::check_private_key(key.private_key);
  } catch (const std::exception& e) {
    throw Error(std::string("keyfile: private_key: ") + e.what());
  }
  return key;
}

Token fetch_token(Context& ctx, const KeyFile& key, const std::string& subject) {
  const int64_t now_s = ctx.now_ms() / 1000;
  std::vector<json::Member> header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header.push_back({"kid", key.private_key_id});
  const std::string assertion =
      auth::rs256_jwt(json::object(header),
                      json::object({{"iss", key.client_email},
                                    {"sub", subject},
                                    {"scope", kReportsScope},
                                    {"aud", key.token_uri},
                                    {"iat", now_s},
                                    {"exp", now_s + kAssertionLifetimeSeconds}}),
                      key.private_key);
  return oauth2::jwt_bearer(ctx, ctx.vendor_url(key.token_uri), assertion);
}

}  // namespace siphon::gsuite
