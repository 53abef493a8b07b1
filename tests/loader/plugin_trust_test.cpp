// Which plugin files the registry trusts: a file or folder that someone other
// than root or the user running siphon could write is refused with the reason,
// and with a pin file only files whose SHA-256 is listed load. `siphon
// plugins` lists those refusals like every other.
#include <Poco/Crypto/DigestEngine.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "plugin/registry.hpp"

namespace fs = std::filesystem;

namespace siphon {
namespace {

std::string fake(const std::string& file) { return std::string(SIPHON_FAKES_DIR) + "/" + file; }

std::string sha256_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  Poco::Crypto::DigestEngine engine("SHA256");
  engine.update(ss.str());
  return Poco::Crypto::DigestEngine::digestToHex(engine.digest());
}

// A private folder holding copies of fake_good.so (as good.so) and of
// fake_type_taken.so (as other.so, a second loadable plugin).
class PluginTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "siphon-trust-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    plugins_ = root_ + "/plugins";
    fs::create_directory(plugins_);
    ::chmod(plugins_.c_str(), 0755);
    fs::copy_file(fake("fake_good.so"), plugins_ + "/good.so");
    fs::copy_file(fake("fake_no_entry.so"), plugins_ + "/other.so");
    ::chmod((plugins_ + "/good.so").c_str(), 0755);
    ::chmod((plugins_ + "/other.so").c_str(), 0755);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string good() const { return plugins_ + "/good.so"; }
  std::string other() const { return plugins_ + "/other.so"; }
  void write_pin(const std::string& text, mode_t mode = 0644) {
    std::ofstream(root_ + "/plugins.pin") << text;
    ::chmod((root_ + "/plugins.pin").c_str(), mode);
  }
  std::string reason_for(const PluginRegistry& r, const std::string& file) {
    for (const auto& x : r.refused())
      if (x.file == file) return x.reason;
    return "";
  }
  // stdout of `siphon --config ROOT/siphon.yaml ARGS` (stderr dropped).
  std::string siphon(const std::string& yaml, const std::string& args, int& status) {
    std::ofstream(root_ + "/siphon.yaml") << yaml;
    std::string cmd = std::string("'") + SIPHON_BINARY + "' --config '" + root_ + "/siphon.yaml' " +
                      args + " 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n = 0;
    while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = p ? ::pclose(p) : -1;
    status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
  }

  std::string root_, plugins_;
};

TEST_F(PluginTrustTest, APrivateFolderAndFileLoad) {
  PluginRegistry registry;
  registry.load_dirs({plugins_});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->file, good());
}

TEST_F(PluginTrustTest, AGroupWritableFileIsRefusedSayingWhy) {
  ::chmod(good().c_str(), 0775);
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(good()));
  std::string why = reason_for(registry, good());
  EXPECT_NE(why.find("writable by its group"), std::string::npos) << why;
  EXPECT_NE(why.find("0775"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST_F(PluginTrustTest, AWorldWritableFileIsRefused) {
  ::chmod(good().c_str(), 0757);
  PluginRegistry registry;
  registry.load_dirs({plugins_});
  EXPECT_TRUE(registry.plugins().empty());
  EXPECT_NE(reason_for(registry, good()).find("writable by others"), std::string::npos);
}

TEST_F(PluginTrustTest, AWorldWritableFolderIsRefusedWithNoneOfItsFiles) {
  ::chmod(plugins_.c_str(), 0777);
  PluginRegistry registry;
  registry.load_dirs({plugins_});
  EXPECT_TRUE(registry.plugins().empty());
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.refused()[0].file, plugins_);
  EXPECT_NE(registry.refused()[0].reason.find("plugin folder is writable by others"),
            std::string::npos)
      << registry.refused()[0].reason;
  // The sticky bit (as on /tmp) does not make a shared folder safe for code.
  ::chmod(plugins_.c_str(), 01777);
  PluginRegistry again;
  again.load_dirs({plugins_});
  EXPECT_TRUE(again.plugins().empty());
}

TEST_F(PluginTrustTest, AFileOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  ASSERT_EQ(::chown(good().c_str(), 4242, 4242), 0);
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(good()));
  std::string why = reason_for(registry, good());
  EXPECT_NE(why.find("owned by uid 4242"), std::string::npos) << why;
  ASSERT_EQ(::chown(plugins_.c_str(), 4242, 4242), 0);
  ASSERT_EQ(::chown(good().c_str(), 0, 0), 0);
  PluginRegistry by_folder;
  by_folder.load_dirs({plugins_});
  EXPECT_TRUE(by_folder.plugins().empty());
  EXPECT_NE(reason_for(by_folder, plugins_).find("plugin folder is owned by uid 4242"),
            std::string::npos);
}

TEST_F(PluginTrustTest, WithAPinFileOnlyListedDigestsLoad) {
  write_pin("# plugins this host may run\n\n" + sha256_of(good()) + "  good.so\n");
  PluginRegistry registry;
  registry.set_pin_file(root_ + "/plugins.pin");
  EXPECT_EQ(registry.pinned_digests(), 1u);
  registry.load_dirs({plugins_});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->file, good());
  std::string why = reason_for(registry, other());
  EXPECT_NE(why.find("sha256 " + sha256_of(other()) + " is not listed in plugin pin file " + root_ +
                     "/plugins.pin"),
            std::string::npos)
      << why;
}

TEST_F(PluginTrustTest, AChangedFileNoLongerMatchesItsPin) {
  write_pin(sha256_of(good()) + "  good.so\n");
  { std::ofstream(good(), std::ios::app) << "tampered"; }
  PluginRegistry registry;
  registry.set_pin_file(root_ + "/plugins.pin");
  EXPECT_FALSE(registry.load_file(good()));
  EXPECT_NE(reason_for(registry, good()).find("is not listed"), std::string::npos);
}

TEST_F(PluginTrustTest, Sha256sumBinaryMarkerAndUpperCaseAreAccepted) {
  std::string digest = sha256_of(good());
  for (auto& c : digest) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_pin(digest + " *good.so\n");
  PluginRegistry registry;
  registry.set_pin_file(root_ + "/plugins.pin");
  EXPECT_TRUE(registry.load_file(good())) << reason_for(registry, good());
}

TEST_F(PluginTrustTest, AMalformedPinFileRefusesEveryPluginNamingTheLine) {
  write_pin(sha256_of(good()) + "  good.so\nnot a digest line\n");
  PluginRegistry registry;
  registry.set_pin_file(root_ + "/plugins.pin");
  registry.load_dirs({plugins_});
  EXPECT_TRUE(registry.plugins().empty());
  std::string why = reason_for(registry, good());
  EXPECT_NE(why.find("plugins.pin line 2"), std::string::npos) << why;
}

TEST_F(PluginTrustTest, AMissingOrOpenPinFileRefusesEveryPlugin) {
  PluginRegistry missing;
  missing.set_pin_file(root_ + "/absent.pin");
  EXPECT_FALSE(missing.load_file(good()));
  EXPECT_NE(reason_for(missing, good()).find("absent.pin cannot be read"), std::string::npos);

  write_pin(sha256_of(good()) + "  good.so\n", 0666);
  PluginRegistry open;
  open.set_pin_file(root_ + "/plugins.pin");
  EXPECT_FALSE(open.load_file(good()));
  EXPECT_NE(reason_for(open, good()).find("plugins.pin is writable by others"), std::string::npos)
      << reason_for(open, good());
}

TEST_F(PluginTrustTest, PluginsCommandShowsThePinFileAndItsRefusals) {
  write_pin(sha256_of(good()) + "  good.so\n");
  int status = -1;
  std::string yaml = "plugin_dirs: [plugins]\nplugin_pin: plugins.pin\n";
  std::string out = siphon(yaml, "plugins", status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("plugin pin file: " + root_ + "/plugins.pin (1 digests)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("fake-good 0.1.0"), std::string::npos) << out;
  EXPECT_NE(out.find("  " + other() + ": sha256 "), std::string::npos) << out;

  std::string json = siphon(yaml, "plugins --json", status);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_EQ(std::string(doc["plugin_pin"].GetString()), root_ + "/plugins.pin");
  ASSERT_EQ(doc["refused"].Size(), 1u);
  EXPECT_EQ(std::string(doc["refused"][0]["file"].GetString()), other());

  ::chmod(good().c_str(), 0777);
  out = siphon("plugin_dirs: [plugins]\n", "plugins", status);
  EXPECT_NE(out.find("  " + good() + ": file is writable by others (mode 0777)"), std::string::npos)
      << out;
}

TEST_F(PluginTrustTest, AnEmptyPinKeyIsAConfigProblem) {
  int status = -1;
  std::string out = siphon("plugin_dirs: [plugins]\nplugin_pin: \"\"\n", "check", status);
  EXPECT_EQ(status, 1);
}

}  // namespace
}  // namespace siphon
