#include "plugin/auth_values.hpp"

#include <Poco/RegularExpression.h>

#include <set>

#include "config/secret_ref.hpp"

namespace siphon {

bool full_match(const std::string& regex, const std::string& value) {
  try {
    Poco::RegularExpression re("\\A(?:" + regex + ")\\z");
    // Options 0: the one-argument match() adds RE_NOTEMPTY, refusing "" even for ".*".
    return re.match(value, 0, 0);
  } catch (const std::exception&) {
    return false;
  }
}

bool resolve_auth_values(const AppConfig& app, const AppTypeInfo& type, AuthValues& out,
                         std::vector<AuthProblem>& problems) {
  bool ok = true;
  auto problem = [&](const std::string& key, std::string what, bool structural) {
    problems.push_back({"auth." + key, std::move(what), structural, false});
    ok = false;
  };
  std::set<std::string> given;
  for (const auto& [key, raw] : app.auth) {
    given.insert(key);
    const AuthFieldInfo* field = nullptr;
    for (const auto& f : type.auth_fields)
      if (f.name == key) field = &f;
    if (field == nullptr) {
      std::string names;
      for (const auto& f : type.auth_fields) names += (names.empty() ? "" : ", ") + f.name;
      problem(key, "not an auth field of " + app.type + " (expected: " + names + ")", true);
      continue;
    }
    std::string value;
    try {
      std::string warning;
      value = resolve_secret_refs(raw, app.dir, &warning);
      if (!warning.empty()) problems.push_back({"auth." + key, warning, false, true});
    } catch (const SecretRefError& e) {
      problem(key, e.what(), false);
      continue;
    }
    if (field->secret) out.redactor.add(value);
    if (!full_match(field->regex, value)) {
      problem(key,
              "value does not match " + field->regex +
                  (field->secret ? " (value not shown: secret)" : " (value \"" + value + "\")"),
              false);
      continue;
    }
    out.values.emplace_back(key, std::move(value));
  }
  for (const auto& f : type.auth_fields)
    if (!f.optional && !given.count(f.name))
      problem(f.name, "missing (" + f.description + ")", true);
  return ok;
}

}  // namespace siphon
