#include "config/config.hpp"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "config/duration.hpp"
#include "http/request_budget.hpp"
#include "state/postgres_url.hpp"

namespace fs = std::filesystem;

namespace siphon {
namespace {

// http.listen: HOST:PORT or [IPv6]:PORT; names are resolved when siphon binds.
std::string check_listen(const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT (e.g. 127.0.0.1:9464)";
  std::string host = v.substr(0, colon), port = v.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return "expected [IPv6]:PORT";
  } else if (host.find(':') != std::string::npos) {
    return "an IPv6 address goes in brackets: [::1]:9464";
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535)
    return "port must be a number from 0 to 65535";
  return "";
}

#ifndef SIPHON_DEFAULT_PLUGIN_DIR
#define SIPHON_DEFAULT_PLUGIN_DIR "/usr/local/lib/siphon/plugins"
#endif

std::string absolute_from(const std::string& dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(dir) / path;
  return path.lexically_normal().string();
}

struct Loader {
  std::vector<std::string>& problems;
  Config& cfg;
  std::set<std::string> seen_files;

  void problem(const std::string& file, const std::string& what) {
    problems.push_back(file + ": " + what);
  }

  std::optional<std::string> scalar(const YAML::Node& n, const std::string& file,
                                    const std::string& where) {
    if (!n.IsScalar()) {
      problem(file, where + ": expected a single value");
      return std::nullopt;
    }
    return n.Scalar();
  }

  void check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                  const std::string& file, const std::string& where) {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        problem(file, where + "unknown key \"" + key + "\" (expected one of: " + list + ")");
      }
    }
  }

  std::optional<int64_t> duration_ms(const YAML::Node& n, const std::string& file,
                                     const std::string& key) {
    auto s = scalar(n, file, key);
    if (!s) return std::nullopt;
    std::string why;
    auto v = parse_duration_seconds(*s, &why);
    if (!v) {
      problem(file, key + ": " + why);
      return std::nullopt;
    }
    return *v * 1000;
  }

  // The keys of one sink, by type. Unknown keys are problems naming the sink.
  void load_sink(const YAML::Node& n, SinkConfig& sink, const std::string& file,
                 const std::string& where) {
    const std::string& dir = cfg.dir;
    static const std::set<std::string> kNetwork{
        "name",        "type",       "url",        "timeout",     "ca_file",
        "client_cert", "client_key", "batch_size", "batch_bytes", "gzip"};
    std::set<std::string> keys;
    if (sink.type == "file") {
      keys = {"name", "type", "path", "sync"};
    } else if (sink.type == "stdout") {
      keys = {"name", "type"};
    } else if (sink.type == "http") {
      keys = kNetwork;
      keys.insert("headers");
    } else if (sink.type == "splunk_hec") {
      keys = kNetwork;
      keys.insert({"token", "ack", "ack_timeout", "index", "sourcetype", "source", "host"});
    } else if (sink.type == "elasticsearch") {
      keys = kNetwork;
      keys.insert({"index", "pipeline", "username", "password", "api_key"});
    } else if (sink.type == "kafka") {
      keys = {"name", "type", "brokers", "topic", "timeout", "properties"};
    } else {
      problem(file, where + "field type: \"" + sink.type +
                        "\" is not one of stdout, file, http, splunk_hec, elasticsearch, kafka");
      return;
    }
    check_keys(n, keys, file, where);
    auto text = [&](const char* key, std::string& out) {
      if (!n[key]) return;
      if (!n[key].IsScalar())
        problem(file, where + "field " + key + ": expected a single value");
      else
        out = n[key].Scalar();
    };
    auto flag = [&](const char* key, bool& out) {
      if (!n[key]) return;
      try {
        out = n[key].as<bool>();
      } catch (const YAML::Exception&) {
        problem(file, where + "field " + key + ": expected true or false");
      }
    };
    auto positive = [&](const char* key, int64_t& out) {
      if (!n[key]) return;
      try {
        out = n[key].as<int64_t>();
        if (out < 1) throw YAML::Exception({}, "range");
      } catch (const YAML::Exception&) {
        problem(file, where + "field " + key + ": expected a positive whole number");
      }
    };
    auto duration = [&](const char* key, int64_t& out) {
      if (!n[key]) return;
      std::string why;
      auto s = n[key].IsScalar() ? n[key].Scalar() : "";
      auto v = parse_duration_seconds(s, &why);
      if (!v || *v <= 0)
        problem(file, where + "field " + key + ": " + (v ? "must be positive" : why));
      else
        out = *v * 1000;
    };
    if (sink.type == "file") {
      if (!n["path"] || !n["path"].IsScalar())
        problem(file, where + "field path: missing (a file sink needs a path)");
      else
        sink.path = absolute_from(dir, n["path"].Scalar());
      flag("sync", sink.sync);
      return;
    }
    if (sink.type == "stdout") return;
    if (sink.type == "kafka") {
      text("brokers", sink.brokers);
      if (sink.brokers.empty()) problem(file, where + "field brokers: missing (host:port,...)");
      text("topic", sink.topic);
      duration("timeout", sink.timeout_ms);
      if (const YAML::Node p = n["properties"]) {
        if (!p.IsMap()) {
          problem(file, where + "field properties: expected a mapping of librdkafka properties");
        } else {
          for (const auto& kv : p) {
            if (!kv.second.IsScalar())
              problem(file, where + "field properties." + kv.first.Scalar() +
                                ": expected a single value");
            else
              sink.kafka_properties.emplace_back(kv.first.Scalar(), kv.second.Scalar());
          }
        }
      }
      return;
    }
    text("url", sink.url);
    if (sink.url.empty()) problem(file, where + "field url: missing");
    flag("gzip", sink.gzip);
    positive("batch_size", sink.batch_size);
    positive("batch_bytes", sink.batch_bytes);
    duration("timeout", sink.timeout_ms);
    for (auto [key, out] : {std::pair<const char*, std::string*>{"ca_file", &sink.ca_file},
                            {"client_cert", &sink.client_cert},
                            {"client_key", &sink.client_key}}) {
      std::string v;
      text(key, v);
      if (!v.empty()) *out = absolute_from(dir, v);
    }
    if (sink.client_cert.empty() != sink.client_key.empty())
      problem(file, where + "field client_cert: client_cert and client_key go together");
    if (sink.type == "http" && n["headers"]) {
      const YAML::Node h = n["headers"];
      if (!h.IsMap()) {
        problem(file, where + "field headers: expected a mapping of header names to values");
      } else {
        for (const auto& kv : h) {
          if (!kv.second.IsScalar()) {
            problem(file,
                    where + "field headers: " + kv.first.Scalar() + ": expected a single value");
            continue;
          }
          sink.headers.emplace_back(kv.first.Scalar(), kv.second.Scalar());
        }
      }
    }
    if (sink.type == "splunk_hec") {
      text("token", sink.token);
      if (sink.token.empty()) problem(file, where + "field token: missing");
      flag("ack", sink.ack);
      duration("ack_timeout", sink.ack_timeout_ms);
      text("index", sink.index);
      text("sourcetype", sink.sourcetype);
      text("source", sink.source);
      text("host", sink.host);
    }
    if (sink.type == "elasticsearch") {
      text("index", sink.index);
      if (sink.index.empty()) sink.index = "siphon-{type}";
      text("pipeline", sink.pipeline);
      text("username", sink.username);
      text("password", sink.password);
      text("api_key", sink.api_key);
      if (sink.username.empty() != sink.password.empty())
        problem(file, where + "field password: username and password go together");
      if (!sink.api_key.empty() && !sink.username.empty())
        problem(file, where + "field api_key: give either api_key or username and password");
    }
  }

  void load_app(const YAML::Node& node, const std::string& file, const std::string& dir) {
    static const std::regex kName("^[a-z0-9_-]+$");
    if (!node.IsMap()) {
      problem(file, "apps: each app must be a mapping");
      return;
    }
    AppConfig app;
    app.file = file;
    app.dir = dir;
    std::string where = "app ?: ";
    if (node["name"] && node["name"].IsScalar()) {
      app.name = node["name"].Scalar();
      where = "app " + app.name + ": ";
      if (!std::regex_match(app.name, kName))
        problem(file, where + "field name: must match [a-z0-9_-]+");
    } else {
      problem(file, "app (no name): field name: missing");
    }
    check_keys(node,
               {"name", "type", "enabled", "interval", "sink", "auth", "options", "rate_limit",
                "run_timeout", "isolation", "poll_timeout"},
               file, where);
    if (node["type"] && node["type"].IsScalar())
      app.type = node["type"].Scalar();
    else
      problem(file, where + "field type: missing");
    if (node["enabled"]) {
      try {
        app.enabled = node["enabled"].as<bool>();
      } catch (const YAML::Exception&) {
        problem(file, where + "field enabled: expected true or false");
      }
    }
    if (node["interval"]) {
      std::string why;
      auto s = node["interval"].IsScalar() ? node["interval"].Scalar() : "";
      auto v = parse_duration_seconds(s, &why);
      if (!v || *v <= 0)
        problem(file, where + "field interval: " + (v ? "must be positive" : why));
      else
        app.interval_seconds = *v;
    }
    if (node["run_timeout"]) {
      std::string why;
      auto s = node["run_timeout"].IsScalar() ? node["run_timeout"].Scalar() : "";
      auto v = parse_duration_seconds(s, &why);
      if (!v || *v <= 0)
        problem(file, where + "field run_timeout: " + (v ? "must be positive" : why));
      else
        app.run_timeout_seconds = *v;
    }
    if (node["rate_limit"]) {
      auto s = node["rate_limit"].IsScalar() ? node["rate_limit"].Scalar() : "";
      double r = parse_rate_limit(s);
      if (r <= 0)
        problem(file, where + "field rate_limit: expected N/s, N/m or N/h (e.g. 120/m)");
      else
        app.rate_limit = r;
    }
    if (node["sink"] && node["sink"].IsScalar()) app.sink = node["sink"].Scalar();
    if (node["isolation"]) {
      std::string v = node["isolation"].IsScalar() ? node["isolation"].Scalar() : "";
      if (v == "in-process")
        app.isolation = AppConfig::Isolation::kInProcess;
      else if (v == "process")
        app.isolation = AppConfig::Isolation::kProcess;
      else
        problem(file, where + "field isolation: \"" + v + "\" is not one of in-process, process");
    }
    if (node["poll_timeout"]) {
      std::string why;
      auto s = node["poll_timeout"].IsScalar() ? node["poll_timeout"].Scalar() : "";
      auto v = parse_duration_seconds(s, &why);
      if (!v || *v <= 0)
        problem(file, where + "field poll_timeout: " + (v ? "must be positive" : why));
      else
        app.poll_timeout_ms = *v * 1000;
    }
    for (const char* section : {"auth", "options"}) {
      const YAML::Node m = node[section];
      if (!m) continue;
      if (!m.IsMap()) {
        problem(file, where + "field " + section + ": expected a mapping");
        continue;
      }
      auto& out = std::string(section) == "auth" ? app.auth : app.options;
      for (const auto& kv : m) {
        std::string key = kv.first.Scalar();
        if (!kv.second.IsScalar()) {
          problem(file, where + "field " + key + ": expected a single value");
          continue;
        }
        out.emplace_back(key, kv.second.Scalar());
      }
    }
    for (const auto& other : cfg.apps) {
      if (!app.name.empty() && other.name == app.name) {
        problem(file, where + "duplicate app name (also in " + other.file + ")");
        return;
      }
    }
    cfg.apps.push_back(std::move(app));
  }

  void load_apps(const YAML::Node& apps, const std::string& file, const std::string& dir) {
    if (!apps) return;
    if (!apps.IsSequence()) {
      problem(file, "apps: expected a list");
      return;
    }
    for (const auto& a : apps) load_app(a, file, dir);
  }

  YAML::Node parse(const std::string& file) {
    try {
      YAML::Node root = YAML::LoadFile(file);
      if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
      if (!root.IsMap()) {
        problem(file, "expected a mapping at the top level");
        return {};
      }
      return root;
    } catch (const YAML::BadFile&) {
      problem(file, "cannot be read");
    } catch (const YAML::ParserException& e) {
      problem(file, "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    } catch (const std::exception&) {
      // A folder (or another unreadable kind of file) throws from the stream.
      std::error_code ec;
      problem(file,
              fs::is_directory(file, ec) ? "is a folder, not a config file" : "cannot be read");
    }
    return {};
  }

  void load_include(const std::string& file) {
    if (!seen_files.insert(file).second) return;
    std::error_code ec;
    if (fs::is_directory(file, ec)) return;  // a pattern like conf.d/* also meets sub-folders
    YAML::Node root = parse(file);
    if (!root) return;
    check_keys(root, {"apps"}, file, "");
    load_apps(root["apps"], file, fs::path(file).parent_path().string());
  }

  void load_main(const std::string& file) {
    seen_files.insert(file);
    cfg.path = file;
    cfg.dir = fs::path(file).parent_path().string();
    YAML::Node root = parse(file);
    if (!root) return;
    check_keys(root,
               {"plugin_dirs", "plugin_pin", "state", "lease_time", "include", "log_level",
                "log_format", "workers", "max_event_bytes", "http", "sinks", "apps"},
               file, "");
    const std::string& dir = cfg.dir;
    if (auto n = root["plugin_dirs"]) {
      if (n.IsSequence()) {
        for (const auto& d : n) cfg.plugin_dirs.push_back(absolute_from(dir, d.Scalar()));
      } else if (n.IsScalar()) {
        cfg.plugin_dirs.push_back(absolute_from(dir, n.Scalar()));
      } else {
        problem(file, "plugin_dirs: expected a list of folders");
      }
    } else {
      cfg.plugin_dirs.push_back(SIPHON_DEFAULT_PLUGIN_DIR);
    }
    if (auto n = root["plugin_pin"])
      if (auto pin = scalar(n, file, "plugin_pin")) {
        if (pin->empty())
          problem(file, "plugin_pin: expected a file of sha256 digests");
        else
          cfg.plugin_pin = absolute_from(dir, *pin);
      }
    std::string state = "sqlite:siphon-state.db";
    if (auto n = root["state"]) state = scalar(n, file, "state").value_or(state);
    if (is_postgres_url(state)) {
      std::string why = check_postgres_url(state);
      if (!why.empty())
        problem(file, "state: \"" + redact_postgres_url(state) + "\": " + why);
      else
        cfg.state_url = state;
    } else if (state.rfind("sqlite:", 0) != 0 || state.size() == 7) {
      problem(file, "state: \"" + redact_postgres_url(state) +
                        "\" is not supported (expected sqlite:PATH or postgresql://...)");
    } else {
      cfg.state_path = absolute_from(dir, state.substr(7));
    }
    if (auto n = root["lease_time"]) {
      if (auto v = duration_ms(n, file, "lease_time")) {
        if (*v < 1000 || *v > 3600 * 1000)
          problem(file, "lease_time: expected a duration from 1s to 1h");
        else if (cfg.state_url.empty())
          problem(file, "lease_time: applies to a shared state (state: postgresql://...) only");
        else
          cfg.lease_time_ms = *v;
      }
    }
    if (auto n = root["log_level"]) {
      cfg.log_level = scalar(n, file, "log_level").value_or("info");
      static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error"};
      if (!kLevels.count(cfg.log_level))
        problem(file, "log_level: \"" + cfg.log_level +
                          "\" is not one of trace, debug, info, warn, error");
    }
    if (auto n = root["log_format"]) {
      cfg.log_format = scalar(n, file, "log_format").value_or("text");
      if (cfg.log_format != "text" && cfg.log_format != "json")
        problem(file, "log_format: expected text or json");
    }
    if (auto n = root["workers"]) {
      try {
        cfg.workers = n.as<int>();
        if (cfg.workers < 1 || cfg.workers > 256) throw YAML::Exception({}, "range");
      } catch (const YAML::Exception&) {
        problem(file, "workers: expected a whole number from 1 to 256");
      }
    }
    if (auto n = root["max_event_bytes"]) {
      try {
        cfg.max_event_bytes = n.as<int64_t>();
        if (cfg.max_event_bytes < 1) throw YAML::Exception({}, "range");
      } catch (const YAML::Exception&) {
        problem(file, "max_event_bytes: expected a positive whole number of bytes");
      }
    }
    if (auto h = root["http"]) {
      if (!h.IsMap()) {
        problem(file, "http: expected a mapping");
      } else {
        check_keys(h,
                   {"ca_file", "connect_timeout", "read_timeout", "max_response_bytes",
                    "max_retries", "retry_max_wait", "listen"},
                   file, "http: ");
        if (h["listen"])
          if (auto v = scalar(h["listen"], file, "http: listen")) {
            std::string why = check_listen(*v);
            if (why.empty())
              cfg.http_listen = *v;
            else
              problem(file, "http: listen: \"" + *v + "\": " + why);
          }
        if (h["ca_file"]) cfg.http.ca_file = absolute_from(dir, h["ca_file"].Scalar());
        if (h["connect_timeout"])
          if (auto v = duration_ms(h["connect_timeout"], file, "http: connect_timeout"))
            cfg.http.connect_timeout_ms = *v;
        if (h["read_timeout"])
          if (auto v = duration_ms(h["read_timeout"], file, "http: read_timeout"))
            cfg.http.read_timeout_ms = *v;
        if (h["retry_max_wait"])
          if (auto v = duration_ms(h["retry_max_wait"], file, "http: retry_max_wait"))
            cfg.http.retry_max_wait_ms = *v;
        try {
          if (h["max_response_bytes"])
            cfg.http.max_response_bytes = h["max_response_bytes"].as<int64_t>();
          if (h["max_retries"]) cfg.http.max_retries = h["max_retries"].as<int>();
        } catch (const YAML::Exception&) {
          problem(file, "http: max_response_bytes and max_retries take whole numbers");
        }
      }
    }
    if (auto s = root["sinks"]) {
      if (!s.IsSequence()) problem(file, "sinks: expected a list");
      for (const auto& n : s.IsSequence() ? s : YAML::Node(YAML::NodeType::Sequence)) {
        if (!n.IsMap()) {
          problem(file, "sinks: each sink must be a mapping");
          continue;
        }
        SinkConfig sink;
        sink.file = file;
        sink.dir = dir;
        sink.name = n["name"] && n["name"].IsScalar() ? n["name"].Scalar() : "";
        std::string where = "sink " + (sink.name.empty() ? std::string("?") : sink.name) + ": ";
        if (sink.name.empty()) problem(file, where + "field name: missing");
        sink.type = n["type"] && n["type"].IsScalar() ? n["type"].Scalar() : "";
        load_sink(n, sink, file, where);
        if (cfg.find_sink(sink.name)) problem(file, where + "duplicate sink name");
        cfg.sinks.push_back(sink);
      }
    }
    load_apps(root["apps"], file, dir);
    if (auto inc = root["include"]) {
      std::vector<std::string> patterns;
      if (inc.IsSequence())
        for (const auto& p : inc) patterns.push_back(p.Scalar());
      else if (inc.IsScalar())
        patterns.push_back(inc.Scalar());
      else
        problem(file, "include: expected a list of file patterns");
      for (const auto& pat : patterns) {
        std::string full = absolute_from(dir, pat);
        glob_t g{};
        int rc = ::glob(full.c_str(), 0, nullptr, &g);
        std::vector<std::string> files;
        if (rc == 0)
          for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
        ::globfree(&g);
        std::sort(files.begin(), files.end());
        for (const auto& f : files) load_include(f);
      }
    }
    if (cfg.sinks.empty()) {
      SinkConfig out;
      out.name = "stdout";
      out.type = "stdout";
      out.file = file;
      cfg.sinks.push_back(out);
    }
    for (auto& app : cfg.apps) {
      app.max_event_bytes = cfg.max_event_bytes;
      if (app.sink.empty()) app.sink = cfg.sinks.front().name;
      if (!cfg.find_sink(app.sink))
        problem(app.file, "app " + app.name + ": field sink: no sink named \"" + app.sink + "\"");
    }
  }
};

}  // namespace

const AppConfig* Config::find_app(const std::string& name) const {
  for (const auto& a : apps)
    if (a.name == name) return &a;
  return nullptr;
}

const SinkConfig* Config::find_sink(const std::string& name) const {
  for (const auto& s : sinks)
    if (s.name == name) return &s;
  return nullptr;
}

Config load_config(const std::string& path, std::vector<std::string>& problems) {
  Config cfg;
  std::error_code ec;
  fs::path p = fs::absolute(path, ec).lexically_normal();
  if (!fs::exists(p, ec)) {
    problems.push_back(p.string() + ": config file not found");
    return cfg;
  }
  Loader loader{problems, cfg, {}};
  try {
    loader.load_main(p.string());
  } catch (const YAML::Exception& e) {
    // A shape the checks above did not foresee: a problem, never a crash.
    problems.push_back(p.string() + ": unexpected structure: " + e.msg);
  }
  return cfg;
}

std::string default_config_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("SIPHON_CONFIG"); env && *env) return env;
  if (fs::exists("siphon.yaml")) return "siphon.yaml";
  return "/etc/siphon/siphon.yaml";
}

}  // namespace siphon
