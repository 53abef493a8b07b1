// salesforce_client.hpp - an OAuth session with a Salesforce org and the REST
// calls made with it, shared by every salesforce_* app type.
//
// Two OAuth flows reach the token endpoint <login_url>/services/oauth2/token:
//   - username-password: grant_type=password with the connected app's
//     client_id/client_secret and the user's username and password with the
//     security token appended (the token may be left out for trusted IPs);
//   - client credentials: grant_type=client_credentials with client_id and
//     client_secret only; the org runs it as the connected app's "run as"
//     user. Orgs created since Summer '23 block the password flow by default,
//     and this flow must be sent to the org's My Domain (option login_url).
// The option auth_flow picks one; "auto" uses the password flow when a
// username is configured and client credentials otherwise.
//
// Salesforce sends no expires_in: the session is kept until a call answers
// 401 INVALID_SESSION_ID, then renewed once; a second 401 is AuthRejected.
// Every URL, the token endpoint and the instance_url the org returns alike,
// goes through Context::vendor_url (options.base_url).
#ifndef SIPHON_PLUGINS_SALESFORCE_CLIENT_HPP
#define SIPHON_PLUGINS_SALESFORCE_CLIENT_HPP

#include <siphon/sdk.hpp>
#include <siphon/token_cache.hpp>
#include <string>

namespace siphon::salesforce {

AuthInfo auth_fields();
Options common_options();

class Client {
 public:
  // Reads and checks the auth values and options; no network.
  explicit Client(Context& ctx);

  // "/services/data/vNN.N", asking the org for its newest version when the
  // option api_version is "latest".
  std::string data_path();

  // GET <instance><path_and_query> with the session (renewed once on 401).
  // `url_out`, when given, receives the absolute URL the answer came from.
  // Throws on any non-2xx answer, mapped as Salesforce's errors ask.
  // With `not_found_ok`, a 404 is returned instead of thrown.
  Response get(const std::string& path_and_query, const std::string& what,
               std::string* url_out = nullptr, bool not_found_ok = false);

  // The instance's scheme://host[:port] after options.base_url (opens a
  // session first if needed).
  std::string api_base();

 private:
  // A new session from the token endpoint; sets api_base_.
  Token open_session();

  Context& ctx_;
  bool password_flow_ = true;
  std::string login_url_;
  std::string api_version_;
  std::string api_base_;
  std::string data_path_;
  TokenCache session_{[this] { return open_session(); }};
};

}  // namespace siphon::salesforce

#endif  // SIPHON_PLUGINS_SALESFORCE_CLIENT_HPP
