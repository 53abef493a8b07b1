// The PostgreSQL state store through its interface, against a real server:
// the claim/commit/finish lifecycle, fencing (a commit by a process whose
// lease lapsed and was taken is refused in the same statement), the fleet
// share, migration's refusal to overwrite cursors, and connection errors
// that name the URL without its password.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg_server.hpp"
#include "state/postgres_state_store.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

using testing::PgServer;

class PostgresStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<PostgresStateStore> open(int64_t lease_ms = 2000, size_t connections = 1) {
    return std::make_unique<PostgresStateStore>(url_with_password(), "/", lease_ms, connections);
  }
  std::string url_with_password() const {
    return "postgresql://siphon:" + pg_.password() + "@127.0.0.1:" + std::to_string(pg_.port()) +
           "/siphon?sslmode=disable";
  }
  void lapse(const std::string& app) {
    pg_.query("UPDATE siphon_apps SET lease_expires = now() - interval '1 second' WHERE app = '" +
              app + "'");
  }
  PgServer pg_;
};

TEST_F(PostgresStoreTest, ClaimCommitFinishLifecycle) {
  auto store = open();
  EXPECT_FALSE(store->get("a"));
  ASSERT_EQ(store->claim("a", 0), "");
  auto s = store->get("a");
  ASSERT_TRUE(s);
  EXPECT_EQ(StateStore::effective_status(*s, now_ms()), "running");
  EXPECT_EQ(s->lease_generation, 1);
  store->commit("a", std::string("pos\0with nul", 12), 7, 0);
  store->commit("a", "pos-2", 3, 0);
  store->finish("a", "succeeded", "");
  s = store->get("a");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cursor.value_or(""), "pos-2");
  EXPECT_EQ(s->events_last_run, 10);
  EXPECT_EQ(s->polls_last_run, 2);
  EXPECT_EQ(s->events_total, 10);
  EXPECT_EQ(s->status, "succeeded");
  EXPECT_GT(s->last_success_ms, 0);
  // `once` gives its lease back at the end.
  EXPECT_EQ(s->lease_owner, "");
  EXPECT_EQ(pg_.query("SELECT commits FROM siphon_apps WHERE app = 'a'")[0], "2");
}

TEST_F(PostgresStoreTest, CursorKeepsEveryByte) {
  auto store = open();
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  ASSERT_EQ(store->claim("a", 0), "");
  store->commit("a", bytes, 1, 0);
  EXPECT_EQ(store->get("a")->cursor.value_or(""), bytes);
}

TEST_F(PostgresStoreTest, ALiveLeaseIsRefusedNamingItsHolder) {
  auto a = open();
  auto b = open();
  ASSERT_EQ(a->claim("app", 0), "");
  std::string holder = b->claim("app", 0);
  EXPECT_NE(holder.find("pid " + std::to_string(::getpid())), std::string::npos) << holder;
  EXPECT_NE(holder.find(a->owner()), std::string::npos) << holder;
}

TEST_F(PostgresStoreTest, CommitAfterTheLeaseWasTakenIsRefusedAndChangesNothing) {
  auto a = open();
  auto b = open();
  ASSERT_EQ(a->claim("app", 0), "");
  a->commit("app", "a-1", 5, 0);
  lapse("app");  // as if `a` had been paused past its lease
  ASSERT_EQ(b->claim("app", 0), "");
  EXPECT_EQ(b->get("app")->lease_generation, 2);
  b->commit("app", "b-1", 5, 0);
  try {
    a->commit("app", "a-2", 5, 0);
    FAIL() << "a late commit was accepted";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find("commit was refused"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(pg_.password()), std::string::npos);
  }
  // The late holder's end of run does not overwrite the new holder's state.
  a->finish("app", "failed", "late");
  auto s = b->get("app");
  EXPECT_EQ(s->cursor.value_or(""), "b-1");
  EXPECT_EQ(s->status, "running");
  EXPECT_EQ(s->events_total, 10);
  EXPECT_EQ(s->lease_owner, b->owner());
}

TEST_F(PostgresStoreTest, LeasesAreRenewedWhileHeldAndLapseWhenTheHolderStops) {
  auto a = open(1500);
  ASSERT_EQ(a->claim("app", 0), "");
  // Longer than the lease: the keeper renews it.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto b = open(1500);
  EXPECT_NE(b->claim("app", 0), "");
  a->commit("app", "still-mine", 1, 0);
}

TEST_F(PostgresStoreTest, FleetHostsSplitTheAppsByShare) {
  std::vector<std::string> apps;
  for (int i = 0; i < 9; ++i) apps.push_back("app" + std::to_string(i));
  auto a = open(1200);
  a->join_fleet(apps);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (a->leases_held() < 9 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a->leases_held(), 9u);
  auto b = open(1200);
  b->join_fleet(apps);
  auto c = open(1200);
  c->join_fleet(apps);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (!(a->leases_held() == 3 && b->leases_held() == 3 && c->leases_held() == 3) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a->leases_held(), 3u);
  EXPECT_EQ(b->leases_held(), 3u);
  EXPECT_EQ(c->leases_held(), 3u);
  size_t mine = 0;
  for (const auto& app : apps) mine += b->held_elsewhere(app) ? 0 : 1;
  EXPECT_EQ(mine, 3u);
  EXPECT_EQ(pg_.query("SELECT count(DISTINCT lease_owner) FROM siphon_apps")[0], "3");
  // A host that leaves gives its leases back; the others take them.
  c.reset();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (a->leases_held() + b->leases_held() < 9 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a->leases_held() + b->leases_held(), 9u);
}

// Workers share one store: their statements run on up to `connections`
// connections at once, every commit lands, and the pool never grows past its
// bound, while the keeper renews leases every 100 ms.
TEST_F(PostgresStoreTest, ConcurrentWorkersShareABoundedPool) {
  constexpr int kThreads = 6, kCommits = 40;
  auto store = open(300, 3);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kCommits; ++i) {
          std::string app = "w" + std::to_string(t) + "-" + std::to_string(i % 4);
          if (!store->claim(app, 0).empty()) {
            ++failures;
            continue;
          }
          store->commit(app, "pos-" + std::to_string(i), 1, 0);
          store->finish(app, "succeeded", "");
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pg_.query("SELECT sum(commits) FROM siphon_apps")[0],
            std::to_string(kThreads * kCommits));
  int open_connections = std::stoi(pg_.query(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'siphon' AND pid <> "
      "pg_backend_pid()")[0]);
  EXPECT_GE(open_connections, 1);
  EXPECT_LE(open_connections, 3);
}

TEST_F(PostgresStoreTest, ImportRefusesToOverwriteCursors) {
  auto store = open();
  AppState row;
  row.app = "x";
  row.cursor = "c1";
  row.status = "succeeded";
  row.events_total = 4;
  store->import_rows({row});
  EXPECT_EQ(store->get("x")->cursor.value_or(""), "c1");
  row.cursor = "c2";
  EXPECT_THROW(store->import_rows({row}), StateError);
  EXPECT_EQ(store->get("x")->cursor.value_or(""), "c1");
}

TEST_F(PostgresStoreTest, WrongPasswordNamesTheUrlWithoutThePassword) {
  std::string url = "postgresql://siphon:WRONGpass@127.0.0.1:" + std::to_string(pg_.port()) +
                    "/siphon?sslmode=disable";
  try {
    PostgresStateStore store(url, "/", 2000);
    FAIL() << "connected with a wrong password";
  } catch (const StateError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("postgresql://siphon@127.0.0.1:" + std::to_string(pg_.port())),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("password authentication failed"), std::string::npos) << m;
    EXPECT_EQ(m.find("WRONGpass"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace siphon
