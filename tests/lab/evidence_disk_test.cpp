// Evidence on a small disk: new bundles win over old ones (issue #12: on a
// 3 MB disk retention by count kept the oldest and 37/37 new bundles
// failed). `log` runs in a private mount namespace on a 3 MB tmpfs, with
// ~800 sockets in its lab namespace so that each bundle is ~200 KB and the
// default 20 kept would not fit; it uses the default budget and floor.

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lab_support.h"

namespace ephport::lab {
namespace {

namespace fs = std::filesystem;

constexpr int kSamples = 30;

std::vector<std::string> written_bundles(const std::string& err) {
  std::vector<std::string> written;
  for (const std::string& line : split_lines(err)) {
    auto at = line.find("evidence written to ");
    if (at != std::string::npos) {
      std::string rest = line.substr(at + 20);
      written.push_back(fs::path(rest.substr(0, rest.find(' '))).filename().string());
    }
  }
  return written;
}

class EvidenceDiskLab : public LabTest {};

TEST_F(EvidenceDiskLab, OnA3MBDiskNewBundlesKeepBeingWrittenAndTheOldestGo) {
  lab().set_range(40000, 40999);
  lab().listen("127.0.0.1", 8080);
  lab().connect("", "127.0.0.1", 8080, 400);  // 40 % of the range: every sample triggers

  TempDir dir;
  const std::string disk = dir.file("disk");
  const std::string copy = dir.file("copy");
  fs::create_directories(disk);
  fs::create_directories(copy);
  // The tmpfs lives in the mount namespace of `unshare`; its content is
  // copied out before that namespace goes.
  const std::string script = fmt::format(
      "mount -t tmpfs -o size=3m tmpfs {disk} && "
      "{ephport} log --interval 0.1 --count {count} --evidence-every 0 --output {disk}/ports.log "
      ">/dev/null 2>{copy}/err; echo $? >{copy}/rc; cp -a {disk}/. {copy}/",
      fmt::arg("disk", disk), fmt::arg("copy", copy), fmt::arg("ephport", EPHPORT_BINARY),
      fmt::arg("count", kSamples));
  const int status = std::system(fmt::format("unshare -m sh -c '{}'", script).c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string err = read_file(copy + "/err");
  EXPECT_EQ(read_file(copy + "/rc"), "0\n") << err;
  EXPECT_EQ(err.find("not written"), std::string::npos) << err;
  EXPECT_EQ(err.find("could not be written"), std::string::npos) << err;

  // Every sample wrote its bundle; what is left is the newest of them, each
  // whole, and the log has every sample.
  std::vector<std::string> written = written_bundles(err);
  ASSERT_EQ(written.size(), static_cast<size_t>(kSamples)) << err;
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(copy + "/evidence")) {
    std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.starts_with(".partial-")) << name;
    left.push_back(name);
    Json manifest = Json::parse(read_file(entry.path().string() + "/MANIFEST.json"));
    for (const Json& file : manifest.at("files")) {
      const fs::path path = entry.path() / file.at("path").get<std::string>();
      EXPECT_EQ(fs::file_size(path), file.at("bytes").get<uintmax_t>()) << path;
    }
  }
  std::sort(left.begin(), left.end());
  ASSERT_GE(left.size(), 2u) << "the default budget of a 3 MB disk holds more than one bundle";
  ASSERT_LT(left.size(), static_cast<size_t>(kSamples));
  EXPECT_EQ(left, std::vector<std::string>(written.end() - static_cast<long>(left.size()),
                                           written.end()))
      << err;
  lab_note(fmt::format("3 MB tmpfs: {} bundles written, the newest {} kept", written.size(),
                       left.size()));
  EXPECT_EQ(line_count(read_file(copy + "/ports.log")) > static_cast<size_t>(kSamples), true);
}

}  // namespace
}  // namespace ephport::lab
