// service_account.hpp - a Google service account with domain-wide delegation:
// its key file, and the access tokens it gets from the JWT bearer grant
// (RFC 7523) on behalf of a Workspace admin.
#ifndef SIPHON_GSUITE_SERVICE_ACCOUNT_HPP
#define SIPHON_GSUITE_SERVICE_ACCOUNT_HPP

#include <siphon/sdk.hpp>
#include <siphon/token_cache.hpp>
#include <string>

namespace siphon::gsuite {

constexpr char kReportsScope[] = "https://www.googleapis.com/auth/admin.reports.audit.readonly";
constexpr char kDefaultTokenUri[] = "https://oauth2.googleapis.com/token";

// The members of a service-account key file a token needs.
struct KeyFile {
  std::string client_email;
  std::string private_key_id;  // "" when the file has none (no kid header then)
  std::string private_key;     // PKCS#8 PEM
  std::string token_uri;

  // Parses and checks the JSON text of a key file. Throws siphon::Error naming
  // the member at fault ("keyfile: private_key is missing"), never its value.
  static KeyFile parse(const std::string& json);
};

// A new access token for `subject` from the token endpoint (through
// ctx.vendor_url, so options.base_url applies; the JWT's aud stays the real
// token_uri). A refused grant throws siphon::AuthRejected with Google's reason.
Token fetch_token(Context& ctx, const KeyFile& key, const std::string& subject);

}  // namespace siphon::gsuite

#endif  // SIPHON_GSUITE_SERVICE_ACCOUNT_HPP
