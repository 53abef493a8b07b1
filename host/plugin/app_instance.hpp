// The host side of one plugin instance: creates it through the C ABI, hands
// it the host services (HTTP through the shared pool, logging with the app's
// secrets redacted, the clock), polls it, and destroys it.
#ifndef SIPHON_HOST_PLUGIN_APP_INSTANCE_HPP
#define SIPHON_HOST_PLUGIN_APP_INSTANCE_HPP

#include <siphon/plugin_api.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/http_service.hpp"
#include "log/log.hpp"
#include "plugin/registry.hpp"
#include "util/stop_signal.hpp"

namespace siphon {

// A poll's result. Event views point into the plugin's memory and stay valid
// until the next call on the instance.
struct PollOutcome {
  siphon_status status = SIPHON_ERROR;
  std::string error;
  std::vector<std::string_view> events;
  std::string next_cursor;
  bool has_more = false;
};

class AppInstance {
 public:
  // `auth` holds resolved values; `http` may be null for validation only.
  AppInstance(const AppTypeInfo& type, const AppConfig& app,
              std::vector<std::pair<std::string, std::string>> auth, HttpService* http,
              StopSignal* stop, const Redactor& redactor);
  ~AppInstance();
  AppInstance(const AppInstance&) = delete;
  AppInstance& operator=(const AppInstance&) = delete;

  // Calls the plugin's create. Returns "" or the (redacted) reason.
  std::string create(bool validate_only);
  PollOutcome poll(const std::string& cursor, int64_t start_time_ms, uint32_t poll_index);
  uint32_t sleep_seconds(uint32_t polls_done);
  // The credential budget and run deadline the instance's requests obey.
  void set_request_policy(RequestPolicy policy) { policy_ = std::move(policy); }

 private:
  static siphon_status http_cb(siphon_host* host, const siphon_http_request* request,
                               siphon_http_response* response);
  static void log_cb(siphon_host* host, int32_t level, const char* message);
  static int64_t now_cb(siphon_host* host);
  std::string plugin_error() const;

  const AppTypeInfo& type_;
  const AppConfig& app_;
  std::vector<std::pair<std::string, std::string>> auth_;
  HttpService* http_;
  StopSignal* stop_;
  Redactor redactor_;
  siphon_host_api api_{};
  siphon_instance* instance_ = nullptr;
  RequestPolicy policy_;
  HttpResponse last_response_;
  std::vector<siphon_pair> last_headers_;
};

}  // namespace siphon

#endif
