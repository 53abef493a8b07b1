// Response::json over any body: a document or a siphon::Error, and every
// document reads back through to_json the same.
#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>

#include "fuzz_util.hpp"

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
    if (siphon::to_json(second) != text) siphon::fuzz::property_failed("to_json is not stable");
  } catch (const siphon::Error&) {
  }
  return 0;
}
