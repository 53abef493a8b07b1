// The state store: each app's cursor, run status and counts, behind one
// interface with two implementations.
//
//   SqliteStateStore   (state: sqlite:PATH, the embedded default) one host.
//   PostgresStateStore (state: postgresql://...) a fleet of hosts sharing the
//                      apps through leases and fenced commits.
//
// The lifecycle a run goes through is the same on both: claim() the app
// (no two processes run one app at once), commit() each delivered poll's
// cursor with its counts (only the claim's holder may: a commit of a process
// that lost the claim fails), finish() the run with its status. A claim whose
// holder died or whose expiry passed is void, so no status stays stuck.
// Implementations are thread-safe.
#ifndef SIPHON_HOST_STATE_STATE_STORE_HPP
#define SIPHON_HOST_STATE_STATE_STORE_HPP

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace siphon {

struct Config;

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AppState {
  std::string app;
  std::optional<std::string> cursor;
  std::optional<int64_t> start_override_ms;  // from state reset --since
  std::string status = "never";              // never|running|succeeded|failed|partial
  int64_t last_run_start_ms = 0;
  int64_t last_run_end_ms = 0;
  int64_t last_success_ms = 0;
  std::string last_error;
  int64_t events_last_run = 0;
  int64_t polls_last_run = 0;
  int64_t events_total = 0;
  int64_t holder_pid = 0;
  std::string holder_host;
  int64_t claim_expires_ms = 0;
  // Shared stores only: the lease (owner "host:pid:nonce", generation) and
  // whether it is live by the database's clock. Unset for SQLite, whose
  // liveness is judged from the pid and the expiry (holder_alive).
  std::string lease_owner;
  int64_t lease_generation = 0;
  std::optional<bool> holder_live;
};

class StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  virtual ~StateStore() = default;

  // "sqlite:/abs/path" or the PostgreSQL URL without its password: the
  // store's name in messages.
  virtual std::string describe() const = 0;

  virtual std::optional<AppState> get(const std::string& app) = 0;
  virtual std::vector<AppState> all() = 0;

  // Claims the app for this process (a run starts). Returns "" on success,
  // else who holds it ("pid 123 on host x until ..."). SQLite claims last
  // ttl_ms; shared stores use their lease time instead.
  virtual std::string claim(const std::string& app, int64_t ttl_ms) = 0;
  // Commits one delivered poll: cursor, counts, and renews the claim. Throws
  // StateError when this process no longer holds the claim (fencing).
  virtual void commit(const std::string& app, const std::string& cursor, int64_t events,
                      int64_t ttl_ms) = 0;
  // Ends the run: final status and error. A process that lost the claim
  // records nothing (the new holder's status stands).
  virtual void finish(const std::string& app, const std::string& status,
                      const std::string& error) = 0;
  // Forgets the cursor; the next run starts at `since_ms` if given.
  virtual void reset(const std::string& app, std::optional<int64_t> since_ms) = 0;

  // `siphon run` on a shared store: from now on this process takes its share
  // of `apps` (leases), renews them, and gives up what is over its share.
  // A no-op for SQLite (one host runs every app).
  virtual void join_fleet(const std::vector<std::string>& apps) { (void)apps; }
  // True when the app is another host's to run now (not a failure: the
  // scheduler skips it quietly). Always false for SQLite.
  virtual bool held_elsewhere(const std::string& app) {
    (void)app;
    return false;
  }
  // Writes rows copied from another store (migrate): cursors, start
  // overrides, statuses and counts, without claims. Throws StateError, and
  // writes nothing, when an app in `rows` already has a cursor here.
  virtual void import_rows(const std::vector<AppState>& rows) = 0;

  // A run status as shown: "running" only while its holder lives.
  static std::string effective_status(const AppState& s, int64_t now);
  static bool holder_alive(const AppState& s, int64_t now);
};

// Opens a PostgreSQL store (loading its module) with up to `connections`
// connections. Throws StateError naming the URL without its password.
std::unique_ptr<StateStore> open_postgres_store(const std::string& url, const std::string& base_dir,
                                                int64_t lease_ms, size_t connections);
// Opens the store the config names (state:). Throws StateError naming it.
std::unique_ptr<StateStore> open_state_store(const Config& cfg);
// Opens a store from a `state:` value (sqlite:PATH or postgresql://...),
// relative paths and ${file:} references relative to `base_dir`.
std::unique_ptr<StateStore> open_state_store(const std::string& spec, const std::string& base_dir,
                                             int64_t lease_ms);

std::string this_host_name();

}  // namespace siphon

#endif
