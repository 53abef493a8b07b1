// siphon-salesforce: Salesforce Event Monitoring log files (EventLogFile),
// one app type per EventType, under StreamAlert's names.
#include <siphon/sdk.hpp>

#include "event_log_app.hpp"

namespace siphon::salesforce {

class SalesforceConsole : public EventLogApp {
 public:
  static std::string type() { return "console"; }
  static std::string description() { return "Salesforce Console events (EventLogFile Console)"; }
  explicit SalesforceConsole(Context& ctx) : EventLogApp(ctx, "Console") {}
};

class SalesforceLogin : public EventLogApp {
 public:
  static std::string type() { return "login"; }
  static std::string description() { return "Salesforce logins (EventLogFile Login)"; }
  explicit SalesforceLogin(Context& ctx) : EventLogApp(ctx, "Login") {}
};

class SalesforceLoginAs : public EventLogApp {
 public:
  static std::string type() { return "loginas"; }
  static std::string description() {
    return "Salesforce admins logging in as other users (EventLogFile LoginAs)";
  }
  explicit SalesforceLoginAs(Context& ctx) : EventLogApp(ctx, "LoginAs") {}
};

class SalesforceReport : public EventLogApp {
 public:
  static std::string type() { return "report"; }
  static std::string description() { return "Salesforce report runs (EventLogFile Report)"; }
  explicit SalesforceReport(Context& ctx) : EventLogApp(ctx, "Report") {}
};

class SalesforceReportExport : public EventLogApp {
 public:
  static std::string type() { return "reportexport"; }
  static std::string description() {
    return "Salesforce report exports (EventLogFile ReportExport)";
  }
  explicit SalesforceReportExport(Context& ctx) : EventLogApp(ctx, "ReportExport") {}
};

}  // namespace siphon::salesforce

SIPHON_PLUGIN("siphon-salesforce", "1.0.0", siphon::salesforce::SalesforceConsole,
              siphon::salesforce::SalesforceLogin, siphon::salesforce::SalesforceLoginAs,
              siphon::salesforce::SalesforceReport, siphon::salesforce::SalesforceReportExport)
