#include "sink/kafka_producer.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>

#include "log/log.hpp"

namespace siphon {
namespace {

using Clock = std::chrono::steady_clock;

// Set by Siphon itself; an extra property may not override them, because the
// delivery guarantee rests on them or a setting of their own sets them.
constexpr std::array<std::string_view, 10> kReservedProperties = {"bootstrap.servers",
                                                                  "metadata.broker.list",
                                                                  "client.id",
                                                                  "enable.idempotence",
                                                                  "acks",
                                                                  "request.required.acks",
                                                                  "message.timeout.ms",
                                                                  "delivery.timeout.ms",
                                                                  "request.timeout.ms",
                                                                  "transactional.id"};

// Credentials librdkafka knows of: secret whether or not the settings say so.
constexpr std::array<std::string_view, 6> kSensitiveProperties = {"sasl.password",
                                                                  "sasl.oauthbearer.client.secret",
                                                                  "sasl.oauthbearer.config",
                                                                  "ssl.key.password",
                                                                  "ssl.key.pem",
                                                                  "ssl.keystore.password"};

bool contains(auto& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool is_secret(const KafkaProperty& p) {
  return p.is_secret || contains(kSensitiveProperties, p.name);
}

std::string render_topic(const std::string& tmpl, const std::string& app, const std::string& type) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, 6, "{type}") == 0) {
      out += type;
      i += 6;
    } else if (tmpl.compare(i, 5, "{app}") == 0) {
      out += app;
      i += 5;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

// Kafka's rule for topic names: 1 to 249 of [A-Za-z0-9._-], not "." or "..".
std::string topic_name_problem(const std::string& topic) {
  if (topic.empty()) return "is empty";
  if (topic.size() > 249) return "is longer than 249 characters";
  if (topic == "." || topic == "..") return "may not be \".\" or \"..\"";
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "holds a character Kafka refuses (only A-Z a-z 0-9 . _ - are allowed)";
  }
  return "";
}

std::string bootstrap_problem(const std::string& servers) {
  if (servers.empty()) return "required (host:port[,host:port...])";
  size_t start = 0;
  while (start <= servers.size()) {
    size_t comma = servers.find(',', start);
    std::string entry =
        servers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (size_t scheme = entry.find("://"); scheme != std::string::npos)
      entry = entry.substr(scheme + 3);
    size_t colon = entry.rfind(':');
    if (entry.empty() || colon == std::string::npos || colon == 0 || colon + 1 == entry.size())
      return "\"" + entry + "\" is not host:port";
    std::string port = entry.substr(colon + 1);
    bool digits =
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (port.size() > 5 || !digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
      return "\"" + entry + "\" has no valid port";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

// librdkafka's text for a rejected value may quote the value: a secret one
// is shown only when the redacted text no longer holds it.
std::string conf_error_text(const KafkaProperty& p, const char* errstr, const Redactor& redactor) {
  std::string text = redactor.apply(errstr);
  if (is_secret(p) && !p.value.empty() && text.find(p.value) != std::string::npos)
    return "refused by librdkafka (the value is secret and not shown)";
  return text;
}

}  // namespace

struct KafkaProducer::Impl {
  KafkaSettings settings;
  Redactor redactor;
  std::mutex mu;  // one call at a time
  // Held while rk is replaced, so that raise_fatal_error_for_test() can reach
  // the producer during a send() (which holds mu) without racing a recreate.
  std::mutex handle_mu;
  rd_kafka_t* rk = nullptr;
  std::uint64_t generation = 0;

  // Delivery tracking of the send() in progress. Touched only by the thread
  // inside send() (under mu): librdkafka calls on_delivery and on_error from
  // rd_kafka_poll() in that thread. A report carrying another call's id is
  // from an earlier, failed call and is ignored.
  std::uintptr_t next_call_id = 1;
  std::uintptr_t call_id = 0;
  size_t pending = 0;
  size_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string last_client_error;

  ~Impl() { destroy_producer(); }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (reinterpret_cast<std::uintptr_t>(msg->_private) != self->call_id) return;
    if (self->pending > 0) --self->pending;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (self->failed++ == 0) self->first_error = msg->err;
    }
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    std::string text = self->redactor.apply(reason ? reason : "");
    self->last_client_error = text;
    // Fatal errors are handled by send() through rd_kafka_fatal_error().
    log_line(err == RD_KAFKA_RESP_ERR__FATAL ? LogLevel::kError : LogLevel::kWarn, "",
             "kafka: " + text);
  }

  // Called from librdkafka's own threads: reads only the redactor, which
  // does not change after construction.
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* buf) {
    auto* self = static_cast<const Impl*>(rd_kafka_opaque(rk));
    LogLevel l = level <= 3   ? LogLevel::kError
                 : level == 4 ? LogLevel::kWarn
                 : level <= 6 ? LogLevel::kInfo
                              : LogLevel::kDebug;
    if (!log_enabled(l)) return;
    std::string text = std::string("kafka ") + (facility ? facility : "") + ": " + (buf ? buf : "");
    log_line(l, "", self ? self->redactor.apply(std::move(text)) : "kafka: (log line dropped)");
  }

  void create_producer() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[512] = {0};
    auto set = [&](const KafkaProperty& p) {
      if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK) {
        std::string text = conf_error_text(p, errstr, redactor);
        rd_kafka_conf_destroy(conf);
        throw KafkaError("kafka: property " + p.name + ": " + text, true);
      }
    };
    set({"bootstrap.servers", settings.bootstrap_servers});
    set({"client.id", settings.client_id});
    set({"enable.idempotence", "true"});
    set({"acks", "all"});
    set({"message.timeout.ms", std::to_string(settings.delivery_timeout_ms)});
    set({"request.timeout.ms", std::to_string(settings.ack_timeout_ms)});
    for (const auto& p : settings.properties) set(p);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &Impl::on_error);
    rd_kafka_conf_set_log_cb(conf, &Impl::on_log);
    rd_kafka_t* created = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!created) {
      rd_kafka_conf_destroy(conf);
      throw KafkaError("kafka: cannot create the producer: " + redactor.apply(errstr), true);
    }
    std::lock_guard handle_lock(handle_mu);
    rk = created;
    ++generation;
  }

  void destroy_producer() {
    if (!rk) return;
    // Only messages of failed calls can be left: nobody waits for them.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    rd_kafka_t* old = rk;
    {
      std::lock_guard handle_lock(handle_mu);
      rk = nullptr;
    }
    rd_kafka_destroy(old);
  }

  // "" when no fatal error is raised, else librdkafka's reason (redacted).
  std::string fatal_reason() {
    char buf[512] = {0};
    if (rd_kafka_fatal_error(rk, buf, sizeof buf) == RD_KAFKA_RESP_ERR_NO_ERROR) return "";
    std::string text = redactor.apply(buf);
    return text.empty() ? "unknown fatal error" : text;
  }

  [[noreturn]] void fail_fatal(const std::string& topic, const std::string& reason) {
    log_line(LogLevel::kWarn, "",
             "kafka: fatal producer error (" + reason + "); creating a new producer");
    destroy_producer();
    std::string recreated = "a new producer was created";
    try {
      create_producer();
    } catch (const KafkaError& e) {
      recreated = std::string("creating a new producer failed: ") + e.what();
    }
    throw KafkaError("kafka topic " + topic +
                     ": page not acknowledged: fatal producer error: " + reason + "; " + recreated);
  }

  std::string conf_value(const char* name) {
    char buf[64] = {0};
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), name, buf, &size) != RD_KAFKA_CONF_OK) return "?";
    return buf;
  }

  void send(const std::string& topic, const std::vector<Message>& messages) {
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(settings.delivery_timeout_ms + kSendMarginMs);
    auto remaining_ms = [&] {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      return static_cast<int>(std::max<std::int64_t>(0, left));
    };
    if (!rk) create_producer();
    if (std::string fatal = fatal_reason(); !fatal.empty()) fail_fatal(topic, fatal);

    call_id = next_call_id++;
    pending = 0;
    failed = 0;
    first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    last_client_error.clear();
    const std::string prefix = "kafka topic " + topic + ": page not acknowledged: ";

    // Hand every message to librdkafka; a full queue drains while we poll.
    rd_kafka_resp_err_t produce_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    size_t produce_error_index = 0;
    for (size_t i = 0; i < messages.size() && !produce_error; ++i) {
      const auto& [key, value] = messages[i];
      // RD_KAFKA_MSG_F_COPY: librdkafka copies the value and never writes it.
      void* value_ptr = const_cast<char*>(value.data());
      for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
            RD_KAFKA_V_VALUE(value_ptr, value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(call_id)), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          ++pending;
          break;
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && remaining_ms() > 0) {
          rd_kafka_poll(rk, std::min(50, remaining_ms()));
          continue;
        }
        produce_error = err;
        produce_error_index = i;
        break;
      }
    }

    // Wait for this call's delivery reports (not rd_kafka_flush(): its OK
    // says nothing about whether the reports carried errors).
    if (!produce_error) {
      while (pending > 0 && remaining_ms() > 0) {
        rd_kafka_poll(rk, std::min(100, remaining_ms()));
        char unused[8];
        if (rd_kafka_fatal_error(rk, unused, sizeof unused) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
      }
    }

    if (std::string fatal = fatal_reason(); !fatal.empty()) fail_fatal(topic, fatal);

    if (produce_error || pending > 0) {
      // What is still queued would only add duplicates to the resend.
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
      rd_kafka_poll(rk, 0);
    }
    const std::string of_n = " of " + std::to_string(messages.size());
    if (produce_error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      const auto& [key, value] = messages[produce_error_index];
      throw KafkaError(prefix + "message " + std::to_string(produce_error_index + 1) + of_n +
                           " is too large (" + std::to_string(key.size() + value.size()) +
                           " bytes; message.max.bytes is " + conf_value("message.max.bytes") + ")",
                       true);
    }
    if (produce_error) {
      throw KafkaError(prefix + "could not queue message " +
                       std::to_string(produce_error_index + 1) + of_n + ": " +
                       rd_kafka_err2str(produce_error));
    }
    if (pending > 0) {
      std::string why =
          last_client_error.empty() ? "" : " (last client error: " + last_client_error + ")";
      throw KafkaError(prefix + "no delivery report for " + std::to_string(pending) + of_n +
                       " messages within " +
                       std::to_string(settings.delivery_timeout_ms + kSendMarginMs) + " ms" + why);
    }
    if (failed > 0) {
      bool too_large = first_error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
      throw KafkaError(prefix + std::to_string(failed) + of_n + " messages failed: " +
                           rd_kafka_err2str(first_error) + " (" + rd_kafka_err2name(first_error) +
                           ")" + (too_large ? ": a message is too large for the broker" : ""),
                       too_large);
    }
  }
};

KafkaProducer::KafkaProducer(KafkaSettings settings) : impl_(std::make_unique<Impl>()) {
  std::vector<std::string> problems = validate(settings);
  if (!problems.empty()) throw KafkaError("kafka settings: " + problems.front(), true);
  impl_->settings = std::move(settings);
  for (const auto& p : impl_->settings.properties)
    if (is_secret(p)) impl_->redactor.add(p.value);
  impl_->create_producer();
}

KafkaProducer::~KafkaProducer() = default;

std::string KafkaProducer::topic_for(const std::string& app, const std::string& type) const {
  return render_topic(impl_->settings.topic_template, app, type);
}

void KafkaProducer::send(const std::string& app, const std::string& type,
                         const std::vector<Message>& messages) {
  std::string topic = topic_for(app, type);
  if (std::string problem = topic_name_problem(topic); !problem.empty())
    throw KafkaError("kafka topic \"" + topic + "\" " + problem, true);
  if (messages.empty()) return;
  std::lock_guard lock(impl_->mu);
  impl_->send(topic, messages);
}

std::string KafkaProducer::probe(int timeout_ms) {
  std::lock_guard lock(impl_->mu);
  const std::string where = "kafka " + impl_->settings.bootstrap_servers + ": ";
  try {
    if (!impl_->rk) impl_->create_producer();
  } catch (const KafkaError& e) {
    return e.what();
  }
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk, 0, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return where + "no metadata within " + std::to_string(timeout_ms) +
           " ms: " + rd_kafka_err2str(err);
  int brokers = md->broker_cnt;
  rd_kafka_metadata_destroy(md);
  if (brokers == 0) return where + "the metadata lists no brokers";
  return "";
}

std::uint64_t KafkaProducer::producer_generation() const {
  std::lock_guard lock(impl_->mu);
  return impl_->generation;
}

void KafkaProducer::raise_fatal_error_for_test(const std::string& reason) {
  // Not under mu: a test may raise it while a send() waits for reports.
  std::lock_guard handle_lock(impl_->handle_mu);
  if (impl_->rk)
    rd_kafka_test_fatal_error(impl_->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              reason.c_str());
}

std::vector<std::string> KafkaProducer::validate(const KafkaSettings& settings) {
  std::vector<std::string> problems;
  if (std::string p = bootstrap_problem(settings.bootstrap_servers); !p.empty())
    problems.push_back("bootstrap_servers: " + p);

  const std::string& tmpl = settings.topic_template;
  if (tmpl.empty()) {
    problems.push_back("topic: required (e.g. siphon-{type})");
  } else {
    bool placeholders_ok = true;
    for (size_t open = tmpl.find('{'); open != std::string::npos; open = tmpl.find('{', open + 1)) {
      size_t close = tmpl.find('}', open);
      std::string name =
          close == std::string::npos ? tmpl.substr(open) : tmpl.substr(open, close - open + 1);
      if (name != "{type}" && name != "{app}") {
        problems.push_back("topic: unknown placeholder " + name + " (use {type} or {app})");
        placeholders_ok = false;
        break;
      }
    }
    // App names are [a-z0-9_-]+ and types <service>_<log type>: a sample
    // rendering shows whether the fixed part is legal.
    if (placeholders_ok) {
      std::string sample = render_topic(tmpl, "app", "service_type");
      if (std::string p = topic_name_problem(sample); !p.empty())
        problems.push_back("topic: \"" + tmpl + "\" gives topic names that " + p);
    }
  }
  if (settings.delivery_timeout_ms <= 0)
    problems.push_back("delivery_timeout: must be positive (a page waits at most this long)");
  if (settings.ack_timeout_ms <= 0 || settings.ack_timeout_ms > 900000)
    problems.push_back("ack_timeout: must be between 1 ms and 900000 ms");
  if (settings.client_id.empty()) problems.push_back("client_id: may not be empty");

  // Each extra property on a scratch configuration: librdkafka knows its
  // names and value types. Nothing connects.
  Redactor redactor;
  for (const auto& p : settings.properties)
    if (is_secret(p)) redactor.add(p.value);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::set<std::string> seen;
  for (const auto& p : settings.properties) {
    const std::string key = "properties." + p.name;
    if (p.name.empty()) {
      problems.push_back("properties: a property has no name");
      continue;
    }
    if (!seen.insert(p.name).second) {
      problems.push_back(key + ": given twice");
      continue;
    }
    if (contains(kReservedProperties, p.name)) {
      problems.push_back(key + ": set by Siphon (idempotent producer, acks=all, and the sink's " +
                         "own bootstrap_servers, client_id and timeouts); remove it");
      continue;
    }
    char errstr[512] = {0};
    rd_kafka_conf_res_t res =
        rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), errstr, sizeof errstr);
    if (res == RD_KAFKA_CONF_UNKNOWN)
      problems.push_back(key + ": not a librdkafka property");
    else if (res != RD_KAFKA_CONF_OK)
      problems.push_back(key + ": " + conf_error_text(p, errstr, redactor));
  }
  rd_kafka_conf_destroy(conf);
  return problems;
}

}  // namespace siphon
