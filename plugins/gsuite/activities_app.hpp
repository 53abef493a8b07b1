// activities_app.hpp - one Reports API application's audit activities
// (GET /admin/reports/v1/activity/users/all/applications/{applicationName}),
// shared by every gsuite_* app type; plugin.cpp names the applications.
//
// Each run reads the window [lower - lookback, now - delay) from its newest
// page to its oldest, keeping the page token in the cursor, and moves the
// lower bound to the window's end only after the last page. Activities that
// reach the API late (Google's reporting lag) fall inside the next window's
// lookback; those already delivered are recognised by their id.time and
// id.uniqueQualifier and skipped.
#ifndef SIPHON_GSUITE_ACTIVITIES_APP_HPP
#define SIPHON_GSUITE_ACTIVITIES_APP_HPP

#include <siphon/sdk.hpp>
#include <string>

#include "activity_cursor.hpp"
#include "service_account.hpp"

namespace siphon::gsuite {

class ActivitiesApp : public App {
 public:
  static std::string service() { return "gsuite"; }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info();
  static Options options();

  // Checks the key file, the delegated admin and the options; no network.
  ActivitiesApp(Context& ctx, std::string application);
  Logs gather_logs(const Cursor& cursor) override;

 private:
  // One page of the window; a 401 gets one fresh token and one retry.
  rapidjson::Document fetch(const Window& window);

  std::string application_;
  KeyFile key_;
  TokenCache tokens_{[this] { return fetch_token(ctx(), key_, ctx().auth("delegation_email")); }};
  int64_t max_results_;
  int64_t lookback_ms_;
  int64_t delay_ms_;
  size_t dedupe_max_;
};

}  // namespace siphon::gsuite

#endif  // SIPHON_GSUITE_ACTIVITIES_APP_HPP
