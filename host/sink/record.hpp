// The output record: one JSON object a line,
//   {"app":..,"type":..,"service":..,"collected_at":..,"event":<event bytes>}
// The event's bytes are passed through as the plugin gave them, after a
// validating parse (one JSON object, nothing else); newlines outside strings
// are the only thing removed, so that one event stays on one line.
#ifndef SIPHON_HOST_SINK_RECORD_HPP
#define SIPHON_HOST_SINK_RECORD_HPP

#include <string>
#include <string_view>

namespace siphon {

class RecordWriter {
 public:
  RecordWriter(const std::string& app, const std::string& type, const std::string& service);

  // Appends the record line for `event` to `out`. Returns false (and leaves
  // `out` as it was) when the event is not exactly one JSON object; `why`
  // then says what is wrong.
  bool append(std::string& out, std::string_view event, const std::string& collected_at,
              std::string& why) const;

 private:
  std::string prefix_;  // {"app":..,"type":..,"service":..,"collected_at":"
};

std::string json_quote(std::string_view text);

}  // namespace siphon

#endif
