// A stop request shared by the scheduler, pollers and the HTTP service: a
// flag plus interruptible waits, so a SIGTERM ends every sleep at once.
#ifndef SIPHON_HOST_UTIL_STOP_SIGNAL_HPP
#define SIPHON_HOST_UTIL_STOP_SIGNAL_HPP

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace siphon {

class StopSignal {
 public:
  void request() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool requested() const { return stopped_.load(); }
  // Waits up to `ms`; returns false when a stop cut the wait short.
  bool wait_ms(int64_t ms) {
    if (ms <= 0) return !stopped_.load();  // no wait, no system call
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopped_.load(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
};

}  // namespace siphon

#endif
