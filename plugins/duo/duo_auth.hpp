// duo_auth.hpp - app type duo_auth: Duo authentication logs through
// GET /admin/v2/logs/authentication, read in time windows with next_offset
// paging. The cursor keeps the open window, so a restart resumes inside it.
#ifndef SIPHON_PLUGINS_DUO_AUTH_HPP
#define SIPHON_PLUGINS_DUO_AUTH_HPP

#include <siphon/sdk.hpp>

#include "duo_client.hpp"

namespace siphon::duo {

class DuoAuth : public App {
 public:
  static std::string service() { return "duo"; }
  static std::string type() { return "auth"; }
  static std::string description() { return "Duo authentication logs (Admin API v2)"; }
  static uint32_t default_interval_seconds() { return 300; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options();

  explicit DuoAuth(Context& ctx);
  Logs gather_logs(const Cursor& cursor) override;
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  Client client_;
  int64_t delay_ms_ = 120000;
  int64_t limit_ = 1000;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_AUTH_HPP
