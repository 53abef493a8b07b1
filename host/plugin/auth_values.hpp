// An app's auth values checked against its app type, the same way wherever
// they are used: by `siphon check`, at start, and before every run (secrets
// are re-read then, so a rotated value is checked again before it is sent).
// Each configured value has its ${env:}/${file:} references resolved and
// must match the whole of its field's declared regex; every required field
// must be given. Problems name the field, never a secret value.
#ifndef SIPHON_HOST_PLUGIN_AUTH_VALUES_HPP
#define SIPHON_HOST_PLUGIN_AUTH_VALUES_HPP

#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "log/log.hpp"
#include "plugin/registry.hpp"

namespace siphon {

struct AuthProblem {
  std::string field;    // "auth.<name>"
  std::string problem;  // what is wrong, without the value of a secret
  // Structural problems (an undeclared field, a missing required one) are
  // the config's; the others are the values' (an unresolvable reference, a
  // value its regex refuses), which can change while siphon runs.
  bool structural = false;
  bool warning = false;  // e.g. a secret file readable by others
};

struct AuthValues {
  std::vector<std::pair<std::string, std::string>> values;  // resolved, in config order
  Redactor redactor;                                        // knows every secret value
};

// Resolves and checks `app`'s auth against `type`. Returns true when no
// problem other than warnings was found.
bool resolve_auth_values(const AppConfig& app, const AppTypeInfo& type, AuthValues& out,
                         std::vector<AuthProblem>& problems);

// Whole-value PCRE match, as auth regexes are applied.
bool full_match(const std::string& regex, const std::string& value);

}  // namespace siphon

#endif
