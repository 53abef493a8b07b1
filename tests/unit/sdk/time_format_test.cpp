// siphon::timefmt: the wire formats of Duo (RFC 2822 Date), Box and Aliyun
// (RFC 3339), and HTTP-dates, independent of the process locale and TZ.
#include <gtest/gtest.h>

#include <clocale>
#include <cstdlib>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <string>

namespace siphon::timefmt {
namespace {

constexpr int64_t kDuoExampleMs = 1345570158000;  // Tue, 21 Aug 2012 17:29:18 UTC

TEST(Rfc2822, KnownInstants) {
  EXPECT_EQ(rfc2822(kDuoExampleMs), "Tue, 21 Aug 2012 17:29:18 -0000");
  EXPECT_EQ(rfc2822(kDuoExampleMs + 999), "Tue, 21 Aug 2012 17:29:18 -0000");
  EXPECT_EQ(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 -0000");
  EXPECT_EQ(rfc2822(784111777000), "Sun, 06 Nov 1994 08:49:37 -0000");  // RFC 7231's example
  EXPECT_EQ(rfc2822(951782400000), "Tue, 29 Feb 2000 00:00:00 -0000");
  EXPECT_EQ(rfc2822(-1), "Wed, 31 Dec 1969 23:59:59 -0000");
}

TEST(Rfc2822, IgnoresLocaleAndTz) {
  // Whatever locales exist here, names stay English and the zone stays UTC.
  setenv("TZ", "America/Los_Angeles", 1);
  std::setlocale(LC_ALL, "de_DE.UTF-8");
  std::setlocale(LC_TIME, "fr_FR.UTF-8");
  EXPECT_EQ(rfc2822(kDuoExampleMs), "Tue, 21 Aug 2012 17:29:18 -0000");
  EXPECT_EQ(rfc3339(kDuoExampleMs), "2012-08-21T17:29:18Z");
  std::setlocale(LC_ALL, "C");
  unsetenv("TZ");
}

TEST(Rfc2822, ParsesHttpDates) {
  EXPECT_EQ(parse_rfc2822("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 GMT"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 -0000"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 +0000"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 19:29:18 +0200"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 10:29:18 -0700"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 UTC"), kDuoExampleMs);
}

TEST(Rfc2822, ParsesRfc2822Variants) {
  EXPECT_EQ(parse_rfc2822("21 Aug 2012 17:29:18 GMT"), kDuoExampleMs);            // no day name
  EXPECT_EQ(parse_rfc2822("Tue, 1 Jan 2013 00:00:00 GMT"), 1356998400000);        // 1-digit day
  EXPECT_EQ(parse_rfc2822("Tue, 21 Aug 2012 17:29 GMT"), kDuoExampleMs - 18000);  // no seconds
  EXPECT_EQ(parse_rfc2822("  tue, 21 aug 2012 17:29:18 gmt  "), kDuoExampleMs);
}

TEST(Rfc2822, RoundTrips) {
  for (int64_t ms : {int64_t{0}, kDuoExampleMs, int64_t{1714582790000}, int64_t{4102444799000}}) {
    EXPECT_EQ(parse_rfc2822(rfc2822(ms)), ms) << ms;
  }
}

TEST(Rfc2822, BadInputThrowsNamingTheText) {
  for (const char* bad : {"", "yesterday", "Tue, 21 Foo 2012 17:29:18 GMT",
                          "Tue, 32 Aug 2012 17:29:18 GMT", "Tue, 29 Feb 2013 00:00:00 GMT",
                          "Tue, 21 Aug 2012 24:00:00 GMT", "Tue, 21 Aug 2012 17:29:18",
                          "Tue, 21 Aug 2012 17:29:18 PST", "Tue, 21 Aug 2012 17:29:18 GMT extra",
                          "Dienstag, 21 Aug 2012 17:29:18 GMT", "2012-08-21T17:29:18Z"}) {
    try {
      parse_rfc2822(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos)
          << e.what();
    }
  }
}

TEST(Rfc3339, Formats) {
  EXPECT_EQ(rfc3339(kDuoExampleMs), "2012-08-21T17:29:18Z");
  EXPECT_EQ(rfc3339(kDuoExampleMs + 7, true), "2012-08-21T17:29:18.007Z");
  EXPECT_EQ(rfc3339(kDuoExampleMs + 999), "2012-08-21T17:29:18Z");  // truncated, not rounded
  EXPECT_EQ(rfc3339(1714582790123, true), "2024-05-01T16:59:50.123Z");
  EXPECT_EQ(rfc3339(0, true), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(-1, true), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(rfc3339(1798390800000), "2026-12-27T17:00:00Z");
}

TEST(Rfc3339, FormatsWithOffsetForBox) {
  EXPECT_EQ(rfc3339_offset(1714521600000), "2024-05-01T00:00:00-00:00");
  EXPECT_EQ(rfc3339_offset(kDuoExampleMs + 500), "2012-08-21T17:29:18-00:00");
}

TEST(Rfc3339, OutOfRangeThrows) {
  EXPECT_THROW(rfc3339(253402300800000), Error);  // 10000-01-01
  EXPECT_THROW(rfc2822(-62167219200001), Error);  // before year 0
  EXPECT_EQ(rfc3339(253402300799999, true), "9999-12-31T23:59:59.999Z");
}

TEST(Rfc3339, ParsesZuluAndOffsets) {
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18Z"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21t17:29:18z"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21 17:29:18Z"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21T19:29:18+02:00"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21T10:29:18-07:00"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-22T03:14:18+09:45"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18-00:00"), kDuoExampleMs);
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18+0000"), kDuoExampleMs);
  // An offset that crosses midnight and a month end.
  EXPECT_EQ(parse_rfc3339("2012-08-31T23:30:00-01:00"), parse_rfc3339("2012-09-01T00:30:00Z"));
}

TEST(Rfc3339, ParsesFractions) {
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18.5Z"), kDuoExampleMs + 500);
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18.12Z"), kDuoExampleMs + 120);
  EXPECT_EQ(parse_rfc3339("2012-08-21T17:29:18.007Z"), kDuoExampleMs + 7);
  // Duo's isotimestamp: microseconds, truncated to milliseconds.
  EXPECT_EQ(parse_rfc3339("2024-05-01T16:59:50.123456+00:00"), 1714582790123);
  EXPECT_EQ(parse_rfc3339("2024-05-01T16:59:55.000000+00:00"), 1714582795000);
  EXPECT_EQ(parse_rfc3339("2024-05-01T16:59:50.999999999Z"), 1714582790999);
}

TEST(Rfc3339, RoundTrips) {
  for (int64_t ms : {int64_t{0}, int64_t{-1}, kDuoExampleMs + 123, int64_t{951825599999},
                     int64_t{4102444799000}}) {
    EXPECT_EQ(parse_rfc3339(rfc3339(ms, true)), ms) << ms;
    EXPECT_EQ(parse_rfc3339(rfc3339_offset(ms)), ms - (((ms % 1000) + 1000) % 1000)) << ms;
  }
}

TEST(Rfc3339, LeapDays) {
  EXPECT_EQ(rfc3339(parse_rfc3339("2024-02-29T12:00:00Z")), "2024-02-29T12:00:00Z");
  EXPECT_EQ(rfc3339(parse_rfc3339("2000-02-29T00:00:00Z")), "2000-02-29T00:00:00Z");
  EXPECT_THROW(parse_rfc3339("1900-02-29T00:00:00Z"), Error);
  EXPECT_THROW(parse_rfc3339("2023-02-29T00:00:00Z"), Error);
}

TEST(Rfc3339, BadInputThrowsNamingTheText) {
  for (const char* bad :
       {"", "2012-08-21", "2012-08-21T17:29:18", "2012-08-21T17:29Z", "2012-8-21T17:29:18Z",
        "2012-13-01T00:00:00Z", "2012-04-31T00:00:00Z", "2012-08-21T25:00:00Z",
        "2012-08-21T17:60:00Z", "2012-08-21T17:29:18.Z", "2012-08-21T17:29:18+2:00",
        "2012-08-21T17:29:18+24:00", "2012-08-21T17:29:18Z ", "2012-08-21X17:29:18Z",
        "Tue, 21 Aug 2012 17:29:18 GMT", "1345570158"}) {
    try {
      parse_rfc3339(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos)
          << e.what();
    }
  }
}

TEST(Rfc3339, LongBadInputIsShortenedInTheMessage) {
  std::string bad(1000, 'x');
  try {
    parse_rfc3339(bad);
    FAIL() << "expected siphon::Error";
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
}

}  // namespace
}  // namespace siphon::timefmt
