// `siphon auth set APP` with the real binary and the real plugins: values
// piped or typed at a terminal, checked against the plugin's regexes and its
// own validation, secrets written 0600 in a 0700 folder, never shown, and the
// printed lines give a config that `siphon check` accepts and that runs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "duo_imitation.hpp"
#include "harness.hpp"
#include "piped_siphon.hpp"

using siphon::imitation::BoxImitation;
using siphon::imitation::DuoImitation;
using siphon::testing::Result;
using siphon::testing::siphon_with_input;
using siphon::testing::TerminalSiphon;
using siphon::testing::Workdir;

namespace {

const char* kHost = "api-5e1f2a3b.duosecurity.com";
const char* kIkey = "DIAUTHSETTEST0000001";
const char* kSkey = "AuthSetSecretKey4Tests0123456789abcdefXY";  // 40 characters

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The auth: block auth set printed, re-indented as the app's section.
std::string auth_section(const std::string& out) {
  std::string section;
  size_t pos = out.find("\nauth:\n");
  EXPECT_NE(pos, std::string::npos) << out;
  if (pos == std::string::npos) return "";
  std::string block = out.substr(pos + 1);
  size_t start = 0;
  while (start < block.size()) {
    size_t nl = block.find('\n', start);
    std::string line = block.substr(start, nl == std::string::npos ? nl : nl - start);
    if (!line.empty()) section += "    " + line + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return section;
}

class AuthSetTest : public ::testing::Test {
 protected:
  // A duo_auth app whose auth section is still a placeholder.
  void SetUp() override { write_duo_config("    auth: {}\n"); }
  void write_duo_config(const std::string& auth, const std::string& base_url = "") {
    dir_.write_config("  - name: corp-duo\n    type: duo_auth\n" + auth +
                      (base_url.empty() ? ""
                                        : "    options:\n      base_url: " + base_url +
                                              "\n      poll_pause_seconds: \"0\"\n"));
  }
  std::string duo_input() const { return std::string(kHost) + "\n" + kIkey + "\n" + kSkey + "\n"; }
  void expect_no_secret(const Result& r) {
    for (const char* secret : {kIkey, kSkey}) {
      EXPECT_EQ(r.out.find(secret), std::string::npos) << "stdout shows a secret: " << r.out;
      EXPECT_EQ(r.err.find(secret), std::string::npos) << "stderr shows a secret: " << r.err;
    }
  }

  Workdir dir_;
};

TEST_F(AuthSetTest, PipedValuesAreSavedAsPrivateFilesAndPrintedAsReferences) {
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"}, duo_input());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_no_secret(r);
  EXPECT_NE(r.out.find(std::string("api_hostname: ") + kHost), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("integration_key: ${file:secrets/corp-duo.integration_key}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("secret_key: ${file:secrets/corp-duo.secret_key}"), std::string::npos)
      << r.out;
  EXPECT_EQ(mode_of(dir_.file("secrets")), 0700u);
  EXPECT_EQ(mode_of(dir_.file("secrets/corp-duo.secret_key")), 0600u);
  EXPECT_EQ(mode_of(dir_.file("secrets/corp-duo.integration_key")), 0600u);
  EXPECT_EQ(dir_.read("secrets/corp-duo.secret_key"), std::string(kSkey) + "\n");
  EXPECT_EQ(dir_.read("secrets/corp-duo.integration_key"), std::string(kIkey) + "\n");
  // The non-secret host name is printed, not filed.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("secrets/corp-duo.api_hostname")));
  // Only the two secrets: no temporary file left behind.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.file("secrets"))) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 2u);
}

TEST_F(AuthSetTest, ThePrintedLinesMakeAConfigThatChecksAndRuns) {
  DuoImitation duo(kIkey, kSkey);
  duo.set_visibility_delay_ms(0);
  duo.start();
  duo.add_auth_events(5, siphon::imitation::now_ms() - 600 * 1000, 1000);
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"}, duo_input());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_duo_config(auth_section(r.out), duo.base_url());
  Result check = dir_.siphon({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find(": ok ("), std::string::npos) << check.out;
  EXPECT_EQ(check.out.find("warning"), std::string::npos) << check.out;
  Result once = dir_.siphon({"once", "corp-duo", "--since", "1h"});
  EXPECT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(dir_.event_lines(), 5u);
}

TEST_F(AuthSetTest, AValueOffTheRegexIsRefusedNamingTheFieldAndNothingIsWritten) {
  std::string short_key = "tooShortSecretValue1";
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"},
                               std::string(kHost) + "\n" + kIkey + "\n" + short_key + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("field auth.secret_key: value does not match"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("value not shown: secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(short_key), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("secrets")));
}

TEST_F(AuthSetTest, ANonSecretValueOffTheRegexIsShownInTheError) {
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"},
                               std::string("api.example.com\n") + kIkey + "\n" + kSkey + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("field auth.api_hostname: value does not match"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("api.example.com"), std::string::npos) << r.err;
}

TEST_F(AuthSetTest, InputEndingEarlyNamesTheMissingField) {
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"},
                               std::string(kHost) + "\n" + kIkey + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("field auth.secret_key: no value given"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("secrets")));
}

TEST_F(AuthSetTest, ABoxKeyFileSpanningLinesIsSavedWholeAndPassesThePluginsValidation) {
  BoxImitation::Keyfile key = BoxImitation::make_keyfile();
  ASSERT_NE(key.json.find('\n'), std::string::npos) << "the key file should span lines";
  dir_.write_config("  - name: corp-box\n    type: box_admin_events\n    auth: {}\n");
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-box"}, key.json + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string saved = dir_.read("secrets/corp-box.keyfile");
  EXPECT_EQ(saved, key.json + (key.json.back() == '\n' ? "" : "\n"));
  EXPECT_EQ(mode_of(dir_.file("secrets/corp-box.keyfile")), 0600u);
  for (const std::string& secret : {key.credentials.client_secret, key.passphrase})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << secret;
  dir_.write_config("  - name: corp-box\n    type: box_admin_events\n" + auth_section(r.out));
  Result check = dir_.siphon({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(AuthSetTest, AKeyFileThePluginRefusesIsNotSaved) {
  dir_.write_config("  - name: corp-box\n    type: box_admin_events\n    auth: {}\n");
  std::string fake =
      "{\"boxAppSettings\": {\"clientID\": \"abc\", \"clientSecret\": "
      "\"NotARealClientSecretValue42\"}}";
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-box"}, fake + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("plugin siphon-box"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing saved"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("NotARealClientSecretValue42"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("secrets/corp-box.keyfile")));
}

TEST_F(AuthSetTest, AnOpenSecretsFolderIsNarrowedAndASecondRunReplacesTheFile) {
  std::filesystem::create_directories(dir_.file("secrets"));
  ::chmod(dir_.file("secrets").c_str(), 0755);
  dir_.write("secrets/corp-duo.secret_key", "old value\n", 0644);
  Result r = siphon_with_input(dir_, {"auth", "set", "corp-duo"}, duo_input());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir_.file("secrets")), 0700u);
  EXPECT_EQ(mode_of(dir_.file("secrets/corp-duo.secret_key")), 0600u);
  EXPECT_EQ(dir_.read("secrets/corp-duo.secret_key"), std::string(kSkey) + "\n");
}

TEST_F(AuthSetTest, UnknownAppAndBadUsage) {
  Result r = siphon_with_input(dir_, {"auth", "set", "nope"}, duo_input());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no app named \"nope\""), std::string::npos) << r.err;
  EXPECT_EQ(siphon_with_input(dir_, {"auth", "corp-duo"}, "").exit_code, 2);
  EXPECT_EQ(siphon_with_input(dir_, {"auth", "set"}, "").exit_code, 2);
}

TEST_F(AuthSetTest, AtATerminalSecretsAreNotEchoedAndAWrongValueIsAskedAgain) {
  TerminalSiphon term(dir_, {"auth", "set", "corp-duo"});
  ASSERT_TRUE(term.wait_for("api_hostname")) << term.screen();
  term.type(std::string(kHost) + "\n");
  ASSERT_TRUE(term.wait_for("integration_key")) << term.screen();
  term.type(std::string(kIkey) + "\n");
  ASSERT_TRUE(term.wait_for("secret_key")) << term.screen();
  term.type("wrongWrongWrong\n");
  ASSERT_TRUE(term.wait_for("try again")) << term.screen();
  ASSERT_TRUE(term.wait_for("secret_key")) << term.screen();
  term.type(std::string(kSkey) + "\n");
  EXPECT_EQ(term.finish(), 0) << term.screen();
  // The host name is echoed as typed; no secret appears on the terminal.
  EXPECT_NE(term.screen().find(kHost), std::string::npos) << term.screen();
  EXPECT_EQ(term.screen().find(kIkey), std::string::npos) << term.screen();
  EXPECT_EQ(term.screen().find(kSkey), std::string::npos) << term.screen();
  EXPECT_EQ(term.screen().find("wrongWrongWrong"), std::string::npos) << term.screen();
  EXPECT_NE(term.screen().find("${file:secrets/corp-duo.secret_key}"), std::string::npos);
  EXPECT_EQ(dir_.read("secrets/corp-duo.secret_key"), std::string(kSkey) + "\n");
}

}  // namespace
