#include "log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sink/record.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

bool g_json = false;

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("siphon", s);
    lg->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    lg->set_level(spdlog::level::info);
    lg->flush_on(spdlog::level::trace);
    return lg;
  }();
  return l;
}

spdlog::level::level_enum to_spd(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool parse_log_level(const std::string& text, LogLevel& out) {
  static const std::pair<const char*, LogLevel> kLevels[] = {{"trace", LogLevel::kTrace},
                                                             {"debug", LogLevel::kDebug},
                                                             {"info", LogLevel::kInfo},
                                                             {"warn", LogLevel::kWarn},
                                                             {"error", LogLevel::kError}};
  for (const auto& [name, level] : kLevels)
    if (text == name) {
      out = level;
      return true;
    }
  return false;
}

void log_setup(const std::string& level, const std::string& format) {
  LogLevel l = LogLevel::kInfo;
  parse_log_level(level, l);
  g_json = format == "json";
  logger()->set_level(to_spd(l));
  logger()->set_pattern(g_json ? "%v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                        spdlog::pattern_time_type::utc);
}

bool log_enabled(LogLevel level) { return logger()->should_log(to_spd(level)); }

void log_line(LogLevel level, const std::string& app, const std::string& message) {
  auto lg = logger();
  if (!lg->should_log(to_spd(level))) return;
  if (g_json) {
    std::string line =
        "{\"time\":\"" + rfc3339_ms(now_ms()) + "\",\"level\":\"" + level_name(level) + "\"";
    if (!app.empty()) line += ",\"app\":" + json_quote(app);
    line += ",\"message\":" + json_quote(message) + "}";
    lg->log(to_spd(level), line);
  } else if (app.empty()) {
    lg->log(to_spd(level), message);
  } else {
    lg->log(to_spd(level), "app=" + app + ": " + message);
  }
}

}  // namespace siphon
