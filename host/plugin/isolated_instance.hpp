// An app's plugin instance in a worker process of its own (`isolation:
// process`): the host starts itself as `siphon __plugin-worker` with
// posix_spawn, hands it the plugin file, app type, app name, auth values and
// options over a socket (never argv or the environment), and serves the
// plugin's HTTP, log and clock calls with its own services (same session
// pool, same redaction). A worker that crashes or passes the poll_timeout is
// ended (SIGKILL) and reaped; the call fails with one line naming the app,
// the plugin and the signal, and the instance reports failure() from then on.
// Worker output (stdout and stderr) goes to the host's log, redacted.
#ifndef SIPHON_HOST_PLUGIN_ISOLATED_INSTANCE_HPP
#define SIPHON_HOST_PLUGIN_ISOLATED_INSTANCE_HPP

#include <sys/types.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "plugin/app_instance.hpp"

namespace siphon {

class IsolatedInstance : public PluginInstance {
 public:
  IsolatedInstance(const AppTypeInfo& type, const AppConfig& app,
                   std::vector<std::pair<std::string, std::string>> auth, HttpService* http,
                   StopSignal* stop, const Redactor& redactor);
  ~IsolatedInstance() override;
  IsolatedInstance(const IsolatedInstance&) = delete;
  IsolatedInstance& operator=(const IsolatedInstance&) = delete;

  // Starts the worker and creates the instance in it.
  std::string create(bool validate_only) override;
  PollOutcome poll(const std::string& cursor, int64_t start_time_ms, uint32_t poll_index) override;
  uint32_t sleep_seconds(uint32_t polls_done) override;
  const std::string& failure() const override { return failure_; }
  void set_request_policy(RequestPolicy policy) override { policy_ = std::move(policy); }

  pid_t pid() const { return pid_; }

 private:
  bool start(std::string& why);
  // Sends `request` and waits for the answer of type `want`, serving the
  // worker's host calls meanwhile. False (failure_ set) when the worker died,
  // broke the protocol or passed the deadline.
  bool exchange(const std::string& request, uint8_t want, const char* what, std::string& answer);
  void serve_http(std::string_view message);
  // Ends the worker (SIGKILL unless it already exited) and records why.
  void lose(const char* what, const std::string& cause, bool kill_first);
  // Waits for the worker to exit, up to `wait_ms`, then kills it.
  int reap(int64_t wait_ms);
  void shut_down();

  std::string plugin_file_, plugin_sha256_;
  std::shared_ptr<PluginImage> plugin_image_;
  std::string plugin_name_, type_name_, app_name_;
  std::vector<std::pair<std::string, std::string>> options_;
  std::vector<std::pair<std::string, std::string>> auth_;
  int64_t timeout_ms_;
  HttpService* http_;
  StopSignal* stop_;
  RequestPolicy policy_;
  Redactor redactor_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread output_;  // copies the worker's output to the log
  std::string answer_;  // the last poll answer; events point into it
  std::string failure_;
};

}  // namespace siphon

#endif
