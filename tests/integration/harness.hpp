// Test harness for end-to-end tests: a temporary work folder with a config,
// the real siphon binary run as a child process, and readers for what it
// delivered (the file sink) and recorded (state show --json).
#ifndef SIPHON_TESTS_INTEGRATION_HARNESS_HPP
#define SIPHON_TESTS_INTEGRATION_HARNESS_HPP

#include <rapidjson/document.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "box_imitation.hpp"

namespace siphon::testing {

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Workdir {
 public:
  Workdir();
  ~Workdir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text, int mode = 0644) const;
  std::string read(const std::string& name) const;

  // Writes siphon.yaml: plugin dir, state, a file sink events.jsonl, fast
  // retries, then `apps_yaml` (the text under `apps:`).
  void write_config(const std::string& apps_yaml, const std::string& extra = "") const;

  // Runs siphon with `args` in this folder and waits (up to timeout_s).
  Result siphon(const std::vector<std::string>& args, int timeout_s = 120) const;
  // Starts siphon in the background; output goes to <name>.out/.err here.
  // `setup`, if given, runs in the child just before exec (limits, user, fds).
  pid_t spawn(const std::vector<std::string>& args, const std::string& name,
              const std::function<void()>& setup = {}) const;
  // Like siphon(), with `setup` run in the child before exec.
  Result siphon_with(const std::vector<std::string>& args, const std::function<void()>& setup,
                     int timeout_s = 120) const;

  // Lines of events.jsonl, each parsed; fails the test on a bad line.
  std::vector<rapidjson::Document> events() const;
  size_t event_lines() const;
  // The app's row from `siphon state show --json`.
  rapidjson::Document state(const std::string& app) const;
  // Stores `cursor` as the app's committed cursor in state.db, as an earlier
  // version of its plugin would have left it.
  void set_cursor(const std::string& app, const std::string& cursor) const;

 private:
  std::string path_;
};

// The YAML (under `apps:`) of one box_admin_events app reading its key file
// from secrets/box.json. `settings` are extra app lines (e.g. "    interval: 1s\n"),
// `options` extra lines under options: (e.g. "      limit: \"50\"\n").
std::string box_app_yaml(const std::string& name, const std::string& base_url,
                         const std::string& settings = "", const std::string& options = "");

// A Box account for a test: a generated app key file written to the work
// folder's secrets/box.json (mode 0600), and the Box imitation that knows it,
// started on 127.0.0.1.
class BoxAccount : public imitation::BoxImitation {
 public:
  explicit BoxAccount(const Workdir& dir, imitation::BoxImitation::Keyfile key =
                                              imitation::BoxImitation::make_keyfile());
  const imitation::BoxImitation::Keyfile keyfile;
};

// How many times `what` occurs in `text`.
size_t count_of(const std::string& text, const std::string& what);

// The newest event time the last finished run logged ("run succeeded: ...,
// newest event 2026-12-05T21:00:00.000Z"), in ms since the epoch; 0 when no
// run logged one.
int64_t logged_newest_event_ms(const std::string& log);

// Asks `pred` every 50 ms until it holds or `timeout_s` passes; returns its
// last answer.
template <typename Pred>
bool wait_until(Pred pred, int timeout_s) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// Waits for a child; returns its exit code (or 128+signal).
int wait_child(pid_t pid, int timeout_s);

// Counts of each value of event[field] over the records of one app.
std::map<std::string, int> count_by(const std::vector<rapidjson::Document>& records,
                                    const std::string& app, const std::string& field);

}  // namespace siphon::testing

#endif
