// The host side of one plugin instance: creates it through the C ABI, hands
// it the host services (HTTP through the shared pool, logging with the app's
// secrets redacted, the clock), polls it, and destroys it.
//
// PluginInstance is what the poller sees. AppInstance runs the plugin in this
// process; IsolatedInstance (isolated_instance.hpp) runs it in a worker
// process behind the same calls.
#ifndef SIPHON_HOST_PLUGIN_APP_INSTANCE_HPP
#define SIPHON_HOST_PLUGIN_APP_INSTANCE_HPP

#include <siphon/plugin_api.h>

#include <functional>
#include <memory>
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

// Once a stop is requested, how long a plugin call may still take.
constexpr int64_t kStopGraceMs = 10000;

// A poll's result. Event views point into memory of the instance and stay
// valid until the next call on the instance.
struct PollOutcome {
  siphon_status status = SIPHON_ERROR;
  std::string error;
  std::vector<std::string_view> events;
  std::string next_cursor;
  bool has_more = false;
  // Optional members of siphon_poll_result (ABI 1.1); 0 when the plugin
  // does not report them.
  int64_t newest_event_time_ms = 0;  // unix ms of the newest event on the page
  int64_t duplicates_dropped = 0;    // events the plugin dropped as already delivered
};

class PluginInstance {
 public:
  virtual ~PluginInstance() = default;
  // Calls the plugin's create. Returns "" or the (redacted) reason.
  virtual std::string create(bool validate_only) = 0;
  virtual PollOutcome poll(const std::string& cursor, int64_t start_time_ms,
                           uint32_t poll_index) = 0;
  // 0 when the call failed (failure() then says why).
  virtual uint32_t sleep_seconds(uint32_t polls_done) = 0;
  // Non-empty once the instance can no longer be called: a call that passed
  // its deadline, a worker that died. Names the app, the plugin and the cause.
  virtual const std::string& failure() const = 0;
  // The credential budget and run deadline the instance's requests obey.
  virtual void set_request_policy(RequestPolicy policy) = 0;
  // Lets poll run on the calling thread. Should a poll pass its deadline,
  // `taken` is then called on another thread, with failure() set, and the
  // calling thread never returns from poll: `taken` must do what the caller
  // does after a failed poll. An instance that cannot run polls that way
  // (a worker process) ignores it.
  virtual void poll_on_caller(std::function<void()> taken) { (void)taken; }
};

// Where an in-process instance sends its host calls instead of serving them
// itself (used inside a plugin worker process, which forwards them to the host).
class HostForward {
 public:
  virtual ~HostForward() = default;
  virtual siphon_status http(const HttpRequest& request, HttpResponse& response) = 0;
  virtual void log(int32_t level, const std::string& message) = 0;
  virtual int64_t now_ms() = 0;
};

class AppInstance : public PluginInstance {
 public:
  // `auth` holds resolved values; `http` may be null for validation only.
  AppInstance(const AppTypeInfo& type, const AppConfig& app,
              std::vector<std::pair<std::string, std::string>> auth, HttpService* http,
              StopSignal* stop, const Redactor& redactor);
  ~AppInstance() override;
  AppInstance(const AppInstance&) = delete;
  AppInstance& operator=(const AppInstance&) = delete;

  std::string create(bool validate_only) override;
  PollOutcome poll(const std::string& cursor, int64_t start_time_ms, uint32_t poll_index) override;
  uint32_t sleep_seconds(uint32_t polls_done) override;
  const std::string& failure() const override { return failure_; }
  void set_request_policy(RequestPolicy policy) override;
  void poll_on_caller(std::function<void()> taken) override { taken_ = std::move(taken); }

  // Host calls go to `forward` (it must outlive the instance).
  void forward_to(HostForward* forward);
  // Calls run on the calling thread, with no deadline (a worker process,
  // whose host enforces the deadline by ending the process).
  void set_unbounded() { bounded_ = false; }

 private:
  struct Call;
  struct Host;
  static siphon_status http_cb(siphon_host* host, const siphon_http_request* request,
                               siphon_http_response* response);
  static void log_cb(siphon_host* host, int32_t level, const char* message);
  static int64_t now_cb(siphon_host* host);
  std::string plugin_error() const;
  // Runs `fn` (one plugin call) on a pooled thread and waits for it up to
  // the app's poll_timeout. False when it did not return in time: the
  // instance is then abandoned for good. With `on_caller` and a `taken_`
  // handler, runs it on this thread under the call watchdog instead.
  bool run_bounded(const char* what, const std::shared_ptr<Call>& call,
                   std::function<void(Call&)> fn, bool on_caller = false);
  // Marks the instance abandoned after `what` passed its deadline (or the
  // stop grace period) and says so in failure_.
  void abandon(const char* what, bool stopping);

  const siphon_app_type* c_;
  std::string plugin_name_;
  std::vector<std::pair<std::string, std::string>> options_;
  int64_t timeout_ms_;
  std::vector<std::pair<std::string, std::string>> auth_;
  bool bounded_ = true;
  // What the plugin's host callbacks use. Owned here, except after an
  // abandoned call, when the plugin may still hold it: it is then leaked.
  std::unique_ptr<Host> host_;
  siphon_instance* instance_ = nullptr;
  std::string failure_;
  std::shared_ptr<boost::dll::shared_library> library_;
  std::function<void()> taken_;      // see poll_on_caller
  std::shared_ptr<Call> last_poll_;  // holds the page the last poll's outcome points into
  std::optional<std::pair<uint32_t, uint32_t>> prefetched_sleep_;  // polls_done -> seconds
};

// Makes the instance the app's `isolation` asks for (not yet created).
std::unique_ptr<PluginInstance> make_plugin_instance(
    const AppTypeInfo& type, const AppConfig& app,
    std::vector<std::pair<std::string, std::string>> auth, HttpService* http, StopSignal* stop,
    const Redactor& redactor);

}  // namespace siphon

#endif
