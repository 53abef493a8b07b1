// KafkaProducer against librdkafka's mock cluster (3 brokers on 127.0.0.1) in
// this process: a page is acknowledged only when the topic holds every one of
// its messages, faults fail the page without losing anything on a resend, and
// no secret reaches an error or a log line.
#include "sink/kafka_producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "log/log.hpp"
#include "mock_cluster.hpp"

namespace siphon {
namespace {

using test::KafkaRecord;
using test::MockKafkaCluster;

// A page of messages whose keys and values the test keeps.
struct Page {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<KafkaProducer::Message> messages() const {
    std::vector<KafkaProducer::Message> out;
    for (size_t i = 0; i < keys.size(); ++i) out.emplace_back(keys[i], values[i]);
    return out;
  }
};

Page make_page(const std::string& prefix, size_t count, size_t value_size = 0) {
  Page page;
  for (size_t i = 0; i < count; ++i) {
    page.keys.push_back(prefix + "-" + std::to_string(i));
    std::string value = "{\"app\":\"corp-duo\",\"n\":" + std::to_string(i) + "}";
    if (value.size() < value_size) value.append(value_size - value.size(), 'x');
    page.values.push_back(value);
  }
  return page;
}

// key -> (value, how many times the topic holds it)
std::map<std::string, std::pair<std::string, int>> by_key(const std::vector<KafkaRecord>& records) {
  std::map<std::string, std::pair<std::string, int>> out;
  for (const auto& r : records) {
    auto& slot = out[r.key];
    slot.first = r.value;
    ++slot.second;
  }
  return out;
}

// The topic holds exactly the messages of `pages`, each once.
void expect_topic_holds_once(const std::vector<KafkaRecord>& records,
                             const std::vector<const Page*>& pages) {
  size_t expected = 0;
  auto held = by_key(records);
  for (const Page* page : pages) {
    expected += page->keys.size();
    for (size_t i = 0; i < page->keys.size(); ++i) {
      auto it = held.find(page->keys[i]);
      ASSERT_NE(it, held.end()) << "missing key " << page->keys[i];
      EXPECT_EQ(it->second.first, page->values[i]) << "key " << page->keys[i];
      EXPECT_EQ(it->second.second, 1) << "key " << page->keys[i] << " held more than once";
    }
  }
  EXPECT_EQ(records.size(), expected);
}

class KafkaProducerTest : public ::testing::Test {
 protected:
  KafkaSettings settings(int delivery_timeout_ms = 5000) const {
    KafkaSettings s;
    s.bootstrap_servers = cluster_.bootstrap_servers();
    s.topic_template = "siphon-{type}";
    s.delivery_timeout_ms = delivery_timeout_ms;
    s.ack_timeout_ms = 2000;
    s.client_id = "siphon-test";
    // Fast reconnects and retries keep the fault tests short.
    s.properties = {{"reconnect.backoff.ms", "20"},
                    {"reconnect.backoff.max.ms", "200"},
                    {"retry.backoff.ms", "20"},
                    {"linger.ms", "2"}};
    return s;
  }

  MockKafkaCluster cluster_{3};
};

std::vector<int> ports_of(const std::string& bootstraps, std::vector<std::string>& hosts) {
  std::vector<int> ports;
  std::stringstream in(bootstraps);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    size_t colon = entry.rfind(':');
    hosts.push_back(entry.substr(0, colon));
    ports.push_back(std::stoi(entry.substr(colon + 1)));
  }
  return ports;
}

// Every mock broker advertises and listens on 127.0.0.1 only: the kernel's
// table of listening IPv4 sockets shows each port bound to 0100007F.
TEST_F(KafkaProducerTest, MockBrokersListenOnLoopbackOnly) {
  std::vector<std::string> hosts;
  std::vector<int> ports = ports_of(cluster_.bootstrap_servers(), hosts);
  ASSERT_EQ(ports.size(), 3u) << cluster_.bootstrap_servers();
  for (const auto& host : hosts) EXPECT_EQ(host, "127.0.0.1");

  std::map<int, std::vector<std::string>> listeners;  // port -> local addresses
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state != "0A") continue;  // LISTEN
    size_t colon = local.find(':');
    listeners[std::stoi(local.substr(colon + 1), nullptr, 16)].push_back(local.substr(0, colon));
  }
  for (int port : ports) {
    ASSERT_EQ(listeners[port].size(), 1u) << "port " << port;
    EXPECT_EQ(listeners[port][0], "0100007F") << "port " << port;
  }
}

TEST_F(KafkaProducerTest, DeliversEveryMessageOnceAndTheConsumerReadsThemBack) {
  KafkaProducer producer(settings());
  Page first = make_page("a", 200);
  Page second = make_page("b", 50, 2000);
  producer.send("corp-duo", "duo_auth", first.messages());
  producer.send("corp-duo", "duo_auth", second.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&first, &second});
  EXPECT_EQ(producer.producer_generation(), 1u);
}

TEST_F(KafkaProducerTest, TopicTemplateNamesTheTopicByTypeAndApp) {
  KafkaSettings s = settings();
  s.topic_template = "audit.{type}.{app}";
  KafkaProducer producer(s);
  EXPECT_EQ(producer.topic_for("corp-duo", "duo_auth"), "audit.duo_auth.corp-duo");
  Page page = make_page("t", 5);
  producer.send("corp-duo", "duo_auth", page.messages());
  expect_topic_holds_once(cluster_.read_topic("audit.duo_auth.corp-duo"), {&page});
  EXPECT_TRUE(cluster_.read_topic("siphon-duo_auth").empty());
}

TEST_F(KafkaProducerTest, ATopicNameKafkaRefusesIsAPermanentError) {
  KafkaProducer producer(settings());
  Page page = make_page("t", 1);
  try {
    producer.send("corp-duo", "duo auth", page.messages());
    FAIL() << "send() accepted an illegal topic name";
  } catch (const KafkaError& e) {
    EXPECT_TRUE(e.permanent());
    EXPECT_NE(std::string(e.what()).find("siphon-duo auth"), std::string::npos) << e.what();
  }
}

TEST_F(KafkaProducerTest, RetriableProduceErrorsAreRetriedWithoutDuplicates) {
  KafkaProducer producer(settings());
  Page warmup = make_page("w", 1);
  producer.send("corp-duo", "duo_auth", warmup.messages());  // PID and metadata known
  cluster_.push_produce_errors(4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  Page page = make_page("r", 100);
  producer.send("corp-duo", "duo_auth", page.messages());
  cluster_.push_produce_errors(2, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  Page more = make_page("m", 20);
  producer.send("corp-duo", "duo_auth", more.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&warmup, &page, &more});
}

// Every broker answers its next produce request 1.5 s late: send() keeps
// waiting for the reports (the page is not failed early) and the topic holds
// each message once. (The mock appends a batch only when it answers without
// an error, so a lost ack after an append cannot be staged with it.)
TEST_F(KafkaProducerTest, SlowAcksAreWaitedForAndDeliveredOnce) {
  KafkaProducer producer(settings());
  Page warmup = make_page("w", 1);
  producer.send("corp-duo", "duo_auth", warmup.messages());
  for (int32_t broker = 1; broker <= 3; ++broker)
    ASSERT_EQ(
        rd_kafka_mock_broker_push_request_error_rtts(
            cluster_.handle(), broker, test::kApiKeyProduce, 1, RD_KAFKA_RESP_ERR_NO_ERROR, 1500),
        RD_KAFKA_RESP_ERR_NO_ERROR);
  Page page = make_page("slow", 30);
  auto start = std::chrono::steady_clock::now();
  producer.send("corp-duo", "duo_auth", page.messages());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&warmup, &page});
}

TEST_F(KafkaProducerTest, AllBrokersDownFailsWithinTheTimeoutThenAResendDeliversEverything) {
  const int delivery_timeout_ms = 2000;
  KafkaProducer producer(settings(delivery_timeout_ms));
  Page before = make_page("before", 10);
  producer.send("corp-duo", "duo_auth", before.messages());

  cluster_.set_all_down();
  Page page = make_page("p", 40);
  auto start = std::chrono::steady_clock::now();
  bool acknowledged = false;
  std::string error;
  try {
    producer.send("corp-duo", "duo_auth", page.messages());
    acknowledged = true;
  } catch (const KafkaError& e) {
    error = e.what();
    EXPECT_FALSE(e.permanent());
  }
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  EXPECT_FALSE(acknowledged) << "a page was acknowledged while every broker was down";
  EXPECT_LE(elapsed_ms, delivery_timeout_ms + KafkaProducer::kSendMarginMs + 1000);
  EXPECT_NE(error.find("siphon-duo_auth"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;

  cluster_.set_all_up();
  producer.send("corp-duo", "duo_auth", page.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&before, &page});
}

TEST_F(KafkaProducerTest, AMessageLargerThanMessageMaxBytesFailsNamingIt) {
  KafkaSettings s = settings();
  s.properties.push_back({"message.max.bytes", "10000"});
  KafkaProducer producer(s);
  Page page = make_page("big", 5);
  page.values[3].assign(20000, 'x');
  try {
    producer.send("corp-duo", "duo_auth", page.messages());
    FAIL() << "a message over message.max.bytes was acknowledged";
  } catch (const KafkaError& e) {
    std::string what = e.what();
    EXPECT_TRUE(e.permanent());
    EXPECT_NE(what.find("message 4 of 5"), std::string::npos) << what;
    EXPECT_NE(what.find("too large"), std::string::npos) << what;
    EXPECT_NE(what.find("message.max.bytes is 10000"), std::string::npos) << what;
    EXPECT_NE(what.find("siphon-duo_auth"), std::string::npos) << what;
  }
  // The producer stays usable for pages that fit.
  Page small = make_page("small", 3);
  producer.send("corp-duo", "duo_auth", small.messages());
  auto held = by_key(cluster_.read_topic("siphon-duo_auth"));
  for (const auto& key : small.keys) EXPECT_EQ(held[key].second, 1) << key;
  EXPECT_EQ(held.count("big-3"), 0u);
}

TEST_F(KafkaProducerTest, AFatalErrorFailsTheSendRecreatesTheProducerAndTheNextSendSucceeds) {
  KafkaProducer producer(settings());
  Page first = make_page("f", 10);
  producer.send("corp-duo", "duo_auth", first.messages());
  EXPECT_EQ(producer.producer_generation(), 1u);

  producer.raise_fatal_error_for_test("fenced by the test");
  Page page = make_page("g", 10);
  try {
    producer.send("corp-duo", "duo_auth", page.messages());
    FAIL() << "a page was acknowledged by a producer in a fatal state";
  } catch (const KafkaError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("fatal"), std::string::npos) << what;
    EXPECT_NE(what.find("fenced by the test"), std::string::npos) << what;
    EXPECT_NE(what.find("siphon-duo_auth"), std::string::npos) << what;
  }
  EXPECT_EQ(producer.producer_generation(), 2u);
  producer.send("corp-duo", "duo_auth", page.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&first, &page});
}

// The fatal error arrives while send() waits for reports (the brokers are
// down, so none can come): send() fails at once, not at its timeout.
TEST_F(KafkaProducerTest, AFatalErrorDuringASendFailsItBeforeItsTimeout) {
  const int delivery_timeout_ms = 8000;
  KafkaProducer producer(settings(delivery_timeout_ms));
  Page first = make_page("f", 5);
  producer.send("corp-duo", "duo_auth", first.messages());

  cluster_.set_all_down();
  Page page = make_page("d", 20);
  std::string error = "(acknowledged)";
  auto start = std::chrono::steady_clock::now();
  std::thread sender([&] {
    try {
      producer.send("corp-duo", "duo_auth", page.messages());
    } catch (const KafkaError& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  producer.raise_fatal_error_for_test("fenced mid-send");
  sender.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_NE(error.find("fenced mid-send"), std::string::npos) << error;
  EXPECT_LT(elapsed, std::chrono::milliseconds(delivery_timeout_ms / 2));
  EXPECT_EQ(producer.producer_generation(), 2u);

  cluster_.set_all_up();
  producer.send("corp-duo", "duo_auth", page.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&first, &page});
}

TEST_F(KafkaProducerTest, AFullQueueIsWaitedOutNotFailed) {
  KafkaSettings s = settings();
  s.properties.push_back({"queue.buffering.max.messages", "10"});
  KafkaProducer producer(s);
  Page page = make_page("q", 300);
  producer.send("corp-duo", "duo_auth", page.messages());
  expect_topic_holds_once(cluster_.read_topic("siphon-duo_auth"), {&page});
}

TEST_F(KafkaProducerTest, ProbeIsEmptyWhenBrokersAnswerAndExplainsWhenTheyDoNot) {
  KafkaProducer producer(settings());
  EXPECT_EQ(producer.probe(5000), "");
  cluster_.set_all_down();
  std::string reason = producer.probe(1000);
  EXPECT_NE(reason, "");
  EXPECT_NE(reason.find(cluster_.bootstrap_servers()), std::string::npos) << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
  cluster_.set_all_up();
}

TEST(KafkaSettingsTest, ValidationNamesEachKeyWithoutNetwork) {
  KafkaSettings s;
  s.bootstrap_servers = "127.0.0.1";
  s.topic_template = "siphon-{service}";
  s.delivery_timeout_ms = 0;
  s.ack_timeout_ms = -1;
  s.client_id = "";
  s.properties = {{"acks", "1"},
                  {"compresion.type", "lz4"},
                  {"compression.type", "zip"},
                  {"linger.ms", "5"},
                  {"linger.ms", "6"}};
  std::vector<std::string> problems = KafkaProducer::validate(s);
  auto has = [&](const std::string& prefix) {
    for (const auto& p : problems)
      if (p.rfind(prefix, 0) == 0) return true;
    return false;
  };
  EXPECT_TRUE(has("bootstrap_servers: \"127.0.0.1\" is not host:port"));
  EXPECT_TRUE(has("topic: unknown placeholder {service}"));
  EXPECT_TRUE(has("delivery_timeout:"));
  EXPECT_TRUE(has("ack_timeout:"));
  EXPECT_TRUE(has("client_id:"));
  EXPECT_TRUE(has("properties.acks: set by Siphon"));
  EXPECT_TRUE(has("properties.compresion.type: not a librdkafka property"));
  EXPECT_TRUE(has("properties.compression.type: "));
  EXPECT_TRUE(has("properties.linger.ms: given twice"));
  EXPECT_EQ(problems.size(), 9u) << ::testing::PrintToString(problems);

  KafkaSettings good;
  good.bootstrap_servers = "127.0.0.1:9092,127.0.0.1:9093";
  good.properties = {{"compression.type", "lz4"}, {"sasl.password", "x", true}};
  EXPECT_TRUE(KafkaProducer::validate(good).empty())
      << ::testing::PrintToString(KafkaProducer::validate(good));
  good.topic_template = "siphon/{type}";
  EXPECT_EQ(KafkaProducer::validate(good).size(), 1u);
  EXPECT_THROW(KafkaProducer{good}, KafkaError);
}

TEST(KafkaSettingsTest, ASecretValueLibrdkafkaRefusesIsNotQuoted) {
  const std::string secret = "Hunter2-sekret-value";
  // librdkafka quotes a refused enum value in its error text.
  KafkaSettings s;
  s.bootstrap_servers = "127.0.0.1:9092";
  s.properties = {{"security.protocol", secret, true}};
  std::vector<std::string> problems = KafkaProducer::validate(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("properties.security.protocol: ", 0), 0u) << problems[0];
  EXPECT_EQ(problems[0].find(secret), std::string::npos) << problems[0];
  try {
    KafkaProducer producer(s);
    FAIL() << "an invalid property was accepted";
  } catch (const KafkaError& e) {
    EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
  }
  // sasl.mechanism is only refused when the producer is created.
  s.properties = {{"security.protocol", "sasl_plaintext"}, {"sasl.mechanism", secret, true}};
  EXPECT_TRUE(KafkaProducer::validate(s).empty());
  try {
    KafkaProducer producer(s);
    FAIL() << "an unknown SASL mechanism was accepted";
  } catch (const KafkaError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the producer"), std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
  }
}

// SASL credentials, marked secret or known to librdkafka as credentials, stay
// out of send() errors, probe() reasons and every log line, even with
// librdkafka's debug logging on.
TEST_F(KafkaProducerTest, SaslSecretsAppearInNoErrorAndNoLogLine) {
  const std::string password = "Pa55word-never-shown";  // not marked: known as a credential
  const std::string username = "user-marked-secret";
  KafkaSettings s = settings(1500);
  s.properties.push_back({"security.protocol", "sasl_plaintext"});
  s.properties.push_back({"sasl.mechanism", "PLAIN"});
  s.properties.push_back({"sasl.username", username, true});
  s.properties.push_back({"sasl.password", password, false});
  s.properties.push_back({"debug", "generic,broker,security,conf,protocol"});

  log_setup("trace", "text");
  ::testing::internal::CaptureStderr();
  std::vector<std::string> texts;
  {
    KafkaProducer producer(s);
    Page page = make_page("s", 3);
    try {
      producer.send("corp-duo", "duo_auth", page.messages());
    } catch (const KafkaError& e) {
      texts.push_back(e.what());
    }
    texts.push_back(producer.probe(500));
  }
  std::string logs = ::testing::internal::GetCapturedStderr();
  log_setup("info", "text");

  EXPECT_NE(logs.find("kafka"), std::string::npos) << "librdkafka's log lines did not arrive";
  // librdkafka's configuration dump (debug=conf) prints sasl.username; the
  // producer's redactor replaced the marked value there.
  EXPECT_NE(logs.find("[redacted]"), std::string::npos) << "no redaction was exercised";
  texts.push_back(logs);
  for (const auto& text : texts) {
    EXPECT_EQ(text.find(password), std::string::npos) << text.substr(0, 2000);
    EXPECT_EQ(text.find(username), std::string::npos) << text.substr(0, 2000);
  }
}

}  // namespace
}  // namespace siphon
