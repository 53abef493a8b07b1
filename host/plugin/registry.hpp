// The plugin registry: loads every *.so in the plugin folders through
// Boost.DLL (RTLD_NOW), checks each descriptor against the ABI rules, and
// keeps the app types of the plugins it accepted. A file it refuses is listed
// with one reason; loading goes on with the next file.
#ifndef SIPHON_HOST_PLUGIN_REGISTRY_HPP
#define SIPHON_HOST_PLUGIN_REGISTRY_HPP

#include <siphon/plugin_api.h>

#include <map>
#include <memory>
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

// One app type, with its metadata copied and its callbacks checked.
struct AppTypeInfo {
  std::string type;  // service_logtype
  std::string service, log_type, description;
  uint32_t default_interval_seconds = 0;
  std::vector<AuthFieldInfo> auth_fields;
  std::vector<OptionInfo> options;
  const siphon_app_type* c = nullptr;  // valid while the plugin stays loaded
  const PluginInfo* plugin = nullptr;
};

struct PluginInfo {
  std::string file;
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

  // Tries every *.so in each folder (sorted by name). A missing folder is
  // reported as a refusal of the folder itself.
  void load_dirs(const std::vector<std::string>& dirs);
  // Tries one file; returns false (and records the reason) when refused.
  bool load_file(const std::string& path);

  const AppTypeInfo* find(const std::string& type) const;
  const std::vector<std::unique_ptr<PluginInfo>>& plugins() const { return plugins_; }
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  std::vector<const AppTypeInfo*> types() const;

 private:
  std::vector<std::unique_ptr<PluginInfo>> plugins_;
  std::map<std::string, std::unique_ptr<AppTypeInfo>> types_;
  std::vector<RefusedPlugin> refused_;
};

}  // namespace siphon

#endif
