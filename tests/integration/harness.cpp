#include "harness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace siphon::testing {

Workdir::Workdir() {
  std::string tmpl = (fs::temp_directory_path() / "siphon-it-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  if (p == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = p;
}

Workdir::~Workdir() {
  std::error_code ec;
  if (!::testing::Test::HasFailure()) fs::remove_all(path_, ec);
}

void Workdir::write(const std::string& name, const std::string& text, int mode) const {
  fs::path p = fs::path(path_) / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
  ::chmod(p.c_str(), static_cast<mode_t>(mode));
}

std::string Workdir::read(const std::string& name) const {
  std::ifstream in(fs::path(path_) / name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Workdir::write_config(const std::string& apps_yaml, const std::string& extra) const {
  std::string cfg = std::string("plugin_dirs: [") + SIPHON_PLUGIN_DIR +
                    "]\n"
                    "state: sqlite:state.db\n"
                    "log_level: debug\n"
                    "http:\n"
                    "  max_retries: 4\n"
                    "  retry_max_wait: 5s\n"
                    "  read_timeout: 10s\n"
                    "sinks:\n"
                    "  - name: out\n"
                    "    type: file\n"
                    "    path: events.jsonl\n" +
                    extra + "apps:\n" + apps_yaml;
  write("siphon.yaml", cfg);
}

pid_t Workdir::spawn(const std::vector<std::string>& args, const std::string& name,
                     const std::function<void()>& setup) const {
  std::vector<std::string> argv_s{SIPHON_BIN, "--config", file("siphon.yaml")};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::string out = file(name + ".out"), err = file(name + ".err");
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (::chdir(path_.c_str()) != 0) ::_exit(126);
    if (setup) setup();
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string box_app_yaml(const std::string& name, const std::string& base_url,
                         const std::string& settings, const std::string& options) {
  return "  - name: " + name + "\n    type: box_admin_events\n" + settings +
         "    auth:\n      keyfile: ${file:secrets/box.json}\n    options:\n      base_url: " +
         base_url + "\n" + options;
}

BoxAccount::BoxAccount(const Workdir& dir, imitation::BoxImitation::Keyfile key)
    : BoxImitation(key.credentials), keyfile(std::move(key)) {
  dir.write("secrets/box.json", keyfile.json, 0600);
  start();
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

int64_t logged_newest_event_ms(const std::string& log) {
  const std::string key = ", newest event ";
  size_t at = log.rfind(key);
  if (at == std::string::npos) return 0;
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(log.c_str() + at + key.size(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + ms;
}

int wait_child(pid_t pid, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "siphon did not finish within " << timeout_s << " s";
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

Result Workdir::siphon(const std::vector<std::string>& args, int timeout_s) const {
  return siphon_with(args, {}, timeout_s);
}

Result Workdir::siphon_with(const std::vector<std::string>& args,
                            const std::function<void()>& setup, int timeout_s) const {
  static int counter = 0;
  std::string name = "cmd" + std::to_string(++counter);
  pid_t pid = spawn(args, name, setup);
  Result r;
  r.exit_code = wait_child(pid, timeout_s);
  r.out = read(name + ".out");
  r.err = read(name + ".err");
  return r;
}

std::vector<rapidjson::Document> Workdir::events() const {
  std::vector<rapidjson::Document> out;
  std::ifstream in(file("events.jsonl"));
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    EXPECT_FALSE(d.HasParseError()) << "events.jsonl line " << n << " is not JSON: " << line;
    if (!d.HasParseError()) out.push_back(std::move(d));
  }
  return out;
}

size_t Workdir::event_lines() const {
  std::ifstream in(file("events.jsonl"));
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

rapidjson::Document Workdir::state(const std::string& app) const {
  Result r = siphon({"state", "show", app, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  rapidjson::Document row;
  if (!d.HasParseError() && d.IsArray() && d.Size() == 1)
    row.CopyFrom(d[0], row.GetAllocator());
  else
    ADD_FAILURE() << "state show --json: " << r.out << r.err;
  return row;
}

void Workdir::set_cursor(const std::string& app, const std::string& cursor) const {
  Result r = siphon({"state", "reset", app});  // creates state.db and the app's row
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file("state.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE apps SET cursor = ?1, start_override_ms = NULL WHERE app = ?2",
                         -1, &stmt, nullptr),
      SQLITE_OK);
  sqlite3_bind_text(stmt, 1, cursor.data(), static_cast<int>(cursor.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, app.data(), static_cast<int>(app.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

std::map<std::string, int> count_by(const std::vector<rapidjson::Document>& records,
                                    const std::string& app, const std::string& field) {
  std::map<std::string, int> counts;
  for (const auto& r : records) {
    if (app != r["app"].GetString()) continue;
    const auto& e = r["event"];
    if (e.HasMember(field.c_str()) && e[field.c_str()].IsString())
      ++counts[e[field.c_str()].GetString()];
  }
  return counts;
}

}  // namespace siphon::testing
