// siphon-postgres.so: the PostgreSQL state store as a module (see modules.hpp).
#include "modules/modules.hpp"
#include "state/postgres_state_store.hpp"

namespace siphon {
void attach_module_host(const ModuleHost& host);
}  // namespace siphon

namespace {

std::unique_ptr<siphon::StateStore> open(const std::string& url, const std::string& base_dir,
                                         int64_t lease_ms, size_t connections) {
  return std::make_unique<siphon::PostgresStateStore>(url, base_dir, lease_ms, connections);
}

const siphon::PostgresModule kModule{SIPHON_MODULE_BUILD, &siphon::attach_module_host, &open};

}  // namespace

extern "C" __attribute__((visibility("default"))) const siphon::PostgresModule*
siphon_module_postgres() {
  return &kModule;
}
