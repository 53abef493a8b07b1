// slack_integration.hpp - app type slack_integration: team.integrationLogs.
//
// Entries come newest first, paged by page number, with no "since" filter.
// Each run reads pages until it meets an entry older than the checkpoint (the
// newest date delivered so far) or the last page. The checkpoint keeps that
// date and the hashes of the entries carrying it, so entries of the same
// second that arrive later are delivered and the delivered ones are not. It
// moves only when the run has read down to it; until then the cursor carries
// the page reached and the newest date met, so a run stopped between pages
// resumes at its page without skipping one.
#ifndef SIPHON_PLUGINS_SLACK_INTEGRATION_HPP
#define SIPHON_PLUGINS_SLACK_INTEGRATION_HPP

#include <siphon/sdk.hpp>

#include "slack_client.hpp"

namespace siphon::slack {

class SlackIntegration : public App {
 public:
  static std::string service() { return "slack"; }
  static std::string type() { return "integration"; }
  static std::string description() {
    return "Slack team integration logs: apps and integrations added, changed, removed "
           "(team.integrationLogs)";
  }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options();

  explicit SlackIntegration(Context& ctx);
  Logs gather_logs(const Cursor& cursor) override;
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  Client client_;
  int64_t page_size_ = 1000;
};

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_INTEGRATION_HPP
