// duo_admin.hpp - app type duo_admin: Duo administrator logs through
// GET /admin/v1/logs/administrator?mintime=<seconds>, at most 1000 rows a call.
// The cursor keeps the last second read and hashes of the events already
// delivered at that second, so asking again from that second (rather than
// second + 1, as StreamAlert did) neither loses nor repeats events.
#ifndef SIPHON_PLUGINS_DUO_ADMIN_HPP
#define SIPHON_PLUGINS_DUO_ADMIN_HPP

#include <siphon/sdk.hpp>

#include "duo_client.hpp"

namespace siphon::duo {

class DuoAdmin : public App {
 public:
  static std::string service() { return "duo"; }
  static std::string type() { return "admin"; }
  static std::string description() { return "Duo administrator logs (Admin API v1)"; }
  static uint32_t default_interval_seconds() { return 300; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() { return common_options(); }

  explicit DuoAdmin(Context& ctx) : App(ctx), client_(ctx) {}
  Logs gather_logs(const Cursor& cursor) override;
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  Client client_;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_ADMIN_HPP
