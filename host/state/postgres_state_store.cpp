#include "state/postgres_state_store.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "config/secret_ref.hpp"
#include "log/log.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

// The database's clock, in ms since the epoch.
#define SIPHON_PG_NOW_MS "(extract(epoch from now()) * 1000)::bigint"
// now() + $N ms, the expiry of a lease renewed now.
#define SIPHON_PG_EXPIRY(n) "now() + $" #n "::bigint * interval '1 millisecond'"

constexpr const char* kColumns =
    "app, cursor, start_override_ms, status, last_run_start_ms, last_run_end_ms, "
    "last_success_ms, last_error, events_last_run, polls_last_run, events_total, holder_pid, "
    "holder_host, CASE WHEN lease_expires > now() THEN (extract(epoch from lease_expires) * "
    "1000)::bigint ELSE 0 END, COALESCE(lease_owner, ''), lease_generation, "
    "(lease_owner IS NOT NULL AND lease_expires > now())";

// libpq's messages span lines ("...failed: FATAL:  password ...\n"); ours are one line.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string array_literal(const std::vector<std::string>& names) {
  // App names are [a-z0-9_-]+: no quoting needed, but quote anyway.
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i ? ",\"" : "\"");
    for (char c : names[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string random_nonce() {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) out += kHex[rd() % 16];
  return out;
}

}  // namespace

class PostgresStateStore::Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  ~Result() {
    if (r_) PQclear(r_);
  }
  int rows() const { return PQntuples(r_); }
  int64_t affected() const {
    const char* n = PQcmdTuples(r_);
    return n && *n ? std::stoll(n) : 0;
  }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string str(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
  }
  int64_t i64(int row, int col) const { return null(row, col) ? 0 : std::stoll(str(row, col)); }
  bool boolean(int row, int col) const { return str(row, col) == "t"; }
  std::optional<std::string> bytes(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    size_t n = 0;
    unsigned char* p =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
    if (!p) throw StateError("cannot decode a cursor");
    std::string out(reinterpret_cast<char*>(p), n);
    PQfreemem(p);
    return out;
  }
  AppState app_state(int row) const {
    AppState a;
    a.app = str(row, 0);
    a.cursor = bytes(row, 1);
    if (!null(row, 2)) a.start_override_ms = i64(row, 2);
    a.status = str(row, 3);
    a.last_run_start_ms = i64(row, 4);
    a.last_run_end_ms = i64(row, 5);
    a.last_success_ms = i64(row, 6);
    a.last_error = str(row, 7);
    a.events_last_run = i64(row, 8);
    a.polls_last_run = i64(row, 9);
    a.events_total = i64(row, 10);
    a.holder_pid = i64(row, 11);
    a.holder_host = str(row, 12);
    a.claim_expires_ms = i64(row, 13);
    a.lease_owner = str(row, 14);
    a.lease_generation = i64(row, 15);
    // "running" belongs to a live lease, by the database's clock.
    a.holder_live = a.status == "running" && boolean(row, 16);
    return a;
  }

 private:
  PGresult* r_;
};

PostgresStateStore::PostgresStateStore(const std::string& url, const std::string& base_dir,
                                       int64_t lease_ms, size_t connections)
    : url_shown_(redact_postgres_url(url)),
      lease_ms_(lease_ms),
      max_connections_(std::max<size_t>(connections, 1)) {
  SplitUrl split = split_url_password(url);
  try {
    conninfo_ = resolve_secret_refs(split.without_password, base_dir);
    if (split.password) password_ = resolve_secret_refs(*split.password, base_dir);
  } catch (const std::exception& e) {
    throw StateError(fail_text(std::string("password or URL reference: ") + e.what()));
  }
  owner_ = this_host_name() + ":" + std::to_string(::getpid()) + ":" + random_nonce();
  Db db = connection();
  connect(db.conn);
  create_schema(db);
}

PostgresStateStore::~PostgresStateStore() {
  {
    std::lock_guard lock(lease_mu_);
    stopping_ = true;
  }
  keeper_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  {
    Db db = connection();
    try {
      // Leave promptly: the other hosts take the apps at their next tick
      // instead of after lease_time.
      exec(db,
           "UPDATE siphon_apps SET lease_owner = NULL, lease_expires = '-infinity' "
           "WHERE lease_owner = $1",
           {{owner_}});
      exec(db, "DELETE FROM siphon_hosts WHERE owner = $1", {{owner_}});
    } catch (const std::exception&) {
      // The leases lapse after lease_time.
    }
  }
  std::lock_guard lock(pool_mu_);
  for (pg_conn* c : idle_)
    if (c) PQfinish(c);
  idle_.clear();
}

PostgresStateStore::Db::~Db() {
  {
    std::lock_guard lock(store.pool_mu_);
    store.idle_.push_back(conn);
  }
  store.pool_cv_.notify_one();
}

PostgresStateStore::Db PostgresStateStore::connection() {
  std::unique_lock lock(pool_mu_);
  pool_cv_.wait(lock, [this] { return !idle_.empty() || open_ < max_connections_; });
  if (!idle_.empty()) {
    pg_conn* c = idle_.back();
    idle_.pop_back();
    return Db(*this, c);
  }
  ++open_;
  return Db(*this, nullptr);  // connected by its first statement
}

std::string PostgresStateStore::fail_text(const std::string& what) const {
  return "state store " + url_shown_ + ": " + what;
}

void PostgresStateStore::connect(pg_conn*& conn) {
  if (conn) {
    PQfinish(conn);
    conn = nullptr;
  }
  // Defaults first: what the URL says overrides them (dbname is expanded in
  // place), and the password, given apart, comes last.
  std::vector<const char*> keys{"connect_timeout", "application_name", "keepalives_idle", "options",
                                "dbname"};
  std::vector<const char*> values{"5", "siphon", "10", "-c statement_timeout=20000",
                                  conninfo_.c_str()};
  if (password_) {
    keys.push_back("password");
    values.push_back(password_->c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) throw StateError(fail_text("cannot connect: out of memory"));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = one_line(PQerrorMessage(conn));
    PQfinish(conn);
    conn = nullptr;
    throw StateError(fail_text("cannot connect: " + why));
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
}

PostgresStateStore::Result PostgresStateStore::exec(Db& db, const char* sql,
                                                    const std::vector<Param>& params) {
  pg_conn*& conn = db.conn;
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) connect(conn);
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& p : params) {
    values.push_back(p.null ? nullptr : p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  PGresult* r = PQexecParams(conn, sql, static_cast<int>(params.size()), nullptr, values.data(),
                             lengths.data(), formats.data(), 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string why = one_line(r ? PQresultErrorMessage(r) : "");
    if (why.empty()) why = one_line(PQerrorMessage(conn));
    if (r) PQclear(r);
    // A connection the server dropped is made again by the next statement.
    throw StateError(fail_text(why));
  }
  return Result(r);
}

void PostgresStateStore::create_schema(Db& db) {
  pg_conn* conn = db.conn;
  auto run = [this, conn](const char* sql) {
    PGresult* r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    std::string why =
        st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : one_line(PQresultErrorMessage(r));
    PQclear(r);
    if (!why.empty()) {
      PGresult* rb = PQexec(conn, "ROLLBACK");
      PQclear(rb);
      throw StateError(fail_text("cannot create the schema: " + why));
    }
  };
  // Hosts starting together create the tables once: the advisory lock
  // serialises them (CREATE TABLE IF NOT EXISTS alone races).
  run("BEGIN");
  run("SELECT pg_advisory_xact_lock(7357001)");
  run("CREATE TABLE IF NOT EXISTS siphon_schema (version integer NOT NULL)");
  PGresult* v = PQexec(conn, "SELECT max(version) FROM siphon_schema");
  int64_t version = 0;
  if (PQresultStatus(v) == PGRES_TUPLES_OK && PQntuples(v) == 1 && !PQgetisnull(v, 0, 0))
    version = std::stoll(PQgetvalue(v, 0, 0));
  PQclear(v);
  if (version > kPostgresSchemaVersion) {
    run("ROLLBACK");
    throw StateError(fail_text("schema version " + std::to_string(version) +
                               " is newer than this siphon understands (" +
                               std::to_string(kPostgresSchemaVersion) + ")"));
  }
  if (version < 1) {
    run("CREATE TABLE IF NOT EXISTS siphon_apps ("
        " app text PRIMARY KEY,"
        " cursor bytea,"
        " start_override_ms bigint,"
        " status text NOT NULL DEFAULT 'never',"
        " last_run_start_ms bigint NOT NULL DEFAULT 0,"
        " last_run_end_ms bigint NOT NULL DEFAULT 0,"
        " last_success_ms bigint NOT NULL DEFAULT 0,"
        " last_error text NOT NULL DEFAULT '',"
        " events_last_run bigint NOT NULL DEFAULT 0,"
        " polls_last_run bigint NOT NULL DEFAULT 0,"
        " events_total bigint NOT NULL DEFAULT 0,"
        " commits bigint NOT NULL DEFAULT 0,"
        " holder_pid bigint NOT NULL DEFAULT 0,"
        " holder_host text NOT NULL DEFAULT '',"
        " lease_owner text,"
        " lease_generation bigint NOT NULL DEFAULT 0,"
        " lease_expires timestamptz NOT NULL DEFAULT '-infinity')");
    run("CREATE TABLE IF NOT EXISTS siphon_hosts ("
        " owner text PRIMARY KEY,"
        " host text NOT NULL,"
        " pid bigint NOT NULL,"
        " started timestamptz NOT NULL DEFAULT now(),"
        " expires timestamptz NOT NULL)");
    run("INSERT INTO siphon_schema (version) VALUES (1)");
  }
  run("COMMIT");
}

std::string PostgresStateStore::holder_of(Db& db, const std::string& app) {
  Result r = exec(
      db,
      "SELECT holder_pid, holder_host, to_char(lease_expires AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), COALESCE(lease_owner, '') FROM siphon_apps WHERE app = "
      "$1",
      {{app}});
  if (r.rows() != 1) return "another host";
  return "pid " + r.str(0, 0) + " on " + r.str(0, 1) + " until " + r.str(0, 2) + " (lease of " +
         r.str(0, 3) + ")";
}

namespace {
std::string num(int64_t v) { return std::to_string(v); }
}  // namespace

std::optional<AppState> PostgresStateStore::get(const std::string& app) {
  Db db = connection();
  Result r =
      exec(db, (std::string("SELECT ") + kColumns + " FROM siphon_apps WHERE app = $1").c_str(),
           {{app}});
  if (r.rows() == 0) return std::nullopt;
  return r.app_state(0);
}

std::vector<AppState> PostgresStateStore::all() {
  Db db = connection();
  Result r =
      exec(db, (std::string("SELECT ") + kColumns + " FROM siphon_apps ORDER BY app").c_str());
  std::vector<AppState> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.app_state(i));
  return out;
}

void PostgresStateStore::start_keeper() {
  std::lock_guard lock(lease_mu_);
  if (keeper_started_) return;
  keeper_started_ = true;
  keeper_ = std::thread([this] { keeper(); });
}

bool PostgresStateStore::held_elsewhere(const std::string& app) {
  std::lock_guard lock(lease_mu_);
  if (!fleet_) return false;
  auto it = held_.find(app);
  return it == held_.end() || Clock::now() >= it->second.valid_until;
}

size_t PostgresStateStore::leases_held() {
  std::lock_guard lock(lease_mu_);
  return held_.size();
}

std::string PostgresStateStore::claim(const std::string& app, int64_t /*ttl_ms*/) {
  start_keeper();
  {
    std::lock_guard lock(lease_mu_);
    if (fleet_ && !held_.count(app)) return "another host of the fleet (this host holds no lease)";
  }
  Db db = connection();
  auto sent = Clock::now();
  bool fleet = false;
  {
    std::lock_guard llock(lease_mu_);
    fleet = fleet_;
  }
  // (A fleet host's rows were made by join_fleet: one round trip less per run.)
  if (!fleet)
    exec(db, "INSERT INTO siphon_apps (app) VALUES ($1) ON CONFLICT (app) DO NOTHING", {{app}});
  // Takes a free or lapsed lease (generation + 1), or keeps this process's
  // own; a row another host is claiming right now is skipped, not waited for.
  Result r = exec(db, 
      "WITH c AS (SELECT app FROM siphon_apps WHERE app = $1 AND (lease_owner = $2 OR "
      "lease_owner IS NULL OR lease_expires <= now()) FOR UPDATE SKIP LOCKED) "
      "UPDATE siphon_apps a SET lease_owner = $2, lease_generation = CASE WHEN a.lease_owner = $2 "
      "THEN a.lease_generation ELSE a.lease_generation + 1 END, "
      "lease_expires = " SIPHON_PG_EXPIRY(3) ", status = 'running', "
      "last_run_start_ms = " SIPHON_PG_NOW_MS ", events_last_run = 0, polls_last_run = 0, "
      "holder_pid = $4::bigint, holder_host = $5, last_error = '' FROM c WHERE a.app = c.app "
      "RETURNING a.lease_generation",
      {{app}, {owner_}, {num(lease_ms_)}, {num(::getpid())}, {this_host_name()}});
  std::lock_guard llock(lease_mu_);
  if (r.rows() != 1) {
    held_.erase(app);
    return holder_of(db, app);
  }
  int64_t generation = r.i64(0, 0);
  auto it = held_.find(app);
  if (fleet_ && (it == held_.end() || it->second.generation != generation)) {
    // Lost and taken back between two ticks: a new lease, the old runs are over.
    log_line(LogLevel::kWarn, app, "lease generation changed to " + num(generation));
  }
  held_[app] = Lease{generation, sent + std::chrono::milliseconds(lease_ms_), Clock::now()};
  running_.insert(app);
  return "";
}

void PostgresStateStore::commit(const std::string& app, const std::string& cursor, int64_t events,
                                int64_t /*ttl_ms*/) {
  int64_t generation = 0;
  {
    std::lock_guard lock(lease_mu_);
    auto it = held_.find(app);
    if (it == held_.end())
      throw StateError(fail_text("app " + app +
                                 ": this host no longer holds its lease; the commit was refused"));
    generation = it->second.generation;
  }
  Db db = connection();
  auto sent = Clock::now();
  // Fenced: the row changes only while this process holds the lease at the
  // generation it claimed, checked in this very statement.
  Result r = exec(db, 
      "UPDATE siphon_apps SET cursor = $2::bytea, start_override_ms = NULL, "
      "events_last_run = events_last_run + $3::bigint, polls_last_run = polls_last_run + 1, "
      "events_total = events_total + $3::bigint, commits = commits + 1, "
      "lease_expires = " SIPHON_PG_EXPIRY(6) " WHERE app = $1 AND lease_owner = $4 AND "
      "lease_generation = $5::bigint",
      {{app}, {cursor, false, true}, {num(events)}, {owner_}, {num(generation)}, {num(lease_ms_)}});
  std::lock_guard llock(lease_mu_);
  if (r.affected() != 1) {
    held_.erase(app);
    running_.erase(app);
    throw StateError(fail_text("app " + app + ": lease generation " + num(generation) +
                               " is no longer this host's (another host took the app); the "
                               "commit was refused and this host stops running the app"));
  }
  if (auto it = held_.find(app); it != held_.end())
    it->second.valid_until = sent + std::chrono::milliseconds(lease_ms_);
}

void PostgresStateStore::finish(const std::string& app, const std::string& status,
                                const std::string& error) {
  int64_t generation = 0;
  bool release = false;
  {
    std::lock_guard lock(lease_mu_);
    running_.erase(app);
    auto it = held_.find(app);
    if (it == held_.end()) return;  // lost: the new holder's status stands
    generation = it->second.generation;
    // `once` gives its lease back; a fleet host keeps it for the next run
    // unless it holds more than its share.
    release = !fleet_ || held_.size() > share_;
    if (release) held_.erase(it);
  }
  Db db = connection();
  exec(db,
       "UPDATE siphon_apps SET status = $2, last_error = $3, last_run_end_ms = " SIPHON_PG_NOW_MS
       ", last_success_ms = CASE WHEN $4::boolean THEN " SIPHON_PG_NOW_MS
       " ELSE last_success_ms END, lease_owner = CASE WHEN $7::boolean THEN NULL ELSE lease_owner "
       "END, lease_expires = CASE WHEN $7::boolean THEN '-infinity' ELSE lease_expires END "
       "WHERE app = $1 AND lease_owner = $5 AND lease_generation = $6::bigint",
       {{app},
        {status},
        {error},
        {status == "succeeded" ? "true" : "false"},
        {owner_},
        {num(generation)},
        {release ? "true" : "false"}});
}

void PostgresStateStore::reset(const std::string& app, std::optional<int64_t> since_ms) {
  Db db = connection();
  exec(db,
       "INSERT INTO siphon_apps (app, cursor, start_override_ms) VALUES ($1, NULL, $2::bigint) "
       "ON CONFLICT (app) DO UPDATE SET cursor = NULL, start_override_ms = "
       "excluded.start_override_ms",
       {{app}, since_ms ? Param{num(*since_ms)} : Param{"", true}});
}

void PostgresStateStore::import_rows(const std::vector<AppState>& rows) {
  Db db = connection();
  exec(db, "BEGIN");
  try {
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(r.app);
    Result have = exec(
        db,
        "SELECT app FROM siphon_apps WHERE app = ANY($1::text[]) AND cursor IS NOT NULL ORDER BY "
        "app",
        {{array_literal(names)}});
    if (have.rows() > 0) {
      std::string list;
      for (int i = 0; i < have.rows(); ++i) list += (i ? ", " : "") + have.str(i, 0);
      throw StateError(fail_text("already holds cursors for " + list +
                                 "; nothing was copied (reset them there, or migrate into "
                                 "another database)"));
    }
    for (const auto& r : rows) {
      exec(db,
           "INSERT INTO siphon_apps (app, cursor, start_override_ms, status, last_run_start_ms, "
           "last_run_end_ms, last_success_ms, last_error, events_last_run, polls_last_run, "
           "events_total) VALUES ($1, $2::bytea, $3::bigint, $4, $5::bigint, $6::bigint, "
           "$7::bigint, $8, $9::bigint, $10::bigint, $11::bigint) ON CONFLICT (app) DO UPDATE SET "
           "cursor = excluded.cursor, start_override_ms = excluded.start_override_ms, status = "
           "excluded.status, last_run_start_ms = excluded.last_run_start_ms, last_run_end_ms = "
           "excluded.last_run_end_ms, last_success_ms = excluded.last_success_ms, last_error = "
           "excluded.last_error, events_last_run = excluded.events_last_run, polls_last_run = "
           "excluded.polls_last_run, events_total = excluded.events_total",
           {{r.app},
            r.cursor ? Param{*r.cursor, false, true} : Param{"", true},
            r.start_override_ms ? Param{num(*r.start_override_ms)} : Param{"", true},
            {r.status == "running" ? "failed" : r.status},
            {num(r.last_run_start_ms)},
            {num(r.last_run_end_ms)},
            {num(r.last_success_ms)},
            {r.last_error},
            {num(r.events_last_run)},
            {num(r.polls_last_run)},
            {num(r.events_total)}});
    }
    exec(db, "COMMIT");
  } catch (...) {
    try {
      exec(db, "ROLLBACK");
    } catch (const std::exception&) {
    }
    throw;
  }
}

void PostgresStateStore::join_fleet(const std::vector<std::string>& apps) {
  {
    Db db = connection();
    exec(db, "INSERT INTO siphon_apps (app) SELECT unnest($1::text[]) ON CONFLICT (app) DO NOTHING",
         {{array_literal(apps)}});
    exec(db,
         "INSERT INTO siphon_hosts (owner, host, pid, expires) VALUES ($1, $2, "
         "$3::bigint, " SIPHON_PG_EXPIRY(
             4) ") ON CONFLICT (owner) DO UPDATE SET expires = excluded.expires",
         {{owner_}, {this_host_name()}, {num(::getpid())}, {num(lease_ms_)}});
  }
  {
    std::lock_guard lock(lease_mu_);
    fleet_ = true;
    fleet_apps_ = apps;
  }
  log_line(LogLevel::kInfo, "",
           "state " + url_shown_ + ": sharing " + num(static_cast<int64_t>(apps.size())) +
               " apps with the fleet as " + owner_ + " (lease_time " + num(lease_ms_ / 1000) +
               "s)");
  start_keeper();
}

void PostgresStateStore::keeper() {
  auto tick_ms = std::max<int64_t>(lease_ms_ / 3, 100);
  std::unique_lock lock(lease_mu_);
  // A host that joins waits one tick before claiming, so that hosts started
  // together see each other's heartbeats and do not all grab everything.
  bool first = fleet_;
  for (;;) {
    if (first) {
      first = false;
    } else {
      lock.unlock();
      try {
        tick();
        if (keeper_failing_)
          log_line(LogLevel::kInfo, "", "state " + url_shown_ + ": leases renewed again");
        keeper_failing_ = false;
      } catch (const std::exception& e) {
        if (!keeper_failing_)
          log_line(LogLevel::kWarn, "",
                   std::string("lease renewal failed (leases held here lapse after lease_time "
                               "unless renewed): ") +
                       e.what());
        keeper_failing_ = true;
      }
      lock.lock();
    }
    if (keeper_cv_.wait_for(lock, std::chrono::milliseconds(tick_ms), [this] { return stopping_; }))
      return;
  }
}

void PostgresStateStore::tick() {
  Db db = connection();
  bool fleet = false;
  std::vector<std::string> apps;
  {
    std::lock_guard llock(lease_mu_);
    fleet = fleet_;
    apps = fleet_apps_;
  }
  int64_t live = 1;
  if (fleet) {
    exec(db,
         "INSERT INTO siphon_hosts (owner, host, pid, expires) VALUES ($1, $2, "
         "$3::bigint, " SIPHON_PG_EXPIRY(
             4) ") ON CONFLICT (owner) DO UPDATE SET expires = excluded.expires",
         {{owner_}, {this_host_name()}, {num(::getpid())}, {num(lease_ms_)}});
    Result n =
        exec(db,
             "WITH gone AS (DELETE FROM siphon_hosts WHERE expires < now() - interval '1 hour') "
             "SELECT count(*) FROM siphon_hosts WHERE expires > now()");
    live = std::max<int64_t>(n.i64(0, 0), 1);
  }
  // Renew every lease this process holds; one that is gone was taken.
  auto sent = Clock::now();
  Result renewed = exec(db,
                        "UPDATE siphon_apps SET lease_expires = " SIPHON_PG_EXPIRY(
                            2) " WHERE lease_owner = $1 RETURNING app, lease_generation",
                        {{owner_}, {num(lease_ms_)}});
  std::map<std::string, int64_t> mine;
  for (int i = 0; i < renewed.rows(); ++i) mine[renewed.str(i, 0)] = renewed.i64(i, 1);
  std::vector<std::string> to_release;
  size_t want = 0;
  {
    std::lock_guard llock(lease_mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      // Taken while the renewal ran (claim() on another connection): the
      // renewal may not have seen it; the next tick does.
      if (it->second.taken >= sent) {
        ++it;
        continue;
      }
      auto m = mine.find(it->first);
      if (m == mine.end() || m->second != it->second.generation) {
        log_line(LogLevel::kWarn, it->first,
                 "lease lost (not renewed within lease_time; another host may run the app now); "
                 "this host stops running it");
        it = held_.erase(it);
        continue;
      }
      it->second.valid_until = sent + std::chrono::milliseconds(lease_ms_);
      ++it;
    }
    if (!fleet) return;
    share_ = (apps.size() + static_cast<size_t>(live) - 1) / static_cast<size_t>(live);
    if (held_.size() < share_) {
      want = share_ - held_.size();
    } else if (held_.size() > share_) {
      // Over the share (a host joined): give back apps not in a run now;
      // those in a run are given back when it ends (finish).
      size_t extra = held_.size() - share_;
      for (const auto& [app, lease] : held_) {
        if (to_release.size() >= extra) break;
        if (!running_.count(app)) to_release.push_back(app);
      }
    }
  }
  for (const auto& app : to_release) {
    int64_t generation = 0;
    {
      std::lock_guard llock(lease_mu_);
      auto it = held_.find(app);
      if (it == held_.end() || running_.count(app)) continue;
      generation = it->second.generation;
      held_.erase(it);
    }
    exec(db,
         "UPDATE siphon_apps SET lease_owner = NULL, lease_expires = '-infinity' WHERE app = $1 "
         "AND lease_owner = $2 AND lease_generation = $3::bigint",
         {{app}, {owner_}, {num(generation)}});
    log_line(LogLevel::kDebug, app, "lease given back (over this host's share)");
  }
  if (want == 0) return;
  sent = Clock::now();
  // Free or lapsed leases, in random order so that hosts do not all try the
  // same rows; rows other hosts are claiming now are skipped, not waited for.
  Result got = exec(db, 
      "WITH c AS (SELECT app FROM siphon_apps WHERE app = ANY($1::text[]) AND (lease_owner IS "
      "NULL OR lease_expires <= now()) ORDER BY random() LIMIT $2::bigint FOR UPDATE SKIP LOCKED) "
      "UPDATE siphon_apps a SET lease_owner = $3, lease_generation = a.lease_generation + 1, "
      "lease_expires = " SIPHON_PG_EXPIRY(4) ", holder_pid = $5::bigint, holder_host = $6 "
      "FROM c WHERE a.app = c.app RETURNING a.app, a.lease_generation",
      {{array_literal(apps)},
       {num(static_cast<int64_t>(want))},
       {owner_},
       {num(lease_ms_)},
       {num(::getpid())},
       {this_host_name()}});
  std::lock_guard llock(lease_mu_);
  for (int i = 0; i < got.rows(); ++i) {
    held_[got.str(i, 0)] =
        Lease{got.i64(i, 1), sent + std::chrono::milliseconds(lease_ms_), Clock::now()};
    log_line(LogLevel::kDebug, got.str(i, 0),
             "lease taken (generation " + num(got.i64(i, 1)) + ")");
  }
}
}  // namespace siphon
