// siphon-salesforce: Salesforce Event Monitoring log files (EventLogFile),
// one app type per EventType, under StreamAlert's names.
#include <siphon/sdk.hpp>

#include "event_log_app.hpp"

using siphon::Variant;
using siphon::salesforce::EventLogApp;

SIPHON_PLUGIN(
    "siphon-salesforce", "1.0.0",
    Variant<EventLogApp, "console", "Console", "Salesforce Console events (EventLogFile Console)">,
    Variant<EventLogApp, "login", "Login", "Salesforce logins (EventLogFile Login)">,
    Variant<EventLogApp, "loginas", "LoginAs",
            "Salesforce admins logging in as other users (EventLogFile LoginAs)">,
    Variant<EventLogApp, "report", "Report", "Salesforce report runs (EventLogFile Report)">,
    Variant<EventLogApp, "reportexport", "ReportExport",
            "Salesforce report exports (EventLogFile ReportExport)">)
