// Plugin loading: the registry accepts a good plugin with its metadata copied
// intact, refuses each broken file with one reason that names the file and
// the cause, and keeps loading after a refusal; `siphon plugins` shows both.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "plugin/registry.hpp"

#ifndef SIPHON_FAKES_DIR
#error "SIPHON_FAKES_DIR must name the folder of fake plugins"
#endif
#ifndef SIPHON_BINARY
#error "SIPHON_BINARY must name the siphon executable"
#endif

namespace siphon {
namespace {

std::string fake(const std::string& file) { return std::string(SIPHON_FAKES_DIR) + "/" + file; }

// Each broken file in the fakes folder and a word its refusal must contain.
const std::map<std::string, std::vector<std::string>>& bad_files() {
  static const std::map<std::string, std::vector<std::string>> kBad = {
      {"bad.so", {"not a loadable library"}},
      {"fake_bad_regex.so", {"invalid regex", "api_key"}},
      {"fake_dup_in_file.so", {"fake_alpha", "declared twice"}},
      {"fake_entry_null.so", {"no descriptor"}},
      {"fake_newer_minor.so", {"newer", "1.2"}},
      {"fake_no_entry.so", {"siphon_plugin_entry", "not found"}},
      {"fake_null_poll.so", {"poll", "not found"}},
      {"fake_object.so", {"not a loadable library"}},
      {"fake_short_struct.so", {"not present", "struct_size"}},
      {"fake_type_taken.so", {"fake_alpha", "already provided", "fake_good.so"}},
      {"fake_wrong_major.so", {"major", "2.1", "1.1"}},
  };
  return kBad;
}

void expect_contains(const std::string& text, const std::vector<std::string>& parts) {
  for (const auto& part : parts)
    EXPECT_NE(text.find(part), std::string::npos) << "\"" << part << "\" not in: " << text;
}

// Loads `file` into a fresh registry (after fake_good.so when `after_good`)
// and expects exactly one refusal of it; returns the reason.
std::string refusal_of(const std::string& file, bool after_good = false) {
  PluginRegistry registry;
  if (after_good) {
    EXPECT_TRUE(registry.load_file(fake("fake_good.so")));
  }
  EXPECT_FALSE(registry.load_file(fake(file))) << file << " was accepted";
  EXPECT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.plugins().size(), after_good ? 1u : 0u);
  if (registry.refused().empty()) return {};
  EXPECT_EQ(registry.refused()[0].file, fake(file));
  return registry.refused()[0].reason;
}

TEST(LoaderTest, GoodPluginLoadsWithItsTypes) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fake("fake_good.so")))
      << (registry.refused().empty() ? "" : registry.refused()[0].reason);
  EXPECT_TRUE(registry.refused().empty());
  ASSERT_EQ(registry.plugins().size(), 1u);
  const PluginInfo& p = *registry.plugins()[0];
  EXPECT_EQ(p.file, fake("fake_good.so"));
  EXPECT_EQ(p.name, "fake-good");
  EXPECT_EQ(p.version, "0.1.0");
  EXPECT_EQ(p.abi_major, static_cast<uint32_t>(SIPHON_ABI_MAJOR));
  EXPECT_EQ(p.abi_minor, static_cast<uint32_t>(SIPHON_ABI_MINOR));
  EXPECT_EQ(p.types, (std::vector<std::string>{"fake_alpha", "fake_beta"}));
  ASSERT_EQ(registry.types().size(), 2u);
  EXPECT_EQ(registry.find("fake_gamma"), nullptr);
}

TEST(LoaderTest, AppTypeMetadataIsCopied) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fake("fake_good.so")));
  const AppTypeInfo* alpha = registry.find("fake_alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->type, "fake_alpha");
  EXPECT_EQ(alpha->service, "fake");
  EXPECT_EQ(alpha->log_type, "alpha");
  EXPECT_EQ(alpha->description, "Alpha events of the fake service");
  EXPECT_EQ(alpha->default_interval_seconds, 600u);
  EXPECT_EQ(alpha->plugin, registry.plugins()[0].get());
  ASSERT_NE(alpha->c, nullptr);
  EXPECT_NE(alpha->c->poll, nullptr);

  ASSERT_EQ(alpha->auth_fields.size(), 2u);
  const AuthFieldInfo& key = alpha->auth_fields[0];
  EXPECT_EQ(key.name, "api_key");
  EXPECT_EQ(key.description, "API key of the fake service");
  EXPECT_EQ(key.regex, "^[a-z0-9]{8}$");
  EXPECT_TRUE(key.secret);
  EXPECT_FALSE(key.optional);
  const AuthFieldInfo& region = alpha->auth_fields[1];
  EXPECT_EQ(region.name, "region");
  EXPECT_EQ(region.regex, "^(us|eu)$");
  EXPECT_FALSE(region.secret);
  EXPECT_TRUE(region.optional);

  ASSERT_EQ(alpha->options.size(), 1u);
  EXPECT_EQ(alpha->options[0].name, "page_size");
  EXPECT_EQ(alpha->options[0].description, "Events per page");
  EXPECT_EQ(alpha->options[0].default_value, "100");

  const AppTypeInfo* beta = registry.find("fake_beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(beta->default_interval_seconds, 60u);
  EXPECT_TRUE(beta->auth_fields.empty());
  EXPECT_TRUE(beta->options.empty());
}

TEST(LoaderTest, WrongAbiMajorIsRefusedNamingBothVersions) {
  expect_contains(refusal_of("fake_wrong_major.so"), {"major", "2.1", "1.1"});
}

TEST(LoaderTest, NewerAbiMinorIsRefused) {
  expect_contains(refusal_of("fake_newer_minor.so"), {"newer", "1.2", "1.1"});
}

TEST(LoaderTest, EntryReturningNullIsRefused) {
  expect_contains(refusal_of("fake_entry_null.so"), {"no descriptor"});
}

TEST(LoaderTest, AppTypeStructTooSmallIsRefusedNamingTheMember) {
  expect_contains(refusal_of("fake_short_struct.so"), {"app type #0", "not present", "destroy"});
}

TEST(LoaderTest, NullCallbackIsRefusedNamingIt) {
  expect_contains(refusal_of("fake_null_poll.so"), {"fake_alpha", "'poll'", "not found"});
}

TEST(LoaderTest, InvalidRegexIsRefused) {
  expect_contains(refusal_of("fake_bad_regex.so"), {"fake_alpha", "api_key", "invalid regex"});
}

TEST(LoaderTest, AppTypeDeclaredTwiceInOneFileIsRefused) {
  expect_contains(refusal_of("fake_dup_in_file.so"), {"fake_alpha", "declared twice"});
}

TEST(LoaderTest, AppTypeOfAnotherPluginIsRefusedNamingThatPlugin) {
  expect_contains(refusal_of("fake_type_taken.so", true),
                  {"fake_alpha", "already provided", fake("fake_good.so")});
}

TEST(LoaderTest, AppTypeOfNoOtherPluginLoads) {
  PluginRegistry registry;
  EXPECT_TRUE(registry.load_file(fake("fake_type_taken.so")));
}

TEST(LoaderTest, LibraryWithoutEntrySymbolIsRefused) {
  expect_contains(refusal_of("fake_no_entry.so"), {"siphon_plugin_entry", "not found"});
}

TEST(LoaderTest, TextFileIsNotALoadableLibrary) {
  expect_contains(refusal_of("bad.so"), {"not a loadable library"});
}

TEST(LoaderTest, ObjectFileIsNotALoadableLibrary) {
  expect_contains(refusal_of("fake_object.so"), {"not a loadable library"});
}

TEST(LoaderTest, MissingFileIsRefused) {
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(fake("absent.so")));
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.refused()[0].file, fake("absent.so"));
}

TEST(LoaderTest, LoadingGoesOnAfterRefusals) {
  PluginRegistry registry;
  registry.load_dirs({SIPHON_FAKES_DIR});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->name, "fake-good");
  EXPECT_NE(registry.find("fake_alpha"), nullptr);
  EXPECT_NE(registry.find("fake_beta"), nullptr);

  std::map<std::string, std::string> refused;
  for (const auto& r : registry.refused()) {
    EXPECT_FALSE(r.reason.empty()) << r.file;
    EXPECT_TRUE(refused.emplace(r.file, r.reason).second) << r.file << " refused twice";
  }
  EXPECT_EQ(refused.size(), bad_files().size());
  for (const auto& [file, parts] : bad_files()) {
    auto it = refused.find(fake(file));
    ASSERT_NE(it, refused.end()) << file << " was not refused";
    expect_contains(it->second, parts);
  }
}

TEST(LoaderTest, MissingPluginFolderIsReported) {
  PluginRegistry registry;
  const std::string missing = std::string(SIPHON_FAKES_DIR) + "/no-such-folder";
  registry.load_dirs({missing, SIPHON_FAKES_DIR});
  EXPECT_EQ(registry.plugins().size(), 1u);
  ASSERT_FALSE(registry.refused().empty());
  EXPECT_EQ(registry.refused()[0].file, missing);
  EXPECT_NE(registry.refused()[0].reason.find("does not exist"), std::string::npos);
}

// Runs the siphon binary with a config whose plugin_dirs is the fakes folder.
class PluginsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "siphon-loader-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    config_ = dir_ + "/siphon.yaml";
    std::ofstream(config_) << "plugin_dirs: [" << SIPHON_FAKES_DIR << "]\n";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // stdout of `siphon --config CONFIG plugins EXTRA`; sets exit_status_.
  std::string run(const std::string& extra) {
    std::string cmd = std::string("'") + SIPHON_BINARY + "' --config '" + config_ + "' plugins " +
                      extra + " 2>'" + dir_ + "/stderr.txt'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return {};
    std::string out;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  std::string dir_, config_;
  int exit_status_ = -1;
};

TEST_F(PluginsCommandTest, TextListsTheGoodPluginAndEveryRefusal) {
  std::string out = run("");
  EXPECT_EQ(exit_status_, 0) << out;
  expect_contains(
      out, {"fake-good 0.1.0", "fake_alpha", "fake_beta", "api_key", "^[a-z0-9]{8}$", "page_size"});
  size_t refused_at = out.find("\nrefused:\n");
  ASSERT_NE(refused_at, std::string::npos) << out;
  std::string refused = out.substr(refused_at);
  for (const auto& [file, parts] : bad_files()) {
    size_t at = refused.find(fake(file) + ": ");
    ASSERT_NE(at, std::string::npos) << file << " not listed in:\n" << refused;
    std::string line = refused.substr(at, refused.find('\n', at) - at);
    expect_contains(line, parts);
  }
  // The good plugin is not among the refused (it is named only as a type's provider).
  EXPECT_EQ(refused.find("\n  " + fake("fake_good.so") + ": "), std::string::npos) << refused;
}

TEST_F(PluginsCommandTest, JsonHasTheSameContent) {
  std::string out = run("--json");
  EXPECT_EQ(exit_status_, 0) << out;
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << out;
  ASSERT_TRUE(doc.IsObject());
  ASSERT_TRUE(doc["plugins"].IsArray());
  ASSERT_EQ(doc["plugins"].Size(), 1u);
  const auto& p = doc["plugins"][0];
  EXPECT_STREQ(p["name"].GetString(), "fake-good");
  EXPECT_STREQ(p["version"].GetString(), "0.1.0");
  EXPECT_EQ(p["file"].GetString(), fake("fake_good.so"));
  ASSERT_EQ(p["app_types"].Size(), 2u);
  const auto& alpha = p["app_types"][0];
  EXPECT_STREQ(alpha["type"].GetString(), "fake_alpha");
  EXPECT_EQ(alpha["default_interval_seconds"].GetInt(), 600);
  ASSERT_EQ(alpha["auth_fields"].Size(), 2u);
  EXPECT_STREQ(alpha["auth_fields"][0]["name"].GetString(), "api_key");
  EXPECT_STREQ(alpha["auth_fields"][0]["regex"].GetString(), "^[a-z0-9]{8}$");
  EXPECT_TRUE(alpha["auth_fields"][0]["secret"].GetBool());
  EXPECT_TRUE(alpha["auth_fields"][1]["optional"].GetBool());
  ASSERT_EQ(alpha["options"].Size(), 1u);
  EXPECT_STREQ(alpha["options"][0]["default"].GetString(), "100");
  EXPECT_STREQ(p["app_types"][1]["type"].GetString(), "fake_beta");

  ASSERT_TRUE(doc["refused"].IsArray());
  std::map<std::string, std::string> refused;
  for (const auto& r : doc["refused"].GetArray())
    refused[r["file"].GetString()] = r["reason"].GetString();
  EXPECT_EQ(refused.size(), bad_files().size());
  for (const auto& [file, parts] : bad_files()) {
    auto it = refused.find(fake(file));
    ASSERT_NE(it, refused.end()) << file << " not in the JSON refusals";
    expect_contains(it->second, parts);
  }
}

}  // namespace
}  // namespace siphon
