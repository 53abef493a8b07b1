// The embedded state store: SQLite (WAL) in one file, for one host.
//
// A run claims its app (pid, host, expiry) so that no two processes run one
// app at once; a claim whose process is gone, or whose expiry passed, is void,
// so no status stays stuck after a crash. The cursor commits in one
// transaction with the counts and the claim renewal. The store carries a
// schema version (PRAGMA user_version) and migrates older stores forward.
// Thread-safe (one connection, serialised).
#ifndef SIPHON_HOST_STATE_SQLITE_STATE_STORE_HPP
#define SIPHON_HOST_STATE_SQLITE_STATE_STORE_HPP

#include <mutex>

#include "state/state_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace siphon {

class SqliteStateStore : public StateStore {
 public:
  // Opens (creating if needed) the store. Throws StateError with the path
  // and reason when it cannot (locked, corrupt, read-only folder...).
  explicit SqliteStateStore(const std::string& path);
  ~SqliteStateStore() override;

  std::string describe() const override { return "sqlite:" + path_; }
  std::optional<AppState> get(const std::string& app) override;
  std::vector<AppState> all() override;
  std::string claim(const std::string& app, int64_t ttl_ms) override;
  void commit(const std::string& app, const std::string& cursor, int64_t events,
              int64_t ttl_ms) override;
  void finish(const std::string& app, const std::string& status, const std::string& error) override;
  void reset(const std::string& app, std::optional<int64_t> since_ms) override;
  void import_rows(const std::vector<AppState>& rows) override;

 private:
  void exec(const std::string& sql);
  void check_integrity();
  void migrate();
  std::string path_;
  int64_t pid_;       // this process, as claims record it
  std::string host_;  // this host's name, as claims record it
  sqlite3* db_ = nullptr;
  sqlite3_stmt* commit_stmt_ = nullptr;  // the commit of every poll, prepared once
  std::mutex mu_;
};

}  // namespace siphon

#endif
