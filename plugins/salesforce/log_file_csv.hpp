// log_file_csv.hpp - an EventLogFile body (CSV) as JSON rows keyed by its
// header row, read by the SDK's CSV reader (siphon/csv.hpp).
#ifndef SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP
#define SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP

#include <siphon/csv.hpp>

namespace siphon::salesforce {

using CsvRows = csv::JsonRows;
inline CsvRows csv_to_json_rows(std::string_view body, const std::string& what) {
  return csv::to_json_rows(body, what);
}

}  // namespace siphon::salesforce

#endif  // SIPHON_PLUGINS_SALESFORCE_LOG_FILE_CSV_HPP
