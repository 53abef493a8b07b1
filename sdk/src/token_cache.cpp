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

}  // namespace oauth2
}  // namespace siphon
