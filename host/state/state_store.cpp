#include "state/state_store.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "config/config.hpp"
#include "config/secret_ref.hpp"
#include "modules/modules.hpp"
#include "state/postgres_url.hpp"
#include "state/sqlite_state_store.hpp"

namespace siphon {

bool StateStore::holder_alive(const AppState& s, int64_t now) {
  // Shared stores judge by the database's clock, never this host's.
  if (s.holder_live) return *s.holder_live;
  if (s.holder_pid == 0 || s.claim_expires_ms <= now) return false;
  if (s.holder_host == this_host_name()) {
    // Same host: a dead process's claim is void at once (kill -9, OOM).
    if (::kill(static_cast<pid_t>(s.holder_pid), 0) != 0 && errno == ESRCH) return false;
  }
  return true;
}

std::string StateStore::effective_status(const AppState& s, int64_t now) {
  if (s.status == "running" && !holder_alive(s, now)) return "failed";
  return s.status;
}

std::unique_ptr<StateStore> open_postgres_store(const std::string& url, const std::string& base_dir,
                                                int64_t lease_ms, size_t connections) {
  const PostgresModule* module = nullptr;
  try {
    module = &postgres_module();
  } catch (const std::runtime_error& e) {
    throw StateError(e.what());
  }
  return module->open(url, base_dir, lease_ms, connections);
}

std::unique_ptr<StateStore> open_state_store(const std::string& spec, const std::string& base_dir,
                                             int64_t lease_ms) {
  if (is_postgres_url(spec)) return open_postgres_store(spec, base_dir, lease_ms, 1);
  if (spec.rfind("sqlite:", 0) == 0 && spec.size() > 7) {
    std::string path = spec.substr(7);
    if (path[0] != '/') path = base_dir + "/" + path;
    return std::make_unique<SqliteStateStore>(path);
  }
  throw StateError("state \"" + redact_postgres_url(spec) +
                   "\" is not supported (expected sqlite:PATH or postgresql://...)");
}

std::unique_ptr<StateStore> open_state_store(const Config& cfg) {
  if (!cfg.state_url.empty())
    // A connection per worker and one for the lease keeper.
    return open_postgres_store(cfg.state_url, cfg.dir, cfg.lease_time_ms,
                               static_cast<size_t>(cfg.workers) + 1);
  return std::make_unique<SqliteStateStore>(cfg.state_path);
}

}  // namespace siphon
