// Logging: spdlog to stderr (stdout may be a sink), as text or one JSON
// object per line. Every line about an app names it. Lines about an app pass
// through its Redactor first, so no auth value reaches the log.
#ifndef SIPHON_HOST_LOG_LOG_HPP
#define SIPHON_HOST_LOG_LOG_HPP

#include <string>
#include <vector>

namespace siphon {

enum class LogLevel { kTrace = 1, kDebug, kInfo, kWarn, kError };

// Sets level ("info"...) and format ("text" or "json").
void log_setup(const std::string& level, const std::string& format);
bool parse_log_level(const std::string& text, LogLevel& out);
// Whether a line at `level` would be written (to skip building it).
bool log_enabled(LogLevel level);
// `app` may be "" for lines about the host itself.
void log_line(LogLevel level, const std::string& app, const std::string& message);

// Replaces each known secret value in a text with "[redacted]".
class Redactor {
 public:
  void add(const std::string& secret);
  std::string apply(std::string text) const;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace siphon

#endif
