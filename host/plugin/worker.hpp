// The plugin worker process (`siphon __plugin-worker`, started by the host
// for apps with `isolation: process`): loads one plugin, makes one instance
// of one app type and answers the host's poll and sleep_seconds requests on
// the socket at file descriptor worker::kWorkerFd. The plugin's host calls
// (HTTP, log, clock) are forwarded to the host, which serves them.
#ifndef SIPHON_HOST_PLUGIN_WORKER_HPP
#define SIPHON_HOST_PLUGIN_WORKER_HPP

namespace siphon {

// The hidden command that runs a worker; not for operators.
constexpr const char* kWorkerCommand = "__plugin-worker";

// Runs until the host closes the socket. Returns the exit status.
int run_plugin_worker();

}  // namespace siphon

#endif
