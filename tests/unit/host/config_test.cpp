// The config file: the documented example parses; drop-ins add apps; every
// structural problem is one line naming the file, the app and the key, and
// never carries an auth value.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace siphon {
namespace {

using test::TempDir;

constexpr const char* kExample = R"(plugin_dirs: [plugins]
state: sqlite:siphon-state.db
include: [conf.d/*.yaml]
log_level: info
http:
  ca_file: /etc/ssl/certs/ca-certificates.crt
  connect_timeout: 10s
  read_timeout: 30s
sinks:
  - name: default
    type: file
    path: events.jsonl
apps:
  - name: corp-duo
    type: duo_auth
    enabled: true
    interval: 10m
    sink: default
    auth:
      api_hostname: api-1234abcd.duosecurity.com
      integration_key: ${env:DUO_IKEY}
      secret_key: ${file:secrets/duo.key}
    options:
      base_url: http://127.0.0.1:8080
)";

// A valid file with one sink; `apps` is appended under `apps:`.
std::string with_apps(const std::string& apps) {
  return "plugin_dirs: [plugins]\n"
         "sinks:\n"
         "  - name: out\n"
         "    type: stdout\n"
         "apps:\n" +
         apps;
}

class ConfigTest : public ::testing::Test {
 protected:
  // Loads `main` written as siphon.yaml in the temp dir.
  Config load(const std::string& main) {
    path_ = dir_.write("siphon.yaml", main);
    problems_.clear();
    return load_config(path_, problems_);
  }

  // Expects exactly one problem, mentioning each of `parts`; returns it.
  std::string single_problem(const std::vector<std::string>& parts) {
    EXPECT_EQ(problems_.size(), 1u) << joined();
    if (problems_.empty()) return {};
    for (const auto& part : parts)
      EXPECT_NE(problems_[0].find(part), std::string::npos)
          << "\"" << part << "\" not in: " << problems_[0];
    return problems_[0];
  }

  std::string joined() const {
    std::string all;
    for (const auto& p : problems_) all += p + "\n";
    return all;
  }

  TempDir dir_;
  std::string path_;
  std::vector<std::string> problems_;
};

TEST_F(ConfigTest, DesignExampleParses) {
  Config cfg = load(kExample);
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.path, path_);
  ASSERT_EQ(cfg.plugin_dirs.size(), 1u);
  EXPECT_EQ(cfg.plugin_dirs[0], dir_.file("plugins"));
  EXPECT_EQ(cfg.state_path, dir_.file("siphon-state.db"));
  EXPECT_EQ(cfg.log_level, "info");
  EXPECT_EQ(cfg.http.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(cfg.http.connect_timeout_ms, 10000);
  EXPECT_EQ(cfg.http.read_timeout_ms, 30000);

  ASSERT_EQ(cfg.sinks.size(), 1u);
  EXPECT_EQ(cfg.sinks[0].name, "default");
  EXPECT_EQ(cfg.sinks[0].type, "file");
  EXPECT_EQ(cfg.sinks[0].path, dir_.file("events.jsonl"));
  EXPECT_TRUE(cfg.sinks[0].sync);

  ASSERT_EQ(cfg.apps.size(), 1u);
  const AppConfig& app = cfg.apps[0];
  EXPECT_EQ(app.name, "corp-duo");
  EXPECT_EQ(app.type, "duo_auth");
  EXPECT_TRUE(app.enabled);
  EXPECT_EQ(app.interval_seconds, 600);
  EXPECT_EQ(app.sink, "default");
  EXPECT_EQ(app.file, path_);
  EXPECT_EQ(app.dir, dir_.path());
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(app.auth, (Pairs{{"api_hostname", "api-1234abcd.duosecurity.com"},
                             {"integration_key", "${env:DUO_IKEY}"},
                             {"secret_key", "${file:secrets/duo.key}"}}));
  EXPECT_EQ(app.options, (Pairs{{"base_url", "http://127.0.0.1:8080"}}));
  EXPECT_EQ(cfg.find_app("corp-duo"), &app);
  EXPECT_EQ(cfg.find_app("nope"), nullptr);
}

TEST_F(ConfigTest, AbsoluteStatePathIsKept) {
  Config cfg = load("state: sqlite:/var/lib/siphon/state.db\n");
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.state_path, "/var/lib/siphon/state.db");
}

TEST_F(ConfigTest, EmptyFileGetsDefaults) {
  Config cfg = load("");
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.state_path, dir_.file("siphon-state.db"));
  ASSERT_EQ(cfg.sinks.size(), 1u);
  EXPECT_EQ(cfg.sinks[0].type, "stdout");
  EXPECT_TRUE(cfg.apps.empty());
}

TEST_F(ConfigTest, AppDefaultsToTheFirstSinkAndTheTypesInterval) {
  Config cfg = load(with_apps("  - name: a\n    type: duo_auth\n"));
  ASSERT_TRUE(problems_.empty()) << joined();
  ASSERT_EQ(cfg.apps.size(), 1u);
  EXPECT_EQ(cfg.apps[0].sink, "out");
  EXPECT_FALSE(cfg.apps[0].interval_seconds.has_value());
  EXPECT_TRUE(cfg.apps[0].enabled);
}

TEST_F(ConfigTest, RateIntervalIsAccepted) {
  Config cfg = load(with_apps("  - name: a\n    type: duo_auth\n    interval: rate(2 hours)\n"));
  ASSERT_TRUE(problems_.empty()) << joined();
  EXPECT_EQ(cfg.apps[0].interval_seconds, 7200);
}

TEST_F(ConfigTest, IncludeDropInsAddAppsInSortedOrder) {
  dir_.write("conf.d/20-second.yaml", "apps:\n  - name: second\n    type: duo_auth\n");
  dir_.write("conf.d/10-first.yaml",
             "apps:\n  - name: first\n    type: box_admin_events\n"
             "    auth:\n      keyfile: ${file:box.json}\n");
  dir_.write("conf.d/ignored.txt", "apps:\n  - name: ignored\n    type: x_y\n");
  Config cfg =
      load(with_apps("  - name: main\n    type: duo_auth\n") + "include: [conf.d/*.yaml]\n");
  ASSERT_TRUE(problems_.empty()) << joined();
  ASSERT_EQ(cfg.apps.size(), 3u);
  EXPECT_EQ(cfg.apps[0].name, "main");
  EXPECT_EQ(cfg.apps[1].name, "first");
  EXPECT_EQ(cfg.apps[2].name, "second");
  EXPECT_EQ(cfg.apps[1].file, dir_.file("conf.d/10-first.yaml"));
  // ${file:} in a drop-in is relative to the drop-in's folder.
  EXPECT_EQ(cfg.apps[1].dir, dir_.file("conf.d"));
  EXPECT_EQ(cfg.apps[1].sink, "out");
}

TEST_F(ConfigTest, UnknownTopLevelKeyIsOneProblem) {
  load("plugin_dir: [plugins]\n");
  single_problem({path_, "plugin_dir", "unknown key"});
}

TEST_F(ConfigTest, UnknownAppKeyIsOneProblemNamingTheApp) {
  load(with_apps("  - name: corp-duo\n    type: duo_auth\n    colour: blue\n"));
  single_problem({path_, "app corp-duo", "colour"});
}

TEST_F(ConfigTest, DuplicateAppNamesAcrossIncludesNameBothFiles) {
  std::string first = dir_.write("conf.d/a.yaml", "apps:\n  - name: twin\n    type: duo_auth\n");
  std::string second = dir_.write("conf.d/b.yaml", "apps:\n  - name: twin\n    type: duo_admin\n");
  Config cfg = load("include: [conf.d/*.yaml]\n");
  std::string line = single_problem({"app twin", "duplicate"});
  EXPECT_EQ(line.rfind(second + ": ", 0), 0u) << line;
  EXPECT_NE(line.find(first), std::string::npos) << line;
  ASSERT_EQ(cfg.apps.size(), 1u);
  EXPECT_EQ(cfg.apps[0].type, "duo_auth");
}

TEST_F(ConfigTest, DuplicateAppNamesInOneFileIsOneProblem) {
  load(with_apps("  - name: twin\n    type: duo_auth\n  - name: twin\n    type: duo_auth\n"));
  single_problem({path_, "app twin", "duplicate"});
}

TEST_F(ConfigTest, MissingNameIsOneProblem) {
  load(with_apps("  - type: duo_auth\n"));
  single_problem({path_, "field name", "missing"});
}

TEST_F(ConfigTest, MissingTypeIsOneProblem) {
  load(with_apps("  - name: corp-duo\n"));
  single_problem({path_, "app corp-duo", "field type", "missing"});
}

TEST_F(ConfigTest, BadAppNameIsOneProblem) {
  load(with_apps("  - name: Corp Duo\n    type: duo_auth\n"));
  single_problem({path_, "field name", "[a-z0-9_-]+"});
}

TEST_F(ConfigTest, BadIntervalIsOneProblem) {
  load(with_apps("  - name: corp-duo\n    type: duo_auth\n    interval: rate(1 minutes)\n"));
  single_problem({path_, "app corp-duo", "field interval", "rate(1 minutes)"});
}

TEST_F(ConfigTest, ZeroIntervalIsOneProblem) {
  load(with_apps("  - name: corp-duo\n    type: duo_auth\n    interval: 0s\n"));
  single_problem({path_, "app corp-duo", "field interval", "positive"});
}

TEST_F(ConfigTest, UnknownSinkReferenceIsOneProblem) {
  load(with_apps("  - name: corp-duo\n    type: duo_auth\n    sink: nowhere\n"));
  single_problem({path_, "app corp-duo", "field sink", "nowhere"});
}

TEST_F(ConfigTest, FileSinkWithoutPathIsOneProblem) {
  load("sinks:\n  - name: archive\n    type: file\n");
  single_problem({path_, "sink archive", "field path", "missing"});
}

TEST_F(ConfigTest, UnknownSinkTypeIsOneProblem) {
  load("sinks:\n  - name: k\n    type: carrier_pigeon\n");
  single_problem({path_, "sink k", "field type", "carrier_pigeon"});
}

TEST_F(ConfigTest, UnsupportedStateIsOneProblem) {
  load("state: postgres://db/siphon\n");
  single_problem({path_, "state", "sqlite:PATH"});
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesFileAndLine) {
  load("apps:\n  - name: [unclosed\n");
  single_problem({path_, "line"});
}

TEST_F(ConfigTest, MissingConfigFileIsAProblem) {
  std::vector<std::string> problems;
  load_config(dir_.file("absent.yaml"), problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(dir_.file("absent.yaml")), std::string::npos);
}

TEST_F(ConfigTest, AuthValuesNeverAppearInProblems) {
  const std::string secret = "Sup3rS3cretValue0123456789";
  load(
      with_apps("  - name: corp-duo\n    type: duo_auth\n    interval: soon\n    colour: x\n"
                "    sink: nowhere\n    auth:\n      secret_key: " +
                secret + "\n      nested: {inner: " + secret + "}\n"));
  EXPECT_GE(problems_.size(), 3u) << joined();
  for (const auto& p : problems_) EXPECT_EQ(p.find(secret), std::string::npos) << p;
}

TEST_F(ConfigTest, DefaultConfigPathPrefersTheExplicitOne) {
  EXPECT_EQ(default_config_path("/x/siphon.yaml"), "/x/siphon.yaml");
}

}  // namespace
}  // namespace siphon
