// siphon-bench-ceiling: the least work that delivering the benchmark's events
// can take, to measure Siphon against. It fetches the same pages from the
// bench imitation over the same loopback HTTP (one keep-alive connection),
// parses each body with RapidJSON and appends each event as one JSON line to
// a file, one write per page; nothing else (no state, no record envelope).
//
//   siphon-bench-ceiling BASE_URL TOKEN OUT_FILE [--sync] [--limit N]
// --sync: fdatasync after each page's write, as Siphon's default sink does.
// --limit: events per page (default 500, Box's largest).
// Prints {"events":N,"pages":P} when the stream has no more events.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <istream>
#include <string>

int main(int argc, char** argv) {
  bool sync = false;
  std::string limit = "500";
  bool usage = argc < 4;
  for (int i = 4; i < argc && !usage; ++i) {
    if (std::strcmp(argv[i], "--sync") == 0) {
      sync = true;
    } else if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      limit = argv[++i];
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::fprintf(stderr,
                 "usage: siphon-bench-ceiling BASE_URL TOKEN OUT_FILE [--sync] [--limit N]\n");
    return 2;
  }
  try {
    Poco::URI base(argv[1]);
    Poco::Net::HTTPClientSession session(base.getHost(), base.getPort());
    session.setKeepAlive(true);
    int fd = ::open(argv[3], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      std::fprintf(stderr, "siphon-bench-ceiling: cannot open %s\n", argv[3]);
      return 1;
    }
    const std::string auth = std::string("Bearer ") + argv[2];
    std::string position = "0", body, lines;
    body.reserve(1 << 20);
    size_t events = 0, pages = 0;
    for (;;) {
      Poco::Net::HTTPRequest req(
          "GET",
          "/2.0/events?stream_type=admin_logs&limit=" + limit + "&stream_position=" + position,
          Poco::Net::HTTPMessage::HTTP_1_1);
      req.set("Authorization", auth);
      req.setKeepAlive(true);
      session.sendRequest(req);
      Poco::Net::HTTPResponse resp;
      std::istream& is = session.receiveResponse(resp);
      body.clear();
      char buf[65536];
      while (is) {
        is.read(buf, sizeof buf);
        body.append(buf, static_cast<size_t>(is.gcount()));
      }
      if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
        std::fprintf(stderr, "siphon-bench-ceiling: HTTP %d\n", static_cast<int>(resp.getStatus()));
        return 1;
      }
      ++pages;
      rapidjson::Document page;
      page.Parse(body.data(), body.size());
      if (page.HasParseError() || !page.IsObject() || !page.HasMember("entries") ||
          !page["entries"].IsArray() || !page.HasMember("next_stream_position") ||
          !page["next_stream_position"].IsString()) {
        std::fprintf(stderr, "siphon-bench-ceiling: bad page\n");
        return 1;
      }
      const auto& entries = page["entries"].GetArray();
      if (entries.Empty()) break;
      lines.clear();
      rapidjson::StringBuffer sb;
      for (const auto& entry : entries) {
        sb.Clear();
        rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
        entry.Accept(writer);
        lines.append(sb.GetString(), sb.GetSize());
        lines += '\n';
        ++events;
      }
      for (size_t off = 0; off < lines.size();) {
        ssize_t n = ::write(fd, lines.data() + off, lines.size() - off);
        if (n <= 0) {
          std::fprintf(stderr, "siphon-bench-ceiling: write failed\n");
          return 1;
        }
        off += static_cast<size_t>(n);
      }
      if (sync && ::fdatasync(fd) != 0) {
        std::fprintf(stderr, "siphon-bench-ceiling: fdatasync failed\n");
        return 1;
      }
      position = page["next_stream_position"].GetString();
    }
    ::close(fd);
    std::printf("{\"events\":%zu,\"pages\":%zu}\n", events, pages);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "siphon-bench-ceiling: %s\n", e.what());
    return 1;
  }
  return 0;
}
