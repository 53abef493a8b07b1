// Log redaction: no auth value reaches a log line.
#include "log/log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace siphon {
namespace {

TEST(RedactorTest, ReplacesEverySecretOccurrence) {
  Redactor r;
  r.add("s3cret-token");
  EXPECT_EQ(r.apply("token=s3cret-token, again s3cret-token."),
            "token=[redacted], again [redacted].");
}

TEST(RedactorTest, LeavesOtherTextAlone) {
  Redactor r;
  r.add("s3cret-token");
  EXPECT_EQ(r.apply("nothing to hide"), "nothing to hide");
}

TEST(RedactorTest, ReplacesSeveralSecrets) {
  Redactor r;
  r.add("DI0123456789ABCDEFGH");
  r.add(std::string(40, 'k'));
  EXPECT_EQ(r.apply("ikey DI0123456789ABCDEFGH skey " + std::string(40, 'k')),
            "ikey [redacted] skey [redacted]");
}

TEST(RedactorTest, IgnoresValuesShorterThanFourCharacters) {
  Redactor r;
  r.add("abc");
  r.add("");
  EXPECT_EQ(r.apply("abc is not redacted"), "abc is not redacted");
}

TEST(RedactorTest, RedactsEachLongLineOfAMultiLineSecret) {
  const std::string line1 = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
  const std::string line2 = "VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu";
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\n" + line1 + "\n" + line2 + "\n-----END PRIVATE KEY-----\n";
  Redactor r;
  r.add(pem);
  EXPECT_EQ(r.apply("key: " + pem), "key: [redacted]");
  EXPECT_EQ(r.apply("parse error near " + line2), "parse error near [redacted]");
  std::string out = r.apply("{\"private_key\":\"" + line1 + "\"}");
  EXPECT_EQ(out.find(line1), std::string::npos) << out;
}

TEST(LogLevelTest, ParsesTheConfigNames) {
  LogLevel level = LogLevel::kInfo;
  ASSERT_TRUE(parse_log_level("warn", level));
  EXPECT_EQ(level, LogLevel::kWarn);
  ASSERT_TRUE(parse_log_level("trace", level));
  EXPECT_EQ(level, LogLevel::kTrace);
  EXPECT_FALSE(parse_log_level("loud", level));
}

}  // namespace
}  // namespace siphon
