// Shared pieces of the reliability tests: a Box account with events and a
// config whose app pages in 50s, and an unprivileged-user switch for the
// faults that root would not feel (mode bits).
#ifndef SIPHON_TESTS_RELIABILITY_COMMON_HPP
#define SIPHON_TESTS_RELIABILITY_COMMON_HPP

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "harness.hpp"

namespace siphon::testing {

constexpr uid_t kNobody = 65534;

// A Box app "corp-box" reading 50 events a page from a started imitation.
struct BoxSetup {
  explicit BoxSetup(Workdir& dir, const std::string& extra = "") : box(dir) {
    dir.write_config(box_app_yaml("corp-box", box.base_url(), "", "      limit: \"50\"\n"), extra);
  }
  BoxAccount box;
};

// True when running as root: mode bits then do not stop us, so the tests run
// siphon as `nobody` to meet permission faults.
inline bool is_root() { return ::geteuid() == 0; }

// Makes the work folder usable by `nobody` (config, secrets, state, sink).
inline void hand_to_nobody(const Workdir& dir) {
  namespace fs = std::filesystem;
  ::chmod(dir.path().c_str(), 0755);
  ::chown(dir.path().c_str(), kNobody, kNobody);
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (::chown(e.path().c_str(), kNobody, kNobody) != 0) break;
}

// In the child: become `nobody` (group too, no supplementary groups).
inline void become_nobody() {
  if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
    ::_exit(125);
}

}  // namespace siphon::testing

#endif
