#include "util/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace siphon {

// unset_environment is 0: plugin workers (isolation: process) inherit
// NOTIFY_SOCKET, but systemd accepts messages from the main process only
// (NotifyAccess=main), and workers send none.
void systemd_notify_ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void systemd_notify_stopping() { sd_notify(0, "STOPPING=1"); }

void systemd_notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

int64_t systemd_watchdog_ping_interval_ms() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return 0;
  return static_cast<int64_t>(usec / 2000);
}

}  // namespace siphon
