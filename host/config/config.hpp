// The host's configuration: siphon.yaml plus its `include:` drop-ins.
// Loading collects every problem as one line "FILE: [app NAME: ][field F: ]problem"
// rather than stopping at the first, so `siphon check` can list them all.
#ifndef SIPHON_HOST_CONFIG_CONFIG_HPP
#define SIPHON_HOST_CONFIG_CONFIG_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace siphon {

struct HttpConfig {
  std::string ca_file;           // "" = the system store
  std::string client_cert_file;  // TLS client certificate (PEM); "" = none
  std::string client_key_file;   // its private key (PEM)
  int64_t connect_timeout_ms = 10000;
  int64_t read_timeout_ms = 30000;
  int64_t max_response_bytes = 64 * 1024 * 1024;
  int max_retries = 4;
  int64_t retry_max_wait_ms = 60000;  // longest wait honoured for Retry-After / backoff
};

struct SinkConfig {
  std::string name;
  std::string type;  // stdout | file | http | splunk_hec | elasticsearch
  std::string path;  // absolute, for file sinks
  bool sync = true;  // fdatasync before the cursor commits
  std::string file;  // config file that declared it
  std::string dir;   // its directory: base of relative ${file:} references

  // Network sinks (http, splunk_hec, elasticsearch).
  std::string url;                // http: the URL posted to; others: the service's base URL
  bool gzip = false;              // Content-Encoding: gzip
  int64_t batch_size = 500;       // records per request at most
  int64_t batch_bytes = 5 << 20;  // request body bytes at most (one record may pass it)
  int64_t timeout_ms = 0;         // per request; 0 = http.read_timeout
  std::string ca_file;            // absolute; "" = http.ca_file or the system store
  std::string client_cert;        // absolute PEM; TLS client certificate
  std::string client_key;         // absolute PEM; its key
  // http: extra request headers; values may be (or hold) ${env:}/${file:}
  // references and are never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  // splunk_hec
  std::string token;  // raw (a reference, normally)
  bool ack = true;
  int64_t ack_timeout_ms = 2 * 60 * 1000;
  std::string sourcetype;  // "" = siphon:<app type>
  std::string source;
  std::string host;
  // splunk_hec and elasticsearch: index ({type}, {app}, {service} are
  // replaced for elasticsearch; "" = the token's default index for HEC,
  // siphon-{type} for elasticsearch).
  std::string index;
  // elasticsearch
  std::string pipeline;
  std::string username;  // basic auth, with password
  std::string password;  // raw (a reference, normally)
  std::string api_key;   // raw (a reference, normally); Authorization: ApiKey
  // kafka
  std::string brokers;  // bootstrap.servers: host:port,host:port
  std::string topic;    // {type} and {app} are replaced; "" = siphon-{type}
  // Extra librdkafka properties; values may be ${env:}/${file:} references.
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  bool is_network() const {
    return type == "http" || type == "splunk_hec" || type == "elasticsearch";
  }
};

struct AppConfig {
  std::string name;
  std::string type;
  bool enabled = true;
  std::optional<int64_t> interval_seconds;  // unset: the type's default
  std::string sink;                         // "" = the first sink
  double rate_limit = 0;                    // requests/s for the app's credential; 0 = none
  int64_t run_timeout_seconds = 1800;       // a run ends (partial) and waits end by then
  std::vector<std::pair<std::string, std::string>> auth;  // raw, references unresolved
  std::vector<std::pair<std::string, std::string>> options;
  std::string file;  // config file that declared it
  std::string dir;   // its directory: base of relative ${file:} paths
  // Where the plugin runs: in the host process, or in a worker process of its
  // own ("process") so that a crash costs only this app.
  enum class Isolation { kInProcess, kProcess };
  Isolation isolation = Isolation::kInProcess;
  int64_t poll_timeout_ms = 5 * 60 * 1000;  // longest one plugin call may take
  int64_t max_event_bytes = 1024 * 1024;    // copied from the top-level key
};

struct Config {
  std::string path;  // the main file, absolute
  std::string dir;
  std::vector<std::string> plugin_dirs;  // absolute
  std::string plugin_pin;                // absolute; "" = no digest allowlist
  std::string state_path;                // absolute SQLite path ("" with state_url)
  // state: postgresql://... as written (references unresolved; it may hold
  // a password reference, so it is shown only through redact_postgres_url).
  std::string state_url;
  int64_t lease_time_ms = 30000;  // lease_time: a shared store's lease
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  int workers = 4;
  int64_t max_event_bytes = 1024 * 1024;  // largest event a plugin may return
  HttpConfig http;
  // http.listen: HOST:PORT where `siphon run` serves /metrics and /health;
  // "" = off (the default).
  std::string http_listen;
  std::vector<SinkConfig> sinks;
  std::vector<AppConfig> apps;

  const AppConfig* find_app(const std::string& name) const;
  const SinkConfig* find_sink(const std::string& name) const;
};

// Loads `path`. Problems go to `problems` (empty = valid). Structural
// problems only: app types and auth values are checked against the plugins
// by the caller.
Config load_config(const std::string& path, std::vector<std::string>& problems);

// The config path to use: explicit, else $SIPHON_CONFIG, else ./siphon.yaml
// if present, else /etc/siphon/siphon.yaml.
std::string default_config_path(const std::string& explicit_path);

}  // namespace siphon

#endif
