// The `elasticsearch` sink (also OpenSearch): each batch is one _bulk
// request of `create` actions, one per record, the record line as the
// document. Each document's _id is the record's deterministic record_id (a
// hash of app and event bytes), so a resent record is not stored twice:
// 409 (version conflict: the _id exists) counts as already there.
// Every item of the response is checked: a 200 with "errors": true is no
// acknowledgement. Items refused with 429 or 5xx are sent again, alone,
// with the host's backoff; an item refused with another 4xx fails the
// delivery naming its error. `index` may name {type}, {app} and {service};
// `pipeline` is passed on; auth is basic (username, password) or an API key.
#ifndef SIPHON_HOST_SINK_ELASTICSEARCH_SINK_HPP
#define SIPHON_HOST_SINK_ELASTICSEARCH_SINK_HPP

#include "sink/network_sink.hpp"

namespace siphon {

class ElasticsearchSink : public NetworkSink {
 public:
  using NetworkSink::NetworkSink;
  std::string probe(bool& ok) override;

 protected:
  void send_batch(const RecordBatch& batch, size_t first, size_t last, const SinkSecrets& secrets,
                  StopSignal* stop) override;
  size_t record_cost(const RecordBatch& batch, size_t i) const override {
    return batch.records[i].line_size + 120;
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers(const SinkSecrets& secrets) const;
  std::string bulk_url() const;
};

// The index name for an app: {type}, {app} and {service} replaced.
std::string expand_index(const std::string& pattern, const RecordBatch& batch);

}  // namespace siphon

#endif
