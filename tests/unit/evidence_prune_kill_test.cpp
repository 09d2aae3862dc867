// A SIGKILL while bundles are pruned never leaves a bundle whose MANIFEST
// lists a missing file (issue #12: pruning in place left 6 of 150 bundles
// torn). A child does nothing but prune; it is killed at a random moment,
// 200 times, and every bundle left under a bundle name is checked whole.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "evidence/evidence_bundle.h"
#include "evidence/evidence_retention.h"
#include "private_tmpfs.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;

constexpr int kTrials = 200;
constexpr int kBundles = 8;          // present before each trial
constexpr int kFilesPerBundle = 60;  // so that removing one takes a while

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A committed bundle as EvidenceBundle leaves it, made without fsyncs (the
// files and the MANIFEST are what the check reads).
void make_bundle(const fs::path& root, int index) {
  fs::path bundle = root / fmt::format("20261118T11{:02}{:02}Z", index / 60 % 60, index % 60);
  fs::create_directories(bundle / "heavy");
  nlohmann::json files = nlohmann::json::array();
  for (int i = 0; i < kFilesPerBundle; ++i) {
    std::string name = fmt::format("heavy/{}.json", 1000 + i);
    std::ofstream(bundle / name) << std::string(512, 'x');
    files.push_back({{"path", name}, {"bytes", 512}});
  }
  std::ofstream(bundle / "MANIFEST.json") << nlohmann::json{{"files", files}}.dump();
}

// "" when every directory with a bundle name holds every file its MANIFEST
// lists, else the first missing one.
std::string first_missing_file(const fs::path& root) {
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!is_bundle_name(entry.path().filename().string())) {
      continue;
    }
    if (!fs::exists(entry.path() / "MANIFEST.json")) {
      return (entry.path() / "MANIFEST.json").string();
    }
    auto manifest = nlohmann::json::parse(slurp(entry.path() / "MANIFEST.json"));
    for (const auto& file : manifest.at("files")) {
      fs::path path = entry.path() / file.at("path").get<std::string>();
      if (!fs::exists(path)) {
        return path.string();
      }
    }
  }
  return "";
}

size_t count_bundles(const fs::path& root) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    count += is_bundle_name(entry.path().filename().string()) ? 1 : 0;
  }
  return count;
}

TEST(EvidencePruneKill, ASigkillDuringPruningNeverLeavesABundleWithMissingFiles) {
  testing::run_on_private_tmpfs("size=64m", 0, [](const std::string& mount) -> std::string {
    fs::path root = fs::path(mount) / "evidence";
    fs::create_directories(root);
    std::mt19937 random(12);  // fixed: a failure replays
    std::uniform_int_distribution<int> delay_us(0, 4000);
    int next_index = 0;
    int landed_mid_prune = 0;   // killed between the first and the last prune
    int landed_mid_bundle = 0;  // killed while one bundle was being removed
    for (int trial = 0; trial < kTrials; ++trial) {
      // What the next log would do first: drop what a crash left.
      remove_partial_evidence(root.string());
      while (count_bundles(root) < kBundles) {
        make_bundle(root, next_index++);
      }
      int ready[2];
      if (::pipe2(ready, O_CLOEXEC) != 0) {
        return "pipe2 failed";
      }
      pid_t pruner = ::fork();
      if (pruner < 0) {
        return "fork failed";
      }
      if (pruner == 0) {
        ::close(ready[0]);
        [[maybe_unused]] ssize_t ignored = ::write(ready[1], "r", 1);
        for (size_t keep = kBundles - 1; keep > 0; --keep) {
          prune_evidence(root.string(), keep);
        }
        ::_exit(0);
      }
      ::close(ready[1]);
      char byte;
      [[maybe_unused]] ssize_t ignored = ::read(ready[0], &byte, 1);
      ::close(ready[0]);
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
      ::kill(pruner, SIGKILL);
      int status = 0;
      ::waitpid(pruner, &status, 0);
      if (WIFSIGNALED(status)) {
        size_t left = count_bundles(root);
        landed_mid_prune += left > 1 && left < kBundles ? 1 : 0;
        for (const auto& entry : fs::directory_iterator(root)) {
          if (entry.path().filename().string().starts_with(".partial-")) {
            ++landed_mid_bundle;
            break;
          }
        }
      }
      if (std::string missing = first_missing_file(root); !missing.empty()) {
        return fmt::format("trial {}: a bundle lists {}, which is gone", trial, missing);
      }
    }
    remove_partial_evidence(root.string());
    for (const auto& entry : fs::directory_iterator(root)) {
      if (entry.path().filename().string().starts_with(".partial-")) {
        return "left after remove_partial_evidence: " + entry.path().string();
      }
    }
    std::fprintf(stderr, "%d of %d kills landed while pruning, %d inside one bundle's removal\n",
                 landed_mid_prune, kTrials, landed_mid_bundle);
    if (landed_mid_bundle == 0) {
      return fmt::format("none of {} kills landed inside a bundle's removal", kTrials);
    }
    return "";
  });
}

}  // namespace
}  // namespace ephport
