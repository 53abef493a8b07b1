// Sinks: where records go. deliver() takes one page of one app (a
// RecordBatch) and returns only once the sink has acknowledged every record
// of it: written and made durable for the file sink (fdatasync, unless
// `sync: false`), a 2xx for `http`, a true ackId for Splunk HEC, every bulk
// item created (or already there) for Elasticsearch. Anything less throws
// SinkError, and the caller then fails the run without committing the
// cursor. Line sinks write a page in one piece, so apps sharing a sink never
// interleave partial lines. reopen() serves SIGHUP (log rotation, secrets
// read again). probe() serves `siphon check --sinks`. Thread-safe: apps on
// worker threads deliver concurrently; a network sink holds no lock while
// it waits, so a slow sink delays only the apps that write to it.
#ifndef SIPHON_HOST_SINK_SINK_HPP
#define SIPHON_HOST_SINK_SINK_HPP

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "sink/record.hpp"
#include "util/stop_signal.hpp"

namespace siphon {

class SinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Sink {
 public:
  virtual ~Sink() = default;
  const std::string& name() const { return name_; }
  // Returns once every record of `batch` is acknowledged; throws SinkError
  // otherwise (the message names the sink and never holds a secret).
  // `stop`, when set, cuts retry and acknowledgement waits short (a throw).
  virtual void deliver(const RecordBatch& batch, StopSignal* stop = nullptr) = 0;
  virtual void reopen() {}
  // For `siphon check --sinks`: connects (without delivering anything) and
  // returns a one-line report; sets `ok` false when the sink is unusable.
  virtual std::string probe(bool& ok) = 0;
  // Whether delivery takes long enough (a network round trip, an fdatasync)
  // to be worth running while the app polls its next page. False where it is
  // a copy into memory: handing it to another thread would cost more.
  virtual bool slow_delivery() const { return true; }

 protected:
  explicit Sink(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

// A sink of lines (file, stdout): the page's lines written in one piece.
class LineSink : public Sink {
 public:
  void deliver(const RecordBatch& batch, StopSignal* stop = nullptr) override;
  // Writes `lines` (whole records, each ending in \n) and makes them durable.
  void deliver_lines(const std::string& lines);

 protected:
  explicit LineSink(std::string name) : Sink(std::move(name)) {}
  virtual void write_locked(const std::string& lines) = 0;
  virtual void flush_locked() = 0;

 private:
  std::mutex mu_;
};

// Appends to a file (created 0640 when missing; never truncated).
class FileSink : public LineSink {
 public:
  FileSink(const std::string& name, const std::string& path, bool sync);
  ~FileSink() override;
  void reopen() override;
  std::string probe(bool& ok) override;
  bool slow_delivery() const override { return sync_; }

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
class StdoutSink : public LineSink {
 public:
  explicit StdoutSink(const std::string& name, int fd = 1);
  std::string probe(bool& ok) override;

 protected:
  void write_locked(const std::string& lines) override;
  void flush_locked() override;

 private:
  int fd_;
};

// Makes the sink a config declares. `http` is the host's HTTP settings,
// whose retry policy and limits the network sinks share.
std::unique_ptr<Sink> make_sink(const SinkConfig& config, const HttpConfig& http = {});

}  // namespace siphon

#endif
