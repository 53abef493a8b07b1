// Talking to systemd when it runs siphon as a Type=notify service: readiness,
// status, stopping, and the watchdog. Every call does nothing when siphon was
// not started by systemd (no NOTIFY_SOCKET), so tests and shells are unaffected.
#ifndef SIPHON_HOST_UTIL_SYSTEMD_NOTIFY_HPP
#define SIPHON_HOST_UTIL_SYSTEMD_NOTIFY_HPP

#include <cstdint>
#include <string>

namespace siphon {

// READY=1 with a STATUS= line.
void systemd_notify_ready(const std::string& status);
// STOPPING=1.
void systemd_notify_stopping();
// WATCHDOG=1.
void systemd_notify_watchdog();
// How often to ping the watchdog (half of WatchdogSec=), in ms; 0 when the
// service has no watchdog.
int64_t systemd_watchdog_ping_interval_ms();

}  // namespace siphon

#endif
