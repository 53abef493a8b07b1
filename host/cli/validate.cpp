#include "cli/validate.hpp"

#include <Poco/String.h>
#include <Poco/URI.h>
#include <unistd.h>

#include "config/secret_ref.hpp"
#include "http/http_service.hpp"
#include "log/log.hpp"
#include "modules/modules.hpp"
#include "plugin/app_instance.hpp"
#include "plugin/auth_values.hpp"
#include "sink/network_sink.hpp"

namespace siphon {

void validate_sinks(const Config& cfg, std::vector<std::string>& problems) {
  for (const auto& sink : cfg.sinks) {
    if (sink.type == "kafka") {
      std::string at = sink.file + ": sink " + sink.name + ": ";
      try {
        for (std::string p : kafka_module().validate(sink)) {
          // The producer names its settings; the config names its keys.
          if (p.rfind("bootstrap_servers: ", 0) == 0)
            p = "brokers" + p.substr(17);
          else if (p.rfind("delivery_timeout: ", 0) == 0)
            p = "timeout" + p.substr(16);
          problems.push_back(at + "field " + p);
        }
      } catch (const SinkError& e) {
        // "sink NAME: field properties.X: why"
        std::string why = e.what();
        problems.push_back(sink.file + ": " + why);
      } catch (const std::runtime_error& e) {
        problems.push_back(at + e.what());  // the module is missing or unloadable
      }
      continue;
    }
    if (!sink.is_network()) continue;
    std::string at = sink.file + ": sink " + sink.name + ": ";
    if (!sink.url.empty()) {
      try {
        Poco::URI uri(sink.url);
        std::string scheme = Poco::toLower(uri.getScheme());
        if (scheme != "http" && scheme != "https")
          problems.push_back(at + "field url: expected an http:// or https:// URL");
        else if (uri.getHost().empty())
          problems.push_back(at + "field url: has no host");
        else if (scheme == "http" && !is_loopback_host(Poco::toLower(uri.getHost())))
          problems.push_back(at +
                             "field url: plain http is allowed only to loopback hosts; use "
                             "https");
        if (!uri.getUserInfo().empty())
          problems.push_back(at +
                             "field url: holds credentials; give them as username/password, "
                             "token, api_key or headers (with ${env:} or ${file:} references)");
      } catch (const Poco::Exception&) {
        problems.push_back(at + "field url: not a valid URL");
      }
    }
    for (auto [field, path] : {std::pair<const char*, const std::string*>{"ca_file", &sink.ca_file},
                               {"client_cert", &sink.client_cert},
                               {"client_key", &sink.client_key}})
      if (!path->empty() && ::access(path->c_str(), R_OK) != 0)
        problems.push_back(at + "field " + field + ": cannot read " + *path);
    for (const auto& [field, raw] : sink_secret_fields(sink)) {
      // Header values that hold no reference are settings, not secrets.
      bool is_header = field.rfind("header ", 0) == 0;
      if (!has_secret_ref(raw)) {
        if (!is_header)
          problems.push_back(at + "field " + field +
                             ": warning: a literal secret in the config; use ${env:NAME} or "
                             "${file:PATH}");
        continue;
      }
      try {
        std::string warning;
        resolve_secret_refs(raw, sink.dir, &warning);
        if (!warning.empty()) problems.push_back(at + "field " + field + ": warning: " + warning);
      } catch (const SecretRefError& e) {
        problems.push_back(at + "field " + field + ": " + e.what());
      }
    }
  }
}

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
      if (!declares_option(*type, key))
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
