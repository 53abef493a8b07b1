// Validation of configured apps against the loaded plugins, without network:
// the app type exists, auth keys are declared, required ones are set, secret
// references resolve, every value fully matches its field's regex, options
// are declared, and the plugin's own create (validate only) accepts them.
#ifndef SIPHON_HOST_CLI_VALIDATE_HPP
#define SIPHON_HOST_CLI_VALIDATE_HPP

#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugin/auth_values.hpp"
#include "plugin/registry.hpp"

namespace siphon {

// Appends one line per problem: "FILE: app NAME: field FIELD: problem".
// Never includes a secret value. With `value_problems`, the problems of auth
// values (a reference that does not resolve, a value its regex refuses) go
// there instead, by app name: `run` and `once` treat them per app, since the
// values are read again before every run.
void validate_apps(const Config& cfg, const PluginRegistry& registry,
                   std::vector<std::string>& problems, bool call_plugins,
                   std::map<std::string, std::vector<std::string>>* value_problems = nullptr);

// Appends one line per problem of a network sink's settings, without
// network: "FILE: sink NAME: field FIELD: problem". The URL (http or https;
// plain http only to loopback; no credentials in it), TLS files readable,
// secret references resolvable (a literal secret is a warning). Never
// includes a secret value.
void validate_sinks(const Config& cfg, std::vector<std::string>& problems);

}  // namespace siphon

#endif
