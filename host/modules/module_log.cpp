// The log of a module: forwarded to the host that loaded it (see
// ModuleHost), so that a module's lines share the host's format, level and
// redaction. Linked into each module in place of log/log.cpp.
#include "log/log.hpp"
#include "modules/modules.hpp"

namespace siphon {
namespace {
const ModuleHost* g_host = nullptr;
}  // namespace

void attach_module_host(const ModuleHost& host) { g_host = &host; }

bool log_enabled(LogLevel level) { return g_host && g_host->log_enabled(level); }

void log_line(LogLevel level, const std::string& app, const std::string& message) {
  if (g_host) g_host->log_line(level, app, message);
}

}  // namespace siphon
