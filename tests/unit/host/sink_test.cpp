// Sinks: the file sink appends (never truncates), creates its file 0640, and
// keeps concurrent deliveries whole; write failures are SinkError, never a
// dead process.
#include "sink/sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

namespace siphon {
namespace {

using test::read_file;
using test::TempDir;

TEST(FileSinkTest, AppendsToExistingContent) {
  TempDir dir;
  std::string path = dir.write("events.jsonl", "{\"old\":1}\n");
  {
    FileSink sink("out", path, true);
    sink.deliver_lines("{\"new\":1}\n");
    sink.deliver_lines("{\"new\":2}\n");
  }
  FileSink again("out", path, false);
  again.deliver_lines("{\"new\":3}\n");
  EXPECT_EQ(read_file(path), "{\"old\":1}\n{\"new\":1}\n{\"new\":2}\n{\"new\":3}\n");
}

TEST(FileSinkTest, AnIncompleteRecordLeftByAKilledWriterIsCutAtOpen) {
  TempDir dir;
  std::string tail(5000, 'x');  // longer than one read-back chunk
  std::string path = dir.write("events.jsonl", "{\"a\":1}\n{\"b\":2}\n{\"c\":\"" + tail);
  FileSink sink("out", path, true);
  sink.deliver_lines("{\"c\":3}\n");
  EXPECT_EQ(read_file(path), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
}

TEST(FileSinkTest, AFileWithoutAnyCompleteRecordIsEmptiedAtOpen) {
  TempDir dir;
  std::string path = dir.write("events.jsonl", "{\"half");
  FileSink sink("out", path, false);
  sink.deliver_lines("{\"whole\":1}\n");
  EXPECT_EQ(read_file(path), "{\"whole\":1}\n");
}

TEST(FileSinkTest, ReopenKeepsAppendingToThePath) {
  TempDir dir;
  std::string path = dir.file("events.jsonl");
  FileSink sink("out", path, false);
  sink.deliver_lines("a\n");
  std::string rotated = dir.file("events.jsonl.1");
  ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
  sink.reopen();
  sink.deliver_lines("b\n");
  EXPECT_EQ(read_file(rotated), "a\n");
  EXPECT_EQ(read_file(path), "b\n");
}

TEST(FileSinkTest, CreatesTheFileWithMode0640) {
  TempDir dir;
  std::string path = dir.file("new.jsonl");
  mode_t old = ::umask(022);
  { FileSink sink("out", path, true); }
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(FileSinkTest, UnopenablePathThrowsNamingIt) {
  try {
    FileSink sink("out", "/nonexistent-dir/x.jsonl", true);
    FAIL() << "no SinkError";
  } catch (const SinkError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.jsonl"), std::string::npos);
  }
}

TEST(FileSinkTest, ConcurrentDeliveriesNeverInterleave) {
  TempDir dir;
  std::string path = dir.file("shared.jsonl");
  FileSink sink("shared", path, false);
  constexpr int kThreads = 8;
  constexpr int kBatches = 20;
  constexpr int kLinesPerBatch = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&sink, t] {
      // Long lines (some over a pipe buffer) make partial writes likely if
      // the sink did not hold them together.
      std::string pad((t + 1) * 3000, static_cast<char>('a' + t));
      for (int b = 0; b < kBatches; ++b) {
        std::string lines;
        for (int i = 0; i < kLinesPerBatch; ++i)
          lines += "{\"thread\":" + std::to_string(t) + ",\"batch\":" + std::to_string(b) +
                   ",\"pad\":\"" + pad + "\"}\n";
        sink.deliver_lines(lines);
      }
    });
  }
  for (auto& th : threads) th.join();

  std::istringstream in(read_file(path));
  std::string line;
  int count = 0;
  std::vector<int> per_thread(kThreads, 0);
  while (std::getline(in, line)) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    ASSERT_FALSE(doc.HasParseError()) << "line " << count << " is broken";
    int t = doc["thread"].GetInt();
    EXPECT_EQ(doc["pad"].GetStringLength(), static_cast<rapidjson::SizeType>((t + 1) * 3000));
    ++per_thread[t];
    ++count;
  }
  EXPECT_EQ(count, kThreads * kBatches * kLinesPerBatch);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kBatches * kLinesPerBatch);
}

TEST(FileSinkTest, FullDeviceThrowsSinkError) {
  FileSink sink("full", "/dev/full", false);
  EXPECT_THROW(sink.deliver_lines("{\"a\":1}\n"), SinkError);
}

TEST(StdoutSinkTest, WritesToItsDescriptor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdoutSink sink("stdout", fds[1]);
  sink.deliver_lines("{\"a\":1}\n");
  char buf[64] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "{\"a\":1}\n");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(StdoutSinkTest, ClosedPipeThrowsSinkError) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdoutSink sink("stdout", fds[1]);
  ::close(fds[0]);
  try {
    sink.deliver_lines("{\"a\":1}\n");
    FAIL() << "no SinkError";
  } catch (const SinkError& e) {
    EXPECT_NE(std::string(e.what()).find("stdout"), std::string::npos) << e.what();
  }
  ::close(fds[1]);
}

// In a child whose SIGPIPE is at its default (terminate), the sink itself
// must keep a closed reader from killing the process.
TEST(StdoutSinkDeathTest, ClosedPipeDoesNotKillTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::signal(SIGPIPE, SIG_DFL);
        int fds[2];
        if (::pipe(fds) != 0) ::_exit(3);
        ::close(fds[0]);
        StdoutSink sink("stdout", fds[1]);
        try {
          sink.deliver_lines("{\"a\":1}\n");
        } catch (const SinkError&) {
          ::_exit(0);
        }
        ::_exit(1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(MakeSinkTest, BuildsTheConfiguredKind) {
  TempDir dir;
  SinkConfig file_cfg;
  file_cfg.name = "archive";
  file_cfg.type = "file";
  file_cfg.path = dir.file("a.jsonl");
  auto file = make_sink(file_cfg);
  EXPECT_EQ(file->name(), "archive");
  EXPECT_NE(dynamic_cast<FileSink*>(file.get()), nullptr);
  SinkConfig out_cfg;
  out_cfg.name = "out";
  out_cfg.type = "stdout";
  EXPECT_NE(dynamic_cast<StdoutSink*>(make_sink(out_cfg).get()), nullptr);
}

}  // namespace
}  // namespace siphon
