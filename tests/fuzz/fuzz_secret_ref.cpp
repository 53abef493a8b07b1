// Secret references: ${env:NAME} and ${file:PATH} resolution over any text.
// Either a value or a SecretRefError; nothing else may escape.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/secret_ref.hpp"
#include "fuzz_util.hpp"

namespace {

std::string base_dir() {
  static std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "siphon-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::filesystem::create_directories(tmpl + "/secrets");
    std::ofstream(tmpl + "/secrets/key") << "s3cret-value\n\n";
    std::ofstream(tmpl + "/secrets/empty");
    ::setenv("SIPHON_FUZZ_TOKEN", "token-value", 1);
    return tmpl;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (siphon::fuzz::touches_system_files(text)) return -1;
  try {
    std::string warning;
    std::string value = siphon::resolve_secret_refs(text, base_dir(), &warning);
    if (!siphon::has_secret_ref(text) && text.find("${") == std::string::npos && value != text)
      siphon::fuzz::property_failed("text without references changed");
  } catch (const siphon::SecretRefError& e) {
    if (std::string(e.what()).empty()) siphon::fuzz::property_failed("empty error");
  }
  return 0;
}
