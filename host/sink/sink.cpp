#include "sink/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace siphon {
namespace {

// Writes all of `data`; returns 0 or the errno that stopped it.
int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void Sink::deliver(const std::string& lines) {
  std::lock_guard lock(mu_);
  if (!lines.empty()) write_locked(lines);
  flush_locked();
}

FileSink::FileSink(const std::string& name, const std::string& path, bool sync)
    : Sink(name), path_(path), sync_(sync) {
  // Past a file size limit (RLIMIT_FSIZE) a write must fail, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  open();
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::open() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    throw SinkError("sink " + name() + ": cannot open " + path_ + ": " + std::strerror(errno));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void FileSink::reopen() {
  std::lock_guard lock(reopen_mu_);
  open();
}

void FileSink::write_locked(const std::string& lines) {
  std::lock_guard lock(reopen_mu_);
  struct stat st {};
  bool have_size = ::fstat(fd_, &st) == 0;
  if (int err = write_all(fd_, lines.data(), lines.size())) {
    // Do not leave a partial line that the next write would run into.
    if (have_size && ::ftruncate(fd_, st.st_size) != 0) {
    }
    throw SinkError("sink " + name() + ": cannot write " + path_ + ": " + std::strerror(err));
  }
}

void FileSink::flush_locked() {
  std::lock_guard lock(reopen_mu_);
  if (sync_ && ::fdatasync(fd_) != 0)
    throw SinkError("sink " + name() + ": cannot sync " + path_ + ": " + std::strerror(errno));
}

StdoutSink::StdoutSink(const std::string& name, int fd) : Sink(name), fd_(fd) {
  // A closed reader must fail the write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

void StdoutSink::write_locked(const std::string& lines) {
  if (int err = write_all(fd_, lines.data(), lines.size()))
    throw SinkError("sink " + name() + ": cannot write to standard output: " + std::strerror(err));
}

void StdoutSink::flush_locked() {}

std::unique_ptr<Sink> make_sink(const SinkConfig& config) {
  if (config.type == "file")
    return std::make_unique<FileSink>(config.name, config.path, config.sync);
  return std::make_unique<StdoutSink>(config.name);
}

}  // namespace siphon
