#include "plugin/call_watch.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <utility>

#include "util/clock.hpp"

namespace siphon {
namespace {

// How often the watchdog looks at the registered calls.
constexpr int64_t kCheckEveryMs = 100;

}  // namespace

CallWatch& CallWatch::instance() {
  // Never destroyed: at exit, a taken call may still be inside a plugin.
  static CallWatch* watch = [] {
    auto* w = new CallWatch();
    std::thread([w] { w->run(); }).detach();
    return w;
  }();
  return *watch;
}

void CallWatch::add(Call& call) {
  std::lock_guard lock(mu_);
  calls_.push_back(&call);
}

bool CallWatch::remove(Call& call) {
  std::lock_guard lock(mu_);
  if (call.taken) return false;
  calls_.erase(std::find(calls_.begin(), calls_.end(), &call));
  return true;
}

void CallWatch::park() {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  for (;;) cv.wait(lock);
}

void CallWatch::run() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kCheckEveryMs));
    std::vector<std::pair<std::function<void(bool)>, bool>> overdue;
    {
      std::lock_guard lock(mu_);
      const int64_t now = steady_ms();
      for (auto it = calls_.begin(); it != calls_.end();) {
        Call& c = **it;
        if (c.stop && c.stop->requested() && c.stop_deadline_ms < 0)
          c.stop_deadline_ms = now + c.stop_grace_ms;
        const bool stopping = c.stop_deadline_ms >= 0 && now >= c.stop_deadline_ms;
        if (!stopping && now < c.deadline_ms) {
          ++it;
          continue;
        }
        c.taken = true;
        overdue.emplace_back(std::move(c.overdue), stopping);
        it = calls_.erase(it);
      }
    }
    // Each handler on a thread of its own: it may take long (a sink to
    // settle, a state store to write), and it may become a worker.
    for (auto& [handler, stopping] : overdue)
      std::thread([h = std::move(handler), s = stopping] { h(s); }).detach();
  }
}

}  // namespace siphon
