// siphon-duo: Duo Admin API authentication and administrator logs.
#include <siphon/sdk.hpp>

#include "duo_admin.hpp"
#include "duo_auth.hpp"

SIPHON_PLUGIN("siphon-duo", "1.0.0", siphon::duo::DuoAuth, siphon::duo::DuoAdmin)
