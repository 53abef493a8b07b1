#include <unistd.h>

#include "state/state_store.hpp"

namespace siphon {

std::string this_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace siphon
