// The gather loop of one app (what StreamAlert's gather() did, without its
// stuck states): claim the app, resolve its secrets, then poll -> deliver to
// the sink (written and flushed) -> commit the cursor, while more pages wait.
// Each step is one poll, so the scheduler can wait out sleep_seconds without
// holding a worker. Not thread-safe: the scheduler runs one step of an app at
// a time.
//
// With a DeliveryPool, page k goes to the sink on a pool thread, which
// commits page k's cursor as soon as the sink holds the page, while the step
// for page k+1 polls the vendor; that step then waits for page k (delivered
// and committed) before it hands page k+1 over. Pages reach the sink in
// order, cursors commit in order, and at most one page is in the sink's
// hands without its cursor committed (a crash repeats at most that page).
// The last page of a run, and every page of a sink whose delivery is a copy
// into memory (Sink::slow_delivery), is delivered in the step.
#ifndef SIPHON_HOST_POLLER_APP_RUNNER_HPP
#define SIPHON_HOST_POLLER_APP_RUNNER_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "http/http_service.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "plugin/app_instance.hpp"
#include "plugin/auth_values.hpp"
#include "plugin/registry.hpp"
#include "poller/delivery_pool.hpp"
#include "sink/record.hpp"
#include "sink/sink.hpp"
#include "state/state_store.hpp"
#include "util/stop_signal.hpp"

namespace siphon {

class AppRunner {
 public:
  enum class Step { kMore, kDone, kFailed };

  AppRunner(const AppConfig& app, const AppTypeInfo& type, Sink& sink, StateStore& state,
            HttpService& http, StopSignal& stop);
  ~AppRunner();

  // Starts a run. `since_ms` overrides the stored cursor for this run.
  // Returns false when the run cannot start (held elsewhere, bad secrets...);
  // error() says why, and the state records it unless another process holds it.
  // error() is empty when a failed plugin worker still waits out its restart
  // backoff, and disabled() set when the app is off until the host restarts.
  bool begin(std::optional<int64_t> since_ms = std::nullopt);
  // One poll, delivered and committed. kMore: call again after
  // sleep_before_next() seconds. kDone/kFailed: the run is over.
  Step step();
  uint32_t sleep_before_next() const { return sleep_seconds_; }
  // Ends the run early (stop requested): partial when more pages wait.
  void abandon();

  const std::string& error() const { return error_; }
  int64_t events_this_run() const { return events_; }
  int64_t interval_seconds() const;
  const AppConfig& app() const { return app_; }
  // Set once an in-process plugin call passed its deadline: the app is not
  // run again until the host restarts. Says why.
  const std::string& disabled() const { return disabled_; }
  // Where the runs, polls, events and HTTP requests of the app are counted
  // (optional; must outlive the runner).
  void set_metrics(AppMetrics* metrics) { metrics_ = metrics; }
  // Where pages are delivered while the next one is fetched (optional; must
  // outlive the runner). Without it each step delivers its own page.
  void set_delivery_pool(DeliveryPool* pool) { deliveries_ = pool; }
  // Lets an in-process plugin's polls run on the thread calling step(),
  // with no hand-off. Should a poll pass its deadline, that thread stays in
  // the plugin for good; on another thread the run's failure is recorded,
  // the app disabled, and then `after_taken` is called (the caller's stand-in:
  // it must not call step() on this runner again). Set before begin().
  void poll_on_caller(std::function<void()> after_taken) { after_taken_ = std::move(after_taken); }
  // Progress of the current run: pages polled, and the newest event time the
  // plugin reported (0 = unknown).
  uint32_t polls_this_run() const { return polls_; }
  int64_t newest_event_ms() const { return newest_event_ms_; }

 private:
  void fail(const std::string& why);
  // After a call that left the instance unusable: settles the page in the
  // sink's hands, fails the run and loses the instance.
  void instance_failed();
  // After a call that left the instance unusable: an in-process instance is
  // given up for good, a worker is restarted at a later run, with backoff.
  void instance_lost();
  std::string plugin_name() const;
  // The app's auth values read and checked now; error_ says why not.
  std::optional<AuthValues> resolve_auth();
  // A page polled and made into records, waiting for its cursor's commit.
  struct Page {
    std::string cursor;  // the cursor to commit once the sink holds the page
    int64_t events = 0;
    int64_t newest_event_ms = 0;
  };
  // Hands `batch` to the sink, then commits `page`'s cursor (on whichever
  // thread delivers). Throws the sink's error, or a CommitError.
  void deliver_and_commit(const RecordBatch& batch, const Page& page);
  // Runs or waits for `delivery` (a deliver_and_commit) and records its
  // outcome: the page counted, or the run failed (false).
  bool conclude(const std::function<void()>& delivery, const Page& page);
  // Waits for the page in the sink's hands, if any (delivered and its cursor
  // committed). False when the sink refused it or the commit failed: the
  // run failed.
  bool settle();

  const AppConfig& app_;
  const AppTypeInfo& type_;
  Sink& sink_;
  StateStore& state_;
  HttpService& http_;
  StopSignal& stop_;
  RecordWriter records_;
  Redactor redactor_;
  std::unique_ptr<PluginInstance> instance_;
  std::string instance_auth_key_;  // digest of the credentials the instance was made with
  bool running_ = false;
  std::string cursor_;        // the committed cursor
  std::string fetch_cursor_;  // after the newest page polled (ahead while one is in flight)
  int64_t start_ms_ = 0;
  int64_t deadline_ms_ = 0;  // run_timeout from the run's start
  uint32_t polls_ = 0;
  uint32_t sleep_seconds_ = 0;
  int64_t events_ = 0;
  std::string error_;
  RecordBatch batch_;  // the page being made (reused: no allocation per page)
  DeliveryPool* deliveries_ = nullptr;
  RecordBatch inflight_batch_;  // the page in the sink's hands (swapped with batch_)
  Page inflight_page_;
  std::future<void> inflight_;  // valid while a page is in the sink's hands
  std::string disabled_;
  int64_t restart_backoff_s_ = 0;  // wait before the next worker start
  int64_t restart_after_ms_ = 0;   // no worker start before this time
  AppMetrics* metrics_ = nullptr;
  std::function<void()> after_taken_;  // see poll_on_caller
  int64_t newest_event_ms_ = 0;        // newest event time committed in this run
};

// How long a claim lasts without a commit renewing it.
constexpr int64_t kClaimTtlMs = 15 * 60 * 1000;
// Longest wait before a failed plugin worker is started again.
constexpr int64_t kMaxRestartBackoffS = 5 * 60;

}  // namespace siphon

#endif
