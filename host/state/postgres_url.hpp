// PostgreSQL connection URLs as `state:` takes them:
//   postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...&...]
// The password may be a ${file:}/${env:} reference (or come from libpq's
// own PGPASSWORD / ~/.pgpass). These helpers take the password out, so that
// it is passed to libpq on its own and never appears in a message.
#ifndef SIPHON_HOST_STATE_POSTGRES_URL_HPP
#define SIPHON_HOST_STATE_POSTGRES_URL_HPP

#include <optional>
#include <string>

namespace siphon {

// True for postgresql:// and postgres:// URLs.
bool is_postgres_url(const std::string& text);

struct SplitUrl {
  std::string without_password;         // the URL, its password (and password=) removed
  std::optional<std::string> password;  // as written (a reference, normally), percent-decoded
};
// Splits any scheme://user:password@host... URL. ${...} references are kept
// whole (a ${file:a/b} path does not end the host part).
SplitUrl split_url_password(const std::string& url);

// The URL as it may be shown: without its password.
std::string redact_postgres_url(const std::string& url);

// "" when `url` can be used as a state URL, else why not.
std::string check_postgres_url(const std::string& url);

}  // namespace siphon

#endif
