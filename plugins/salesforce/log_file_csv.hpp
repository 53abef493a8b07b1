// log_file_csv.hpp - an EventLogFile body (CSV) as JSON objects, one per row,
// keyed by the header row. Parsing is libcsv's, in strict mode: quoted fields
// may hold commas, doubled quotes and line breaks; CRLF or LF row ends and a
// leading UTF-8 byte order mark are accepted.
#ifndef SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP
#define SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP

#include <string>
#include <string_view>
#include <vector>

namespace siphon::salesforce {

struct CsvRows {
  std::vector<std::string> json;  // one compact JSON object per data row, in file order
  size_t short_rows = 0;          // rows with fewer fields than the header (missing keys left out)
  size_t long_rows = 0;           // rows with more fields (extras keyed "_column_<n>", 1-based)
};

// Parses `body`; throws siphon::Error("<what>: CSV ...") naming the byte
// offset when the text is not valid CSV. An empty body has no rows.
CsvRows csv_to_json_rows(std::string_view body, const std::string& what);

}  // namespace siphon::salesforce

#endif  // SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP
