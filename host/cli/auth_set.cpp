#include "cli/auth_set.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cli/validate.hpp"
#include "config/config.hpp"
#include "log/log.hpp"
#include "plugin/app_instance.hpp"
#include "plugin/registry.hpp"

namespace fs = std::filesystem;

namespace siphon {
namespace {

constexpr int kTtyAttempts = 3;
constexpr size_t kMaxValueBytes = 1024 * 1024;

// The terminal settings to put back if a signal ends the command while echo
// is off (only touched from the one thread that reads).
struct termios g_saved_termios {};
volatile sig_atomic_t g_echo_off = 0;

void restore_and_reraise(int sig) {
  if (g_echo_off) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Turns echo off on standard input (a terminal) for its lifetime.
class NoEcho {
 public:
  NoEcho() {
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHOE | ECHOK | ECHONL));
    ::signal(SIGINT, restore_and_reraise);
    ::signal(SIGTERM, restore_and_reraise);
    ::signal(SIGHUP, restore_and_reraise);
    g_echo_off = 1;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  ~NoEcho() {
    // TCSANOW keeps what was typed ahead for the next field.
    if (g_echo_off) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    g_echo_off = 0;
    std::fputc('\n', stderr);  // the Enter the user typed was not echoed
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;
};

// One line from standard input without its line ending; nullopt at end of input.
std::optional<std::string> read_line() {
  std::string line;
  char c = 0;
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (line.empty()) return std::nullopt;
      break;
    }
    if (c == '\n') break;
    line += c;
    if (line.size() > kMaxValueBytes) throw std::runtime_error("input line longer than 1 MiB");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Brace depth of a JSON text outside its strings (negative when unbalanced).
int json_depth(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    }
  }
  return depth;
}

// A value: one line, or a JSON document over as many lines as its braces need.
std::optional<std::string> read_value() {
  auto first = read_line();
  if (!first) return std::nullopt;
  std::string value = *first;
  size_t start = value.find_first_not_of(" \t");
  if (start == std::string::npos || value[start] != '{') return value;
  while (json_depth(value) > 0) {
    auto more = read_line();
    if (!more) break;
    value += "\n" + *more;
    if (value.size() > kMaxValueBytes) throw std::runtime_error("value longer than 1 MiB");
  }
  return value;
}

bool safe_file_part(const std::string& s) {
  static const std::regex kSafe("^[A-Za-z0-9_][A-Za-z0-9_.-]*$");
  return std::regex_match(s, kSafe);
}

// The secrets folder: created 0700, or narrowed to 0700 when we own it.
void prepare_secrets_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error(dir.string() + " is not a folder");
  if ((st.st_mode & 077) != 0) {
    if (st.st_uid != ::geteuid() || ::chmod(dir.c_str(), 0700) != 0)
      throw std::runtime_error(dir.string() +
                               " is open to group or others and cannot be made 0700");
  }
}

std::string describe_field(const AuthFieldInfo& f) {
  std::string d = f.name;
  if (!f.description.empty()) d += " (" + f.description + ")";
  if (f.optional) d += " [optional: Enter skips]";
  return d;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  fs::path target(path);
  fs::path dir = target.parent_path();
  std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());  // mode 0600
  if (fd < 0)
    throw std::runtime_error("cannot create a file in " + dir.string() + ": " +
                             std::strerror(errno));
  auto fail = [&](const std::string& what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw std::runtime_error(what + " " + path + ": " + std::strerror(err));
  };
  if (::fchmod(fd, 0600) != 0) fail("cannot set the mode of");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot flush");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    throw std::runtime_error("cannot replace " + path + ": " + std::strerror(err));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

int auth_set(const std::string& config_path, const std::string& log_level,
             const std::string& app_name) {
  std::vector<std::string> problems;
  Config cfg = load_config(config_path, problems);
  log_setup(log_level.empty() ? "warn" : log_level, cfg.log_format);
  if (!problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    return 1;
  }
  const AppConfig* app = cfg.find_app(app_name);
  if (app == nullptr) {
    std::fprintf(stderr, "%s: no app named \"%s\"\n", cfg.path.c_str(), app_name.c_str());
    return 1;
  }
  PluginRegistry registry;
  if (!cfg.plugin_pin.empty()) registry.set_pin_file(cfg.plugin_pin);
  registry.load_dirs(cfg.plugin_dirs);
  const AppTypeInfo* type = registry.find(app->type);
  std::string at = app->file + ": app " + app->name + ": ";
  if (type == nullptr) {
    std::fprintf(stderr,
                 "%sfield type: unknown app type \"%s\" (siphon plugins lists the known ones)\n",
                 at.c_str(), app->type.c_str());
    return 1;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  std::vector<std::pair<std::string, std::string>> values;  // fields given, in declared order
  Redactor redactor;
  try {
    if (tty)
      std::fprintf(stderr, "Credentials of app %s (%s); secret values are not shown.\n",
                   app->name.c_str(), app->type.c_str());
    for (const auto& f : type->auth_fields) {
      if (f.secret && !safe_file_part(f.name)) {
        std::fprintf(stderr, "%sfield auth.%s: the name cannot be a file name\n", at.c_str(),
                     f.name.c_str());
        return 1;
      }
      std::optional<std::string> accepted;
      for (int attempt = 1; !accepted; ++attempt) {
        // Echo goes off before the prompt shows, so nothing typed after it is echoed.
        std::optional<NoEcho> quiet;
        if (tty && f.secret) quiet.emplace();
        if (tty) std::fprintf(stderr, "%s: ", describe_field(f).c_str());
        std::optional<std::string> value = read_value();
        quiet.reset();
        if (!value) {
          std::fprintf(stderr, "%sfield auth.%s: no value given (input ended)\n", at.c_str(),
                       f.name.c_str());
          return 1;
        }
        if (f.secret) redactor.add(*value);
        std::string why;
        if (value->empty())
          why = f.optional ? "" : "a value is required";
        else if (!full_match(f.regex, *value))
          why = "value does not match " + f.regex +
                (f.secret ? " (value not shown: secret)" : " (value \"" + *value + "\")");
        if (why.empty()) {
          accepted = *value;
          break;
        }
        if (!tty || attempt >= kTtyAttempts) {
          std::fprintf(stderr, "%sfield auth.%s: %s\n", at.c_str(), f.name.c_str(), why.c_str());
          return 1;
        }
        std::fprintf(stderr, "field %s: %s; try again\n", f.name.c_str(), why.c_str());
      }
      if (!accepted->empty()) values.emplace_back(f.name, *accepted);
    }
    AppInstance instance(*type, *app, values, nullptr, nullptr, redactor);
    std::string why = instance.create(true);
    if (!why.empty()) {
      std::fprintf(stderr, "%splugin %s: %s (nothing saved)\n", at.c_str(),
                   type->plugin->name.c_str(), why.c_str());
      return 1;
    }
    fs::path secrets_dir = fs::path(app->dir) / "secrets";
    bool any_secret = false;
    for (const auto& [name, value] : values)
      for (const auto& f : type->auth_fields)
        if (f.name == name && f.secret) any_secret = true;
    if (any_secret) prepare_secrets_dir(secrets_dir);
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : values) {
      bool secret = false;
      for (const auto& f : type->auth_fields) secret = secret || (f.name == name && f.secret);
      out << YAML::Key << name << YAML::Value;
      if (secret) {
        std::string file = app->name + "." + name;
        write_file_atomically((secrets_dir / file).string(), value + "\n");
        out << "${file:secrets/" + file + "}";
      } else {
        out << value;
      }
    }
    out << YAML::EndMap << YAML::EndMap;
    std::printf("# app %s in %s: replace its auth section with these lines\n%s\n",
                app->name.c_str(), app->file.c_str(), out.c_str());
    if (any_secret)
      std::fprintf(stderr, "secrets written to %s (mode 0600)\n", secrets_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s%s\n", at.c_str(), redactor.apply(e.what()).c_str());
    return 1;
  }
}

}  // namespace siphon
