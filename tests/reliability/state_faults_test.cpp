// Faults of the state database: held locked by another process, damaged, and
// on storage siphon may not write (as `nobody` when the tests run as root).
// Each gives a clear error naming the database; none resets the cursors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "reliability_common.hpp"

using siphon::testing::BoxSetup;
using siphon::testing::Workdir;

namespace {

class StateFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    setup_ = std::make_unique<BoxSetup>(dir_);
    setup_->box.add_events(100, siphon::imitation::now_ms() - 3600 * 1000);
    auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cursor_ = dir_.state("corp-box")["cursor"].GetString();
    setup_->box.add_events(40, siphon::imitation::now_ms());
  }
  // The stored cursor survived and the next good run delivers only the new events.
  void expect_cursor_kept() {
    auto st = dir_.state("corp-box");
    ASSERT_TRUE(st["cursor"].IsString());
    EXPECT_EQ(st["cursor"].GetString(), cursor_);
    auto r = dir_.siphon({"once", "corp-box"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(dir_.event_lines(), 140u);
  }

  Workdir dir_;
  std::unique_ptr<BoxSetup> setup_;
  std::string cursor_;
};

TEST_F(StateFaults, ALockHeldByAnotherProcessIsAClearError) {
  // Another process holds an exclusive lock for 8 s (longer than the 5 s busy wait).
  pid_t holder = ::fork();
  if (holder == 0) {
    std::string db = dir_.file("state.db");
    ::execlp("python3", "python3", "-c",
             "import sqlite3,sys,time\n"
             "c=sqlite3.connect(sys.argv[1],isolation_level=None)\n"
             "c.execute('BEGIN EXCLUSIVE')\n"
             "open(sys.argv[1]+'.held','w').close()\n"
             "time.sleep(8)\n",
             db.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !std::filesystem::exists(dir_.file("state.db.held")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(dir_.file("state.db.held")));
  auto r = dir_.siphon({"once", "corp-box"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("state.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("locked"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 100u);
  ::kill(holder, SIGTERM);
  ::waitpid(holder, nullptr, 0);
  expect_cursor_kept();
}

TEST_F(StateFaults, ADamagedDatabaseIsReportedAndNeverReplaced) {
  // Damage the pages after the header: the file still looks like SQLite.
  std::string db = dir_.read("state.db");
  ASSERT_GT(db.size(), 4096u);
  for (size_t i = 100; i < db.size(); i += 7) db[i] = static_cast<char>(db[i] ^ 0x5a);
  dir_.write("state.db", db, 0644);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"once", "corp-box"}, {"state", "show"}, {"run"}}) {
    auto r = dir_.siphon(args, 20);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_NE(r.err.find("state.db"), std::string::npos) << r.err;
    EXPECT_TRUE(r.err.find("damaged") != std::string::npos ||
                r.err.find("malformed") != std::string::npos ||
                r.err.find("not a database") != std::string::npos)
        << r.err;
  }
  EXPECT_EQ(dir_.read("state.db"), db) << "the damaged file is left as it was";
  EXPECT_EQ(dir_.event_lines(), 100u);
}

TEST_F(StateFaults, AFileThatIsNotADatabaseIsReportedAndNeverReplaced) {
  dir_.write("state.db", std::string(8192, 'x'), 0644);
  auto r = dir_.siphon({"once", "corp-box"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("state.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a database"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.read("state.db"), std::string(8192, 'x'));
}

TEST_F(StateFaults, ReadOnlyStorageIsAClearErrorAndKeepsTheCursor) {
  std::function<void()> as_user;
  if (siphon::testing::is_root()) {
    // `nobody` may read the work folder and the database but write neither.
    ::chmod(dir_.path().c_str(), 0755);
    for (const char* f : {"siphon.yaml", "secrets", "secrets/box.json", "state.db", "events.jsonl",
                          "state.db-wal", "state.db-shm"}) {
      ::chmod(dir_.file(f).c_str(), std::string(f) == "secrets" ? 0755 : 0644);
    }
    as_user = siphon::testing::become_nobody;
  } else {
    ::chmod(dir_.path().c_str(), 0555);
    ::chmod(dir_.file("state.db").c_str(), 0444);
  }
  auto r = dir_.siphon_with({"once", "corp-box"}, as_user);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("state.db"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("readonly") != std::string::npos ||
              r.err.find("read-only") != std::string::npos ||
              r.err.find("unable to open") != std::string::npos)
      << r.err;
  EXPECT_EQ(dir_.event_lines(), 100u) << "nothing delivered without a place to commit";
  ::chmod(dir_.path().c_str(), 0700);
  ::chmod(dir_.file("state.db").c_str(), 0644);
  expect_cursor_kept();
}

}  // namespace
