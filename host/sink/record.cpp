#include "sink/record.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstdio>

namespace siphon {
namespace {

// Validates without building a DOM; only the top-level type is recorded.
struct TopLevel : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevel> {
  int depth = 0;
  bool object_at_top = false;
  bool Default() { return true; }
  bool StartObject() {
    if (depth++ == 0) object_at_top = true;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

RecordWriter::RecordWriter(const std::string& app, const std::string& type,
                           const std::string& service) {
  prefix_ = "{\"app\":" + json_quote(app) + ",\"type\":" + json_quote(type) +
            ",\"service\":" + json_quote(service) + ",\"collected_at\":\"";
}

bool RecordWriter::append(std::string& out, std::string_view event, const std::string& collected_at,
                          std::string& why) const {
  rapidjson::MemoryStream ms(event.data(), event.size());
  rapidjson::Reader reader;
  TopLevel handler;
  rapidjson::ParseResult ok =
      reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(
          ms, handler);
  if (!ok) {
    why = std::string("event is not valid JSON: ") + rapidjson::GetParseError_En(ok.Code()) +
          " at offset " + std::to_string(ok.Offset());
    return false;
  }
  if (!handler.object_at_top) {
    why = "event is not a JSON object";
    return false;
  }
  size_t end = ms.Tell();
  for (size_t i = end; i < event.size(); ++i) {
    char c = event[i];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      why = "event has trailing data after the JSON object";
      return false;
    }
  }
  event = event.substr(0, end);
  out += prefix_;
  out += collected_at;
  out += "\",\"event\":";
  if (event.find_first_of("\r\n") == std::string_view::npos) {
    out += event;
  } else {
    // Drop line breaks outside strings (inside strings they are escaped).
    bool in_string = false, escaped = false;
    for (char c : event) {
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '\n' || c == '\r') {
        continue;
      }
      out += c;
    }
  }
  out += "}\n";
  return true;
}

}  // namespace siphon
