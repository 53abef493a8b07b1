// The output record: one JSON object a line,
//   {"app":..,"type":..,"service":..,"collected_at":..,"event":<event bytes>}
// The event's bytes are passed through as the plugin gave them, after a
// validating parse (one JSON object, nothing else); newlines outside strings
// are the only thing removed, so that one event stays on one line.
#ifndef SIPHON_HOST_SINK_RECORD_HPP
#define SIPHON_HOST_SINK_RECORD_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace siphon {

// Where one record sits in RecordBatch::lines: the whole line (with its \n)
// and, inside it, the event's bytes.
struct RecordSpan {
  uint32_t line_offset = 0;
  uint32_t line_size = 0;
  uint32_t event_offset = 0;
  uint32_t event_size = 0;
};

// One page of records of one app, as a sink receives it: the lines exactly
// as the file sink writes them, and a span per record so that a network
// sink can cut the page into batches, wrap each record (a Splunk HEC
// `event`, an Elasticsearch document) or key it by its record_id.
struct RecordBatch {
  std::string app;
  std::string type;
  std::string service;
  std::string id_field;  // the plugin's event_id_field; "" = none
  std::string lines;
  std::vector<RecordSpan> records;

  std::string_view line(size_t i) const {
    return std::string_view(lines).substr(records[i].line_offset, records[i].line_size);
  }
  // The line without its trailing \n (one JSON object).
  std::string_view record(size_t i) const {
    return std::string_view(lines).substr(records[i].line_offset, records[i].line_size - 1);
  }
  std::string_view event(size_t i) const {
    return std::string_view(lines).substr(records[i].event_offset, records[i].event_size);
  }
  size_t size() const { return records.size(); }
  void clear() {
    lines.clear();
    records.clear();
  }
};

// The deterministic id of a record: lower-case hex SHA-256 of the app name,
// a NUL and the event's bytes (as they stand in the record line). The same
// event of the same app always gets the same id, so a resent record can be
// recognised downstream (Elasticsearch _id, later a Kafka key).
std::string record_id(std::string_view app, std::string_view event);

// The id of record `i` of a batch: with an id_field that the event holds as
// a string or number, the hex SHA-256 of the app, a NUL, "id:" and that
// value (the vendor's id survives changed event bytes); else record_id().
std::string record_id(const RecordBatch& batch, size_t i);

class RecordWriter {
 public:
  RecordWriter(const std::string& app, const std::string& type, const std::string& service);

  // Appends the record line for `event` to `out`. Returns false (and leaves
  // `out` as it was) when the event is not exactly one JSON object; `why`
  // then says what is wrong.
  bool append(std::string& out, std::string_view event, const std::string& collected_at,
              std::string& why) const;
  // The same, appending to a batch (its lines and a span for the record).
  bool append(RecordBatch& batch, std::string_view event, const std::string& collected_at,
              std::string& why) const;

 private:
  std::string prefix_;  // {"app":..,"type":..,"service":..,"collected_at":"
};

std::string json_quote(std::string_view text);

}  // namespace siphon

#endif
