// Response::json over any body: a document or a siphon::Error, and every
// document without floating-point numbers reads back through to_json the
// same. (Doubles are left out of that check: RapidJSON's default parse is
// not full precision, so a re-read double may move by one unit in the last
// place.)
#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>

#include "fuzz_util.hpp"

namespace {

bool has_double(const rapidjson::Value& v) {
  if (v.IsDouble()) return true;
  if (v.IsArray())
    for (const auto& x : v.GetArray())
      if (has_double(x)) return true;
  if (v.IsObject())
    for (const auto& m : v.GetObject())
      if (has_double(m.value)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  siphon::Response r;
  r.status = 200;
  r.body.assign(reinterpret_cast<const char*>(data), size);
  try {
    rapidjson::Document doc = r.json("GET /fuzz");
    std::string text = siphon::to_json(doc);
    siphon::Response again;
    again.body = text;
    rapidjson::Document second = again.json("GET /fuzz again");
    if (!has_double(doc) && siphon::to_json(second) != text)
      siphon::fuzz::property_failed("to_json is not stable: " + text);
  } catch (const siphon::Error&) {
  }
  return 0;
}
