// RawPage over any body: a page or a siphon::Error. A page's records are one
// line each, read back as JSON objects that write out as the items of the
// same body parsed into a DOM, and its fields equal the DOM's strings.
#include <rapidjson/document.h>

#include <cstdint>
#include <siphon/raw_page.hpp>
#include <string>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  siphon::Response r;
  r.status = 200;
  r.body.assign(reinterpret_cast<const char*>(data), size);
  siphon::RawPage::Spec spec;
  spec.records = "data";
  spec.fields = {"id", "a.b"};
  spec.members = {"next"};
  try {
    siphon::RawPage page(r, spec, "GET /fuzz");
    rapidjson::Document whole;
    whole.Parse(r.body.data(), r.body.size());
    if (whole.HasParseError() || !whole.IsObject() || !whole.HasMember("data") ||
        !whole["data"].IsArray())
      siphon::fuzz::property_failed("RawPage took a body the DOM refuses: " + r.body);
    size_t n = 0;
    for (const auto& item : whole["data"].GetArray()) {
      if (!item.IsObject()) continue;
      if (n >= page.size()) siphon::fuzz::property_failed("RawPage lost a record: " + r.body);
      std::string text(page.record(n));
      if (text.find('\n') != std::string::npos || text.find('\r') != std::string::npos)
        siphon::fuzz::property_failed("a record holds a line break: " + text);
      rapidjson::Document one;
      one.Parse(text.c_str(), text.size());
      // Compared as written out: operator== is wrong for repeated names.
      if (one.HasParseError() || siphon::to_json(one) != siphon::to_json(item))
        siphon::fuzz::property_failed("record " + std::to_string(n) + " differs: " + text);
      auto id = item.FindMember("id");
      if (id != item.MemberEnd() && id->value.IsString() &&
          page.field(n, 0) != std::string_view(id->value.GetString(), id->value.GetStringLength()))
        siphon::fuzz::property_failed("field id differs: " + text);
      ++n;
    }
    if (n != page.size()) siphon::fuzz::property_failed("RawPage made up a record: " + r.body);
  } catch (const siphon::Error&) {
  }
  return 0;
}
