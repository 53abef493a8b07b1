// Auth regexes: PCRE, matched against the whole value. StreamAlert's real
// regexes (reference/streamalert-apps.md) serve as golden cases.
#include <gtest/gtest.h>

#include <string>

#include "cli/validate.hpp"

namespace siphon {
namespace {

TEST(FullMatchTest, DuoApiHostname) {
  const std::string re = R"(^api-[a-f0-9]{8}\.duosecurity\.com$)";
  EXPECT_TRUE(full_match(re, "api-1234abcd.duosecurity.com"));
  EXPECT_FALSE(full_match(re, "api-1234ABCD.duosecurity.com"));
  EXPECT_FALSE(full_match(re, "api-1234abcd.duosecurity.com.evil.example"));
  EXPECT_FALSE(full_match(re, "api-1234abcdXduosecurity.com"));
}

TEST(FullMatchTest, DuoIntegrationKey) {
  const std::string re = "^DI[A-Z0-9]{18}$";
  EXPECT_TRUE(full_match(re, "DI0123456789ABCDEFGH"));
  EXPECT_FALSE(full_match(re, "DI0123456789ABCDEFG"));    // 17 after DI
  EXPECT_FALSE(full_match(re, "DI0123456789ABCDEFGHI"));  // 19 after DI
  EXPECT_FALSE(full_match(re, "di0123456789ABCDEFGH"));
}

TEST(FullMatchTest, DuoSecretKey) {
  const std::string re = "^[a-zA-Z0-9]{40}$";
  EXPECT_TRUE(full_match(re, std::string(40, 'a')));
  EXPECT_FALSE(full_match(re, std::string(39, 'a')));
  EXPECT_FALSE(full_match(re, std::string(39, 'a') + "/"));
}

TEST(FullMatchTest, OneLoginClientIdAndSecret) {
  const std::string re = "^[a-z0-9]{64}$";
  EXPECT_TRUE(full_match(re, std::string(32, 'a') + std::string(32, '9')));
  EXPECT_FALSE(full_match(re, std::string(63, 'a')));
  EXPECT_FALSE(full_match(re, std::string(63, 'a') + "A"));
}

TEST(FullMatchTest, OneLoginRegionIsUsOrEu) {
  const std::string re = "^(us|eu)$";
  EXPECT_TRUE(full_match(re, "us"));
  EXPECT_TRUE(full_match(re, "eu"));
  EXPECT_FALSE(full_match(re, "en"));
  EXPECT_FALSE(full_match(re, "useu"));
  EXPECT_FALSE(full_match(re, "US"));
}

TEST(FullMatchTest, GSuiteDelegationEmail) {
  const std::string re = R"(^[A-Za-z0-9-_.+]+@[A-Za-z0-9-.]+\.[A-Za-z]{2,}$)";
  EXPECT_TRUE(full_match(re, "admin@example.com"));
  EXPECT_TRUE(full_match(re, "first.last+audit@corp-mail.example.co.uk"));
  EXPECT_FALSE(full_match(re, "admin@example"));
  EXPECT_FALSE(full_match(re, "admin example.com"));
  EXPECT_FALSE(full_match(re, "admin@example.c"));
}

TEST(FullMatchTest, SalesforceClientId) {
  const std::string re = "^[a-zA-Z0-9._#@]{85}$";
  EXPECT_TRUE(full_match(re, "3MVG9" + std::string(76, 'x') + "._#@"));
  EXPECT_FALSE(full_match(re, std::string(84, 'x')));
  EXPECT_FALSE(full_match(re, std::string(84, 'x') + "!"));
}

TEST(FullMatchTest, SalesforceClientSecret) {
  const std::string re = "^[0-9]{19}$";
  EXPECT_TRUE(full_match(re, "1234567890123456789"));
  EXPECT_FALSE(full_match(re, "123456789012345678"));
  EXPECT_FALSE(full_match(re, "123456789012345678a"));
}

TEST(FullMatchTest, SalesforceSecurityToken) {
  const std::string re = "^[a-zA-Z0-9]{24}$";
  EXPECT_TRUE(full_match(re, "AbCdEfGhIjKlMnOpQrStUvWx"));
  EXPECT_FALSE(full_match(re, "AbCdEfGhIjKlMnOpQrStUvW"));
  EXPECT_FALSE(full_match(re, "AbCdEfGhIjKlMnOpQrStUvW-"));
}

TEST(FullMatchTest, SlackToken) {
  const std::string re = "^xoxp-[a-zA-Z0-9-]+$";
  EXPECT_TRUE(full_match(re, "xoxp-1234-5678-abcDEF"));
  EXPECT_FALSE(full_match(re, "xoxb-1234-5678-abcDEF"));
  EXPECT_FALSE(full_match(re, "xoxp-"));
  EXPECT_FALSE(full_match(re, "xoxp-1234 5678"));
}

TEST(FullMatchTest, IntercomToken) {
  const std::string re = R"(^dG9r([0-9A-Za-z+\/=]*)$)";
  EXPECT_TRUE(full_match(re, "dG9rOjEyMzQ1Njc4OTA="));
  EXPECT_TRUE(full_match(re, "dG9r"));
  EXPECT_FALSE(full_match(re, "dG9yOjEy"));
  EXPECT_FALSE(full_match(re, "dG9rOjEy!"));
}

TEST(FullMatchTest, UnanchoredRegexMustMatchTheWholeValue) {
  EXPECT_TRUE(full_match("[a-z]+", "abc"));
  EXPECT_FALSE(full_match("[a-z]+", "abc1"));
  EXPECT_FALSE(full_match("[a-z]+", "1abc"));
}

TEST(FullMatchTest, AlternationAppliesToTheWholeValue) {
  EXPECT_TRUE(full_match("a|ab", "ab"));
  EXPECT_TRUE(full_match("a|ab", "a"));
  EXPECT_FALSE(full_match("a|ab", "abc"));
  EXPECT_FALSE(full_match("a|ab", "b"));
}

TEST(FullMatchTest, TrailingNewlineIsNotAccepted) {
  EXPECT_FALSE(full_match("^[a-z]+$", "abc\n"));
  EXPECT_FALSE(full_match("[a-z]+", "abc\n"));
  EXPECT_FALSE(full_match("^(us|eu)$", "us\n"));
}

TEST(FullMatchTest, EmptyValueMatchesOnlyWhatAllowsIt) {
  EXPECT_TRUE(full_match(".*", ""));
  EXPECT_FALSE(full_match("^[a-z]+$", ""));
}

TEST(FullMatchTest, InvalidRegexMatchesNothing) { EXPECT_FALSE(full_match("([a-z", "abc")); }

}  // namespace
}  // namespace siphon
