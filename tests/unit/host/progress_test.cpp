// Progress of `siphon once`: a redrawn status line at a terminal, periodic
// plain lines elsewhere.
#include "cli/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace siphon {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(ProgressTest, TextNamesEventsPagesPositionAndRate) {
  EXPECT_EQ(progress_text(5000, 10, kT0, 2000),
            "5000 events, 10 pages, at 2027-01-15T08:00:00Z, 2500 events/s");
  EXPECT_EQ(progress_text(0, 1, 0, 0), "0 events, 1 page");
}

TEST(ProgressTest, PlainLinesOnlyEveryPeriodWhenNotATerminal) {
  std::vector<std::string> lines;
  Progress p(
      false, nullptr, [&](const std::string& l) { lines.push_back(l); }, kT0, 10'000);
  p.update(100, 1, kT0 - 3'600'000, kT0 + 1'000);
  p.update(200, 2, kT0 - 3'500'000, kT0 + 5'000);
  EXPECT_TRUE(lines.empty());
  p.update(1000, 10, kT0 - 3'000'000, kT0 + 10'000);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "progress: 1000 events, 10 pages, at 2027-01-15T07:10:00Z, 100 events/s");
  p.update(1100, 11, kT0 - 2'900'000, kT0 + 12'000);
  EXPECT_EQ(lines.size(), 1u);
  p.update(3000, 30, 0, kT0 + 20'000);  // position never goes back to unknown
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "progress: 3000 events, 30 pages, at 2027-01-15T07:11:40Z, 150 events/s");
  p.finish(kT0 + 21'000);  // nothing more: the run's own summary line follows
  EXPECT_EQ(lines.size(), 2u);
}

TEST(ProgressTest, TerminalRedrawsOneLineInPlaceAndEndsIt) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  int logged = 0;
  Progress p(
      true, f, [&](const std::string&) { ++logged; }, kT0);
  p.update(10, 1, 0, kT0 + 100);  // within 200 ms of the last draw: not drawn
  EXPECT_EQ(read_all(f), "");
  p.update(20, 2, 0, kT0 + 300);
  p.update(30, 3, kT0, kT0 + 600);
  p.finish(kT0 + 1000);
  EXPECT_EQ(read_all(f),
            "\r\033[K20 events, 2 pages, 67 events/s"
            "\r\033[K30 events, 3 pages, at 2027-01-15T08:00:00Z, 50 events/s"
            "\r\033[K30 events, 3 pages, at 2027-01-15T08:00:00Z, 30 events/s\n");
  EXPECT_EQ(logged, 0);
  std::fclose(f);
}

}  // namespace
}  // namespace siphon
