#include <algorithm>

#include "log/log.hpp"

namespace siphon {

void Redactor::add(const std::string& secret) {
  // Very short values would redact ordinary words; they are not credentials.
  if (secret.size() >= 4 && std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end())
    secrets_.push_back(secret);
  // A key file's lines (e.g. a PEM body) are redacted one by one too.
  if (secret.find('\n') != std::string::npos) {
    size_t pos = 0;
    while (pos < secret.size()) {
      size_t nl = secret.find('\n', pos);
      std::string line = secret.substr(pos, nl == std::string::npos ? nl : nl - pos);
      if (line.size() >= 16 && std::find(secrets_.begin(), secrets_.end(), line) == secrets_.end())
        secrets_.push_back(line);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
}

std::string Redactor::apply(std::string text) const {
  for (const auto& s : secrets_) {
    size_t pos = 0;
    while ((pos = text.find(s, pos)) != std::string::npos) {
      text.replace(pos, s.size(), "[redacted]");
      pos += 10;
    }
  }
  return text;
}

}  // namespace siphon
