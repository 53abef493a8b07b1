// The state store: each app's cursor, run status and counts, in SQLite.
//
// A run claims its app (pid, host, expiry) so that no two processes run one
// app at once; a claim whose process is gone, or whose expiry passed, is void,
// so no status stays stuck after a crash. The cursor commits in one
// transaction with the counts and the claim renewal. The store carries a
// schema version (PRAGMA user_version) and migrates older stores forward.
// Thread-safe (one connection, serialised).
#ifndef SIPHON_HOST_STATE_STATE_STORE_HPP
#define SIPHON_HOST_STATE_STATE_STORE_HPP

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;

namespace siphon {

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
};

class StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if needed) the store. Throws StateError with the path
  // and reason when it cannot (locked, corrupt, read-only folder...).
  explicit StateStore(const std::string& path);
  ~StateStore();

  std::optional<AppState> get(const std::string& app);
  std::vector<AppState> all();

  // Claims the app for this process until now + ttl. Returns "" on success,
  // else who holds it ("pid 123 on host x until ...").
  std::string claim(const std::string& app, int64_t ttl_ms);
  // Commits one delivered poll: cursor, counts, and renews the claim.
  void commit(const std::string& app, const std::string& cursor, int64_t events, int64_t ttl_ms);
  // Ends the run: final status and error; releases the claim.
  void finish(const std::string& app, const std::string& status, const std::string& error);
  // Forgets the cursor; the next run starts at `since_ms` if given.
  void reset(const std::string& app, std::optional<int64_t> since_ms);

  // A run status as shown: "running" only while its holder lives.
  static std::string effective_status(const AppState& s, int64_t now);
  static bool holder_alive(const AppState& s, int64_t now);

 private:
  void exec(const std::string& sql);
  void check_integrity();
  void migrate();
  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

std::string this_host_name();

}  // namespace siphon

#endif
