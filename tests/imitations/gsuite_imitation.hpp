// gsuite_imitation.hpp - a local imitation of Google's OAuth token endpoint
// and the Admin SDK Reports API activities.list, following
// the vendor's documented API.
//
//   POST /token          the JWT bearer grant of a service account: the RS256
//                        signature is checked against the account's public
//                        key and kid; iss, sub (a known user), scope, aud,
//                        iat/exp (at most 3600 s apart, iat near the clock);
//                        400 bodies {"error":..,"error_description":..} with
//                        Google's texts. Tokens say expires_in 3599 but may
//                        be set to die sooner (401 UNAUTHENTICATED then).
//   GET /admin/reports/v1/activity/users/{userKey}/applications/{app}
//                        every application of the vendor file; userKey "all"
//                        or an actor email; startTime/endTime (both inclusive;
//                        400 when startTime is not before endTime or now),
//                        maxResults 1-1000 (default 1000), opaque pageTokens
//                        bound to the query they came from (400 when replayed
//                        with other parameters). Items newest first; no
//                        "items" key when nothing matches.
//
// Switches imitate what gsuite.md says a client must survive: reporting lag
// (activities that become visible after a delay, with their original, older
// times), many activities sharing one id.time, a user who is not an admin
// (403), delegation not granted (unauthorized_client), errors with Google's
// bodies on the Nth call (403 rateLimitExceeded, 429, 503 backendError).
// Base-class faults apply too. Thread-safe like the base.
#ifndef SIPHON_TESTS_GSUITE_IMITATION_HPP
#define SIPHON_TESTS_GSUITE_IMITATION_HPP

#include <Poco/SharedPtr.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace Poco::Crypto {
class RSAKey;
}

namespace siphon::imitation {

class GsuiteImitation : public Imitation {
 public:
  static constexpr char kTokenUri[] = "https://oauth2.googleapis.com/token";
  static constexpr char kScope[] = "https://www.googleapis.com/auth/admin.reports.audit.readonly";

  // What Google knows: the service account (email, key id, public key), the
  // admin it may act as, and the customer the activities belong to.
  struct Account {
    std::string client_email;
    std::string private_key_id;
    std::string public_key_pem;
    std::string admin_email = "admin@example.com";
    std::string customer_id = "C01x7kq9p";
  };

  // A generated service account: `json` is its key file as the Cloud Console
  // hands it out (PKCS#8 private key, token_uri ...).
  struct Keyfile {
    std::string json;
    std::string private_key_pem;
    Account account;
  };
  static Keyfile make_keyfile(const std::string& admin_email = "admin@example.com");

  // Google's error body for the Reports API.
  static std::string error_body(int code, const std::string& status, const std::string& reason,
                                const std::string& message, const std::string& domain = "global");
  static std::string rate_limit_body();     // 403 usageLimits rateLimitExceeded
  static std::string exhausted_body();      // 429 RESOURCE_EXHAUSTED
  static std::string backend_error_body();  // 503 backendError

  explicit GsuiteImitation(Account account);
  ~GsuiteImitation() override;

  // Adds n activities of `application`, the first at time_ms and each next
  // one step_ms later (0: all at the same time). They become visible to the
  // API after the reporting lag in force. Returns their uniqueQualifiers.
  std::vector<std::string> add_activities(const std::string& application, size_t n, int64_t time_ms,
                                          int64_t step_ms = 1000);
  size_t activities(const std::string& application) const;
  // Activities added from now on become visible this long after being added.
  void set_reporting_lag_ms(int64_t lag_ms);

  int64_t issued_tokens() const;
  // Forgets every issued token: the next API call gets 401.
  void revoke_tokens();
  // Real lifetime of tokens issued from now on (they still say 3599).
  void set_token_lifetime_seconds(int64_t seconds);
  // false: the grant answers unauthorized_client (no domain-wide delegation).
  void set_delegation_granted(bool granted);
  // false: the admin loses admin rights, the API answers 403 (as it does for
  // tokens of the other known, non-admin users).
  void set_admin(bool is_admin);
  void set_clock_offset_ms(int64_t offset_ms);
  // The nth activities call from now on (1 = the next), and count - 1 more
  // after it, are answered with status and body.
  void fail_activities_call(size_t nth, int status, const std::string& body, int count = 1);
  void clear_activities_failures();
  // Page tokens handed out so far stop working (400), as old ones do.
  void expire_page_tokens();

  // The decoded query of every activities call answered so far.
  std::vector<std::vector<std::pair<std::string, std::string>>> activity_queries() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Activity {
    std::string application;
    int64_t time_ms = 0;
    int64_t visible_ms = 0;
    uint64_t seq = 0;  // breaks ties of equal times
    std::string actor_email;
    std::string json;
  };
  struct PageState {
    std::string query;  // every parameter but pageToken, as they must stay
    int64_t last_time_ms = 0;
    uint64_t last_seq = 0;
  };
  struct CallFault {
    size_t skip = 0;
    int status = 0;
    std::string body;
    int count = 1;
  };

  void token(const Request& request, Reply& reply);
  // "" when the assertion is good (subject set), else Google's description
  // (error set to the OAuth error code).
  std::string check_assertion(const std::string& jwt, std::string& error, std::string& subject);
  void list(const Request& request, const std::string& user_key, const std::string& application,
            Reply& reply);
  int64_t clock_ms() const;

  const Account account_;
  Poco::SharedPtr<Poco::Crypto::RSAKey> public_key_;
  mutable std::mutex state_mu_;
  std::vector<Activity> activities_;
  std::map<std::string, std::pair<int64_t, std::string>> tokens_;  // token -> expiry ms, subject
  std::map<std::string, PageState> pages_;
  std::vector<CallFault> call_faults_;
  std::vector<std::vector<std::pair<std::string, std::string>>> queries_;
  int64_t issued_tokens_ = 0;
  int64_t token_lifetime_seconds_ = 3599;
  int64_t lag_ms_ = 0;
  bool delegation_granted_ = true;
  bool admin_ = true;
  int64_t clock_offset_ms_ = 0;
  uint64_t next_seq_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_GSUITE_IMITATION_HPP
