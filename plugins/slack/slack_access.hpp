// slack_access.hpp - app type slack_access: team.accessLogs.
//
// Slack keeps one row per (user, IP, user agent) and raises its date_last and
// count in place when that combination is seen again; rows are sorted by
// date_first, newest first, and the method has no "since" filter. So every run
// scans all pages and delivers the rows whose date_last is at or after the
// checkpoint. The checkpoint moves to the scan's start time (minus
// lookback_seconds) only when the scan is complete, and the cursor carries the
// scan in flight (paging position and the hashes of rows already delivered),
// so a run stopped between pages resumes where it was. A row is recognised by
// a hash of its whole JSON: the same row with a newer date_last is new
// activity and is delivered again; the same row unchanged is not.
#ifndef SIPHON_PLUGINS_SLACK_ACCESS_HPP
#define SIPHON_PLUGINS_SLACK_ACCESS_HPP

#include <siphon/sdk.hpp>

#include "slack_client.hpp"

namespace siphon::slack {

class SlackAccess : public App {
 public:
  static std::string service() { return "slack"; }
  static std::string type() { return "access"; }
  static std::string description() { return "Slack team access logs (team.accessLogs)"; }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options();

  explicit SlackAccess(Context& ctx);
  Logs gather_logs(const Cursor& cursor) override;
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  Client client_;
  bool cursor_paging_ = true;
  int64_t page_size_ = 1000;
  int64_t lookback_seconds_ = 60;
};

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_ACCESS_HPP
