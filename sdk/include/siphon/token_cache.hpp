// siphon/token_cache.hpp - access tokens fetched once, reused until they
// expire, and fetched again once when the vendor answers 401.
//
// Most SaaS APIs take a bearer token that the app first obtains from a token
// endpoint: the OAuth 2.0 client-credentials grant (RFC 6749 4.4), the JWT
// bearer grant (RFC 7523; Box, Google service accounts), or a vendor's own
// variant (OneLogin). TokenCache keeps the token and its expiry, and
// send_authorized() makes the one-retry-on-401 rule the same everywhere:
//
//   siphon::TokenCache tokens_{[this] {
//     return siphon::oauth2::client_credentials(ctx(), ctx().vendor_url(kTokenUrl),
//                                               ctx().auth("client_id"),
//                                               ctx().auth("client_secret"));
//   }};
//   siphon::Response resp = tokens_.send_authorized(ctx(), [&](const std::string& token) {
//     return ctx().get(url, query, {{"Authorization", "Bearer " + token}});
//   });
//   siphon::check_response(resp, "GET /2.0/events");   // a second 401: AuthRejected
//
// A token is renewed before it expires: early by renew_early_seconds, or by a
// quarter of its lifetime when that is shorter (a short-lived token keeps a
// margin for a busy host and a slow network). Tokens are secrets: nothing
// here logs or throws their value.
//
// A TokenCache belongs to one App instance (not thread-safe, as the App).
#ifndef SIPHON_TOKEN_CACHE_HPP
#define SIPHON_TOKEN_CACHE_HPP

#include <cstdint>
#include <functional>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

namespace siphon {

// A token as a token endpoint returned it.
struct Token {
  std::string value;
  int64_t expires_in_seconds = 3600;
};

class TokenCache {
 public:
  // `fetch` obtains a new token (network allowed); it throws siphon::Error
  // (AuthRejected when the credentials are refused) on failure.
  using Fetch = std::function<Token()>;
  explicit TokenCache(Fetch fetch, int64_t renew_early_seconds = 60);

  // The cached token while it is valid at `now_ms`, else a new one.
  const std::string& get(int64_t now_ms);
  // Forgets the cached token; the next get() fetches one.
  void forget();

  // Sends `request` with the current token. On HTTP 401 the token is
  // forgotten, a new one fetched and the request sent once more. Returns the
  // last response, whatever its status (check_response maps a second 401 to
  // AuthRejected).
  Response send_authorized(Context& ctx,
                           const std::function<Response(const std::string& token)>& request);

 private:
  Fetch fetch_;
  int64_t renew_early_ms_;
  std::string token_;
  int64_t expires_at_ms_ = 0;
};

namespace oauth2 {

// Reads the token endpoint's reply {"access_token":..,"expires_in":..}.
// A refusal (400, 401 or 403: invalid_client, invalid_grant ...) throws
// AuthRejected "<what>: HTTP 400 invalid_grant: ..."; other failures throw
// as check_response does; a reply without access_token throws Error.
// `default_expires_in` is used when the reply has no expires_in.
Token read_token(const Response& resp, std::string_view what, int64_t default_expires_in = 3600);

// POSTs grant_type=client_credentials to `token_url` with the client's id and
// secret in the form (or as HTTP Basic when `basic_auth`), plus `scope` when
// not empty, and reads the token.
Token client_credentials(Context& ctx, const std::string& token_url, const std::string& client_id,
                         const std::string& client_secret, const std::string& scope = "",
                         bool basic_auth = false);

// POSTs grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with the
// signed `assertion` (see auth::rs256_jwt) and `extra` form members (Box adds
// client_id and client_secret), and reads the token.
Token jwt_bearer(Context& ctx, const std::string& token_url, const std::string& assertion,
                 const Params& extra = {});

// A Google service account's JSON key file ("type":"service_account"), and
// its access tokens through the JWT bearer grant: the assertion is signed
// with the key's private key (RS256, with the key id as "kid" when the file
// has one) and lasts an hour, Google's longest.
struct ServiceAccount {
  std::string client_email;
  std::string private_key_id;  // "" when the file has none
  std::string private_key;     // PKCS#8 PEM
  std::string token_uri;       // the file's, https://oauth2.googleapis.com/token by default

  // Parses and checks the key file's text. Throws Error naming `field` and
  // the member at fault ("keyfile: member private_key is missing"), never a value.
  static ServiceAccount parse(const std::string& text, const std::string& field);

  // A token for `scope`, on behalf of `subject` (a user, under domain-wide
  // delegation; "" for the account itself). The request goes through
  // ctx.vendor_url (options.base_url); the assertion's aud stays token_uri.
  Token token(Context& ctx, const std::string& scope, const std::string& subject) const;
};

}  // namespace oauth2
}  // namespace siphon

#endif  // SIPHON_TOKEN_CACHE_HPP
