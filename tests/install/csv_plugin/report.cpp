// A plugin built out of tree with the SDK's optional blocks: it reads a CSV
// export (Siphon::csv) one row per poll, its cursor a struct declared once
// (json_fields.hpp), so the test can check linking, rows and resuming.
#include <siphon/csv.hpp>
#include <siphon/json_fields.hpp>
#include <siphon/sdk.hpp>
#include <string>

namespace {

constexpr char kExport[] = "user,action\r\nalice,\"login, web\"\r\nbob,logout\r\n";

struct Position {
  int64_t row = 0;
  template <class F>
  void fields(F& f) {
    f("row", row);
  }
};

}  // namespace

class ReportRows : public siphon::App {
 public:
  static std::string service() { return "report"; }
  static std::string type() { return "rows"; }
  static std::string description() { return "The rows of a fixed CSV export"; }
  static siphon::AuthInfo required_auth_info() { return {}; }
  explicit ReportRows(siphon::Context& ctx) : App(ctx) {}

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    Position at = cursor.empty() ? Position{} : siphon::json::read_fields<Position>(cursor.value);
    auto rows = siphon::csv::to_json_rows(kExport, "export").json;
    siphon::Logs logs;
    if (at.row < static_cast<int64_t>(rows.size())) logs.add(rows[static_cast<size_t>(at.row++)]);
    logs.more_to_poll = at.row < static_cast<int64_t>(rows.size());
    logs.next_cursor = siphon::json::write_fields(at);
    return logs;
  }
};

SIPHON_PLUGIN("report", "1.0.0", ReportRows)
