// Progress of one `siphon once` run (a long --since backfill above all), on
// stderr: events delivered, pages polled, the position in time reached (the
// newest event time the plugin reported, when it reports one) and the rate.
//
// On a terminal one status line is redrawn in place (at most 5 times a
// second) and ended when the run ends. Elsewhere (a pipe, a file, journald)
// a plain log line is written every `period_ms` instead, so a log keeps a
// readable trace without a flood. Not thread-safe: one run, one thread.
#ifndef SIPHON_HOST_CLI_PROGRESS_HPP
#define SIPHON_HOST_CLI_PROGRESS_HPP

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace siphon {

class Progress {
 public:
  // `terminal`: redraw on `out`; else `log` gets a line every `period_ms`.
  Progress(bool terminal, std::FILE* out, std::function<void(const std::string&)> log,
           int64_t start_ms, int64_t period_ms = 10000);
  // After each page: totals of the run so far; `position_ms` 0 = unknown.
  void update(int64_t events, uint32_t pages, int64_t position_ms, int64_t now_ms);
  // The run is over: a terminal line is drawn a last time and ended.
  void finish(int64_t now_ms);

 private:
  void draw(int64_t now_ms);

  bool terminal_;
  std::FILE* out_;
  std::function<void(const std::string&)> log_;
  int64_t start_ms_;
  int64_t period_ms_;
  int64_t last_shown_ms_;
  bool drawn_ = false;
  int64_t events_ = 0;
  uint32_t pages_ = 0;
  int64_t position_ms_ = 0;
};

// "1234 events, 5 pages, at 2026-11-27T03:00:00Z, 812 events/s"
std::string progress_text(int64_t events, uint32_t pages, int64_t position_ms, int64_t elapsed_ms);

}  // namespace siphon

#endif
