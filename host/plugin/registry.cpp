#include "plugin/registry.hpp"

#include <Poco/Crypto/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/RegularExpression.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace siphon {
namespace {

// Thrown inside load_file to refuse with a reason.
struct Refusal {
  std::string reason;
};

bool nonempty(const char* s) { return s != nullptr && *s != '\0'; }

#define SIPHON_REQUIRE_MEMBER(type, ptr, member, what)         \
  do {                                                         \
    if (!SIPHON_HAS_MEMBER(type, member, (ptr)->struct_size))  \
      throw Refusal{std::string(what) +                        \
                    ": required member '" #member              \
                    "' not present "                           \
                    "(struct_size " +                          \
                    std::to_string((ptr)->struct_size) + ")"}; \
  } while (0)

AppTypeInfo describe(const siphon_app_type* t, size_t index) {
  std::string where = "app type #" + std::to_string(index);
  if (t == nullptr) throw Refusal{where + " is NULL"};
  SIPHON_REQUIRE_MEMBER(siphon_app_type, t, destroy, where);
  if (!nonempty(t->service)) throw Refusal{where + ": required value 'service' is empty"};
  if (!nonempty(t->log_type)) throw Refusal{where + ": required value 'log_type' is empty"};
  AppTypeInfo info;
  info.service = t->service;
  info.log_type = t->log_type;
  info.type = info.service + "_" + info.log_type;
  where = "app type " + info.type;
  static const std::regex kTypeName("^[a-z0-9]+(_[a-z0-9]+)+$");
  if (!std::regex_match(info.type, kTypeName))
    throw Refusal{where + ": name must be lower-case letters, digits and '_'"};
  if (t->description == nullptr) throw Refusal{where + ": required value 'description' not found"};
  info.description = t->description;
  if (t->default_interval_seconds == 0)
    throw Refusal{where + ": default_interval_seconds must be positive"};
  info.default_interval_seconds = t->default_interval_seconds;
  if (SIPHON_HAS_MEMBER(siphon_app_type, event_id_field, t->struct_size) && t->event_id_field)
    info.event_id_field = t->event_id_field;
  struct {
    const void* fn;
    const char* name;
  } callbacks[] = {{reinterpret_cast<const void*>(t->create), "create"},
                   {reinterpret_cast<const void*>(t->poll), "poll"},
                   {reinterpret_cast<const void*>(t->sleep_seconds), "sleep_seconds"},
                   {reinterpret_cast<const void*>(t->last_error), "last_error"},
                   {reinterpret_cast<const void*>(t->destroy), "destroy"}};
  for (const auto& cb : callbacks)
    if (cb.fn == nullptr) throw Refusal{where + ": required callback '" + cb.name + "' not found"};
  if (t->auth_field_count && t->auth_fields == nullptr)
    throw Refusal{where + ": auth_fields is NULL with a count of " +
                  std::to_string(t->auth_field_count)};
  std::set<std::string> names;
  for (uint32_t i = 0; i < t->auth_field_count; ++i) {
    const siphon_auth_field* f = t->auth_fields[i];
    std::string fw = where + ": auth field #" + std::to_string(i);
    if (f == nullptr) throw Refusal{fw + " is NULL"};
    SIPHON_REQUIRE_MEMBER(siphon_auth_field, f, is_optional, fw);
    if (!nonempty(f->name)) throw Refusal{fw + ": name is empty"};
    fw = where + ": auth field " + f->name;
    if (!names.insert(f->name).second) throw Refusal{fw + ": declared twice"};
    if (f->regex == nullptr) throw Refusal{fw + ": regex not found"};
    try {
      Poco::RegularExpression re(f->regex);
    } catch (const Poco::Exception& e) {
      throw Refusal{fw + ": invalid regex \"" + std::string(f->regex) + "\": " + e.message()};
    }
    info.auth_fields.push_back({f->name, f->description ? f->description : "", f->regex,
                                f->is_secret != 0, f->is_optional != 0});
  }
  if (t->option_count && t->options == nullptr) throw Refusal{where + ": options is NULL"};
  for (uint32_t i = 0; i < t->option_count; ++i) {
    const siphon_option* o = t->options[i];
    if (o == nullptr || !SIPHON_HAS_MEMBER(siphon_option, default_value, o->struct_size) ||
        !nonempty(o->name))
      throw Refusal{where + ": option #" + std::to_string(i) + " is incomplete"};
    if (is_host_option(o->name)) continue;  // declared by plugins built before the host did
    info.options.push_back(
        {o->name, o->description ? o->description : "", o->default_value ? o->default_value : ""});
  }
  info.c = t;
  return info;
}

// Why a file or folder is not safe to load code from, or "": it must be owned
// by root or by the user running siphon, and writable by nobody else.
std::string unsafe_owner_or_mode(const std::string& what, const struct stat& st) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return what + " is owned by uid " + std::to_string(st.st_uid) +
           ", neither root nor the user running siphon (uid " + std::to_string(::geteuid()) + ")";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return what + " is writable by " + ((st.st_mode & S_IWOTH) ? "others" : "its group") +
           " (mode " + mode + "); chmod go-w it";
  }
  return "";
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string sha256_of(int fd) {
  Poco::Crypto::DigestEngine engine("SHA256");
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Refusal{std::string("cannot be read: ") + std::strerror(errno)};
    if (n == 0) break;
    engine.update(buf, static_cast<size_t>(n));
  }
  return Poco::Crypto::DigestEngine::digestToHex(engine.digest());
}

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// The SHA-256 of the whole file behind `fd`, read from its start.
std::string digest_from_start(int fd) {
  if (::lseek(fd, 0, SEEK_SET) != 0)
    throw Refusal{std::string("cannot be read: ") + std::strerror(errno)};
  return sha256_of(fd);
}

// Copies the `size` bytes of the file behind `fd` into a sealed memfd.
// Returns the memfd, or -1 when no copy can be made (a file size limit,
// RLIMIT_FSIZE, applies to memfds too; no memory).
int sealed_copy(int fd, off_t size, const std::string& path) {
  std::string base = fs::path(path).filename().string();
  int mem = ::memfd_create(("siphon-plugin:" + base).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0) return -1;
  Fd guard{mem};
  // Past a file size limit, the copy must fail rather than kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  for (off_t done = 0; done < size;) {
    ssize_t n = ::sendfile(mem, fd, nullptr, static_cast<size_t>(size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    done += n;
  }
  if (::fcntl(mem, F_ADD_SEALS, kSeals) != 0) return -1;
  guard.fd = -1;
  return mem;
}

}  // namespace

PluginImage::~PluginImage() {
  if (fd >= 0) ::close(fd);
}

PluginRegistry::PluginRegistry() = default;

void PluginRegistry::set_pin_file(const std::string& pin_file) {
  pin_file_ = pin_file;
  pin_error_.clear();
  pins_.clear();
  std::string at = "plugin pin file " + pin_file;
  struct stat st {};
  if (::stat(pin_file.c_str(), &st) != 0) {
    pin_error_ = at + " cannot be read: " + std::strerror(errno);
    return;
  }
  if (std::string why = unsafe_owner_or_mode(at, st); !why.empty()) {
    pin_error_ = why;
    return;
  }
  std::ifstream in(pin_file);
  if (!in) {
    pin_error_ = at + " cannot be read: " + std::strerror(errno);
    return;
  }
  static const std::regex kLine("^([0-9a-fA-F]{64}) [ *](.+)$");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) {
      pin_error_ = at + " line " + std::to_string(n) +
                   ": expected \"<sha256 hex>  <file name>\" as sha256sum writes it";
      pins_.clear();
      return;
    }
    std::string digest = m[1];
    std::transform(digest.begin(), digest.end(), digest.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    pins_.insert(digest);
  }
}
PluginRegistry::~PluginRegistry() = default;

void PluginRegistry::load_dirs(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      refused_.push_back({dir, "plugin folder does not exist or is not a folder"});
      continue;
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      refused_.push_back(
          {dir, std::string("plugin folder cannot be read: ") + std::strerror(errno)});
      continue;
    }
    if (std::string why = unsafe_owner_or_mode("plugin folder", st); !why.empty()) {
      refused_.push_back({dir, why + "; none of its files is loaded"});
      continue;
    }
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f);
  }
}

bool PluginRegistry::load_file(const std::string& path) {
  try {
    // The checks, the digest and the load all see one copy of the file's
    // bytes: a sealed in-memory file that nobody can change afterwards. The
    // same copy is what a plugin worker process is handed (image_fd).
    Fd file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) throw Refusal{std::string("cannot be opened: ") + std::strerror(errno)};
    struct stat st {};
    if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) throw Refusal{"not a regular file"};
    if (std::string why = unsafe_owner_or_mode("file", st); !why.empty()) throw Refusal{why};
    if (!pin_error_.empty()) throw Refusal{pin_error_};
    int image_fd = sealed_copy(file.fd, st.st_size, path);
    const bool sealed = image_fd >= 0;
    // Without an in-memory copy the descriptor checked is used (a file
    // renamed over it changes nothing; a worker checks the digest again).
    if (!sealed) std::swap(image_fd, file.fd);
    auto image = std::make_shared<PluginImage>(image_fd, sealed);
    std::string digest = digest_from_start(image->fd);
    if (!pin_file_.empty() && !pins_.count(digest))
      throw Refusal{"sha256 " + digest + " is not listed in plugin pin file " + pin_file_};
    load_image(std::move(image), path, digest);
    return true;
  } catch (const Refusal& r) {
    refused_.push_back({path, r.reason});
  } catch (const std::exception& e) {
    refused_.push_back({path, e.what()});
  }
  return false;
}

bool PluginRegistry::load_checked(int image_fd, bool sealed, const std::string& path,
                                  const std::string& expected_sha256) {
  try {
    int seals = ::fcntl(image_fd, F_GET_SEALS);
    if (sealed && (seals < 0 || (seals & kSeals) != kSeals))
      throw Refusal{"the plugin image handed over is not sealed"};
    std::string digest = digest_from_start(image_fd);
    if (digest != expected_sha256)
      throw Refusal{"the plugin image's sha256 " + digest + " is not the one the host checked (" +
                    expected_sha256 + ")"};
    load_image(std::make_shared<PluginImage>(image_fd, sealed), path, digest);
    return true;
  } catch (const Refusal& r) {
    refused_.push_back({path, r.reason});
  } catch (const std::exception& e) {
    refused_.push_back({path, e.what()});
  }
  return false;
}

void PluginRegistry::load_image(std::shared_ptr<PluginImage> image, const std::string& path,
                                const std::string& digest) {
  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load("/proc/self/fd/" + std::to_string(image->fd),
              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    // Boost wraps dlerror's text: "load() failed (dlerror system message: X): errno text".
    std::string why = e.what();
    size_t at = why.find("dlerror system message: ");
    if (at != std::string::npos) {
      why = why.substr(at + 24);
      size_t end = why.rfind(')');
      if (end != std::string::npos) why = why.substr(0, end);
      // dlerror names the copy (/proc/self/fd/N: ...); the reader knows the file.
      if (why.rfind("/proc/self/fd/", 0) == 0 && why.find(": ") != std::string::npos)
        why = why.substr(why.find(": ") + 2);
    }
    throw Refusal{"not a loadable library: " + why};
  }
  if (!lib->has(SIPHON_ENTRY_SYMBOL))
    throw Refusal{"entry symbol " SIPHON_ENTRY_SYMBOL " not found"};
  auto entry = lib->get<const siphon_plugin*(uint32_t, uint32_t)>(SIPHON_ENTRY_SYMBOL);
  const siphon_plugin* p = entry(SIPHON_ABI_MAJOR, SIPHON_ABI_MINOR);
  if (p == nullptr)
    throw Refusal{"the entry returned no descriptor for host ABI " +
                  std::to_string(SIPHON_ABI_MAJOR) + "." + std::to_string(SIPHON_ABI_MINOR)};
  SIPHON_REQUIRE_MEMBER(siphon_plugin, p, app_type_count, "descriptor");
  std::string built = std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor);
  std::string host = std::to_string(SIPHON_ABI_MAJOR) + "." + std::to_string(SIPHON_ABI_MINOR);
  if (p->abi_major != SIPHON_ABI_MAJOR)
    throw Refusal{"built for plugin ABI " + built + ", this host speaks ABI " + host +
                  " (major versions differ)"};
  if (p->abi_minor > SIPHON_ABI_MINOR)
    throw Refusal{"built for plugin ABI " + built + ", newer than this host's ABI " + host};
  if (!nonempty(p->name)) throw Refusal{"descriptor: required value 'name' is empty"};
  if (!nonempty(p->version)) throw Refusal{"descriptor: required value 'version' is empty"};
  if (p->app_type_count == 0 || p->app_types == nullptr)
    throw Refusal{"descriptor declares no app types"};
  std::vector<AppTypeInfo> types;
  std::set<std::string> in_file;
  for (uint32_t i = 0; i < p->app_type_count; ++i) {
    AppTypeInfo t = describe(p->app_types[i], i);
    if (!in_file.insert(t.type).second) throw Refusal{"app type " + t.type + " declared twice"};
    if (auto it = types_.find(t.type); it != types_.end())
      throw Refusal{"app type " + t.type + " is already provided by " + it->second->plugin->file};
    types.push_back(std::move(t));
  }
  auto info = std::make_unique<PluginInfo>();
  info->file = path;
  info->sha256 = digest;
  info->name = p->name;
  info->version = p->version;
  info->abi_major = p->abi_major;
  info->abi_minor = p->abi_minor;
  info->library = std::move(lib);
  info->image = std::move(image);
  for (auto& t : types) {
    info->types.push_back(t.type);
    t.plugin = info.get();
    std::string name = t.type;
    types_[name] = std::make_unique<AppTypeInfo>(std::move(t));
  }
  plugins_.push_back(std::move(info));
}

const AppTypeInfo* PluginRegistry::find(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : it->second.get();
}

std::vector<const AppTypeInfo*> PluginRegistry::types() const {
  std::vector<const AppTypeInfo*> out;
  for (const auto& [k, v] : types_) out.push_back(v.get());
  return out;
}

const std::vector<OptionInfo>& host_options() {
  static const std::vector<OptionInfo> kOptions{
      {"base_url",
       "replaces scheme, host and port of every vendor URL (regional hosts, proxies, local "
       "imitations)",
       ""}};
  return kOptions;
}

bool declares_option(const AppTypeInfo& type, const std::string& name) {
  for (const auto& o : type.options) {
    if (o.name == name) return true;
    const size_t n = o.name.size();
    if (n >= 2 && o.name.compare(n - 2, 2, ".*") == 0 && name.size() > n - 1 &&
        name.compare(0, n - 1, o.name, 0, n - 1) == 0)
      return true;
  }
  return false;
}

bool is_host_option(const std::string& name) {
  for (const auto& o : host_options())
    if (o.name == name) return true;
  return false;
}

}  // namespace siphon
