// Secret references in auth values: ${env:NAME} and ${file:PATH}. They are
// resolved at start and again before every run, so rotated secrets are used
// without a restart. Errors name the reference, never a resolved value.
#ifndef SIPHON_HOST_CONFIG_SECRET_REF_HPP
#define SIPHON_HOST_CONFIG_SECRET_REF_HPP

#include <stdexcept>
#include <string>

namespace siphon {

class SecretRefError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Replaces every ${env:NAME} / ${file:PATH} in `text`. Relative file paths are
// relative to `base_dir`. Trailing newlines of a file are dropped. Throws
// SecretRefError naming the reference. `warn` receives one line per secret
// file readable by group or others.
std::string resolve_secret_refs(const std::string& text, const std::string& base_dir,
                                std::string* warning = nullptr);

// True when the text holds a reference (so it is not a literal value).
bool has_secret_ref(const std::string& text);

}  // namespace siphon

#endif
