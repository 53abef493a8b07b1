// siphon/csv.hpp - a CSV body (a log export, a report) as JSON objects, one
// per data row, keyed by the header row. Parsing is libcsv's, in strict mode:
// quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF
// row ends and a leading UTF-8 byte order mark are accepted. Every value is a
// JSON string, as CSV does not type its fields.
//
// Link the plugin with Siphon::csv (it brings libcsv):
//   siphon_add_plugin(my-plugin SOURCES my_app.cpp LIBRARIES Siphon::csv)
#ifndef SIPHON_CSV_HPP
#define SIPHON_CSV_HPP

#include <string>
#include <string_view>
#include <vector>

namespace siphon::csv {

struct JsonRows {
  std::vector<std::string> json;  // one compact JSON object per data row, in file order
  size_t short_rows = 0;          // rows with fewer fields than the header (missing keys left out)
  size_t long_rows = 0;           // rows with more fields (extras keyed "_column_<n>", 1-based)
};

// Parses `body`; throws siphon::Error("<what>: CSV ...") naming the byte
// offset when the text is not valid CSV. An empty body has no rows.
JsonRows to_json_rows(std::string_view body, const std::string& what);

}  // namespace siphon::csv

#endif  // SIPHON_CSV_HPP
