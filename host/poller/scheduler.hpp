// The scheduler behind `siphon run`: every enabled app runs at its interval
// (first run after a small random offset) on a pool of worker threads. An
// app never runs twice at once; the wait between polls of a run
// (sleep_seconds) is a timer, not a sleeping worker. A stop lets each worker
// finish the poll it is in; runs with pages left end as `partial`.
// Workers make the plugins' polls themselves; one stuck in a plugin past
// the poll's deadline is replaced by a new worker (see AppRunner::poll_on_caller).
#ifndef SIPHON_HOST_POLLER_SCHEDULER_HPP
#define SIPHON_HOST_POLLER_SCHEDULER_HPP

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "poller/app_runner.hpp"

namespace siphon {

class Scheduler {
 public:
  Scheduler(int workers, StopSignal& stop);
  // Adds an app; the runner is owned by the scheduler.
  void add(std::unique_ptr<AppRunner> runner);
  // Runs until stop is requested, then waits for the workers.
  void run();

 private:
  struct Task {
    int64_t due_ms;
    size_t app;
    bool continuation;
    bool operator>(const Task& o) const { return due_ms > o.due_ms; }
  };
  void worker();
  void execute(const Task& task);
  // Starts a worker thread (the caller holds mu_).
  void start_worker();

  int workers_;
  std::vector<std::thread> threads_;
  int live_ = 0;  // workers not yet ended, less those stuck in a plugin for good
  std::condition_variable ended_;
  StopSignal& stop_;
  std::vector<std::unique_ptr<AppRunner>> runners_;
  std::vector<int64_t> planned_;  // planned start of each app's current/next run
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Task, std::vector<Task>, std::greater<Task>> queue_;
};

}  // namespace siphon

#endif
