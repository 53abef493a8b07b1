// The plugin registry: loads every *.so in the plugin folders through
// Boost.DLL (RTLD_NOW), checks each descriptor against the ABI rules, and
// keeps the app types of the plugins it accepted. A file it refuses is listed
// with one reason; loading goes on with the next file.
//
// Before a file is opened it must be safe to run: the file and its folder
// are owned by root or by the user running siphon and writable by nobody
// else (no group or world write bit). With a pin file (config key
// plugin_pin), a file loads only when its SHA-256 digest is listed there.
#ifndef SIPHON_HOST_PLUGIN_REGISTRY_HPP
#define SIPHON_HOST_PLUGIN_REGISTRY_HPP

#include <siphon/plugin_api.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace siphon {

struct AuthFieldInfo {
  std::string name, description, regex;
  bool secret = false;
  bool optional = false;
};

struct OptionInfo {
  std::string name, description, default_value;
};

struct PluginInfo;

// The options the host declares for every app type (plugin_api.h: base_url),
// validated by the host and passed to the plugin like its own options.
const std::vector<OptionInfo>& host_options();
bool is_host_option(const std::string& name);

// One app type, with its metadata copied and its callbacks checked.
struct AppTypeInfo {
  std::string type;  // service_logtype
  std::string service, log_type, description;
  uint32_t default_interval_seconds = 0;
  std::vector<AuthFieldInfo> auth_fields;
  std::vector<OptionInfo> options;
  std::string event_id_field;          // "" = none declared (or a plugin older than ABI 1.1)
  const siphon_app_type* c = nullptr;  // valid while the plugin stays loaded
  const PluginInfo* plugin = nullptr;
};

// True when `type` declares the option `name`: by that name, or through a
// family ("header.*" declares header.X-Api-Key: a declared name ending in
// ".*" stands for its prefix followed by at least one character).
bool declares_option(const AppTypeInfo& type, const std::string& name);

// The bytes of a plugin file that were checked and loaded: a sealed
// in-memory copy, or (when no copy can be made, e.g. under a small
// RLIMIT_FSIZE) a descriptor of the file opened for the checks.
struct PluginImage {
  PluginImage(int image_fd, bool is_sealed) : fd(image_fd), sealed(is_sealed) {}
  ~PluginImage();
  PluginImage(const PluginImage&) = delete;
  PluginImage& operator=(const PluginImage&) = delete;
  int fd = -1;
  bool sealed = false;
};

struct PluginInfo {
  std::string file;
  std::string sha256;  // of the bytes loaded
  // The bytes loaded, sealed: a plugin worker process loads these, never the
  // file again, so a file swapped after the checks is never run.
  std::shared_ptr<PluginImage> image;
  std::string name, version;
  uint32_t abi_major = 0, abi_minor = 0;
  std::vector<std::string> types;
  std::shared_ptr<boost::dll::shared_library> library;
};

struct RefusedPlugin {
  std::string file;
  std::string reason;
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Only files whose SHA-256 digest is listed in `pin_file` load from now on.
  // The file has sha256sum's format, "<64 hex digits>  <file name>" a line
  // ('#' comments and blank lines allowed); the name is for the reader. A pin
  // file that cannot be read or parsed, or that others may write, refuses
  // every plugin (with that reason).
  void set_pin_file(const std::string& pin_file);
  const std::string& pin_file() const { return pin_file_; }
  size_t pinned_digests() const { return pins_.size(); }

  // Tries every *.so in each folder (sorted by name). A missing folder, or
  // one that others may write, is reported as a refusal of the folder itself.
  void load_dirs(const std::vector<std::string>& dirs);
  // Tries one file; returns false (and records the reason) when refused.
  // The file is checked (owner, mode, pin) and loaded through one sealed
  // in-memory copy of its bytes, so what was checked is what runs.
  bool load_file(const std::string& path);
  // Loads an image made by load_file, in another process (a plugin
  // worker's): it must have the digest the host checked, and be sealed when
  // the host's was. `path` names the original file in messages.
  bool load_checked(int image_fd, bool sealed, const std::string& path,
                    const std::string& expected_sha256);

  const AppTypeInfo* find(const std::string& type) const;
  const std::vector<std::unique_ptr<PluginInfo>>& plugins() const { return plugins_; }
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  std::vector<const AppTypeInfo*> types() const;

 private:
  void load_image(std::shared_ptr<PluginImage> image, const std::string& path,
                  const std::string& digest);

  std::vector<std::unique_ptr<PluginInfo>> plugins_;
  std::map<std::string, std::unique_ptr<AppTypeInfo>> types_;
  std::vector<RefusedPlugin> refused_;
  std::string pin_file_;
  std::string pin_error_;  // set when the pin file is unusable: every file is refused
  std::set<std::string> pins_;
};

}  // namespace siphon

#endif
