// The state store: schema version, the claim/commit/finish lifecycle, claims
// of other processes (live, dead, expired), reset, and refusal of stores it
// cannot use.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "state/sqlite_state_store.hpp"
#include "temp_dir.hpp"
#include "util/clock.hpp"

extern char** environ;

namespace siphon {
namespace {

using test::TempDir;

constexpr int64_t kTtlMs = 60000;

// Starts `argv[0]` as a child process; returns its pid.
pid_t spawn(const char* const argv[]) {
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, const_cast<char* const*>(argv), environ);
  EXPECT_EQ(rc, 0);
  return pid;
}

// Runs SQL on the store file through sqlite3 directly, as another process would.
void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Makes `app` look claimed by `pid` on `host` until `expires_ms`.
void set_holder(const std::string& path, const std::string& app, int64_t pid,
                const std::string& host, int64_t expires_ms) {
  sql(path,
      "INSERT INTO apps (app, status, holder_pid, holder_host, claim_expires_ms) VALUES ('" + app +
          "', 'running', " + std::to_string(pid) + ", '" + host + "', " +
          std::to_string(expires_ms) +
          ") ON CONFLICT(app) DO UPDATE SET status='running', holder_pid=excluded.holder_pid, "
          "holder_host=excluded.holder_host, claim_expires_ms=excluded.claim_expires_ms");
}

class StateStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("state.db");
};

TEST_F(StateStoreTest, NewStoreHasSchemaVersion1) {
  { SqliteStateStore store(path_); }
  EXPECT_EQ(user_version(path_), 1);
  EXPECT_EQ(StateStore::kSchemaVersion, 1);
}

TEST_F(StateStoreTest, ReopeningKeepsTheState) {
  {
    SqliteStateStore store(path_);
    ASSERT_EQ(store.claim("a", kTtlMs), "");
    store.commit("a", "cursor-1", 2, kTtlMs);
    store.finish("a", "succeeded", "");
  }
  SqliteStateStore store(path_);
  auto s = store.get("a");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cursor, "cursor-1");
  EXPECT_EQ(s->status, "succeeded");
}

TEST_F(StateStoreTest, UnknownAppHasNoState) {
  SqliteStateStore store(path_);
  EXPECT_FALSE(store.get("nobody").has_value());
  EXPECT_TRUE(store.all().empty());
}

TEST_F(StateStoreTest, ClaimCommitFinishLifecycle) {
  SqliteStateStore store(path_);
  int64_t before = now_ms();
  ASSERT_EQ(store.claim("corp-duo", kTtlMs), "");
  auto s = store.get("corp-duo");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status, "running");
  EXPECT_EQ(s->holder_pid, ::getpid());
  EXPECT_EQ(s->holder_host, this_host_name());
  EXPECT_GE(s->claim_expires_ms, before + kTtlMs);
  EXPECT_GE(s->last_run_start_ms, before);
  EXPECT_FALSE(s->cursor.has_value());
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "running");

  store.commit("corp-duo", "page-1", 5, kTtlMs);
  store.commit("corp-duo", "page-2", 3, kTtlMs);
  s = store.get("corp-duo");
  EXPECT_EQ(s->cursor, "page-2");
  EXPECT_EQ(s->events_last_run, 8);
  EXPECT_EQ(s->polls_last_run, 2);
  EXPECT_EQ(s->events_total, 8);

  store.finish("corp-duo", "succeeded", "");
  s = store.get("corp-duo");
  EXPECT_EQ(s->status, "succeeded");
  EXPECT_EQ(s->holder_pid, 0);
  EXPECT_GE(s->last_run_end_ms, before);
  EXPECT_GE(s->last_success_ms, before);
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "succeeded");

  // The next run starts from the cursor, with fresh per-run counts.
  ASSERT_EQ(store.claim("corp-duo", kTtlMs), "");
  store.commit("corp-duo", "page-3", 1, kTtlMs);
  store.finish("corp-duo", "failed", "HTTP 500");
  s = store.get("corp-duo");
  EXPECT_EQ(s->cursor, "page-3");
  EXPECT_EQ(s->events_last_run, 1);
  EXPECT_EQ(s->events_total, 9);
  EXPECT_EQ(s->status, "failed");
  EXPECT_EQ(s->last_error, "HTTP 500");
  ASSERT_EQ(store.all().size(), 1u);
}

TEST_F(StateStoreTest, CursorMayHoldAnyBytes) {
  SqliteStateStore store(path_);
  ASSERT_EQ(store.claim("a", kTtlMs), "");
  std::string cursor("{\"k\":\"v\"}\0tail", 14);
  store.commit("a", cursor, 0, kTtlMs);
  EXPECT_EQ(store.get("a")->cursor, cursor);
}

TEST_F(StateStoreTest, ClaimHeldByAnotherLiveProcessIsRefusedNamingTheHolder) {
  { SqliteStateStore store(path_); }
  const char* argv[] = {"sleep", "5", nullptr};
  pid_t child = spawn(argv);
  ASSERT_GT(child, 0);
  set_holder(path_, "corp-duo", child, this_host_name(), now_ms() + kTtlMs);
  SqliteStateStore store(path_);
  std::string holder = store.claim("corp-duo", kTtlMs);
  EXPECT_NE(holder.find("pid " + std::to_string(child)), std::string::npos) << holder;
  EXPECT_NE(holder.find(this_host_name()), std::string::npos) << holder;
  auto s = store.get("corp-duo");
  EXPECT_EQ(s->holder_pid, child);
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "running");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST_F(StateStoreTest, ClaimHeldOnAnotherHostIsRefusedUntilItExpires) {
  { SqliteStateStore store(path_); }
  set_holder(path_, "corp-duo", 4242, "other-host", now_ms() + kTtlMs);
  SqliteStateStore store(path_);
  std::string holder = store.claim("corp-duo", kTtlMs);
  EXPECT_NE(holder.find("pid 4242 on other-host"), std::string::npos) << holder;
}

TEST_F(StateStoreTest, ClaimOfADeadProcessIsVoidAtOnce) {
  { SqliteStateStore store(path_); }
  const char* argv[] = {"true", nullptr};
  pid_t child = spawn(argv);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  set_holder(path_, "corp-duo", child, this_host_name(), now_ms() + kTtlMs);
  SqliteStateStore store(path_);
  auto s = store.get("corp-duo");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status, "running");
  EXPECT_FALSE(StateStore::holder_alive(*s, now_ms()));
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "failed");
  EXPECT_EQ(store.claim("corp-duo", kTtlMs), "");
  EXPECT_EQ(store.get("corp-duo")->holder_pid, ::getpid());
}

TEST_F(StateStoreTest, ExpiredClaimIsVoid) {
  { SqliteStateStore store(path_); }
  set_holder(path_, "corp-duo", 4242, "other-host", now_ms() - 1000);
  SqliteStateStore store(path_);
  auto s = store.get("corp-duo");
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "failed");
  EXPECT_EQ(store.claim("corp-duo", kTtlMs), "");
}

TEST_F(StateStoreTest, ResetClearsTheCursorAndSetsTheStart) {
  SqliteStateStore store(path_);
  ASSERT_EQ(store.claim("corp-duo", kTtlMs), "");
  store.commit("corp-duo", "page-1", 1, kTtlMs);
  store.finish("corp-duo", "succeeded", "");
  store.reset("corp-duo", 1700000000000);
  auto s = store.get("corp-duo");
  EXPECT_FALSE(s->cursor.has_value());
  EXPECT_EQ(s->start_override_ms, 1700000000000);
  EXPECT_EQ(s->events_total, 1);

  // A commit consumes the start override.
  ASSERT_EQ(store.claim("corp-duo", kTtlMs), "");
  store.commit("corp-duo", "page-2", 0, kTtlMs);
  EXPECT_FALSE(store.get("corp-duo")->start_override_ms.has_value());

  store.reset("corp-duo", std::nullopt);
  s = store.get("corp-duo");
  EXPECT_FALSE(s->cursor.has_value());
  EXPECT_FALSE(s->start_override_ms.has_value());
}

TEST_F(StateStoreTest, ResetOfANewAppCreatesItNeverRun) {
  SqliteStateStore store(path_);
  store.reset("fresh", 5000);
  auto s = store.get("fresh");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status, "never");
  EXPECT_EQ(s->start_override_ms, 5000);
}

TEST_F(StateStoreTest, CommitOnAnUnclaimedAppThrows) {
  SqliteStateStore store(path_);
  EXPECT_THROW(store.commit("nobody", "c", 1, kTtlMs), StateError);
  ASSERT_EQ(store.claim("done", kTtlMs), "");
  store.finish("done", "succeeded", "");
  EXPECT_THROW(store.commit("done", "c", 1, kTtlMs), StateError);
}

TEST_F(StateStoreTest, CommitAfterAnotherProcessTookTheClaimThrows) {
  SqliteStateStore store(path_);
  ASSERT_EQ(store.claim("corp-duo", kTtlMs), "");
  set_holder(path_, "corp-duo", 4242, "other-host", now_ms() + kTtlMs);
  EXPECT_THROW(store.commit("corp-duo", "c", 1, kTtlMs), StateError);
  EXPECT_FALSE(store.get("corp-duo")->cursor.has_value());
}

TEST_F(StateStoreTest, CorruptFileThrowsNamingThePath) {
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage += static_cast<char>((i * 7919) % 251);
  dir_.write("state.db", garbage);
  try {
    SqliteStateStore store(path_);
    FAIL() << "no StateError";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
  }
}

TEST_F(StateStoreTest, UnopenablePathThrowsNamingIt) {
  std::string path = dir_.file("missing-dir/state.db");
  try {
    SqliteStateStore store(path);
    FAIL() << "no StateError";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(StateStoreTest, NewerSchemaVersionIsRefused) {
  sql(path_, "PRAGMA user_version = 2");
  try {
    SqliteStateStore store(path_);
    FAIL() << "no StateError";
  } catch (const StateError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path_), std::string::npos) << what;
    EXPECT_NE(what.find("newer"), std::string::npos) << what;
  }
  EXPECT_EQ(user_version(path_), 2);
}

}  // namespace
}  // namespace siphon
