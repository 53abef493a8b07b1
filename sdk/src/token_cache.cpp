#include <Poco/URI.h>

#include <algorithm>
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/token_cache.hpp>

namespace siphon {

TokenCache::TokenCache(Fetch fetch, int64_t renew_early_seconds)
    : fetch_(std::move(fetch)), renew_early_ms_(renew_early_seconds * 1000) {}

const std::string& TokenCache::get(int64_t now_ms) {
  if (!token_.empty() && now_ms < expires_at_ms_) return token_;
  token_.clear();
  Token t = fetch_();
  if (t.value.empty()) throw Error("the token endpoint returned an empty token");
  const int64_t lifetime_ms = std::max<int64_t>(t.expires_in_seconds, 0) * 1000;
  expires_at_ms_ = now_ms + lifetime_ms - std::min(renew_early_ms_, lifetime_ms / 4);
  token_ = std::move(t.value);
  return token_;
}

void TokenCache::forget() {
  token_.clear();
  expires_at_ms_ = 0;
}

Response TokenCache::send_authorized(
    Context& ctx, const std::function<Response(const std::string& token)>& request) {
  Response resp = request(get(ctx.now_ms()));
  if (resp.status != 401) return resp;
  forget();
  return request(get(ctx.now_ms()));
}

namespace oauth2 {

Token read_token(const Response& resp, std::string_view what, int64_t default_expires_in) {
  check_response(resp, what, {{400, 401, 403}, ""});
  rapidjson::Document body = resp.json(what);
  Token t;
  auto token = json::find<std::string>(body, "access_token");
  if (!token || token->empty()) throw Error(std::string(what) + ": the reply has no access_token");
  t.value = std::move(*token);
  t.expires_in_seconds = json::find_integer(body, "expires_in").value_or(default_expires_in);
  return t;
}

namespace {

std::string token_what(const std::string& token_url) {
  try {
    return "POST " + Poco::URI(token_url).getPath();
  } catch (const std::exception&) {
    return "POST token endpoint";
  }
}

}  // namespace

Token client_credentials(Context& ctx, const std::string& token_url, const std::string& client_id,
                         const std::string& client_secret, const std::string& scope,
                         bool basic_auth) {
  Params form{{"grant_type", "client_credentials"}};
  Headers headers{{"Accept", "application/json"}};
  if (basic_auth) {
    headers.emplace_back(
        "Authorization",
        "Basic " + auth::base64_encode(url_encode(client_id) + ":" + url_encode(client_secret)));
  } else {
    form.emplace_back("client_id", client_id);
    form.emplace_back("client_secret", client_secret);
  }
  if (!scope.empty()) form.emplace_back("scope", scope);
  return read_token(ctx.post_form(token_url, form, headers), token_what(token_url));
}

Token jwt_bearer(Context& ctx, const std::string& token_url, const std::string& assertion,
                 const Params& extra) {
  Params form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}};
  form.insert(form.end(), extra.begin(), extra.end());
  form.emplace_back("assertion", assertion);
  return read_token(ctx.post_form(token_url, form, {{"Accept", "application/json"}}),
                    token_what(token_url));
}

ServiceAccount ServiceAccount::parse(const std::string& text, const std::string& field) {
  auto doc = json::parse(text);
  if (!doc || !doc->IsObject())
    throw Error(field + ": not a JSON object (expected a service account's JSON key file)");
  auto member = [&](const char* name, bool required) -> std::string {
    if (!required && !json::at(*doc, name)) return {};
    std::string value = json::get<std::string>(*doc, name, field);
    if (value.empty() && required) throw Error(field + ": " + name + " is empty");
    return value;
  };
  const std::string type = member("type", true);
  if (type != "service_account")
    throw Error(field + ": type is \"" + type +
                "\", expected \"service_account\" (the key file of a service account)");
  ServiceAccount key{member("client_email", true), member("private_key_id", false),
                     member("private_key", true), member("token_uri", false)};
  if (key.token_uri.empty()) key.token_uri = "https://oauth2.googleapis.com/token";
  if (key.token_uri.rfind("https://", 0) != 0)
    throw Error(field + ": token_uri must be an https:// URL");
  try {
    auth::check_private_key(key.private_key);
  } catch (const std::exception& e) {
    throw Error(field + ": private_key: " + e.what());
  }
  return key;
}

Token ServiceAccount::token(Context& ctx, const std::string& scope,
                            const std::string& subject) const {
  const int64_t now_s = ctx.now_ms() / 1000;
  std::vector<json::Member> header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!private_key_id.empty()) header.push_back({"kid", private_key_id});
  std::vector<json::Member> claims{{"iss", client_email}};
  if (!subject.empty()) claims.push_back({"sub", subject});
  claims.insert(claims.end(),
                {{"scope", scope}, {"aud", token_uri}, {"iat", now_s}, {"exp", now_s + 3600}});
  return jwt_bearer(ctx, ctx.vendor_url(token_uri),
                    auth::rs256_jwt(json::object(header), json::object(claims), private_key));
}

}  // namespace oauth2
}  // namespace siphon
