// The config loader: YAML text (main file) in, a Config and problem lines out.
// Any input must give either problems or a config; nothing may crash or throw.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "fuzz_util.hpp"

namespace {

std::string work_dir() {
  static std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "siphon-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    // A drop-in for include: patterns to find.
    std::ofstream(tmpl + "/extra.yaml") << "apps:\n  - name: extra\n    type: duo_auth\n";
    return tmpl;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (siphon::fuzz::touches_system_files(text)) return -1;
  std::string path = work_dir() + "/siphon.yaml";
  {
    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    out << text;
  }
  std::vector<std::string> problems;
  siphon::Config cfg = siphon::load_config(path, problems);
  if (problems.empty()) {
    // A valid config is complete: a state path, a sink for every app.
    if (cfg.state_path.empty()) siphon::fuzz::property_failed("valid config without state path");
    for (const auto& app : cfg.apps)
      if (cfg.find_sink(app.sink) == nullptr)
        siphon::fuzz::property_failed("app " + app.name + " has no sink");
  }
  for (const auto& p : problems)
    if (p.empty()) siphon::fuzz::property_failed("empty problem line");
  return 0;
}
