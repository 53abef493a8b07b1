// elasticsearch_imitation.hpp - a local imitation of Elasticsearch's (and
// OpenSearch's) root and _bulk APIs, as Elastic documents them:
//
//   GET  /          {"name":..,"cluster_name":..,"version":{"number":"8.11.1"},
//                   "tagline":"You Know, for Search"}
//   POST /_bulk, POST /<index>/_bulk   NDJSON action/document pairs
//        (Content-Type application/x-ndjson; gzip accepted). `create` with
//        an _id that exists -> item 409 version_conflict_engine_exception;
//        a document that is not a JSON object -> item 400
//        mapper_parsing_exception; else item 201 "created". The answer is
//        200 {"took":..,"errors":bool,"items":[{"create":{..,"status":N}}]}
//        whatever the items' fate; a malformed action line -> 400 for the
//        whole request. ?pipeline= is recorded.
//   Security: with credentials set, requests without them (Basic or
//        ApiKey) get 401 security_exception.
//
// Switches: the next N items get 429 es_rejected_execution_exception (or
// another status); items whose document holds a marker get a permanent
// 400. Faults (whole-request 5xx, delays, drops) come from the base class.
// Thread-safe.
#ifndef SIPHON_TESTS_ELASTICSEARCH_IMITATION_HPP
#define SIPHON_TESTS_ELASTICSEARCH_IMITATION_HPP

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class ElasticsearchImitation : public Imitation {
 public:
  // Requests must authenticate as user:password (Basic) or with the API key.
  void require_basic(const std::string& user, const std::string& password);
  void require_api_key(const std::string& api_key);
  // The next `n` bulk items (whatever their document) get `status`
  // (429: es_rejected_execution_exception; 5xx: unavailable_shards_exception).
  void reject_next_items(int n, int status = 429);
  // Items whose document contains `marker` get 400 mapper_parsing_exception.
  void refuse_documents_containing(const std::string& marker);
  // Stored documents of an index: _id -> document.
  std::map<std::string, std::string> documents(const std::string& index) const;
  size_t document_count() const;
  // Bulk items received (every attempt), items answered 409, pipelines asked for.
  size_t items_received() const;
  size_t conflicts() const;
  std::vector<std::string> pipelines() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  mutable std::mutex mu_;
  std::string basic_;    // expected Authorization value, "" = none
  std::string api_key_;  // expected Authorization value, "" = none
  int reject_left_ = 0;
  int reject_status_ = 429;
  std::string refuse_marker_;
  std::map<std::string, std::map<std::string, std::string>> indices_;
  size_t items_ = 0;
  size_t conflicts_ = 0;
  std::vector<std::string> pipelines_;
};

}  // namespace siphon::imitation

#endif
