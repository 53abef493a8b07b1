// Validation of configured apps against a real plugin (siphon-duo), without
// network: one line per problem, "FILE: app NAME: field FIELD: problem", and
// never a secret value.
#include "cli/validate.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugin/registry.hpp"

#ifndef SIPHON_TEST_PLUGIN_DIR
#error "SIPHON_TEST_PLUGIN_DIR must name the folder holding siphon-duo.so"
#endif

namespace siphon {
namespace {

constexpr const char* kFile = "/etc/siphon/siphon.yaml";
const std::string kSecretKey(40, 'k');
const std::string kIntegrationKey = "DI0123456789ABCDEFGH";

class ValidateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new PluginRegistry;
    // Only the Duo plugin: other plugins in the folder may be mid-build.
    registry_->load_file(std::string(SIPHON_TEST_PLUGIN_DIR) + "/siphon-duo.so");
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(registry_->find("duo_auth"), nullptr)
        << (registry_->refused().empty() ? "" : registry_->refused()[0].reason);
    app_.name = "corp-duo";
    app_.type = "duo_auth";
    app_.file = kFile;
    app_.dir = "/etc/siphon";
    app_.auth = {{"api_hostname", "api-1234abcd.duosecurity.com"},
                 {"integration_key", kIntegrationKey},
                 {"secret_key", kSecretKey}};
  }

  std::vector<std::string> validate(bool call_plugins = false) {
    Config cfg;
    cfg.apps.push_back(app_);
    std::vector<std::string> problems;
    validate_apps(cfg, *registry_, problems, call_plugins);
    return problems;
  }

  // Expects one problem holding each of `parts`; returns it.
  std::string single_problem(const std::vector<std::string>& parts, bool call_plugins = false) {
    auto problems = validate(call_plugins);
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    EXPECT_EQ(problems.size(), 1u) << all;
    if (problems.empty()) return {};
    EXPECT_EQ(problems[0].rfind(std::string(kFile) + ": app corp-duo: ", 0), 0u) << problems[0];
    for (const auto& part : parts)
      EXPECT_NE(problems[0].find(part), std::string::npos)
          << "\"" << part << "\" not in: " << problems[0];
    return problems[0];
  }

  void set_auth(const std::string& key, const std::string& value) {
    for (auto& [k, v] : app_.auth)
      if (k == key) v = value;
  }

  static PluginRegistry* registry_;
  AppConfig app_;
};

PluginRegistry* ValidateTest::registry_ = nullptr;

TEST_F(ValidateTest, ValidAppHasNoProblems) {
  EXPECT_TRUE(validate(false).empty());
  EXPECT_TRUE(validate(true).empty());
}

TEST_F(ValidateTest, UnknownTypeIsAProblem) {
  app_.type = "duo_nothing";
  single_problem({"field type", "duo_nothing"});
}

TEST_F(ValidateTest, UnknownAuthFieldIsAProblem) {
  app_.auth.emplace_back("password", "hunter2-long-value");
  std::string line = single_problem({"field auth.password", "not an auth field", "secret_key"});
  EXPECT_EQ(line.find("hunter2-long-value"), std::string::npos) << line;
}

TEST_F(ValidateTest, MissingRequiredFieldIsAProblem) {
  app_.auth.pop_back();
  single_problem({"field auth.secret_key", "missing"});
}

TEST_F(ValidateTest, SecretValueNotMatchingIsShownWithoutTheValue) {
  const std::string bad = std::string(39, 'k') + "!";
  set_auth("secret_key", bad);
  std::string line = single_problem({"field auth.secret_key", "does not match", "[a-zA-Z0-9]{40}"});
  EXPECT_EQ(line.find(bad), std::string::npos) << line;
  EXPECT_EQ(line.find(std::string(39, 'k')), std::string::npos) << line;
}

TEST_F(ValidateTest, NonSecretValueNotMatchingMayBeShown) {
  set_auth("api_hostname", "api-nothex.example.com");
  single_problem({"field auth.api_hostname", "does not match", "api-nothex.example.com"});
}

TEST_F(ValidateTest, SecretFromEnvIsResolvedBeforeMatching) {
  ::setenv("SIPHON_VALIDATE_TEST_SKEY", "short-secret-value", 1);
  set_auth("secret_key", "${env:SIPHON_VALIDATE_TEST_SKEY}");
  std::string line = single_problem({"field auth.secret_key", "does not match"});
  EXPECT_EQ(line.find("short-secret-value"), std::string::npos) << line;
  ::setenv("SIPHON_VALIDATE_TEST_SKEY", kSecretKey.c_str(), 1);
  EXPECT_TRUE(validate().empty());
  ::unsetenv("SIPHON_VALIDATE_TEST_SKEY");
}

TEST_F(ValidateTest, UnresolvableEnvReferenceIsAProblem) {
  ::unsetenv("SIPHON_VALIDATE_TEST_UNSET");
  set_auth("integration_key", "${env:SIPHON_VALIDATE_TEST_UNSET}");
  single_problem({"field auth.integration_key", "SIPHON_VALIDATE_TEST_UNSET"});
}

TEST_F(ValidateTest, UnknownOptionIsAProblem) {
  app_.options = {{"page_size", "10"}};
  single_problem({"field options.page_size", "not an option"});
}

TEST_F(ValidateTest, DeclaredOptionsAreAccepted) {
  app_.options = {{"limit", "100"}, {"delay_seconds", "60"}};
  EXPECT_TRUE(validate().empty());
}

TEST(DeclaredOptions, AFamilyAcceptsItsPrefixAndOneMoreCharacterAtLeast) {
  AppTypeInfo type;
  type.options = {{"limit", "", ""}, {"header.*", "", ""}, {"*", "", ""}};
  EXPECT_TRUE(declares_option(type, "limit"));
  EXPECT_TRUE(declares_option(type, "header.X-Api-Key"));
  EXPECT_TRUE(declares_option(type, "header.a"));
  EXPECT_TRUE(declares_option(type, "header.*"));
  EXPECT_FALSE(declares_option(type, "header."));
  EXPECT_FALSE(declares_option(type, "header"));
  EXPECT_FALSE(declares_option(type, "headers.X"));
  EXPECT_FALSE(declares_option(type, "limits"));
  EXPECT_FALSE(declares_option(type, "x")) << "\"*\" alone is a name, not a family";
}

TEST_F(ValidateTest, PlainHttpBaseUrlToARemoteHostIsRefused) {
  app_.options = {{"base_url", "http://example.com:8080"}};
  single_problem({"field options.base_url", "https"});
}

TEST_F(ValidateTest, HttpsBaseUrlAndLoopbackHttpAreAccepted) {
  app_.options = {{"base_url", "https://proxy.example.com"}};
  EXPECT_TRUE(validate().empty());
  app_.options = {{"base_url", "http://127.0.0.1:8080"}};
  EXPECT_TRUE(validate().empty());
  app_.options = {{"base_url", "http://localhost:8080"}};
  EXPECT_TRUE(validate().empty());
}

TEST_F(ValidateTest, PluginOwnValidationRunsOnlyWhenAsked) {
  app_.options = {{"signature_version", "3"}};
  EXPECT_TRUE(validate(false).empty());
  std::string line = single_problem({"plugin siphon-duo", "signature_version"}, true);
  EXPECT_EQ(line.find(kSecretKey), std::string::npos) << line;
}

}  // namespace
}  // namespace siphon
