#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <siphon/sdk.hpp>

namespace siphon {

void Logs::add(std::string_view json_object) {
  buffer_.append(json_object);
  offsets_.push_back(buffer_.size());
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  value.Accept(writer);
  return {sb.GetString(), sb.GetSize()};
}

void Logs::add(const rapidjson::Value& event) {
  // One buffer per thread, kept: no allocation per event.
  thread_local rapidjson::StringBuffer sb;
  sb.Clear();
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  event.Accept(writer);
  add(std::string_view(sb.GetString(), sb.GetSize()));
}

}  // namespace siphon
