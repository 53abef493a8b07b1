// siphon-gsuite: Google Workspace audit activities from the Admin SDK Reports
// API, one app type per Reports application (gsuite_<applicationName>).
#include <siphon/sdk.hpp>

#include "activities_app.hpp"

namespace siphon::gsuite {

// The app type gsuite_<Application>: every type shares ActivitiesApp and
// differs only in the Reports applicationName it reads.
template <Literal Application, Literal Label>
class Reports : public ActivitiesApp {
 public:
  static std::string type() { return Application.value; }
  static std::string description() {
    return std::string("Google Workspace ") + Label.value + " audit activities (Reports API)";
  }
  explicit Reports(Context& ctx) : ActivitiesApp(ctx, Application.value) {}
};

}  // namespace siphon::gsuite

namespace g = siphon::gsuite;

SIPHON_PLUGIN("siphon-gsuite", "1.0.0",  //
              g::Reports<"access_transparency", "Access Transparency">,
              g::Reports<"admin", "Admin console">, g::Reports<"calendar", "Calendar">,
              g::Reports<"drive", "Drive">, g::Reports<"gcp", "Google Cloud (OS Login)">,
              g::Reports<"groups", "Groups">, g::Reports<"groups_enterprise", "Groups Enterprise">,
              g::Reports<"gplus", "Currents (Google+)">, g::Reports<"login", "Login">,
              g::Reports<"meet", "Meet">, g::Reports<"mobile", "Device management">,
              g::Reports<"rules", "Rules">, g::Reports<"saml", "SAML">,
              g::Reports<"token", "OAuth token">, g::Reports<"user_accounts", "User accounts">)
