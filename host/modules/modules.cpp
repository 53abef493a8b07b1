#include "modules/modules.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace siphon {
namespace {

const ModuleHost kHost{&log_enabled, &log_line};

// Loads `file` from module_dir() once and returns siphon_module_<name>()'s
// table, checked against this build.
template <class Table>
const Table& load(const char* name, const char* what) {
  static std::mutex mu;
  static const Table* table = nullptr;
  std::lock_guard lock(mu);
  if (table) return *table;
  const std::string path = module_dir() + "/siphon-" + name + ".so";
  const std::string at = std::string(what) + " needs the module " + path + ": ";
  if (!std::filesystem::exists(path)) throw std::runtime_error(at + "it is missing");
  // Never unloaded: objects it made live as long as the process.
  static boost::dll::shared_library lib;
  try {
    lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw std::runtime_error(at + "cannot be loaded: " + e.what());
  }
  const std::string symbol = std::string("siphon_module_") + name;
  if (!lib.has(symbol)) throw std::runtime_error(at + "it has no " + symbol + "()");
  const Table* t = lib.get<const Table*()>(symbol)();
  if (!t || std::string(t->build) != SIPHON_MODULE_BUILD)
    throw std::runtime_error(at + "it is from another build (" + (t ? t->build : "?") +
                             ", this siphon is " + SIPHON_MODULE_BUILD + ")");
  t->attach(kHost);
  table = t;
  return *table;
}

}  // namespace

std::string module_dir() {
  auto exe = boost::dll::program_location().parent_path();
  return std::filesystem::path(exe.string() + "/" SIPHON_MODULE_RELDIR).lexically_normal().string();
}

const PostgresModule& postgres_module() {
  return load<PostgresModule>("postgres", "PostgreSQL state");
}

const KafkaModule& kafka_module() { return load<KafkaModule>("kafka", "the kafka sink"); }

}  // namespace siphon
