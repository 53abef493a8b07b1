#include "config/secret_ref.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace siphon {
namespace {

constexpr off_t kMaxSecretFileBytes = 1024 * 1024;

}  // namespace

bool has_secret_ref(const std::string& text) {
  return text.find("${env:") != std::string::npos || text.find("${file:") != std::string::npos;
}

std::string resolve_secret_refs(const std::string& text, const std::string& base_dir,
                                std::string* warning) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find("${", pos);
    if (start == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    out.append(text, pos, start - pos);
    size_t end = text.find('}', start);
    if (end == std::string::npos)
      throw SecretRefError("unterminated reference \"${\" (expected ${env:NAME} or ${file:PATH})");
    std::string ref = text.substr(start + 2, end - start - 2);
    if (ref.rfind("env:", 0) == 0) {
      std::string name = ref.substr(4);
      if (name.empty()) throw SecretRefError("${env:} names no variable");
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) throw SecretRefError("environment variable " + name + " is not set");
      out += v;
    } else if (ref.rfind("file:", 0) == 0) {
      std::filesystem::path p(ref.substr(5));
      if (p.empty()) throw SecretRefError("${file:} names no file");
      if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
      // A FIFO or device (a typo like ${file:/dev/zero}) would block or never end.
      struct stat target {};
      if (::stat(p.c_str(), &target) == 0 && !S_ISREG(target.st_mode))
        throw SecretRefError("secret file " + p.string() + " is not a regular file");
      if (::stat(p.c_str(), &target) == 0 && target.st_size > kMaxSecretFileBytes)
        throw SecretRefError("secret file " + p.string() + " is larger than 1 MiB");
      std::ifstream in(p, std::ios::binary);
      if (!in)
        throw SecretRefError("secret file " + p.string() +
                             " cannot be read: " + std::strerror(errno));
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string value = ss.str();
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      struct stat st {};
      if (warning && ::stat(p.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        *warning = "secret file " + p.string() + " is readable by group or others (chmod 600 it)";
      out += value;
    } else {
      throw SecretRefError("unknown reference ${" + ref.substr(0, ref.find(':')) +
                           ":...} (expected ${env:NAME} or ${file:PATH})");
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace siphon
