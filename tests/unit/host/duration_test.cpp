// Durations: "30s", "10m", "1h", "1d", combinations, bare seconds and
// StreamAlert's rate() expressions; anything else is refused with a reason.
#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace siphon {
namespace {

int64_t seconds_of(const std::string& text) {
  std::string why;
  auto v = parse_duration_seconds(text, &why);
  EXPECT_TRUE(v.has_value()) << text << ": " << why;
  return v.value_or(-1);
}

std::string refusal_of(const std::string& text) {
  std::string why;
  auto v = parse_duration_seconds(text, &why);
  EXPECT_FALSE(v.has_value()) << text << " was accepted as " << v.value_or(-1);
  return why;
}

TEST(DurationTest, UnitSuffixes) {
  EXPECT_EQ(seconds_of("30s"), 30);
  EXPECT_EQ(seconds_of("10m"), 600);
  EXPECT_EQ(seconds_of("1h"), 3600);
  EXPECT_EQ(seconds_of("1d"), 86400);
}

TEST(DurationTest, CombinedUnitsAddUp) { EXPECT_EQ(seconds_of("1h30m"), 5400); }

TEST(DurationTest, BareNumberIsSeconds) {
  EXPECT_EQ(seconds_of("45"), 45);
  EXPECT_EQ(seconds_of("0"), 0);
}

TEST(DurationTest, StreamAlertRateExpressions) {
  EXPECT_EQ(seconds_of("rate(1 minute)"), 60);
  EXPECT_EQ(seconds_of("rate(10 minutes)"), 600);
  EXPECT_EQ(seconds_of("rate(2 hours)"), 7200);
  EXPECT_EQ(seconds_of("rate(1 day)"), 86400);
}

TEST(DurationTest, RatePluralWithOneIsRefused) {
  EXPECT_FALSE(refusal_of("rate(1 minutes)").empty());
}

TEST(DurationTest, RateSingularWithMoreThanOneIsRefused) {
  EXPECT_NE(refusal_of("rate(10 minute)").find("rate("), std::string::npos);
}

TEST(DurationTest, RateOfZeroIsRefused) { EXPECT_FALSE(refusal_of("rate(0 minutes)").empty()); }

TEST(DurationTest, CronExpressionsAreRefused) {
  EXPECT_FALSE(refusal_of("cron(0 12 * * ? *)").empty());
}

TEST(DurationTest, UnknownUnitIsRefusedNamingTheText) {
  EXPECT_NE(refusal_of("10x").find("10x"), std::string::npos);
}

TEST(DurationTest, EmptyTextIsRefused) {
  EXPECT_NE(refusal_of("").find("empty"), std::string::npos);
}

TEST(DurationTest, NegativeNumbersAreRefused) { EXPECT_FALSE(refusal_of("-5").empty()); }

TEST(DurationTest, FormatPicksTheLargestWholeUnit) {
  EXPECT_EQ(format_duration(600), "10m");
  EXPECT_EQ(format_duration(7200), "2h");
  EXPECT_EQ(format_duration(86400), "1d");
  EXPECT_EQ(format_duration(90), "90s");
}

}  // namespace
}  // namespace siphon
