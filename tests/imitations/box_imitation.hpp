// box_imitation.hpp - a local imitation of Box's token endpoint and Events API
// (admin_logs), following the vendor's documented API.
//
//   POST /oauth2/token   the JWT bearer grant (RS256 signature checked against
//                        the configured public key; kid, iss, sub,
//                        box_sub_type, aud, exp <= now + 60 s and not past,
//                        jti 16-128 characters and never reused) and the
//                        client_credentials grant; 400 bodies
//                        {"error":..,"error_description":..} as Box sends them.
//   GET /2.0/events      stream_type=admin_logs; stream_position (opaque, "now",
//                        "0" or absent = oldest); created_after/created_before
//                        honoured only without stream_position; event_type
//                        filter; limit (default 100) capped at 500. Unknown or
//                        expired tokens get 401 with WWW-Authenticate.
//
// Switches imitate what box.md says a client must survive: short pages, the
// position as a JSON number, an event repeated across pages, a 403 for an app
// without admin rights, a shifted clock. Faults (429, 5xx, delays) come from
// the base class. Thread-safe like the base.
#ifndef SIPHON_TESTS_BOX_IMITATION_HPP
#define SIPHON_TESTS_BOX_IMITATION_HPP

#include <Poco/SharedPtr.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace Poco::Crypto {
class RSAKey;
}

namespace siphon::imitation {

class BoxImitation : public Imitation {
 public:
  // What Box knows about the app: its client id and secret, the enterprise it
  // belongs to, and the public key registered under public_key_id.
  struct Credentials {
    std::string client_id;
    std::string client_secret;
    std::string enterprise_id;
    std::string public_key_id;
    std::string public_key_pem;
  };

  // A generated app: `json` is the config.json Box lets an admin download
  // (private key as encrypted PKCS#8 PEM plus its passphrase).
  struct Keyfile {
    std::string json;
    std::string public_key_pem;
    Credentials credentials;
    std::string private_key_pem;  // the same key and passphrase as in `json`
    std::string passphrase;
  };
  // Generates a 2048-bit RSA key pair and random client id, secret and key id.
  static Keyfile make_keyfile(const std::string& enterprise_id = "918273645",
                              const std::string& passphrase = "correct horse battery staple");

  explicit BoxImitation(Credentials credentials);
  ~BoxImitation() override;

  // Appends n events, created one second apart from start_time_ms on.
  void add_events(size_t n, int64_t start_time_ms);
  size_t events() const;
  // Access tokens issued so far (both grants).
  int64_t issued_tokens() const;
  // The opaque stream position Box would return after event `index` (0-based
  // count of events before the position).
  static std::string position_at(size_t index);

  // Forgets every issued token (as if revoked): the next API call gets 401.
  void revoke_tokens();
  // Lifetime of tokens issued from now on (default 3600 s); expires_in says it.
  void set_token_lifetime_seconds(int64_t seconds);
  // Pages hold at most this many entries whatever the limit (0: no cap).
  void set_max_page(size_t entries);
  // next_stream_position as a JSON number instead of a string.
  void set_position_as_number(bool on);
  // Each page after the first starts with the previous page's last event.
  void set_repeat_last_event(bool on);
  // The app's service account is not an admin: /2.0/events answers 403.
  void set_not_admin(bool on);
  // Shifts the imitation's clock (for exp checks and token expiry).
  void set_clock_offset_ms(int64_t offset_ms);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Event {
    std::string event_id;
    std::string event_type;
    int64_t created_ms = 0;
    std::string json;
  };

  void token(const Request& request, Reply& reply);
  // Checks the JWT assertion; "" when good, else the invalid_grant description.
  std::string check_assertion(const std::string& jwt);
  void issue_token(Reply& reply);
  void events_page(const Request& request, Reply& reply);
  int64_t clock_ms() const;

  const Credentials credentials_;
  Poco::SharedPtr<Poco::Crypto::RSAKey> public_key_;  // loaded once; verifying is read-only
  mutable std::mutex state_mu_;
  std::vector<Event> events_;
  std::map<std::string, int64_t> tokens_;  // access token -> expiry (ms)
  std::set<std::string> used_jtis_;
  int64_t issued_tokens_ = 0;
  int64_t token_lifetime_seconds_ = 3600;
  size_t max_page_ = 0;
  bool position_as_number_ = false;
  bool repeat_last_event_ = false;
  bool not_admin_ = false;
  int64_t clock_offset_ms_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_BOX_IMITATION_HPP
