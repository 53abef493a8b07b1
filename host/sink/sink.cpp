#include "sink/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "log/log.hpp"
#include "modules/modules.hpp"
#include "sink/network_sink.hpp"

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

void LineSink::deliver(const RecordBatch& batch, StopSignal*) { deliver_lines(batch.lines); }

void LineSink::deliver_lines(const std::string& lines) {
  std::lock_guard lock(mu_);
  if (!lines.empty()) write_locked(lines);
  flush_locked();
}

FileSink::FileSink(const std::string& name, const std::string& path, bool sync)
    : LineSink(name), path_(path), sync_(sync) {
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
  drop_incomplete_tail(fd);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void FileSink::drop_incomplete_tail(int fd) {
  // A process killed inside write() (SIGKILL, power loss) can leave the end
  // of a record without its newline. That page's cursor was never committed,
  // so the page is delivered again; the broken tail is cut so that the next
  // record starts on a line of its own.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
  int rd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rd < 0) return;
  char buf[4096];
  off_t end = st.st_size;
  off_t keep = -1;
  while (end > 0 && keep < 0) {
    off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    ssize_t n = ::pread(rd, buf, static_cast<size_t>(end - start), start);
    if (n <= 0) break;
    if (end == st.st_size && buf[n - 1] == '\n') {
      ::close(rd);
      return;  // complete
    }
    for (ssize_t i = n - 1; i >= 0; --i)
      if (buf[i] == '\n') {
        keep = start + i + 1;
        break;
      }
    if (keep < 0 && start == 0) keep = 0;
    end = start;
  }
  ::close(rd);
  if (keep >= 0 && keep < st.st_size && ::ftruncate(fd, keep) == 0)
    log_line(LogLevel::kWarn, "",
             "sink " + name() + ": removed " + std::to_string(st.st_size - keep) +
                 " bytes of an incomplete record at the end of " + path_ +
                 " (left by an interrupted write; those events are delivered again)");
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

std::string FileSink::probe(bool& ok) {
  std::lock_guard lock(reopen_mu_);
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
    ok = false;
    return "cannot stat " + path_;
  }
  ok = true;
  return "appends to " + path_ + " (" + std::to_string(st.st_size) + " bytes)";
}

StdoutSink::StdoutSink(const std::string& name, int fd) : LineSink(name), fd_(fd) {
  // A closed reader must fail the write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

void StdoutSink::write_locked(const std::string& lines) {
  if (int err = write_all(fd_, lines.data(), lines.size()))
    throw SinkError("sink " + name() + ": cannot write to standard output: " + std::strerror(err));
}

void StdoutSink::flush_locked() {}

std::string StdoutSink::probe(bool& ok) {
  ok = true;
  return "writes to standard output";
}

std::unique_ptr<Sink> make_sink(const SinkConfig& config, const HttpConfig& http) {
  if (config.type == "file")
    return std::make_unique<FileSink>(config.name, config.path, config.sync);
  if (config.type == "http" || config.type == "splunk_hec" || config.type == "elasticsearch")
    return make_network_sink(config, http);
  if (config.type == "kafka") {
    const KafkaModule* module = nullptr;
    try {
      module = &kafka_module();
    } catch (const std::runtime_error& e) {
      throw SinkError("sink " + config.name + ": " + e.what());
    }
    return module->make_sink(config);
  }
  return std::make_unique<StdoutSink>(config.name);
}

}  // namespace siphon
