// aliyun_actiontrail.hpp - app type aliyun_actiontrail: Alibaba Cloud
// ActionTrail events through the RPC API LookupEvents (version 2020-07-06),
// signed with HMAC-SHA1 (aliyun_signer.hpp).
//
// Events are read in windows [StartTime, EndTime], EndTime being now minus
// delay_seconds (ActionTrail shows events a few minutes late). A window comes
// newest first, paged by NextToken, so the checkpoint moves to the window's
// end only once its last page is read; until then the cursor keeps the window
// and the NextToken, and a stopped run resumes inside it. Both bounds are
// inclusive: the next window starts at the previous end (less
// lookback_seconds), and the events of that overlap already delivered are
// recognised by their eventId.
#ifndef SIPHON_PLUGINS_ALIYUN_ACTIONTRAIL_HPP
#define SIPHON_PLUGINS_ALIYUN_ACTIONTRAIL_HPP

#include <rapidjson/document.h>

#include <siphon/sdk.hpp>

namespace siphon::aliyun {

class AliyunActionTrail : public App {
 public:
  static std::string service() { return "aliyun"; }
  static std::string type() { return "actiontrail"; }
  static std::string description() {
    return "Alibaba Cloud ActionTrail events (LookupEvents, API version 2020-07-06)";
  }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info();
  static Options options();

  explicit AliyunActionTrail(Context& ctx);
  Logs gather_logs(const Cursor& cursor) override;
  // ActionTrail allows 2 LookupEvents calls a second: a one-second pause
  // after every calls_per_second calls.
  uint32_t sleep_seconds(uint32_t polls_done) override;

 private:
  rapidjson::Document lookup_events(const Params& params);

  std::string endpoint_;
  int64_t max_results_ = 50;
  int64_t delay_seconds_ = 300;
  int64_t lookback_seconds_ = 0;
  int64_t calls_per_second_ = 2;
};

}  // namespace siphon::aliyun

#endif  // SIPHON_PLUGINS_ALIYUN_ACTIONTRAIL_HPP
