// service_account.hpp - a Google service account with domain-wide delegation:
// its key file, and the access tokens it gets from the JWT bearer grant
// (RFC 7523) on behalf of a Workspace admin.
#ifndef SIPHON_GSUITE_SERVICE_ACCOUNT_HPP
#define SIPHON_GSUITE_SERVICE_ACCOUNT_HPP

#include <cstdint>
#include <siphon/sdk.hpp>
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

// "HTTP 403 PERMISSION_DENIED rateLimitExceeded: Quota exceeded ..." from a
// Google error body (API or token endpoint); bodies carry no secrets.
std::string describe(const Response& resp);

// Access tokens for one key file and delegated user, kept until a minute
// before they expire. Not thread-safe (one per App instance).
class ServiceAccount {
 public:
  ServiceAccount(KeyFile key, std::string subject) : key_(std::move(key)), subject_(subject) {}

  // A cached token, or a new one from the token endpoint (through
  // ctx.vendor_url, so options.base_url applies). A refused grant throws
  // siphon::AuthRejected with Google's reason; 429/5xx throw RetryLater.
  const std::string& token(Context& ctx);
  // Forgets the cached token (after a 401).
  void forget() { token_.clear(); }

 private:
  KeyFile key_;
  std::string subject_;
  std::string token_;
  int64_t expiry_ms_ = 0;
};

}  // namespace siphon::gsuite

#endif  // SIPHON_GSUITE_SERVICE_ACCOUNT_HPP
