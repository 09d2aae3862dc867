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
  uintmax_t bundle_bytes = 0;
  for (const auto& entry : fs::directory_iterator(copy + "/evidence")) {
    std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.starts_with(".partial-")) << name;
    left.push_back(name);
    Json manifest = Json::parse(read_file(entry.path().string() + "/MANIFEST.json"));
    bundle_bytes = 0;
    for (const Json& file : manifest.at("files")) {
      const fs::path path = entry.path() / file.at("path").get<std::string>();
      EXPECT_EQ(fs::file_size(path), file.at("bytes").get<uintmax_t>()) << path;
      bundle_bytes += file.at("bytes").get<uintmax_t>();
    }
  }
  std::sort(left.begin(), left.end());
  ASSERT_GE(left.size(), 2u) << "the default budget of a 3 MB disk holds more than one bundle";
  ASSERT_LT(left.size(), static_cast<size_t>(kSamples));
  EXPECT_EQ(left,
            std::vector<std::string>(written.end() - static_cast<long>(left.size()), written.end()))
      << err;
  lab_note(fmt::format("3 MB tmpfs: {} bundles of ~{} KB written, the newest {} kept",
                       written.size(), bundle_bytes / 1024, left.size()));
  EXPECT_EQ(line_count(read_file(copy + "/ports.log")) > static_cast<size_t>(kSamples), true);
}

// A bundle larger than --evidence-max-bytes: one line per bundle on stderr,
// every sample still in the log, no older bundle given up for it, exit 1.
TEST_F(EvidenceDiskLab, ABundleThatCannotFitIsOneLineAndEverySampleIsLogged) {
  TempDir dir;
  const std::string log = dir.file("ports.log");
  RunResult first = run_ephport(
      {"log", "--count", "1", "--format", "jsonl", "--evidence-at", "0", "--output", log});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(written_bundles(first.err).size(), 1u) << first.err;

  RunResult run =
      run_ephport({"log", "--interval", "0.1", "--count", "3", "--format", "jsonl", "--evidence-at",
                   "0", "--evidence-every", "0", "--evidence-max-bytes", "4k", "--output", log});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  size_t refused = 0;
  for (const std::string& line : split_lines(run.err)) {
    if (line.starts_with("ephport: evidence bundle not written: a bundle of ")) {
      EXPECT_NE(line.find(" bytes exceeds --evidence-max-bytes 4096 (older bundles kept)"),
                std::string::npos)
          << line;
      ++refused;
    }
  }
  EXPECT_EQ(refused, 3u) << run.err;
  EXPECT_EQ(line_count(read_file(log)), 4u);  // one JSON line per sample
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir.file("evidence"))) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(left, written_bundles(first.err));
}

// A .partial- directory (a bundle being written or pruned, or cut short) is
// never read as a bundle, even when it holds every file.
TEST_F(EvidenceDiskLab, AnalyzeRefusesAPartialBundle) {
  TempDir dir;
  RunResult log = run_ephport({"log", "--count", "1", "--format", "jsonl", "--evidence-at", "0",
                               "--output", dir.file("ports.log")});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  ASSERT_EQ(written_bundles(log.err).size(), 1u) << log.err;
  const std::string bundle = dir.file("evidence/" + written_bundles(log.err)[0]);
  const std::string partial = dir.file("evidence/.partial-pruned-" + written_bundles(log.err)[0]);
  ASSERT_EQ(run_ephport({"analyze", bundle}).exit_code, 0);
  fs::rename(bundle, partial);
  for (const std::string& path : {partial, partial + "/"}) {
    RunResult analyze = run_ephport({"analyze", path});
    EXPECT_EQ(analyze.exit_code, 2) << analyze.err;
    EXPECT_EQ(analyze.err, "ephport: " + path +
                               " is an incomplete evidence bundle (being written or removed, or "
                               "cut short by a crash: the next `ephport log` removes it)\n");
  }
}

}  // namespace
}  // namespace ephport::lab
