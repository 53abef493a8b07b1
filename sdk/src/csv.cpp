#include <csv.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <siphon/csv.hpp>
#include <siphon/sdk.hpp>

namespace siphon::csv {
namespace {

struct Collector {
  std::vector<std::string> header;
  std::vector<std::string> fields;
  bool have_header = false;
  JsonRows out;

  void end_row() {
    if (!have_header) {
      header = std::move(fields);
      have_header = true;
      fields.clear();
      return;
    }
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i < header.size()) {
        w.Key(header[i].data(), static_cast<rapidjson::SizeType>(header[i].size()));
      } else {
        std::string key = "_column_" + std::to_string(i + 1);
        w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      }
      w.String(fields[i].data(), static_cast<rapidjson::SizeType>(fields[i].size()));
    }
    w.EndObject();
    if (fields.size() < header.size()) ++out.short_rows;
    if (fields.size() > header.size()) ++out.long_rows;
    out.json.emplace_back(sb.GetString(), sb.GetSize());
    fields.clear();
  }
};

void on_field(void* data, size_t len, void* user) {
  static_cast<Collector*>(user)->fields.emplace_back(static_cast<const char*>(data), len);
}

void on_row(int, void* user) { static_cast<Collector*>(user)->end_row(); }

}  // namespace

JsonRows to_json_rows(std::string_view body, const std::string& what) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
    throw Error(what + ": cannot start the CSV parser");
  std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&parser, csv_free);
  Collector c;
  const size_t parsed = csv_parse(&parser, body.data(), body.size(), on_field, on_row, &c);
  if (parsed != body.size())
    throw Error(what + ": CSV " + csv_strerror(csv_error(&parser)) + " near byte " +
                std::to_string(parsed));
  if (csv_fini(&parser, on_field, on_row, &c) != 0 || csv_error(&parser) != CSV_SUCCESS)
    throw Error(what + ": CSV " + csv_strerror(csv_error(&parser)) + " at the end of the file");
  return std::move(c.out);
}

}  // namespace siphon::csv
