// Micro benchmarks of the per-event hot path: parsing a page as a plugin
// does, serialising its events into the SDK's Logs, building the output
// records (the host's pass-through design, and a parse-and-rewrite design for
// comparison), writing a page of records to a file sink, and validating auth
// values against their regexes. Throughput is reported per event or byte.
// And the host's per-poll work beside the events: the cursor commit to the
// SQLite state, and a page of 50 (OneLogin's page size) through records and
// a file sink, reported per poll.
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cstdlib>
#include <siphon/json.hpp>
#include <siphon/raw_page.hpp>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench_events.hpp"
#include "cli/validate.hpp"
#include "sink/record.hpp"
#include "sink/sink.hpp"
#include "state/sqlite_state_store.hpp"

namespace {

using siphon::bench::kMaxLimit;

const std::string& page() {
  static const std::string p = siphon::bench::make_page(0, kMaxLimit, "2026-11-27T10:15:32-07:00");
  return p;
}

// The page's events, each as its own JSON text (what a plugin hands the host).
const std::vector<std::string>& events() {
  static const std::vector<std::string> e = [] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kMaxLimit; ++i)
      out.push_back(siphon::bench::make_event(i, "2026-11-27T10:15:32-07:00"));
    return out;
  }();
  return e;
}

// A temporary file for a sink to write to, removed at the end.
class TempFile {
 public:
  TempFile() {
    int fd = ::mkstemp(path_);
    ok_ = fd >= 0;
    if (ok_) ::close(fd);
  }
  ~TempFile() {
    if (ok_) ::unlink(path_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  bool ok() const { return ok_; }
  const char* path() const { return path_; }
  // Empties the file every `every` calls, outside the timing.
  void keep_small(benchmark::State& state, int64_t& n, int64_t every) {
    if (++n % every != 0) return;
    state.PauseTiming();
    if (::truncate(path_, 0) != 0) state.SkipWithError("cannot truncate");
    state.ResumeTiming();
  }

 private:
  char path_[32] = "/tmp/siphon-micro-bench-XXXXXX";
  bool ok_ = false;
};

void set_counters(benchmark::State& state, size_t events_per_iteration, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events_per_iteration));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// A plugin's first step: the page body into a DOM.
void BM_ParsePage(benchmark::State& state) {
  for (auto _ : state) {
    rapidjson::Document doc;
    doc.Parse(page().data(), page().size());
    benchmark::DoNotOptimize(doc.IsObject());
  }
  set_counters(state, kMaxLimit, page().size());
}
BENCHMARK(BM_ParsePage);

// Parse plus each entry serialised into siphon::Logs (Logs::add(Value)).
void BM_ParsePageIntoLogs(benchmark::State& state) {
  for (auto _ : state) {
    rapidjson::Document doc;
    doc.Parse(page().data(), page().size());
    siphon::Logs logs;
    for (const auto& entry : doc["entries"].GetArray()) {
      logs.add(entry);
      logs.event_time(siphon::json::find_rfc3339(entry, "created_at").value_or(0));
    }
    benchmark::DoNotOptimize(logs.buffer().data());
  }
  set_counters(state, kMaxLimit, page().size());
}
BENCHMARK(BM_ParsePageIntoLogs);

// The same with siphon::RawPage, as plugins on small pages do: one
// validating pass without a DOM, each entry's text into Logs as it came,
// with the two members a plugin keys on.
void BM_RawPageIntoLogs(benchmark::State& state) {
  siphon::Response resp;
  resp.status = 200;
  resp.body = page();
  siphon::RawPage::Spec spec;
  spec.records = "entries";
  spec.fields = {"event_id", "created_at"};
  for (auto _ : state) {
    siphon::RawPage raw(resp, spec, "bench");
    siphon::Logs logs;
    logs.reserve(resp.body.size(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      logs.add(raw.record(i));
      logs.event_time(raw.rfc3339(i, 1).value_or(0));
    }
    if (logs.size() != kMaxLimit) state.SkipWithError("split failed");
    benchmark::DoNotOptimize(logs.buffer().data());
  }
  set_counters(state, kMaxLimit, page().size());
}
BENCHMARK(BM_RawPageIntoLogs);

// The host's record: validating parse, then prefix + event bytes + suffix.
void BM_RecordPassThrough(benchmark::State& state) {
  siphon::RecordWriter writer("bench", "box_admin_events", "box");
  const std::string collected_at = "2026-11-27T17:00:00.123Z";
  std::string out, why;
  size_t bytes = 0;
  for (const auto& e : events()) bytes += e.size();
  for (auto _ : state) {
    out.clear();
    for (const auto& e : events())
      if (!writer.append(out, e, collected_at, why)) state.SkipWithError(why.c_str());
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, kMaxLimit, bytes);
}
BENCHMARK(BM_RecordPassThrough);

// The alternative design: parse each event into a DOM and write the record
// with RapidJSON's Writer (the event re-serialised).
void BM_RecordParseAndRewrite(benchmark::State& state) {
  const std::string collected_at = "2026-11-27T17:00:00.123Z";
  std::string out;
  size_t bytes = 0;
  for (const auto& e : events()) bytes += e.size();
  rapidjson::StringBuffer sb;
  for (auto _ : state) {
    out.clear();
    for (const auto& e : events()) {
      rapidjson::Document doc;
      doc.Parse(e.data(), e.size());
      if (doc.HasParseError() || !doc.IsObject()) state.SkipWithError("bad event");
      sb.Clear();
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      w.StartObject();
      w.Key("app");
      w.String("bench");
      w.Key("type");
      w.String("box_admin_events");
      w.Key("service");
      w.String("box");
      w.Key("collected_at");
      w.String(collected_at.data(), static_cast<rapidjson::SizeType>(collected_at.size()));
      w.Key("event");
      doc.Accept(w);
      w.EndObject();
      out.append(sb.GetString(), sb.GetSize());
      out += '\n';
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, kMaxLimit, bytes);
}
BENCHMARK(BM_RecordParseAndRewrite);

// One page of records written to a file sink; arg 1 = fdatasync (the default).
void BM_FileSinkDeliver(benchmark::State& state) {
  const bool sync = state.range(0) != 0;
  TempFile file;
  if (!file.ok()) {
    state.SkipWithError("cannot create a temporary file");
    return;
  }
  siphon::RecordWriter writer("bench", "box_admin_events", "box");
  siphon::RecordBatch batch;
  std::string why;
  for (const auto& e : events()) writer.append(batch, e, "2026-11-27T17:00:00.123Z", why);
  {
    siphon::FileSink sink("bench", file.path(), sync);
    int64_t n = 0;
    for (auto _ : state) {
      sink.deliver(batch);
      file.keep_small(state, n, 64);
    }
  }
  set_counters(state, kMaxLimit, batch.lines.size());
}
BENCHMARK(BM_FileSinkDeliver)->Arg(0)->Arg(1)->ArgName("sync");

// The commit after every poll: one UPDATE in the SQLite state (WAL,
// synchronous=NORMAL), as `siphon once` makes it.
void BM_StateCommitPerPoll(benchmark::State& state) {
  char dir[] = "/tmp/siphon-micro-bench-XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    state.SkipWithError("cannot create a temporary folder");
    return;
  }
  const std::string path = std::string(dir) + "/state.db";
  {
    siphon::SqliteStateStore store(path);
    if (!store.claim("bench", 3600 * 1000).empty()) state.SkipWithError("cannot claim");
    int64_t n = 0;
    for (auto _ : state)
      store.commit("bench", "{\"stream_position\":\"" + std::to_string(++n) + "\"}", 50,
                   3600 * 1000);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  ::rmdir(dir);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StateCommitPerPoll);

// A page of 50 events made into records and written to a file sink
// (sync: false), per poll: the host's share of a poll besides HTTP, the
// plugin and the commit.
void BM_Page50RecordsToFile(benchmark::State& state) {
  constexpr size_t kPage = 50;
  TempFile file;
  if (!file.ok()) {
    state.SkipWithError("cannot create a temporary file");
    return;
  }
  siphon::RecordWriter writer("bench", "onelogin_events", "onelogin");
  siphon::RecordBatch batch;
  std::string why;
  {
    siphon::FileSink sink("bench", file.path(), false);
    int64_t n = 0;
    for (auto _ : state) {
      batch.clear();
      for (size_t i = 0; i < kPage; ++i)
        if (!writer.append(batch, events()[i], "2026-11-27T17:00:00.123Z", why))
          state.SkipWithError(why.c_str());
      sink.deliver(batch);
      file.keep_small(state, n, 1024);
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Page50RecordsToFile);

// The auth check `siphon check` and every run start do: a whole-value PCRE
// match (Box's key-file regex over a 2 KB document; Duo's host name).
void BM_AuthFullMatchKeyfile(benchmark::State& state) {
  std::string keyfile = R"({"boxAppSettings":{"clientID":"abc","clientSecret":"def",)"
                        R"("appAuth":{"publicKeyID":"k1","privateKey":")" +
                        std::string(1800, 'A') + R"(","passphrase":"p"}},"enterpriseID":"1"})";
  for (auto _ : state)
    if (!siphon::full_match(R"((?s)\s*\{.*\}\s*)", keyfile)) state.SkipWithError("no match");
  set_counters(state, 1, keyfile.size());
}
BENCHMARK(BM_AuthFullMatchKeyfile);

void BM_AuthFullMatchHostname(benchmark::State& state) {
  const std::string host = "api-1234abcd.duosecurity.com";
  for (auto _ : state)
    if (!siphon::full_match(R"(api-[a-f0-9]{8}\.duosecurity\.com)", host))
      state.SkipWithError("no match");
  set_counters(state, 1, host.size());
}
BENCHMARK(BM_AuthFullMatchHostname);

}  // namespace

BENCHMARK_MAIN();
