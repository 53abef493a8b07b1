// The PostgreSQL state store and the kafka sink are modules, loaded only
// when a config uses them: a plain host never maps libpq or librdkafka, and a
// missing module is one line naming it.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "harness.hpp"

using siphon::testing::BoxAccount;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

// The libraries mapped into process `pid` whose file name contains `what`.
std::string mapped(pid_t pid, const std::string& what) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line, found;
  while (std::getline(maps, line))
    if (line.find(what) != std::string::npos) found += line.substr(line.rfind(' ') + 1) + "\n";
  return found;
}

TEST(Modules, AHostWithSqliteStateAndAFileSinkMapsNeitherLibpqNorLibrdkafka) {
  Workdir dir;
  BoxAccount box(dir);
  box.add_events(60, siphon::imitation::now_ms());
  dir.write_config(siphon::testing::box_app_yaml("corp-box", box.base_url(), "    interval: 1s\n",
                                                 "      limit: \"50\"\n"));
  pid_t pid = dir.spawn({"run"}, "run");
  const bool delivered = wait_until([&] { return dir.event_lines() >= 60; }, 30);
  if (!delivered) {
    ::kill(pid, SIGKILL);
    wait_child(pid, 30);
  }
  ASSERT_TRUE(delivered) << dir.read("run.err");
  // Mapped while it runs, polling and delivering: the plugin, not the modules.
  EXPECT_NE(mapped(pid, "siphon-box.so"), "");
  EXPECT_EQ(mapped(pid, "libpq.so"), "");
  EXPECT_EQ(mapped(pid, "librdkafka.so"), "");
  EXPECT_EQ(mapped(pid, "/modules/"), "");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0) << dir.read("run.err");
}

// A siphon copied to a folder with no modules beside it.
class MissingModules : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.file("bin"));
    std::filesystem::copy_file(SIPHON_BIN, bin_);
  }
  siphon::testing::Result run(const std::string& args) {
    siphon::testing::Result r;
    std::string cmd = bin_ + " --config " + dir_.file("siphon.yaml") + " " + args + " >" +
                      dir_.file("m.out") + " 2>" + dir_.file("m.err");
    int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = dir_.read("m.out");
    r.err = dir_.read("m.err");
    return r;
  }
  // "<what> needs the module <a path in the copy's tree>/siphon-NAME.so: it is missing"
  void expect_missing(const std::string& text, const std::string& what, const std::string& name) {
    std::string head = what + " needs the module " + dir_.path() + "/";
    std::string tail = "/siphon-" + name + ".so: it is missing\n";
    size_t at = text.find(head);
    ASSERT_NE(at, std::string::npos) << text;
    size_t end = text.find('\n', at);
    ASSERT_NE(end, std::string::npos) << text;
    std::string line = text.substr(at, end + 1 - at);
    EXPECT_GE(line.size(), head.size() + tail.size()) << line;
    EXPECT_EQ(line.substr(line.size() - tail.size()), tail) << line;
  }

  Workdir dir_;
  std::string bin_ = dir_.file("bin/siphon");
};

TEST_F(MissingModules, AKafkaSinkWithoutItsModuleIsOneLineNamingTheFile) {
  dir_.write("siphon.yaml", "sinks:\n  - name: k\n    type: kafka\n    brokers: 127.0.0.1:9\n");
  auto r = run("check --sinks");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("sink k: the kafka sink needs"), std::string::npos) << r.out;
  expect_missing(r.out, "the kafka sink", "kafka");
}

TEST_F(MissingModules, PostgresStateWithoutItsModuleIsOneLineNamingTheFileNotThePassword) {
  dir_.write("siphon.yaml", "state: postgresql://siphon:hunter22@127.0.0.1:9/siphon\n");
  auto r = run("state show");
  EXPECT_NE(r.exit_code, 0);
  expect_missing(r.err, "PostgreSQL state", "postgres");
  EXPECT_EQ(r.err.find("hunter22"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hunter22"), std::string::npos) << r.out;
}

}  // namespace
