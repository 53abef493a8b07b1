// PostgreSQL state URLs: the password (written, or a reference) never
// survives into what is shown, and the `state:` and `lease_time:` keys are
// validated with errors naming the file and the key.
#include "state/postgres_url.hpp"

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "temp_dir.hpp"

namespace siphon {
namespace {

TEST(PostgresUrl, RecognisesBothSchemes) {
  EXPECT_TRUE(is_postgres_url("postgresql://u@h/db"));
  EXPECT_TRUE(is_postgres_url("postgres://u@h/db"));
  EXPECT_FALSE(is_postgres_url("sqlite:state.db"));
  EXPECT_FALSE(is_postgres_url("mysql://u@h/db"));
}

TEST(PostgresUrl, PasswordIsTakenOutOfTheUserPart) {
  SplitUrl s =
      split_url_password("postgresql://siphon:s3cret@127.0.0.1:5432/siphon?sslmode=disable");
  EXPECT_EQ(s.without_password, "postgresql://siphon@127.0.0.1:5432/siphon?sslmode=disable");
  ASSERT_TRUE(s.password);
  EXPECT_EQ(*s.password, "s3cret");
}

TEST(PostgresUrl, PercentEncodedPasswordIsDecoded) {
  SplitUrl s = split_url_password("postgresql://siphon:a%40b%2Fc@db:5432/x");
  EXPECT_EQ(s.without_password, "postgresql://siphon@db:5432/x");
  EXPECT_EQ(s.password.value_or(""), "a@b/c");
}

TEST(PostgresUrl, AFileReferenceWithSlashesStaysWhole) {
  SplitUrl s = split_url_password("postgresql://siphon:${file:secrets/pg.pass}@127.0.0.1/siphon");
  EXPECT_EQ(s.without_password, "postgresql://siphon@127.0.0.1/siphon");
  EXPECT_EQ(s.password.value_or(""), "${file:secrets/pg.pass}");
}

TEST(PostgresUrl, PasswordQueryParameterIsRemoved) {
  SplitUrl s =
      split_url_password("postgresql://siphon@127.0.0.1/siphon?password=hunter2&sslmode=require");
  EXPECT_EQ(s.without_password, "postgresql://siphon@127.0.0.1/siphon?sslmode=require");
  EXPECT_EQ(s.password.value_or(""), "hunter2");
  EXPECT_EQ(redact_postgres_url("postgresql://h/db?password=x"), "postgresql://h/db");
}

TEST(PostgresUrl, UrlWithoutPasswordIsUnchanged) {
  EXPECT_EQ(redact_postgres_url("postgresql://siphon@127.0.0.1:5433/siphon"),
            "postgresql://siphon@127.0.0.1:5433/siphon");
  EXPECT_EQ(redact_postgres_url("postgresql:///siphon?host=/run/pg"),
            "postgresql:///siphon?host=/run/pg");
  EXPECT_FALSE(split_url_password("postgresql://siphon@h/db").password);
}

class StateConfigTest : public ::testing::Test {
 protected:
  Config load(const std::string& yaml) {
    dir_.write("siphon.yaml", yaml);
    problems_.clear();
    return load_config(dir_.file("siphon.yaml"), problems_);
  }
  std::string joined() const {
    std::string out;
    for (const auto& p : problems_) out += p + "\n";
    return out;
  }
  test::TempDir dir_;
  std::vector<std::string> problems_;
};

TEST_F(StateConfigTest, PostgresStateIsAcceptedWithItsLeaseTime) {
  Config cfg = load(
      "state: postgresql://siphon:${env:PGPASS}@127.0.0.1:5432/siphon\n"
      "lease_time: 10s\n");
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.state_url, "postgresql://siphon:${env:PGPASS}@127.0.0.1:5432/siphon");
  EXPECT_EQ(cfg.state_path, "");
  EXPECT_EQ(cfg.lease_time_ms, 10000);
}

TEST_F(StateConfigTest, LeaseTimeDefaultsTo30Seconds) {
  Config cfg = load("state: postgresql://siphon@127.0.0.1/siphon\n");
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.lease_time_ms, 30000);
}

TEST_F(StateConfigTest, BadLeaseTimesAreProblemsNamingFileAndKey) {
  load("state: postgresql://siphon@127.0.0.1/siphon\nlease_time: 100ms\n");
  ASSERT_EQ(problems_.size(), 1u) << joined();
  EXPECT_NE(problems_[0].find(dir_.file("siphon.yaml") + ": lease_time: "), std::string::npos)
      << problems_[0];
  load("state: postgresql://siphon@127.0.0.1/siphon\nlease_time: 2h\n");
  ASSERT_EQ(problems_.size(), 1u) << joined();
  EXPECT_NE(problems_[0].find("lease_time: expected a duration from 1s to 1h"), std::string::npos);
  load("state: sqlite:x.db\nlease_time: 10s\n");
  ASSERT_EQ(problems_.size(), 1u) << joined();
  EXPECT_NE(problems_[0].find("lease_time: applies to a shared state"), std::string::npos);
}

TEST_F(StateConfigTest, UnsupportedStateNeverShowsAPassword) {
  load("state: mysql://root:topsecret@127.0.0.1/x\n");
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_NE(problems_[0].find(": state: \"mysql://root@127.0.0.1/x\" is not supported"),
            std::string::npos)
      << problems_[0];
  EXPECT_EQ(problems_[0].find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace siphon
