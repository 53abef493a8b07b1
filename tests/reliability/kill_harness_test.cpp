// The kill harness: `siphon once` is killed with SIGKILL at random moments,
// again and again, while the Box imitation keeps receiving new events; then a
// last run finishes. Every event must have arrived at least once, and each kill
// may cause at most one page of duplicates (the page written to the sink
// whose cursor had not been committed yet).
//
// SIPHON_KILLS sets the number of kills (default 20; scripts/kill-harness runs
// 100), SIPHON_KILL_SEED the random seed (default: from the clock; printed).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "reliability_common.hpp"

using siphon::testing::BoxSetup;
using siphon::testing::Workdir;

namespace {

constexpr int kPage = 50;
// Enough that a run outlasts the kill delay (20 to 250 ms) on a fast machine.
constexpr size_t kNewEventsPerRun = 8000;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// event_id of every complete line of events.jsonl, in order. A kill inside
// write() may leave a last line without its newline; the next run cuts it
// when it opens the sink, so it is not counted here.
std::vector<std::string> delivered_ids(const Workdir& dir) {
  std::vector<std::string> ids;
  std::string text = dir.read("events.jsonl");
  size_t pos = 0;
  for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    rapidjson::Document d;
    d.Parse(text.data() + pos, nl - pos);
    EXPECT_FALSE(d.HasParseError()) << "complete line at byte " << pos << " is not JSON";
    if (!d.HasParseError()) ids.emplace_back(d["event"]["event_id"].GetString());
  }
  return ids;
}

TEST(KillHarness, EveryEventArrivesAndEachKillCostsAtMostOnePageOfDuplicates) {
  const int kills = env_int("SIPHON_KILLS", 20);
  const unsigned seed = static_cast<unsigned>(env_int(
      "SIPHON_KILL_SEED",
      static_cast<int>(std::chrono::steady_clock::now().time_since_epoch().count() & 0x7fffffff)));
  std::mt19937 rng(seed);
  Workdir dir;
  BoxSetup setup(dir);
  auto& box = setup.box;
  int64_t t0 = siphon::imitation::now_ms() - 3600 * 1000;
  box.add_events(kNewEventsPerRun, t0);

  // Where the first run starts, however early it is killed.
  ASSERT_EQ(dir.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  std::vector<int> dup_per_kill;
  std::set<std::string> seen;
  size_t lines_before = 0;
  int effective_kills = 0;
  for (int k = 0; k < kills; ++k) {
    pid_t pid = dir.spawn({"once", "corp-box"}, "kill" + std::to_string(k));
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 250)(rng)));
    bool killed = ::kill(pid, SIGKILL) == 0;
    int code = siphon::testing::wait_child(pid, 60);
    if (killed && code == 128 + SIGKILL) ++effective_kills;
    // What this run added: lines already seen are the duplicates the kill
    // before it caused.
    auto ids = delivered_ids(dir);
    int dups = 0;
    for (size_t i = lines_before; i < ids.size(); ++i)
      if (!seen.insert(ids[i]).second) ++dups;
    if (k > 0) dup_per_kill.push_back(dups);
    lines_before = ids.size();
    box.add_events(kNewEventsPerRun, siphon::imitation::now_ms() - 1000);
  }
  // The last run, not killed, finishes the backlog.
  auto r = dir.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = delivered_ids(dir);
  int dups = 0;
  for (size_t i = lines_before; i < ids.size(); ++i)
    if (!seen.insert(ids[i]).second) ++dups;
  dup_per_kill.push_back(dups);

  const size_t expected = kNewEventsPerRun * static_cast<size_t>(kills + 1);
  std::map<std::string, int> count;
  for (const auto& id : ids) ++count[id];
  size_t lost = expected - std::min(expected, count.size());
  int max_dup = 0;
  int total_dup = 0;
  for (int d : dup_per_kill) {
    max_dup = std::max(max_dup, d);
    total_dup += d;
  }
  std::printf(
      "kill harness: seed %u, kills %d (landed mid-run %d), events %zu, delivered lines %zu, "
      "lost %zu, duplicates %d, max duplicates per kill %d (page size %d)\n",
      seed, kills, effective_kills, expected, ids.size(), lost, total_dup, max_dup, kPage);
  ::testing::Test::RecordProperty("kills", kills);
  ::testing::Test::RecordProperty("lost", static_cast<int>(lost));
  ::testing::Test::RecordProperty("max_duplicates_per_kill", max_dup);
  EXPECT_EQ(count.size(), expected) << "every event arrives";
  EXPECT_EQ(lost, 0u);
  EXPECT_LE(max_dup, kPage) << "at most one page repeated per kill";
  EXPECT_GE(effective_kills, kills / 2) << "most kills must land while siphon runs";
  EXPECT_STREQ(dir.state("corp-box")["status"].GetString(), "succeeded");
}

}  // namespace
