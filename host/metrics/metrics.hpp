// What siphon counts about itself, for /metrics (Prometheus text format) and
// /health (per-app status as JSON).
//
// Metrics owns one prometheus-cpp registry (libprometheus-cpp-core; only its
// registry and text serializer are used, the HTTP endpoint is ours, see
// metrics_server.hpp). Each app gets one AppMetrics, made once when the app
// is scheduled: its series are resolved then, so that the hot path (a poll, an
// HTTP request) only adds to atomics. Labels come from the config alone (app,
// type, sink) plus small fixed sets (result, status, code_class): the number
// of series is bounded by the number of configured apps, never by URLs or
// error texts.
//
// Thread safety: every member of Metrics and AppMetrics may be called from any
// thread at any time.
#ifndef SIPHON_HOST_METRICS_METRICS_HPP
#define SIPHON_HOST_METRICS_METRICS_HPP

#include <siphon/plugin_api.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace siphon {

class Metrics;

// One app's series and the status /health reports for it.
class AppMetrics {
 public:
  const std::string& app() const { return app_; }
  const std::string& type() const { return type_; }

  // A poll's outcome by its status (SIPHON_OK, _ERROR, _RETRY_LATER,
  // _AUTH_REJECTED), with the events the plugin returned and those it said
  // it dropped as already delivered.
  void poll(siphon_status status, int64_t events_received, int64_t duplicates_dropped);
  // A page the sink holds (and whose cursor committed): `newest_event_ms`
  // (0 = unknown) moves the app's lag.
  void delivered(int64_t events, int64_t newest_event_ms);
  // The sink refused or failed a page.
  void sink_error();
  // One HTTP attempt: its status (0 = no response) and how long it took.
  void http_request(int status, double seconds);
  void http_retry();
  // Time spent holding a request for a rate limit (the app's rate_limit, the
  // vendor's Retry-After or rate-limit headers).
  void rate_limit_wait(double seconds);
  // Whether this process holds the app's claim (a run in progress).
  void lease_held(bool held);
  // A run ended: "succeeded", "partial" or "failed" (with the redacted reason).
  void run_finished(const std::string& status, const std::string& error, int64_t now_ms);
  // A run could not start (credentials unreadable, plugin refused settings...).
  void run_not_started(const std::string& error, int64_t now_ms);
  // Whether another host of the fleet holds the app's lease (so this host
  // does not run it): /health then calls it "elsewhere", not failing, and
  // this host stops exporting its lag (the holder does).
  void held_elsewhere(bool elsewhere);

 private:
  friend class Metrics;
  AppMetrics() = default;

  std::string app_, type_, sink_;
  int64_t interval_s_ = 0;
  int64_t registered_ms_ = 0;
  prometheus::Counter* events_received_ = nullptr;
  prometheus::Counter* events_sent_ = nullptr;
  prometheus::Counter* sink_errors_ = nullptr;
  prometheus::Counter* duplicates_ = nullptr;
  prometheus::Counter* polls_[4] = {};  // ok, error, retry_later, auth_rejected
  prometheus::Counter* runs_[3] = {};   // succeeded, partial, failed
  prometheus::Counter* http_[6] = {};   // 1xx..5xx, error (no response)
  prometheus::Histogram* http_duration_ = nullptr;
  prometheus::Counter* http_retries_ = nullptr;
  prometheus::Counter* rate_limit_wait_ = nullptr;
  prometheus::Gauge* lease_held_ = nullptr;
  prometheus::Gauge* last_success_ = nullptr;
  prometheus::Gauge* lag_ = nullptr;  // made at the first known event time
  std::atomic<int64_t> newest_event_ms_{0};

  mutable std::mutex mu_;  // guards what /health reads below
  int64_t last_success_ms_ = 0;
  int64_t last_run_ms_ = 0;
  std::string last_status_ = "never";
  std::string last_error_;
  std::atomic<bool> elsewhere_{false};
};

// The verdict of /health.
struct Health {
  bool ok = true;
  std::string json;  // {"status":"ok"|"failing","failing":[...],"apps":[...]}
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The series of one app (made on first call; later calls return the same).
  // `interval_s` is what /health measures staleness against.
  AppMetrics& app(const std::string& name, const std::string& type, const std::string& sink,
                  int64_t interval_s, int64_t now_ms);

  // The Prometheus text exposition (format 0.0.4) as of `now_ms`.
  std::string exposition(int64_t now_ms);

  // Healthy when every app succeeded within its last 2 intervals. An app that
  // has finished no run yet is "pending" (healthy) for 2 intervals from its
  // registration; one that failed and has no success in that window is failing.
  Health health(int64_t now_ms) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* events_received_;
  prometheus::Family<prometheus::Counter>* events_sent_;
  prometheus::Family<prometheus::Counter>* polls_;
  prometheus::Family<prometheus::Counter>* runs_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Family<prometheus::Counter>* http_retries_;
  prometheus::Family<prometheus::Counter>* rate_limit_wait_;
  prometheus::Family<prometheus::Counter>* duplicates_;
  prometheus::Family<prometheus::Counter>* sink_errors_;
  prometheus::Family<prometheus::Gauge>* lag_;
  prometheus::Family<prometheus::Gauge>* lease_held_;
  prometheus::Family<prometheus::Gauge>* last_success_;
  prometheus::Family<prometheus::Gauge>* interval_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<AppMetrics>> apps_;
};

}  // namespace siphon

#endif
