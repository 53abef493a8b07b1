#include "poller/scheduler.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "util/clock.hpp"
#include "util/systemd_notify.hpp"

namespace siphon {

Scheduler::Scheduler(int workers, StopSignal& stop) : workers_(workers), stop_(stop) {}

void Scheduler::add(std::unique_ptr<AppRunner> runner) {
  static std::mt19937_64 rng{std::random_device{}()};
  // Spread first runs over a few seconds so apps do not start in one burst.
  int64_t spread_ms = std::min<int64_t>(runner->interval_seconds() * 1000, 5000);
  int64_t due = now_ms() + std::uniform_int_distribution<int64_t>(0, spread_ms / 2)(rng);
  // A worker stuck in a plugin call past its deadline: the runner has
  // recorded the failure and disabled the app; a new worker takes its place.
  runner->poll_on_caller([this] {
    std::lock_guard lock(mu_);
    start_worker();
  });
  std::lock_guard lock(mu_);
  runners_.push_back(std::move(runner));
  planned_.push_back(due);
  queue_.push({due, runners_.size() - 1, false});
}

void Scheduler::start_worker() {
  threads_.emplace_back([this] {
    worker();
    std::lock_guard lock(mu_);
    --live_;
    ended_.notify_all();
  });
}

void Scheduler::run() {
  {
    std::lock_guard lock(mu_);
    live_ = workers_;
    for (int i = 0; i < workers_; ++i) start_worker();
  }
  systemd_notify_ready("scheduling " + std::to_string(runners_.size()) + " apps");
  // Under a systemd watchdog, the ping goes out only while the scheduler's
  // lock can be taken: a scheduler wedged on it gets the service restarted.
  const int64_t ping_ms = systemd_watchdog_ping_interval_ms();
  int64_t next_ping = 0;
  while (!stop_.requested()) {
    if (ping_ms > 0 && now_ms() >= next_ping) {
      { std::lock_guard lock(mu_); }
      systemd_notify_watchdog();
      next_ping = now_ms() + ping_ms;
    }
    stop_.wait_ms(ping_ms > 0 ? std::min<int64_t>(ping_ms, 1000) : 1000);
  }
  systemd_notify_stopping();
  cv_.notify_all();
  {
    // Every worker ends but those stuck in a plugin, which never do (each was
    // replaced, and its replacement counted in live_).
    std::unique_lock lock(mu_);
    ended_.wait(lock, [this] { return live_ == 0; });
    for (auto& t : threads_) t.detach();
    threads_.clear();
  }
  // Runs waiting between polls were not finished: record them as partial.
  for (auto& r : runners_) r->abandon();
}

void Scheduler::worker() {
  while (!stop_.requested()) {
    Task task{};
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() || queue_.top().due_ms > now_ms()) {
        int64_t wait =
            queue_.empty() ? 200 : std::min<int64_t>(queue_.top().due_ms - now_ms(), 200);
        cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait, 1)));
        continue;
      }
      task = queue_.top();
      queue_.pop();
    }
    execute(task);
  }
}

void Scheduler::execute(const Task& task) {
  AppRunner& r = *runners_[task.app];
  bool started = true;
  if (!task.continuation) {
    // Scheduling lag (actual start - planned start), for `scripts/bench` and
    // for ops wondering why an app is late.
    if (log_enabled(LogLevel::kDebug))
      log_line(LogLevel::kDebug, r.app().name,
               "run starts " + std::to_string(now_ms() - planned_[task.app]) +
                   " ms after its planned time");
    try {
      started = r.begin();
    } catch (const std::exception& e) {
      log_line(LogLevel::kError, r.app().name, std::string("run cannot start: ") + e.what());
      started = false;
    }
    if (!started && !r.error().empty())
      log_line(LogLevel::kWarn, r.app().name, "run not started: " + r.error());
  }
  AppRunner::Step step = AppRunner::Step::kFailed;
  if (started) {
    try {
      step = r.step();
    } catch (const std::exception& e) {
      log_line(LogLevel::kError, r.app().name, std::string("run failed: ") + e.what());
    }
  }
  // An app whose plugin call was abandoned is not scheduled again (logged once).
  if (!r.disabled().empty()) return;
  std::lock_guard lock(mu_);
  if (step == AppRunner::Step::kMore) {
    queue_.push({now_ms() + static_cast<int64_t>(r.sleep_before_next()) * 1000, task.app, true});
  } else {
    // Fixed rate: the next run is planned one interval after this one was;
    // a run that overran its interval is followed at once.
    int64_t next = planned_[task.app] + r.interval_seconds() * 1000;
    planned_[task.app] = std::max(next, now_ms());
    queue_.push({planned_[task.app], task.app, false});
  }
  cv_.notify_one();
}

}  // namespace siphon
