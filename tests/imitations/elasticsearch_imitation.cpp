#include "elasticsearch_imitation.hpp"

#include <rapidjson/document.h>

#include <siphon/auth_helpers.hpp>

namespace siphon::imitation {
namespace {

std::string item(const std::string& index, const std::string& id, int status,
                 const std::string& error_type, const std::string& reason) {
  std::string out = "{\"create\":{\"_index\":\"" + json_escape(index) + "\",\"_id\":\"" +
                    json_escape(id) + "\",\"status\":" + std::to_string(status);
  if (error_type.empty())
    out += ",\"result\":\"created\",\"_version\":1";
  else
    out +=
        ",\"error\":{\"type\":\"" + error_type + "\",\"reason\":\"" + json_escape(reason) + "\"}";
  return out + "}}";
}

}  // namespace

void ElasticsearchImitation::require_basic(const std::string& user, const std::string& password) {
  std::lock_guard lock(mu_);
  basic_ = "Basic " + auth::base64_encode(user + ":" + password);
}

void ElasticsearchImitation::require_api_key(const std::string& api_key) {
  std::lock_guard lock(mu_);
  api_key_ = "ApiKey " + api_key;
}

void ElasticsearchImitation::reject_next_items(int n, int status) {
  std::lock_guard lock(mu_);
  reject_left_ = n;
  reject_status_ = status;
}

void ElasticsearchImitation::refuse_documents_containing(const std::string& marker) {
  std::lock_guard lock(mu_);
  refuse_marker_ = marker;
}

std::map<std::string, std::string> ElasticsearchImitation::documents(
    const std::string& index) const {
  std::lock_guard lock(mu_);
  auto it = indices_.find(index);
  return it == indices_.end() ? std::map<std::string, std::string>{} : it->second;
}

size_t ElasticsearchImitation::document_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [k, v] : indices_) n += v.size();
  return n;
}

size_t ElasticsearchImitation::items_received() const {
  std::lock_guard lock(mu_);
  return items_;
}

size_t ElasticsearchImitation::conflicts() const {
  std::lock_guard lock(mu_);
  return conflicts_;
}

std::vector<std::string> ElasticsearchImitation::pipelines() const {
  std::lock_guard lock(mu_);
  return pipelines_;
}

void ElasticsearchImitation::handle(const Request& request, Reply& reply) {
  std::lock_guard lock(mu_);
  if (!basic_.empty() || !api_key_.empty()) {
    std::string auth = request.header("authorization");
    if ((basic_.empty() || auth != basic_) && (api_key_.empty() || auth != api_key_)) {
      reply.status = 401;
      reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"security\"");
      reply.body =
          "{\"error\":{\"type\":\"security_exception\",\"reason\":\"unable to authenticate "
          "user\"},\"status\":401}";
      return;
    }
  }
  if (request.method == "GET" && request.path == "/") {
    reply.body =
        "{\"name\":\"imitation\",\"cluster_name\":\"siphon-test\",\"version\":{\"number\":"
        "\"8.11.1\"},\"tagline\":\"You Know, for Search\"}";
    return;
  }
  bool bulk = request.path == "/_bulk" ||
              (request.path.size() > 6 && request.path.substr(request.path.size() - 6) == "/_bulk");
  if (!bulk || request.method != "POST") {
    reply.status = 404;
    reply.body = "{\"error\":{\"type\":\"no_handler\"},\"status\":404}";
    return;
  }
  if (request.has_param("pipeline")) pipelines_.push_back(request.param("pipeline"));
  std::string default_index;
  if (request.path != "/_bulk") default_index = request.path.substr(1, request.path.size() - 7);
  std::string body = decoded_body(request);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < body.size();) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    if (nl > pos) lines.push_back(body.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() % 2 != 0 || lines.empty()) {
    reply.status = 400;
    reply.body =
        "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"The bulk request must "
        "be terminated by a newline [\\\\n]\"},\"status\":400}";
    return;
  }
  std::string items;
  bool errors = false;
  for (size_t i = 0; i < lines.size(); i += 2) {
    rapidjson::Document action;
    action.Parse(lines[i].data(), lines[i].size());
    if (action.HasParseError() || !action.IsObject() || !action.HasMember("create") ||
        !action["create"].IsObject()) {
      reply.status = 400;
      reply.body =
          "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"Malformed action/"
          "metadata line\"},\"status\":400}";
      return;
    }
    const auto& meta = action["create"];
    std::string index = meta.HasMember("_index") && meta["_index"].IsString()
                            ? meta["_index"].GetString()
                            : default_index;
    std::string id = meta.HasMember("_id") && meta["_id"].IsString() ? meta["_id"].GetString()
                                                                     : std::to_string(items_);
    ++items_;
    const std::string& doc = lines[i + 1];
    std::string one;
    rapidjson::Document d;
    d.Parse(doc.data(), doc.size());
    if (reject_left_ > 0) {
      --reject_left_;
      one = reject_status_ == 429 ? item(index, id, 429, "es_rejected_execution_exception",
                                         "rejected execution of coordinating operation")
                                  : item(index, id, reject_status_, "unavailable_shards_exception",
                                         "primary shard is not active");
    } else if (d.HasParseError() || !d.IsObject()) {
      one = item(index, id, 400, "mapper_parsing_exception", "failed to parse");
    } else if (!refuse_marker_.empty() && doc.find(refuse_marker_) != std::string::npos) {
      one = item(index, id, 400, "mapper_parsing_exception",
                 "failed to parse field [event.bad] of type [long]");
    } else if (indices_[index].count(id)) {
      ++conflicts_;
      one = item(index, id, 409, "version_conflict_engine_exception",
                 "[" + id + "]: version conflict, document already exists");
    } else {
      indices_[index][id] = doc;
      one = item(index, id, 201, "", "");
    }
    if (one.find("\"error\"") != std::string::npos) errors = true;
    items += (items.empty() ? "" : ",") + one;
  }
  reply.body = std::string("{\"took\":3,\"errors\":") + (errors ? "true" : "false") +
               ",\"items\":[" + items + "]}";
}

}  // namespace siphon::imitation
