// The `splunk_hec` sink: each batch is one POST to
// <url>/services/collector/event with `Authorization: Splunk <token>`,
// holding one HEC event object per record: the record as `event`, plus
// sourcetype (default siphon:<app type>) and the optional index, source and
// host. With `ack: true` (the default) every request carries this sink's
// channel GUID in X-Splunk-Request-Channel, and a batch is acknowledged only
// when /services/collector/ack says its ackId is true; the delivery fails
// when that takes longer than ack_timeout. A server that answers without an
// ackId (acknowledgement off for the token) is taken at its 2xx, which is
// logged once. 503 (server busy), other 5xx, 429 and transport errors are
// retried by the host's HTTP stack; any other 4xx (bad token, bad data)
// fails the delivery with HEC's text and code.
#ifndef SIPHON_HOST_SINK_SPLUNK_HEC_SINK_HPP
#define SIPHON_HOST_SINK_SPLUNK_HEC_SINK_HPP

#include <atomic>
#include <cstdint>

#include "sink/network_sink.hpp"

namespace siphon {

class SplunkHecSink : public NetworkSink {
 public:
  SplunkHecSink(const SinkConfig& config, const HttpConfig& http);
  std::string probe(bool& ok) override;
  // The channel GUID sent with every request.
  const std::string& channel() const { return channel_; }

  // Sends every batch of the page, then waits for all their ackIds. Batches
  // whose ackId is still false after ack_timeout are sent again (only they),
  // with the host's backoff, up to http.max_retries times.
  void deliver(const RecordBatch& batch, StopSignal* stop = nullptr) override;

 protected:
  void send_batch(const RecordBatch& batch, size_t first, size_t last, const SinkSecrets& secrets,
                  StopSignal* stop) override;
  size_t record_cost(const RecordBatch& batch, size_t i) const override {
    return batch.records[i].line_size + 80;
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers(const SinkSecrets& secrets) const;
  // Posts the batches [first, last) of `batch` and waits for their ackIds;
  // batches still not acknowledged after ack_timeout are posted again, with
  // backoff, up to http.max_retries times, then the delivery fails.
  void deliver_ranges(const RecordBatch& batch, std::vector<std::pair<size_t, size_t>> ranges,
                      const SinkSecrets& secrets, StopSignal* stop);
  // Posts one batch; returns its ackId, or -1 when the server gave none.
  int64_t post_batch(const RecordBatch& batch, size_t first, size_t last,
                     const SinkSecrets& secrets, StopSignal* stop);
  // Polls /services/collector/ack until every id is true or ack_timeout
  // passed; returns the ids still not true.
  std::vector<int64_t> await_acks(const RecordBatch& batch, std::vector<int64_t> ids,
                                  const SinkSecrets& secrets, StopSignal* stop);
  std::string channel_;
  std::atomic<bool> told_no_ack_{false};
};

}  // namespace siphon

#endif
