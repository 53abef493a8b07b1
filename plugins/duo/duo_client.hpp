// duo_client.hpp - a signed GET against the Duo Admin API, shared by the
// duo_auth and duo_admin app types: reads the credentials and the common
// options, signs each request afresh, and turns Duo's error replies into
// siphon::Error, AuthRejected or RetryLater.
#ifndef SIPHON_PLUGINS_DUO_CLIENT_HPP
#define SIPHON_PLUGINS_DUO_CLIENT_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>

namespace siphon::duo {

// Auth fields and options every Duo app type declares.
AuthInfo auth_fields();
Options common_options();

class Client {
 public:
  explicit Client(Context& ctx);

  // GETs https://<api_hostname><path>?<params>, signed; returns the whole
  // reply document once its stat is "OK".
  rapidjson::Document get(const std::string& path, const Params& params);

  // Seconds to pause between the polls of one run (option poll_pause_seconds).
  uint32_t poll_pause_seconds() const { return poll_pause_seconds_; }

 private:
  Context& ctx_;
  std::string api_hostname_;
  int signature_version_ = 2;
  uint32_t poll_pause_seconds_ = 60;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_CLIENT_HPP
