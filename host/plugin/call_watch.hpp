// The watchdog of plugin calls made on the caller's own thread. A caller
// registers its call with a deadline before making it and unregisters it
// after; one watchdog thread for the whole process checks the registered
// calls a few times a second. A call past its deadline (or past the grace
// period that follows a stop request) is taken from the caller: the
// watchdog runs the call's overdue handler on a thread of its own, and the
// caller, should the plugin ever return, never goes on (it parks for good),
// because the handler has done what the caller would have done after the
// call. No thread is made and no system call is made per call.
#ifndef SIPHON_HOST_PLUGIN_CALL_WATCH_HPP
#define SIPHON_HOST_PLUGIN_CALL_WATCH_HPP

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "util/stop_signal.hpp"

namespace siphon {

class CallWatch {
 public:
  // One call being made. Lives on the caller's stack from add() to remove().
  struct Call {
    int64_t deadline_ms = 0;    // steady clock
    int64_t stop_grace_ms = 0;  // once `stop` is requested, how long the call may still take
    const StopSignal* stop = nullptr;
    // Run on a new thread when the call is overdue; `stopping` says whether
    // the stop grace period (rather than the deadline) ran out.
    std::function<void(bool stopping)> overdue;

    int64_t stop_deadline_ms = -1;  // set by the watchdog once it sees the stop
    bool taken = false;             // set by the watchdog: the caller must not go on
  };

  // The process's watchdog (started on first use, never destroyed).
  static CallWatch& instance();

  void add(Call& call);
  // Unregisters `call`. Returns false when the watchdog took it: the caller
  // must then not touch anything the overdue handler may now own.
  bool remove(Call& call);
  // Blocks the calling thread for good (a caller whose call was taken).
  [[noreturn]] static void park();

 private:
  CallWatch() = default;
  void run();

  std::mutex mu_;
  std::vector<Call*> calls_;
};

}  // namespace siphon

#endif
