// The shared state store: PostgreSQL, for a fleet of hosts running one
// config (state: postgresql://USER@HOST:PORT/DB?sslmode=...).
//
// Leases. Each app row carries a lease: owner (this process, "host:pid:nonce"),
// generation (raised whenever the lease changes hands) and expiry. Every
// time is the database's clock (now()), never a host's. A lease is held
// across runs and renewed by this store's keeper thread every lease_time/3;
// a host that dies, stops or loses the database keeps its leases at most
// lease_time, then another host takes them and resumes from the last
// committed cursor.
//
// Fencing. A cursor commit updates the row only WHERE the lease owner and
// generation are still this process's, in the same statement; a host that
// lost its lease (paused, partitioned) therefore never commits over the new
// holder: its commit fails and it stops running the app.
//
// Balance (`siphon run` after join_fleet). Hosts announce themselves in a
// heartbeat table (expiry = now() + lease_time). Each host holds at most
// ceil(apps / live hosts) leases: under its share it claims free or expired
// leases (FOR UPDATE SKIP LOCKED, so hosts never wait on each other), over
// it it releases leases of apps not in a run. A new host thus gets its share
// within about two keeper ticks of the others seeing its heartbeat.
//
// `siphon once` claims (and afterwards releases) the one lease it needs.
// Thread-safe: a pool of up to `connections` connections, each used by one
// thread at a time and made when first needed, so that the workers' commits
// do not queue behind one another (the server flushes concurrent commits
// together); a connection the server dropped is made again by its next
// statement. Messages name the URL without its password.
#ifndef SIPHON_HOST_STATE_POSTGRES_STATE_STORE_HPP
#define SIPHON_HOST_STATE_POSTGRES_STATE_STORE_HPP

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "state/postgres_url.hpp"
#include "state/state_store.hpp"

struct pg_conn;

namespace siphon {

class PostgresStateStore : public StateStore {
 public:
  // Connects and creates or checks the schema. `url` may hold ${env:} and
  // ${file:} references (resolved against `base_dir`); libpq's own
  // PGPASSWORD, PGPASSFILE and ~/.pgpass work too. Throws StateError naming
  // the URL without its password.
  PostgresStateStore(const std::string& url, const std::string& base_dir, int64_t lease_ms,
                     size_t connections = 1);
  // Stops the keeper and releases this process's leases, so that other
  // hosts take the apps at once.
  ~PostgresStateStore() override;

  std::string describe() const override { return url_shown_; }
  std::optional<AppState> get(const std::string& app) override;
  std::vector<AppState> all() override;
  std::string claim(const std::string& app, int64_t ttl_ms) override;
  void commit(const std::string& app, const std::string& cursor, int64_t events,
              int64_t ttl_ms) override;
  void finish(const std::string& app, const std::string& status, const std::string& error) override;
  void reset(const std::string& app, std::optional<int64_t> since_ms) override;
  void join_fleet(const std::vector<std::string>& apps) override;
  bool held_elsewhere(const std::string& app) override;
  void import_rows(const std::vector<AppState>& rows) override;

  // Leases this process holds now (for logs and tests).
  size_t leases_held();
  int64_t lease_ms() const { return lease_ms_; }
  const std::string& owner() const { return owner_; }

  static constexpr int kPostgresSchemaVersion = 1;

 private:
  using Clock = std::chrono::steady_clock;
  struct Lease {
    int64_t generation = 0;
    Clock::time_point valid_until;  // by this host's steady clock, conservatively
    Clock::time_point taken;        // when this host learnt it holds the lease
  };
  struct Param {
    std::string value;
    bool null = false;
    bool binary = false;
  };
  class Result;
  // One pooled connection, given back to the pool when it goes out of scope.
  struct Db {
    Db(PostgresStateStore& s, pg_conn* c) : store(s), conn(c) {}
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    ~Db();
    PostgresStateStore& store;
    pg_conn* conn;  // null until connected
  };

  // Waits for a free connection. Never called with lease_mu_ held.
  Db connection();
  void connect(pg_conn*& conn);
  Result exec(Db& db, const char* sql, const std::vector<Param>& params = {});
  void create_schema(Db& db);
  void keeper();
  void tick();
  void start_keeper();
  std::string holder_of(Db& db, const std::string& app);
  std::string fail_text(const std::string& what) const;

  std::string url_shown_;
  std::string conninfo_;  // the URL without its password, references resolved
  std::optional<std::string> password_;
  int64_t lease_ms_;
  std::string owner_;

  // The pool: idle_ holds free connections (null: not connected yet), open_
  // counts every connection in or out of the pool. A connection is taken
  // before lease_mu_, never while holding it.
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<pg_conn*> idle_;
  size_t open_ = 0;
  size_t max_connections_;

  std::mutex lease_mu_;
  std::map<std::string, Lease> held_;
  std::set<std::string> running_;  // apps between claim and finish
  bool fleet_ = false;
  std::vector<std::string> fleet_apps_;
  size_t share_ = 0;  // the last balance computed
  bool keeper_started_ = false;
  bool stopping_ = false;
  bool keeper_failing_ = false;
  std::condition_variable keeper_cv_;
  std::thread keeper_;
};

}  // namespace siphon

#endif
