// Inputs the fuzz targets (tests/fuzz) found troublesome, kept as unit tests:
// each must now be refused with a reason instead of overflowing, hanging or
// reading without end.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "cli/auth_set.hpp"
#include "config/config.hpp"
#include "config/duration.hpp"
#include "config/secret_ref.hpp"
#include "temp_dir.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

std::string duration_refusal(const std::string& text) {
  std::string why;
  auto v = parse_duration_seconds(text, &why);
  EXPECT_FALSE(v.has_value()) << text << " gave " << v.value_or(-1);
  return why;
}

TEST(FuzzRegressionTest, HugeDurationsAreRefusedInsteadOfOverflowing) {
  EXPECT_NE(duration_refusal("9999999999999d").find("longer than 100 years"), std::string::npos);
  EXPECT_NE(duration_refusal("9223372036854775807").find("100 years"), std::string::npos);
  EXPECT_NE(duration_refusal("106751991167301d1d").find("100 years"), std::string::npos);
  EXPECT_NE(duration_refusal("rate(9999999999999999 days)").find("100 years"), std::string::npos);
  EXPECT_NE(duration_refusal("36600d1s").find("100 years"), std::string::npos);
  // The limit itself and ordinary values still parse.
  EXPECT_EQ(parse_duration_seconds("36600d").value_or(-1), 36600LL * 86400);
  EXPECT_EQ(parse_duration_seconds("1h30m").value_or(-1), 5400);
}

TEST(FuzzRegressionTest, SinceWithAHugeDurationIsRefused) {
  int64_t ms = 0;
  std::string why;
  EXPECT_FALSE(parse_since("99999999999999h", now_ms(), ms, why));
  EXPECT_FALSE(why.empty());
}

TEST(FuzzRegressionTest, ASecretReferenceToADeviceOrFifoIsRefused) {
  try {
    resolve_secret_refs("${file:/dev/zero}", "/");
    ADD_FAILURE() << "/dev/zero was read";
  } catch (const SecretRefError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  try {
    resolve_secret_refs("${file:fifo}", dir.path());  // would block forever if opened
    ADD_FAILURE() << "a FIFO was read";
  } catch (const SecretRefError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(FuzzRegressionTest, AnOversizedSecretFileIsRefusedWithoutItsContent) {
  test::TempDir dir;
  {
    std::ofstream out(dir.file("big"), std::ios::binary);
    out << std::string(2 * 1024 * 1024, 'k');
  }
  try {
    resolve_secret_refs("${file:big}", dir.path());
    ADD_FAILURE() << "a 2 MiB secret was read";
  } catch (const SecretRefError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("larger than 1 MiB"), std::string::npos) << what;
    EXPECT_EQ(what.find("kkkk"), std::string::npos);
  }
}

TEST(FuzzRegressionTest, AnIncludePatternMatchingAFolderIsNoCrash) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("conf.d/sub"));
  {
    std::ofstream(dir.file("conf.d/a.yaml")) << "apps:\n  - name: a\n    type: duo_auth\n";
    std::ofstream(dir.file("siphon.yaml")) << "include: [conf.d/*, .]\n";
  }
  std::vector<std::string> problems;
  Config cfg = load_config(dir.file("siphon.yaml"), problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  ASSERT_EQ(cfg.apps.size(), 1u);
  EXPECT_EQ(cfg.apps[0].name, "a");
}

TEST(FuzzRegressionTest, AFolderGivenAsTheConfigIsAProblemNotACrash) {
  test::TempDir dir;
  std::vector<std::string> problems;
  load_config(dir.path(), problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("is a folder, not a config file"), std::string::npos) << problems[0];
}

TEST(FuzzRegressionTest, SinksGivenAsAMappingAreAProblemNotACrash) {
  test::TempDir dir;
  std::ofstream(dir.file("siphon.yaml")) << "sinks:\n  name: out\n  type: stdout\n";
  std::vector<std::string> problems;
  load_config(dir.file("siphon.yaml"), problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("sinks: expected a list"), std::string::npos) << problems[0];
}

TEST(FuzzRegressionTest, AtomicWriteLeavesOnlyTheTargetWithMode0600) {
  test::TempDir dir;
  write_file_atomically(dir.file("secret"), "first\n");
  write_file_atomically(dir.file("secret"), "second\n");
  std::ifstream in(dir.file("secret"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "second");
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 1u);
  EXPECT_THROW(write_file_atomically(dir.file("no/such/folder/x"), "v"), std::runtime_error);
}

}  // namespace
}  // namespace siphon
