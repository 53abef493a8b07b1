// siphon-slack: Slack team access logs and integration logs (Web API).
#include <siphon/sdk.hpp>

#include "slack_access.hpp"
#include "slack_integration.hpp"

SIPHON_PLUGIN("siphon-slack", "1.0.0", siphon::slack::SlackAccess, siphon::slack::SlackIntegration)
