// Sinks: where records go. write() takes whole lines and writes them in one
// piece, so several apps sharing a sink never interleave partial lines;
// flush() makes them durable (fdatasync, unless the sink has sync: false)
// before the caller commits a cursor. Both throw SinkError on failure.
// reopen() serves SIGHUP (log rotation). Thread-safe.
#ifndef SIPHON_HOST_SINK_SINK_HPP
#define SIPHON_HOST_SINK_SINK_HPP

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "config/config.hpp"

namespace siphon {

class SinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Sink {
 public:
  virtual ~Sink() = default;
  const std::string& name() const { return name_; }
  // Writes `lines` (whole records, each ending in \n) and makes them durable.
  void deliver(const std::string& lines);
  virtual void reopen() {}

 protected:
  explicit Sink(std::string name) : name_(std::move(name)) {}
  virtual void write_locked(const std::string& lines) = 0;
  virtual void flush_locked() = 0;

 private:
  std::string name_;
  std::mutex mu_;
};

// Appends to a file (created 0640 when missing; never truncated).
class FileSink : public Sink {
 public:
  FileSink(const std::string& name, const std::string& path, bool sync);
  ~FileSink() override;
  void reopen() override;

 protected:
  void write_locked(const std::string& lines) override;
  void flush_locked() override;

 private:
  void open();
  void drop_incomplete_tail(int fd);
  std::string path_;
  bool sync_;
  int fd_ = -1;
  std::mutex reopen_mu_;
};

// Writes to standard output (or another descriptor, for tests).
class StdoutSink : public Sink {
 public:
  explicit StdoutSink(const std::string& name, int fd = 1);

 protected:
  void write_locked(const std::string& lines) override;
  void flush_locked() override;

 private:
  int fd_;
};

std::unique_ptr<Sink> make_sink(const SinkConfig& config);

}  // namespace siphon

#endif
