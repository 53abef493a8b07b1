// modules/modules.hpp - backends loaded only when a config uses them.
//
// The PostgreSQL state store (libpq, which brings Kerberos, LDAP and GnuTLS)
// and the Kafka sink (librdkafka) are built as modules beside the plugins,
// in <libdir>/siphon/modules/, and loaded on first use. A host with SQLite
// state and file or HTTP sinks never maps those libraries, which keeps its
// resident memory about 4.5 MB smaller.
//
// A module is part of the host, built with it from the same sources: it is
// refused unless its build tag equals the host's. It is loaded once and
// never unloaded (its objects and their code live as long as the process).
#ifndef SIPHON_HOST_MODULES_MODULES_HPP
#define SIPHON_HOST_MODULES_MODULES_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "log/log.hpp"
#include "sink/sink.hpp"
#include "state/state_store.hpp"

namespace siphon {

// What a module needs of the host process: its log.
struct ModuleHost {
  bool (*log_enabled)(LogLevel level);
  void (*log_line)(LogLevel level, const std::string& app, const std::string& message);
};

// Each module exports one C function, siphon_module_<name>(), returning this
// table (see SIPHON_MODULE_BUILD for `build`).
struct PostgresModule {
  const char* build;
  void (*attach)(const ModuleHost& host);
  std::unique_ptr<StateStore> (*open)(const std::string& url, const std::string& base_dir,
                                      int64_t lease_ms, size_t connections);
};

struct KafkaModule {
  const char* build;
  void (*attach)(const ModuleHost& host);
  std::unique_ptr<Sink> (*make_sink)(const SinkConfig& config);
  // The problems with a kafka sink's settings, each "FIELD: why".
  std::vector<std::string> (*validate)(const SinkConfig& config);
};

// The folder modules are loaded from: SIPHON_MODULE_RELDIR (the install's
// <libdir>/siphon/modules, relative to its bindir) from the directory of the
// running siphon executable, so that a build tree and any install prefix
// find their own modules.
std::string module_dir();

// Load (once) and return the module's table. Throws std::runtime_error with
// one line naming the file when it is missing, unloadable or from another
// build.
const PostgresModule& postgres_module();
const KafkaModule& kafka_module();

}  // namespace siphon

#endif  // SIPHON_HOST_MODULES_MODULES_HPP
