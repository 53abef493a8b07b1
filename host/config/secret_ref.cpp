#include "config/secret_ref.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace siphon {
namespace {

constexpr size_t kMaxSecretFileBytes = 1024 * 1024;

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
      // Opened first, then checked through the same descriptor, so the file
      // checked is the file read. O_NONBLOCK: a FIFO or device (a typo like
      // ${file:/dev/zero}) must not block the open; it is refused below.
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
      if (fd < 0)
        throw SecretRefError("secret file " + p.string() +
                             " cannot be read: " + std::strerror(errno));
      struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
      } closer{fd};
      struct stat st {};
      if (::fstat(fd, &st) != 0)
        throw SecretRefError("secret file " + p.string() +
                             " cannot be read: " + std::strerror(errno));
      if (!S_ISREG(st.st_mode))
        throw SecretRefError("secret file " + p.string() + " is not a regular file");
      // The size is bounded by what is read, not by what fstat said (files
      // in /proc, or a file growing while it is read, report other sizes).
      std::string value;
      char buf[16384];
      for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
          throw SecretRefError("secret file " + p.string() +
                               " cannot be read: " + std::strerror(errno));
        if (n == 0) break;
        value.append(buf, static_cast<size_t>(n));
        if (value.size() > kMaxSecretFileBytes)
          throw SecretRefError("secret file " + p.string() + " is larger than 1 MiB");
      }
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      if (warning && (st.st_mode & (S_IRWXG | S_IRWXO)))
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
