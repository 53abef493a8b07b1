#include "cli/validate.hpp"

#include <Poco/URI.h>

#include "http/http_service.hpp"
#include "log/log.hpp"
#include "plugin/app_instance.hpp"
#include "plugin/auth_values.hpp"

namespace siphon {

void validate_apps(const Config& cfg, const PluginRegistry& registry,
                   std::vector<std::string>& problems, bool call_plugins,
                   std::map<std::string, std::vector<std::string>>* value_problems) {
  for (const auto& app : cfg.apps) {
    std::string at = app.file + ": app " + app.name + ": ";
    const AppTypeInfo* type = registry.find(app.type);
    if (type == nullptr) {
      problems.push_back(at + "field type: unknown app type \"" + app.type +
                         "\" (siphon plugins lists the known ones)");
      continue;
    }
    AuthValues auth;
    std::vector<AuthProblem> auth_problems;
    bool ok = resolve_auth_values(app, *type, auth, auth_problems);
    for (const auto& p : auth_problems) {
      std::string line =
          at + "field " + p.field + ": " + (p.warning ? "warning: " : "") + p.problem;
      if (value_problems && !p.structural && !p.warning)
        (*value_problems)[app.name].push_back(line);
      else
        problems.push_back(line);
    }
    for (const auto& [key, value] : app.options) {
      if (key == "base_url") {
        try {
          Poco::URI u(value);
          if (u.getScheme() != "https" &&
              !(u.getScheme() == "http" && is_loopback_host(u.getHost())))
            problems.push_back(at +
                               "field options.base_url: must be https:// (http:// only for "
                               "loopback hosts)");
          else if (u.getHost().empty())
            problems.push_back(at + "field options.base_url: has no host");
        } catch (const std::exception&) {
          problems.push_back(at + "field options.base_url: not a URL");
        }
        continue;
      }
      bool known = false;
      for (const auto& o : type->options) known = known || o.name == key;
      if (!known)
        problems.push_back(at + "field options." + key + ": not an option of " + app.type);
    }
    if (ok && call_plugins) {
      AppInstance inst(*type, app, auth.values, nullptr, nullptr, auth.redactor);
      std::string why = inst.create(true);
      if (!why.empty()) problems.push_back(at + "plugin " + type->plugin->name + ": " + why);
    }
  }
}

}  // namespace siphon
