#include "cli/cli.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "cli/auth_set.hpp"
#include "cli/progress.hpp"
#include "cli/usage.hpp"
#include "cli/validate.hpp"
#include "config/config.hpp"
#include "config/duration.hpp"
#include "http/http_service.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "metrics/metrics_server.hpp"
#include "plugin/registry.hpp"
#include "plugin/worker.hpp"
#include "poller/app_runner.hpp"
#include "poller/scheduler.hpp"
#include "sink/sink.hpp"
#include "state/postgres_url.hpp"
#include "state/sqlite_state_store.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"
#include "util/stop_signal.hpp"
#include "util/systemd_notify.hpp"

namespace siphon {
namespace {

struct Args {
  std::string config;
  std::string log_level;
  std::vector<std::string> words;
  bool json = false;
  bool sinks = false;  // check --sinks
  bool allow_refused = false;
  std::optional<std::string> since;
  std::optional<int64_t> since_ms;  // --since, parsed
  std::optional<std::string> to;    // state migrate --to
};

// JSON output for --json, written with RapidJSON.
// (The buffer is a base listed first, so it exists before the writer uses it.)
struct JsonBuffer {
  rapidjson::StringBuffer buffer_;
};
class Json : private JsonBuffer, public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  Json() : rapidjson::Writer<rapidjson::StringBuffer>(buffer_) {}
  void print() {
    std::fwrite(buffer_.GetString(), 1, buffer_.GetSize(), stdout);
    std::fputc('\n', stdout);
  }
};

void field(Json& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value);
}

// One option of `plugins --json`: name, description, default.
void option(Json& w, const OptionInfo& op) {
  w.StartObject();
  field(w, "name", op.name);
  field(w, "description", op.description);
  field(w, "default", op.default_value);
  w.EndObject();
}

// How far past this host's clock --since may be (clocks differ a little).
constexpr int64_t kSinceClockAllowanceMs = 60 * 1000;

int usage_error(const std::string& why) {
  std::fprintf(stderr, "siphon: %s\n(see siphon --help)\n", why.c_str());
  return 2;
}

// Blocks the stop signals in every thread, and turns them into a StopSignal
// (SIGINT/SIGTERM) or a sink reopen (SIGHUP) on a thread of their own.
class SignalThread {
 public:
  SignalThread(StopSignal& stop, std::function<void()> on_hup) : stop_(stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, on_hup] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGUSR1) return;  // our own wake-up at exit
        if (sig == SIGHUP) {
          log_line(LogLevel::kInfo, "", "SIGHUP: reopening file sinks");
          if (on_hup) on_hup();
          continue;
        }
        log_line(LogLevel::kInfo, "", std::string("received ") + strsignal(sig) + ", stopping");
        stop_.request();
      }
    });
  }
  ~SignalThread() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  StopSignal& stop_;
  sigset_t set_{};
  std::thread thread_;
};

struct Host {
  Config cfg;
  PluginRegistry registry;
};

// Loads config and plugins; prints problems. Returns false when invalid.
// Problems of auth values (see validate_apps) go to `value_problems` by app
// instead: they concern one app, and are checked again before each run.
bool load(const Args& a, Host& h, bool need_valid_apps,
          std::map<std::string, std::vector<std::string>>* value_problems = nullptr) {
  std::vector<std::string> problems;
  std::string path = default_config_path(a.config);
  h.cfg = load_config(path, problems);
  log_setup(a.log_level.empty() ? h.cfg.log_level : a.log_level, h.cfg.log_format);
  if (problems.empty()) {
    if (!h.cfg.plugin_pin.empty()) h.registry.set_pin_file(h.cfg.plugin_pin);
    h.registry.load_dirs(h.cfg.plugin_dirs);
  }
  for (const auto& r : h.registry.refused())
    log_line(LogLevel::kWarn, "", "plugin refused: " + r.file + ": " + r.reason);
  if (problems.empty() && need_valid_apps) {
    validate_sinks(h.cfg, problems);
    validate_apps(h.cfg, h.registry, problems, false, value_problems);
  }
  // Warnings (e.g. a group-readable secret file) are printed but do not stop the run.
  bool ok = true;
  for (const auto& p : problems) {
    std::fprintf(stderr, "%s\n", p.c_str());
    if (p.find(": warning: ") == std::string::npos) ok = false;
  }
  return ok;
}

int cmd_plugins(const Args& a) {
  Host h;
  std::vector<std::string> problems;
  std::string path = default_config_path(a.config);
  h.cfg = load_config(path, problems);
  log_setup(a.log_level.empty() ? "warn" : a.log_level, "text");
  if (!problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    return 1;
  }
  if (!h.cfg.plugin_pin.empty()) h.registry.set_pin_file(h.cfg.plugin_pin);
  h.registry.load_dirs(h.cfg.plugin_dirs);
  if (a.json) {
    Json w;
    w.StartObject();
    w.Key("abi");
    w.String(std::to_string(SIPHON_ABI_MAJOR) + "." + std::to_string(SIPHON_ABI_MINOR));
    w.Key("plugin_pin");
    if (h.cfg.plugin_pin.empty())
      w.Null();
    else
      w.String(h.cfg.plugin_pin);
    w.Key("host_options");  // accepted by every app type
    w.StartArray();
    for (const auto& op : host_options()) option(w, op);
    w.EndArray();
    w.Key("plugins");
    w.StartArray();
    for (const auto& p : h.registry.plugins()) {
      w.StartObject();
      field(w, "file", p->file);
      field(w, "sha256", p->sha256);
      field(w, "name", p->name);
      field(w, "version", p->version);
      field(w, "abi", std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor));
      w.Key("app_types");
      w.StartArray();
      for (const auto& tn : p->types) {
        const AppTypeInfo* t = h.registry.find(tn);
        w.StartObject();
        field(w, "type", t->type);
        field(w, "service", t->service);
        field(w, "description", t->description);
        w.Key("default_interval_seconds");
        w.Uint(t->default_interval_seconds);
        w.Key("auth_fields");
        w.StartArray();
        for (const auto& f : t->auth_fields) {
          w.StartObject();
          field(w, "name", f.name);
          field(w, "description", f.description);
          field(w, "regex", f.regex);
          w.Key("secret");
          w.Bool(f.secret);
          w.Key("optional");
          w.Bool(f.optional);
          w.EndObject();
        }
        w.EndArray();
        w.Key("options");
        w.StartArray();
        for (const auto& op : t->options) option(w, op);
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("refused");
    w.StartArray();
    for (const auto& r : h.registry.refused()) {
      w.StartObject();
      field(w, "file", r.file);
      field(w, "reason", r.reason);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.print();
    return 0;
  }
  std::printf("plugin ABI %d.%d; plugin folders: ", SIPHON_ABI_MAJOR, SIPHON_ABI_MINOR);
  for (size_t i = 0; i < h.cfg.plugin_dirs.size(); ++i)
    std::printf("%s%s", i ? ", " : "", h.cfg.plugin_dirs[i].c_str());
  std::printf("\n");
  if (!h.cfg.plugin_pin.empty())
    std::printf("plugin pin file: %s (%zu digests)\n", h.cfg.plugin_pin.c_str(),
                h.registry.pinned_digests());
  for (const auto& p : h.registry.plugins()) {
    std::printf("\n%s %s (ABI %u.%u) %s\n", p->name.c_str(), p->version.c_str(), p->abi_major,
                p->abi_minor, p->file.c_str());
    for (const auto& tn : p->types) {
      const AppTypeInfo* t = h.registry.find(tn);
      std::printf("  %-28s %s (default interval %s)\n", t->type.c_str(), t->description.c_str(),
                  format_duration(t->default_interval_seconds).c_str());
      // One name column per type, as wide as its longest auth field or option.
      size_t width = 20;
      for (const auto& f : t->auth_fields) width = std::max(width, f.name.size());
      for (const auto& op : t->options) width = std::max(width, op.name.size());
      const int w = static_cast<int>(width);
      for (const auto& f : t->auth_fields)
        std::printf(
            "    auth   %-*s %-10s %s  regex: %s\n", w, f.name.c_str(),
            f.secret ? (f.optional ? "secret,opt" : "secret") : (f.optional ? "optional" : ""),
            f.description.c_str(), f.regex.c_str());
      for (const auto& op : host_options())
        std::printf("    option %-*s %-10s %s\n", w, op.name.c_str(), "", op.description.c_str());
      for (const auto& op : t->options)
        std::printf(
            "    option %-*s %-10s %s%s\n", w, op.name.c_str(), "", op.description.c_str(),
            op.default_value.empty() ? "" : (" (default " + op.default_value + ")").c_str());
    }
  }
  if (!h.registry.refused().empty()) {
    std::printf("\nrefused:\n");
    for (const auto& r : h.registry.refused())
      std::printf("  %s: %s\n", r.file.c_str(), r.reason.c_str());
  }
  return 0;
}

// One problem of `check`, as its line "FILE: app NAME: field FIELD: problem"
// says it (app and field only where they apply).
struct CheckProblem {
  std::string file, app, field, problem;
};

CheckProblem split_problem(const std::string& line) {
  CheckProblem p;
  std::string rest = line;
  auto take = [&rest](const std::string& prefix, std::string& into) {
    if (rest.rfind(prefix, 0) != 0) return false;
    size_t end = rest.find(": ", prefix.size());
    if (end == std::string::npos) return false;
    into = rest.substr(prefix.size(), end - prefix.size());
    rest.erase(0, end + 2);
    return true;
  };
  take("", p.file);
  take("app ", p.app);
  take("field ", p.field);
  p.problem = rest;
  return p;
}

int cmd_check(const Args& a) {
  std::vector<std::string> problems;
  std::string path = default_config_path(a.config);
  Host h;
  h.cfg = load_config(path, problems);
  log_setup(a.log_level.empty() ? "warn" : a.log_level, "text");
  std::vector<CheckProblem> refused;
  if (problems.empty()) {
    if (!h.cfg.plugin_pin.empty()) h.registry.set_pin_file(h.cfg.plugin_pin);
    h.registry.load_dirs(h.cfg.plugin_dirs);
    // A refused file is an error: the apps of its types would not run. With
    // --allow-refused (a folder shared with files that are not plugins) it is
    // a warning.
    for (const auto& r : h.registry.refused()) {
      if (a.allow_refused)
        std::fprintf(stderr, "warning: plugin refused: %s: %s\n", r.file.c_str(), r.reason.c_str());
      else
        refused.push_back({r.file, "", "", "plugin refused: " + r.reason});
    }
    validate_sinks(h.cfg, problems);
    validate_apps(h.cfg, h.registry, problems, true);
  }
  std::vector<CheckProblem> all = refused;
  for (const auto& line : problems) all.push_back(split_problem(line));
  size_t errors = 0;
  for (const auto& p : all)
    if (p.problem.rfind("warning: ", 0) != 0) ++errors;
  if (a.json) {
    Json w;
    w.StartArray();
    for (const auto& p : all) {
      w.StartObject();
      field(w, "file", p.file);
      for (const auto& [key, value] : {std::pair{"app", p.app}, std::pair{"field", p.field}}) {
        w.Key(key);
        if (value.empty())
          w.Null();
        else
          w.String(value);
      }
      field(w, "problem", p.problem);
      w.EndObject();
    }
    w.EndArray();
    w.print();
    return errors ? 1 : 0;
  }
  for (const auto& p : refused) std::printf("%s: %s\n", p.file.c_str(), p.problem.c_str());
  for (const auto& p : problems) std::printf("%s\n", p.c_str());
  if (errors) return 1;
  if (a.sinks) {
    // Like `filebeat test output`: each sink connected to, nothing delivered.
    size_t down = 0;
    for (const auto& sc : h.cfg.sinks) {
      bool ok = false;
      std::string report;
      try {
        auto sink = make_sink(sc, h.cfg.http);
        report = sink->probe(ok);
      } catch (const std::exception& e) {
        report = e.what();
      }
      if (!ok) ++down;
      std::printf("sink %s (%s): %s: %s\n", sc.name.c_str(), sc.type.c_str(), ok ? "ok" : "FAILED",
                  report.c_str());
    }
    if (down) return 1;
  }
  std::printf("%s: ok (%zu apps, %zu enabled)\n", h.cfg.path.c_str(), h.cfg.apps.size(),
              static_cast<size_t>(std::count_if(h.cfg.apps.begin(), h.cfg.apps.end(),
                                                [](const AppConfig& x) { return x.enabled; })));
  return 0;
}

std::map<std::string, std::unique_ptr<Sink>> open_sinks(const Config& cfg) {
  std::map<std::string, std::unique_ptr<Sink>> sinks;
  for (const auto& s : cfg.sinks) sinks[s.name] = make_sink(s, cfg.http);
  return sinks;
}

int cmd_once(const Args& a) {
  if (a.words.size() != 2) return usage_error("once takes one app name");
  Host h;
  std::map<std::string, std::vector<std::string>> value_problems;
  if (!load(a, h, true, &value_problems)) return 1;
  const AppConfig* app = h.cfg.find_app(a.words[1]);
  if (app == nullptr) {
    std::fprintf(stderr, "%s: no app named \"%s\"\n", h.cfg.path.c_str(), a.words[1].c_str());
    return 1;
  }
  // Only this app's values matter here; another app's unreadable secret
  // does not stop it.
  if (auto it = value_problems.find(app->name); it != value_problems.end()) {
    for (const auto& p : it->second) std::fprintf(stderr, "%s\n", p.c_str());
    return 1;
  }
  std::optional<int64_t> since = a.since_ms;
  try {
    auto state = open_state_store(h.cfg);
    auto sinks = open_sinks(h.cfg);
    StopSignal stop;
    SignalThread signals(stop, [&] {
      for (auto& [n, s] : sinks) s->reopen();
    });
    HttpService http(h.cfg.http);
    DeliveryPool deliveries(1);
    AppRunner runner(*app, *h.registry.find(app->type), *sinks[app->sink], *state, http, stop);
    runner.set_delivery_pool(&deliveries);
    // A poll stuck in the plugin past its deadline keeps this thread: the
    // runner records the failure on another, which then ends the process.
    runner.poll_on_caller([&runner, app] {
      std::fprintf(stderr, "app %s: run failed: %s\n", app->name.c_str(), runner.error().c_str());
      std::fflush(nullptr);
      std::_Exit(1);
    });
    if (!runner.begin(since)) {
      std::fprintf(stderr, "app %s: %s\n", app->name.c_str(), runner.error().c_str());
      return 1;
    }
    // A status line at a terminal; a log line every 10 s otherwise.
    const std::string& name = app->name;
    Progress progress(
        ::isatty(STDERR_FILENO) == 1, stderr,
        [&name](const std::string& line) { log_line(LogLevel::kInfo, name, line); }, now_ms());
    for (;;) {
      AppRunner::Step s = runner.step();
      progress.update(runner.events_this_run(), runner.polls_this_run(), runner.newest_event_ms(),
                      now_ms());
      if (s != AppRunner::Step::kMore) progress.finish(now_ms());
      if (s == AppRunner::Step::kFailed) {
        std::fprintf(stderr, "app %s: run failed: %s\n", app->name.c_str(), runner.error().c_str());
        return 1;
      }
      if (s == AppRunner::Step::kDone) break;
      if (!stop.wait_ms(static_cast<int64_t>(runner.sleep_before_next()) * 1000) ||
          stop.requested()) {
        progress.finish(now_ms());
        runner.abandon();
        break;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "siphon: %s\n", e.what());
    return 1;
  }
}

int cmd_run(const Args& a) {
  if (a.words.size() != 1) return usage_error("run takes no arguments");
  Host h;
  std::map<std::string, std::vector<std::string>> value_problems;
  if (!load(a, h, true, &value_problems)) return 1;
  // An app whose auth values cannot be read or are refused by their regex is
  // logged; its runs fail (nothing sent) until the values are fixed, which
  // needs no restart. The other apps run.
  for (const auto& [name, lines] : value_problems) {
    const AppConfig* app = h.cfg.find_app(name);
    if (app == nullptr || !app->enabled) continue;
    for (const auto& line : lines)
      log_line(LogLevel::kError, name,
               line + "; the app's runs fail until this is fixed, the other apps run");
  }
  try {
    auto state = open_state_store(h.cfg);
    auto sinks = open_sinks(h.cfg);
    StopSignal stop;
    SignalThread signals(stop, [&] {
      for (auto& [n, s] : sinks) {
        try {
          s->reopen();
        } catch (const std::exception& e) {
          log_line(LogLevel::kError, "", e.what());
        }
      }
    });
    HttpService http(h.cfg.http);
    Metrics metrics;
    DeliveryPool deliveries(static_cast<size_t>(h.cfg.workers));
    Scheduler scheduler(h.cfg.workers, stop);
    size_t enabled = 0;
    std::vector<std::string> names;
    for (const auto& app : h.cfg.apps) {
      if (!app.enabled) continue;
      ++enabled;
      names.push_back(app.name);
      auto runner = std::make_unique<AppRunner>(app, *h.registry.find(app.type), *sinks[app.sink],
                                                *state, http, stop);
      runner->set_metrics(
          &metrics.app(app.name, app.type, app.sink, runner->interval_seconds(), now_ms()));
      runner->set_delivery_pool(&deliveries);
      scheduler.add(std::move(runner));
    }
    // After the apps are known, so the first scrape already lists them all.
    std::unique_ptr<MetricsServer> server;
    if (!h.cfg.http_listen.empty()) {
      server = std::make_unique<MetricsServer>(metrics, h.cfg.http_listen);
      log_line(
          LogLevel::kInfo, "",
          "serving /metrics and /health on http://" + server->address() + " (no authentication)");
    }
    // A shared store: this host takes its share of the apps (leases).
    state->join_fleet(names);
    log_line(LogLevel::kInfo, "",
             "siphon " SIPHON_VERSION " running " + std::to_string(enabled) + " apps with " +
                 std::to_string(h.cfg.workers) + " workers");
    if (enabled == 0) log_line(LogLevel::kWarn, "", "no enabled apps; waiting for a stop signal");
    scheduler.run();
    log_line(LogLevel::kInfo, "", "stopped");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "siphon: %s\n", e.what());
    return 1;
  }
}

std::string or_dash(int64_t ms) { return ms ? rfc3339_ms(ms) : "-"; }

// state migrate --to URL: the config's SQLite store copied into a shared one.
int cmd_state_migrate(const Args& a, const Config& cfg) {
  if (a.words.size() != 2 || !a.to) return usage_error("state migrate takes --to postgresql://...");
  if (!is_postgres_url(*a.to))
    return usage_error("state migrate --to takes a postgresql:// URL (got \"" +
                       redact_postgres_url(*a.to) + "\")");
  if (cfg.state_path.empty()) {
    std::fprintf(stderr, "%s: state is %s, not sqlite:PATH: there is nothing to migrate from\n",
                 cfg.path.c_str(), redact_postgres_url(cfg.state_url).c_str());
    return 1;
  }
  SqliteStateStore from(cfg.state_path);
  std::vector<AppState> rows = from.all();
  int64_t now = now_ms();
  for (const auto& r : rows)
    if (StateStore::holder_alive(r, now)) {
      std::fprintf(stderr,
                   "app %s is running (pid %lld on %s); stop siphon before migrating its state\n",
                   r.app.c_str(), static_cast<long long>(r.holder_pid), r.holder_host.c_str());
      return 1;
    }
  auto store = open_postgres_store(*a.to, cfg.dir, cfg.lease_time_ms, 1);
  StateStore& to = *store;
  to.import_rows(rows);
  size_t cursors = static_cast<size_t>(std::count_if(
      rows.begin(), rows.end(), [](const AppState& r) { return r.cursor.has_value(); }));
  std::printf("copied %zu apps (%zu cursors) from %s to %s\n", rows.size(), cursors,
              from.describe().c_str(), to.describe().c_str());
  std::printf("now set `state: %s` in %s\n", redact_postgres_url(*a.to).c_str(), cfg.path.c_str());
  return 0;
}

int cmd_state(const Args& a) {
  if (a.words.size() < 2) return usage_error("state takes show, reset or migrate");
  const std::string& sub = a.words[1];
  Host h;
  std::vector<std::string> problems;
  h.cfg = load_config(default_config_path(a.config), problems);
  log_setup(a.log_level.empty() ? h.cfg.log_level : a.log_level, h.cfg.log_format);
  if (!problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    return 1;
  }
  try {
    if (sub == "migrate") return cmd_state_migrate(a, h.cfg);
    auto store = open_state_store(h.cfg);
    StateStore& state = *store;
    if (sub == "reset") {
      if (a.words.size() != 3) return usage_error("state reset takes one app name");
      const std::string& name = a.words[2];
      if (!h.cfg.find_app(name)) {
        std::fprintf(stderr, "%s: no app named \"%s\"\n", h.cfg.path.c_str(), name.c_str());
        return 1;
      }
      std::optional<int64_t> since = a.since_ms;
      if (auto cur = state.get(name); cur && StateStore::holder_alive(*cur, now_ms())) {
        std::fprintf(stderr, "app %s is running (pid %lld on %s); stop it first\n", name.c_str(),
                     static_cast<long long>(cur->holder_pid), cur->holder_host.c_str());
        return 1;
      }
      state.reset(name, since);
      std::printf("app %s: cursor forgotten; next run starts %s\n", name.c_str(),
                  since ? ("at " + rfc3339_ms(*since)).c_str() : "from now - interval");
      return 0;
    }
    if (sub != "show") return usage_error("unknown state command \"" + sub + "\"");
    if (a.words.size() > 3) return usage_error("state show takes at most one app name");
    std::vector<AppState> rows;
    auto stored = state.all();
    std::map<std::string, AppState> by_name;
    for (auto& s : stored) by_name[s.app] = s;
    for (const auto& app : h.cfg.apps) {
      if (a.words.size() == 3 && app.name != a.words[2]) continue;
      AppState s;
      if (auto it = by_name.find(app.name); it != by_name.end()) s = it->second;
      s.app = app.name;
      rows.push_back(s);
    }
    if (a.words.size() == 3 && rows.empty()) {
      std::fprintf(stderr, "%s: no app named \"%s\"\n", h.cfg.path.c_str(), a.words[2].c_str());
      return 1;
    }
    int64_t now = now_ms();
    if (a.json) {
      auto time_or_null = [](Json& w, const char* key, int64_t ms) {
        w.Key(key);
        if (ms)
          w.String(rfc3339_ms(ms));
        else
          w.Null();
      };
      Json w;
      w.StartArray();
      for (const auto& s : rows) {
        w.StartObject();
        field(w, "app", s.app);
        field(w, "status", StateStore::effective_status(s, now));
        w.Key("cursor");
        if (s.cursor)
          w.String(*s.cursor);
        else
          w.Null();
        time_or_null(w, "last_run_start", s.last_run_start_ms);
        time_or_null(w, "last_run_end", s.last_run_end_ms);
        time_or_null(w, "last_success", s.last_success_ms);
        w.Key("events_last_run");
        w.Int64(s.events_last_run);
        w.Key("polls_last_run");
        w.Int64(s.polls_last_run);
        w.Key("events_total");
        w.Int64(s.events_total);
        field(w, "last_error", s.last_error);
        if (s.holder_live) {
          // A shared store: who holds the app's lease (empty when nobody).
          field(w, "lease_owner", s.lease_owner);
          w.Key("lease_generation");
          w.Int64(s.lease_generation);
        }
        w.EndObject();
      }
      w.EndArray();
      w.print();
      return 0;
    }
    std::printf("%-20s %-10s %-25s %-25s %12s %12s  %s\n", "APP", "STATUS", "LAST RUN END",
                "LAST SUCCESS", "EVENTS LAST", "EVENTS TOTAL", "CURSOR / ERROR");
    for (const auto& s : rows) {
      std::string status = StateStore::effective_status(s, now);
      std::string tail = s.last_error.empty() ? (s.cursor ? *s.cursor : "-") : s.last_error;
      if (status == "failed" && s.status == "running")
        tail = "interrupted (process " + std::to_string(s.holder_pid) + " ended mid-run)";
      if (tail.size() > 80) tail = tail.substr(0, 77) + "...";
      std::printf("%-20s %-10s %-25s %-25s %12lld %12lld  %s\n", s.app.c_str(), status.c_str(),
                  or_dash(s.last_run_end_ms).c_str(), or_dash(s.last_success_ms).c_str(),
                  static_cast<long long>(s.events_last_run), static_cast<long long>(s.events_total),
                  tail.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "siphon: %s\n", e.what());
    return 1;
  }
}

// `siphon __complete WHAT [WORDS...]`, for the bash completion: the command
// words, the options of a command, or the app names of the config. Prints
// nothing on any problem (a completion never shows errors).
int complete(const std::vector<std::string>& argv, const std::string& config) {
  const std::string what = argv.size() > 1 ? argv[1] : "";
  if (what == "commands") {
    for (const auto& c : command_docs()) std::printf("%s\n", std::string(c.name).c_str());
  } else if (what == "options") {
    std::vector<std::string> words(argv.begin() + 2, argv.end());
    if (const CommandDoc* c = find_command_doc(words))
      for (const auto& o : c->options)
        std::printf("%s\n", std::string(o.flag.substr(0, o.flag.find(' '))).c_str());
    for (const auto& o : global_option_docs())
      std::printf("%s\n", std::string(o.flag.substr(0, o.flag.find(' '))).c_str());
  } else if (what == "apps") {
    std::vector<std::string> problems;
    log_setup("error", "text");
    Config cfg = load_config(default_config_path(config), problems);
    for (const auto& app : cfg.apps) std::printf("%s\n", app.name.c_str());
  }
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& argv_in) {
  if (!argv_in.empty() && argv_in[0] == kWorkerCommand) return run_plugin_worker();
  // --option=VALUE is --option VALUE, for the options that take a value.
  std::vector<std::string> argv;
  for (const auto& w : argv_in) {
    size_t eq = w.find('=');
    if (w.rfind("--", 0) != 0 || eq == std::string::npos || eq <= 2) {
      argv.push_back(w);
      continue;
    }
    const std::string name = w.substr(0, eq);
    if (!option_takes_value(name)) return usage_error(name + " takes no value");
    if (eq + 1 == w.size()) return usage_error(name + "= needs a value");
    argv.push_back(name);
    argv.push_back(w.substr(eq + 1));
  }
  Args a;
  bool help = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& w = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= argv.size()) return std::nullopt;
      (void)flag;
      return argv[++i];
    };
    if (w == "--help" || w == "-h") {
      help = true;
    } else if (w == "--man") {
      std::fputs(man_page(SIPHON_VERSION).c_str(), stdout);
      return 0;
    } else if (w == "--version") {
      std::printf("siphon %s (plugin ABI %d.%d)\n", SIPHON_VERSION, SIPHON_ABI_MAJOR,
                  SIPHON_ABI_MINOR);
      return 0;
    } else if (w == "--config" || w == "-c") {
      auto v = value("--config");
      if (!v) return usage_error("--config needs a file");
      a.config = *v;
    } else if (w == "--log-level") {
      auto v = value("--log-level");
      LogLevel l;
      if (!v || !parse_log_level(*v, l))
        return usage_error("--log-level takes trace, debug, info, warn or error");
      a.log_level = *v;
    } else if (w == "--since") {
      auto v = value("--since");
      if (!v) return usage_error("--since needs a time");
      a.since = *v;
    } else if (w == "--to") {
      auto v = value("--to");
      if (!v) return usage_error("--to needs a postgresql:// URL");
      a.to = *v;
    } else if (w == "--json") {
      a.json = true;
    } else if (w == "--sinks") {
      a.sinks = true;
    } else if (w == "--allow-refused") {
      a.allow_refused = true;
    } else if (!w.empty() && w[0] == '-') {
      return usage_error("unknown option " + w);
    } else {
      a.words.push_back(w);
    }
  }
  if (!a.words.empty() && a.words[0] == "__complete") return complete(a.words, a.config);
  if (help) {
    if (a.words.empty()) {
      std::fputs(usage_text().c_str(), stdout);
      return 0;
    }
    // `state --help` shows each of the state commands.
    std::vector<const CommandDoc*> docs;
    if (const CommandDoc* c = find_command_doc(a.words)) docs.push_back(c);
    if (docs.empty())
      for (const auto& c : command_docs())
        if (c.name.rfind(a.words[0] + " ", 0) == 0) docs.push_back(&c);
    if (docs.empty()) return usage_error("unknown command \"" + a.words[0] + "\"");
    for (size_t i = 0; i < docs.size(); ++i)
      std::printf("%s%s", i ? "\n" : "", command_usage_text(*docs[i]).c_str());
    return 0;
  }
  if (a.words.empty()) return usage_error("no command given");
  const std::string& cmd = a.words[0];
  if (a.since && cmd != "once" && !(cmd == "state" && a.words.size() > 1 && a.words[1] == "reset"))
    return usage_error("--since goes with once or state reset");
  if (a.json && !(cmd == "plugins" || cmd == "check" ||
                  (cmd == "state" && a.words.size() > 1 && a.words[1] == "show")))
    return usage_error("--json goes with plugins, check or state show");
  if (a.allow_refused && cmd != "check") return usage_error("--allow-refused goes with check");
  if (a.since) {
    int64_t ms = 0;
    std::string why;
    const int64_t now = now_ms();
    if (!parse_since(*a.since, now, ms, why)) return usage_error("--since: " + why);
    // A start in the future would store a cursor that skips every event
    // until then.
    if (ms > now + kSinceClockAllowanceMs)
      return usage_error("--since " + *a.since + " is in the future (now is " + rfc3339_ms(now) +
                         "); a run starting there would skip every event until then");
    a.since_ms = ms;
  }
  if (a.sinks && cmd != "check") return usage_error("--sinks goes with check");
  if (a.to && !(cmd == "state" && a.words.size() > 1 && a.words[1] == "migrate"))
    return usage_error("--to goes with state migrate");
  if (a.sinks && a.json) return usage_error("check --sinks prints text; it has no --json");
  if (cmd == "plugins") return cmd_plugins(a);
  if (cmd == "check") return cmd_check(a);
  if (cmd == "run") return cmd_run(a);
  if (cmd == "once") return cmd_once(a);
  if (cmd == "state") return cmd_state(a);
  if (cmd == "auth") {
    if (a.words.size() != 3 || a.words[1] != "set") return usage_error("auth takes: set APP");
    if (a.json) return usage_error("auth set has no --json");
    return auth_set(default_config_path(a.config), a.log_level, a.words[2]);
  }
  return usage_error("unknown command \"" + cmd + "\"");
}

}  // namespace siphon
