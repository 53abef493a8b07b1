#include "state/sqlite_state_store.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include "util/clock.hpp"

namespace siphon {
namespace {

// "state store PATH: " for error messages.
std::string where(sqlite3* db) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  return std::string("state store ") + (file && *file ? file : "") + ": ";
}

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw StateError(where(db) + sqlite3_errmsg(db));
  }
  // A statement prepared once and kept in `cache` (finalized by its owner),
  // for the statements of every poll.
  Stmt(sqlite3* db, const char* sql, sqlite3_stmt*& cache) : db_(db), kept_(true) {
    if (!cache &&
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &cache, nullptr) != SQLITE_OK)
      throw StateError(where(db) + sqlite3_errmsg(db));
    st_ = cache;
  }
  ~Stmt() {
    if (kept_) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    } else {
      sqlite3_finalize(st_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& null(int i) {
    sqlite3_bind_null(st_, i);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StateError(where(db_) + sqlite3_errmsg(db_));
  }
  std::optional<std::string> opt_text(int col) {
    if (sqlite3_column_type(st_, col) == SQLITE_NULL) return std::nullopt;
    auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(st_, col));
    return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st_, col)));
  }
  std::string str(int col) { return opt_text(col).value_or(""); }
  int64_t i64(int col) { return sqlite3_column_int64(st_, col); }
  bool is_null(int col) { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  bool kept_ = false;
};

constexpr const char* kSelect =
    "SELECT app, cursor, start_override_ms, status, last_run_start_ms, last_run_end_ms, "
    "last_success_ms, last_error, events_last_run, polls_last_run, events_total, holder_pid, "
    "holder_host, claim_expires_ms FROM apps";

AppState read_row(Stmt& s) {
  AppState a;
  a.app = s.str(0);
  a.cursor = s.opt_text(1);
  if (!s.is_null(2)) a.start_override_ms = s.i64(2);
  a.status = s.str(3);
  a.last_run_start_ms = s.i64(4);
  a.last_run_end_ms = s.i64(5);
  a.last_success_ms = s.i64(6);
  a.last_error = s.str(7);
  a.events_last_run = s.i64(8);
  a.polls_last_run = s.i64(9);
  a.events_total = s.i64(10);
  a.holder_pid = s.i64(11);
  a.holder_host = s.str(12);
  a.claim_expires_ms = s.i64(13);
  return a;
}

}  // namespace

SqliteStateStore::SqliteStateStore(const std::string& path)
    : path_(path), pid_(::getpid()), host_(this_host_name()) {
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StateError("state store " + path + ": cannot open: " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    // WAL with synchronous=NORMAL: a commit is durable at the next checkpoint,
    // and a power cut can only roll the newest commits back, never damage the
    // database. The sink is synced before each commit, so a rolled-back
    // cursor re-delivers events; it never skips them.
    exec("PRAGMA synchronous=NORMAL");
    check_integrity();
    migrate();
  } catch (const StateError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteStateStore::~SqliteStateStore() {
  sqlite3_finalize(commit_stmt_);
  if (db_) sqlite3_close(db_);
}

void SqliteStateStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw StateError(where(db_) + why);
  }
}

void SqliteStateStore::check_integrity() {
  // A damaged database is reported, never replaced: the cursors in it are
  // the only record of what was delivered.
  Stmt q(db_, "PRAGMA quick_check(1)");
  std::string result = q.step() ? q.str(0) : "no result";
  if (result != "ok")
    throw StateError(where(db_) + "the database is damaged (" + result +
                     "); restore it from a backup or move it aside; cursors are never reset "
                     "automatically");
}

void SqliteStateStore::migrate() {
  Stmt v(db_, "PRAGMA user_version");
  v.step();
  int64_t version = v.i64(0);
  if (version > kSchemaVersion)
    throw StateError(where(db_) + "schema version " + std::to_string(version) +
                     " is newer than this siphon understands (" + std::to_string(kSchemaVersion) +
                     ")");
  if (version < 1) {
    exec("BEGIN IMMEDIATE");
    try {
      exec(
          "CREATE TABLE IF NOT EXISTS apps ("
          " app TEXT PRIMARY KEY,"
          " cursor BLOB,"
          " start_override_ms INTEGER,"
          " status TEXT NOT NULL DEFAULT 'never',"
          " last_run_start_ms INTEGER NOT NULL DEFAULT 0,"
          " last_run_end_ms INTEGER NOT NULL DEFAULT 0,"
          " last_success_ms INTEGER NOT NULL DEFAULT 0,"
          " last_error TEXT NOT NULL DEFAULT '',"
          " events_last_run INTEGER NOT NULL DEFAULT 0,"
          " polls_last_run INTEGER NOT NULL DEFAULT 0,"
          " events_total INTEGER NOT NULL DEFAULT 0,"
          " holder_pid INTEGER NOT NULL DEFAULT 0,"
          " holder_host TEXT NOT NULL DEFAULT '',"
          " claim_expires_ms INTEGER NOT NULL DEFAULT 0)");
      exec("PRAGMA user_version = 1");
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

std::optional<AppState> SqliteStateStore::get(const std::string& app) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string(kSelect) + " WHERE app = ?").c_str());
  s.text(1, app);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::vector<AppState> SqliteStateStore::all() {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string(kSelect) + " ORDER BY app").c_str());
  std::vector<AppState> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

std::string SqliteStateStore::claim(const std::string& app, int64_t ttl_ms) {
  std::lock_guard lock(mu_);
  exec("BEGIN IMMEDIATE");
  try {
    int64_t now = now_ms();
    Stmt q(db_, (std::string(kSelect) + " WHERE app = ?").c_str());
    q.text(1, app);
    if (q.step()) {
      AppState cur = read_row(q);
      bool mine = cur.holder_pid == pid_ && cur.holder_host == host_;
      if (!mine && holder_alive(cur, now)) {
        exec("ROLLBACK");
        return "pid " + std::to_string(cur.holder_pid) + " on " + cur.holder_host + " until " +
               rfc3339_ms(cur.claim_expires_ms);
      }
    }
    Stmt u(db_,
           "INSERT INTO apps (app, status, last_run_start_ms, events_last_run, polls_last_run, "
           "holder_pid, holder_host, claim_expires_ms, last_error) VALUES (?, 'running', ?, 0, 0, "
           "?, ?, ?, '') ON CONFLICT(app) DO UPDATE SET status='running', "
           "last_run_start_ms=excluded.last_run_start_ms, events_last_run=0, polls_last_run=0, "
           "holder_pid=excluded.holder_pid, holder_host=excluded.holder_host, "
           "claim_expires_ms=excluded.claim_expires_ms, last_error=''");
    u.text(1, app).integer(2, now).integer(3, pid_).text(4, host_);
    u.integer(5, now + ttl_ms);
    u.step();
    exec("COMMIT");
    return "";
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteStateStore::commit(const std::string& app, const std::string& cursor, int64_t events,
                              int64_t ttl_ms) {
  std::lock_guard lock(mu_);
  Stmt u(db_,
         "UPDATE apps SET cursor=?, start_override_ms=NULL, events_last_run=events_last_run+?, "
         "polls_last_run=polls_last_run+1, events_total=events_total+?, claim_expires_ms=? "
         "WHERE app=? AND holder_pid=? AND holder_host=?",
         commit_stmt_);
  u.text(1, cursor).integer(2, events).integer(3, events).integer(4, now_ms() + ttl_ms);
  // Only the claim's holder commits: not after finish, nor after another process took over.
  u.text(5, app).integer(6, pid_).text(7, host_);
  u.step();
  if (sqlite3_changes(db_) != 1) throw StateError(where(db_) + "app " + app + " is not claimed");
}

void SqliteStateStore::finish(const std::string& app, const std::string& status,
                              const std::string& error) {
  std::lock_guard lock(mu_);
  int64_t now = now_ms();
  Stmt u(db_,
         "UPDATE apps SET status=?, last_error=?, last_run_end_ms=?, "
         "last_success_ms=CASE WHEN ? THEN ? ELSE last_success_ms END, holder_pid=0, "
         "holder_host='', claim_expires_ms=0 WHERE app=?");
  u.text(1, status).text(2, error).integer(3, now).integer(4, status == "succeeded" ? 1 : 0);
  u.integer(5, now).text(6, app);
  u.step();
}

void SqliteStateStore::reset(const std::string& app, std::optional<int64_t> since_ms) {
  std::lock_guard lock(mu_);
  Stmt u(
      db_,
      "INSERT INTO apps (app, cursor, start_override_ms) VALUES (?, NULL, ?) "
      "ON CONFLICT(app) DO UPDATE SET cursor=NULL, start_override_ms=excluded.start_override_ms");
  u.text(1, app);
  if (since_ms)
    u.integer(2, *since_ms);
  else
    u.null(2);
  u.step();
}

void SqliteStateStore::import_rows(const std::vector<AppState>& rows) {
  std::lock_guard lock(mu_);
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& r : rows) {
      Stmt q(db_, "SELECT cursor IS NOT NULL FROM apps WHERE app = ?");
      q.text(1, r.app);
      if (q.step() && q.i64(0))
        throw StateError(where(db_) + "app " + r.app + " already has a cursor here");
      Stmt u(db_,
             "INSERT OR REPLACE INTO apps (app, cursor, start_override_ms, status, "
             "last_run_start_ms, last_run_end_ms, last_success_ms, last_error, events_last_run, "
             "polls_last_run, events_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      u.text(1, r.app);
      if (r.cursor)
        u.text(2, *r.cursor);
      else
        u.null(2);
      if (r.start_override_ms)
        u.integer(3, *r.start_override_ms);
      else
        u.null(3);
      // A run that was going on in the other store is over here.
      u.text(4, r.status == "running" ? "failed" : r.status);
      u.integer(5, r.last_run_start_ms).integer(6, r.last_run_end_ms);
      u.integer(7, r.last_success_ms).text(8, r.last_error).integer(9, r.events_last_run);
      u.integer(10, r.polls_last_run).integer(11, r.events_total);
      u.step();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace siphon
