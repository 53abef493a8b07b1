#include "cli/progress.hpp"

#include <siphon/time_format.hpp>

namespace siphon {

std::string progress_text(int64_t events, uint32_t pages, int64_t position_ms, int64_t elapsed_ms) {
  std::string s = std::to_string(events) + " events, " + std::to_string(pages) +
                  (pages == 1 ? " page" : " pages");
  if (position_ms > 0) s += ", at " + timefmt::rfc3339(position_ms);
  double seconds = static_cast<double>(elapsed_ms) / 1000.0;
  if (seconds > 0) {
    char rate[32];
    std::snprintf(rate, sizeof rate, ", %.0f events/s", static_cast<double>(events) / seconds);
    s += rate;
  }
  return s;
}

Progress::Progress(bool terminal, std::FILE* out, std::function<void(const std::string&)> log,
                   int64_t start_ms, int64_t period_ms)
    : terminal_(terminal),
      out_(out),
      log_(std::move(log)),
      start_ms_(start_ms),
      period_ms_(terminal ? 200 : period_ms),
      last_shown_ms_(start_ms) {}

void Progress::update(int64_t events, uint32_t pages, int64_t position_ms, int64_t now_ms) {
  events_ = events;
  pages_ = pages;
  if (position_ms > position_ms_) position_ms_ = position_ms;
  if (now_ms - last_shown_ms_ < period_ms_) return;
  last_shown_ms_ = now_ms;
  draw(now_ms);
}

void Progress::draw(int64_t now_ms) {
  std::string text = progress_text(events_, pages_, position_ms_, now_ms - start_ms_);
  if (terminal_) {
    // Carriage return and erase-line: the status line is redrawn in place.
    std::fprintf(out_, "\r\033[K%s", text.c_str());
    std::fflush(out_);
    drawn_ = true;
  } else if (log_) {
    log_("progress: " + text);
  }
}

void Progress::finish(int64_t now_ms) {
  if (!terminal_ || pages_ == 0) return;
  draw(now_ms);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace siphon
