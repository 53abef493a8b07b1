// Secret references in auth values: ${env:NAME} and ${file:PATH}. Errors name
// the reference, never a value.
#include "config/secret_ref.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "temp_dir.hpp"

namespace siphon {
namespace {

using test::TempDir;

// The message of the SecretRefError that resolving `text` throws.
std::string error_of(const std::string& text, const std::string& base_dir = "/") {
  try {
    (void)resolve_secret_refs(text, base_dir);
    ADD_FAILURE() << text << " resolved to a value";
  } catch (const SecretRefError& e) {
    return e.what();
  }
  return {};
}

TEST(SecretRefTest, TextWithoutReferencesIsUnchanged) {
  EXPECT_EQ(resolve_secret_refs("plain-value", "/"), "plain-value");
  EXPECT_FALSE(has_secret_ref("plain-value"));
}

TEST(SecretRefTest, EnvReferenceIsReplacedByTheVariable) {
  ::setenv("SIPHON_TEST_SECRET", "s3cr3t-value", 1);
  EXPECT_TRUE(has_secret_ref("${env:SIPHON_TEST_SECRET}"));
  EXPECT_EQ(resolve_secret_refs("${env:SIPHON_TEST_SECRET}", "/"), "s3cr3t-value");
  EXPECT_EQ(resolve_secret_refs("pre-${env:SIPHON_TEST_SECRET}-post", "/"),
            "pre-s3cr3t-value-post");
  ::unsetenv("SIPHON_TEST_SECRET");
}

TEST(SecretRefTest, UnsetEnvVariableIsAnErrorNamingIt) {
  ::unsetenv("SIPHON_TEST_UNSET");
  EXPECT_NE(error_of("${env:SIPHON_TEST_UNSET}").find("SIPHON_TEST_UNSET"), std::string::npos);
}

TEST(SecretRefTest, FileReferenceIsRelativeToTheBaseDir) {
  TempDir dir;
  dir.write("secrets/duo.key", "file-secret");
  ::chmod(dir.file("secrets/duo.key").c_str(), 0600);
  EXPECT_TRUE(has_secret_ref("${file:secrets/duo.key}"));
  EXPECT_EQ(resolve_secret_refs("${file:secrets/duo.key}", dir.path()), "file-secret");
}

TEST(SecretRefTest, AbsoluteFileReferenceIgnoresTheBaseDir) {
  TempDir dir;
  std::string path = dir.write("abs.key", "absolute");
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(resolve_secret_refs("${file:" + path + "}", "/nonexistent"), "absolute");
}

TEST(SecretRefTest, TrailingNewlinesOfAFileAreDropped) {
  TempDir dir;
  dir.write("k", "line1\nline2\n\n\r\n");
  ::chmod(dir.file("k").c_str(), 0600);
  EXPECT_EQ(resolve_secret_refs("${file:k}", dir.path()), "line1\nline2");
}

TEST(SecretRefTest, MissingFileIsAnErrorNamingThePath) {
  TempDir dir;
  std::string why = error_of("${file:missing.key}", dir.path());
  EXPECT_NE(why.find(dir.file("missing.key")), std::string::npos) << why;
}

TEST(SecretRefTest, GroupReadableFileGivesAWarning) {
  TempDir dir;
  dir.write("open.key", "value");
  ::chmod(dir.file("open.key").c_str(), 0640);
  std::string warning;
  EXPECT_EQ(resolve_secret_refs("${file:open.key}", dir.path(), &warning), "value");
  EXPECT_NE(warning.find(dir.file("open.key")), std::string::npos) << warning;
  EXPECT_EQ(warning.find("value"), std::string::npos) << warning;
}

TEST(SecretRefTest, PrivateFileGivesNoWarning) {
  TempDir dir;
  dir.write("closed.key", "value");
  ::chmod(dir.file("closed.key").c_str(), 0600);
  std::string warning;
  resolve_secret_refs("${file:closed.key}", dir.path(), &warning);
  EXPECT_EQ(warning, "");
}

TEST(SecretRefTest, UnknownReferenceKindIsAnError) {
  std::string why = error_of("${foo:bar}");
  EXPECT_NE(why.find("foo"), std::string::npos) << why;
  EXPECT_NE(why.find("unknown"), std::string::npos) << why;
}

TEST(SecretRefTest, UnterminatedReferenceIsAnError) {
  EXPECT_NE(error_of("${env:X").find("unterminated"), std::string::npos);
}

TEST(SecretRefTest, EmptyNamesAreErrors) {
  EXPECT_FALSE(error_of("${env:}").empty());
  EXPECT_FALSE(error_of("${file:}").empty());
}

}  // namespace
}  // namespace siphon
