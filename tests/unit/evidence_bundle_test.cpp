// Evidence bundles appear whole or not at all, are bounded, and say what
// failed.

#include "evidence/evidence_bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "evidence/evidence_retention.h"
#include "private_tmpfs.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using Clock = std::chrono::system_clock;

Clock::time_point at(int64_t seconds) {
  return Clock::time_point(std::chrono::seconds(seconds));
}

std::set<std::string> entries(const std::string& directory) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(EvidenceBundle, CommitMakesTheTimestampDirectoryWithAManifest) {
  TempDir dir;
  std::string root = dir.file("evidence");
  std::string final_path;
  {
    EvidenceBundle bundle(root, at(1795000000));  // 2026-11-18T11:06:40Z
    bundle.write_file("snapshot.json", "{}\n");
    bundle.write_file("heavy/42.json", "{\"pid\":42}\n");
    final_path = bundle.commit({{"trigger", "test"}});
  }
  EXPECT_EQ(final_path, root + "/20261118T110640Z");
  EXPECT_EQ(entries(root), std::set<std::string>{"20261118T110640Z"});
  EXPECT_EQ(read_file(final_path + "/heavy/42.json"), "{\"pid\":42}\n");
  auto manifest = nlohmann::json::parse(read_file(final_path + "/MANIFEST.json"));
  EXPECT_EQ(manifest["trigger"], "test");
  ASSERT_EQ(manifest["files"].size(), 2u);
  EXPECT_EQ(manifest["files"][0]["path"], "heavy/42.json");
  EXPECT_EQ(manifest["files"][0]["bytes"], 11);
  EXPECT_EQ(manifest["files"][1]["path"], "snapshot.json");
}

TEST(EvidenceBundle, AnUncommittedBundleLeavesNothing) {
  TempDir dir;
  std::string root = dir.file("evidence");
  {
    EvidenceBundle bundle(root, at(1795000000));
    bundle.write_file("snapshot.json", "{}\n");
    EXPECT_EQ(entries(root).size(), 1u);  // only the partial directory
    EXPECT_TRUE(entries(root).begin()->starts_with(".partial-"));
  }
  EXPECT_TRUE(entries(root).empty());
}

TEST(EvidenceBundle, TwoBundlesInOneSecondGetASuffix) {
  TempDir dir;
  std::string root = dir.file("evidence");
  for (int i = 0; i < 3; ++i) {
    EvidenceBundle bundle(root, at(1795000000));
    bundle.commit({});
  }
  EXPECT_EQ(entries(root), (std::set<std::string>{"20261118T110640Z", "20261118T110640Z-2",
                                                  "20261118T110640Z-3"}));
}

TEST(EvidenceBundle, ASuffixNeverReusesAPrunedName) {
  TempDir dir;
  std::string root = dir.file("evidence");
  for (int i = 0; i < 3; ++i) {
    EvidenceBundle(root, at(1795000000)).commit({});
  }
  EXPECT_EQ(prune_evidence(root, 1), 2u);  // the base name and -2 are gone
  EXPECT_EQ(EvidenceBundle(root, at(1795000000)).commit({}), root + "/20261118T110640Z-4");
}

TEST(EvidenceBundle, PruneKeepsTheNewest) {
  TempDir dir;
  std::string root = dir.file("evidence");
  for (int i = 0; i < 5; ++i) {
    EvidenceBundle bundle(root, at(1795000000 + i * 60));
    bundle.commit({});
  }
  EvidenceBundle(root, at(1795000000 + 4 * 60)).commit({});  // ...T083040Z-2, the newest
  fs::create_directory(root + "/not-a-bundle");
  EXPECT_EQ(prune_evidence(root, 2), 4u);
  EXPECT_EQ(entries(root),
            (std::set<std::string>{"20261118T111040Z", "20261118T111040Z-2", "not-a-bundle"}));
  EXPECT_EQ(prune_evidence(root, 2), 0u);
}

TEST(EvidenceBundle, LeftoverPartialsAreRemovedAndBundlesKept) {
  TempDir dir;
  std::string root = dir.file("evidence");
  EvidenceBundle(root, at(1795000000)).commit({});
  fs::create_directories(root + "/.partial-20261118T090000Z/heavy");
  EXPECT_EQ(remove_partial_evidence(root), 1u);
  EXPECT_EQ(entries(root), std::set<std::string>{"20261118T110640Z"});
}

TEST(EvidenceBundle, NamesAreTimestamps) {
  EXPECT_TRUE(is_bundle_name("20261118T110640Z"));
  EXPECT_TRUE(is_bundle_name("20261118T110640Z-12"));
  EXPECT_FALSE(is_bundle_name(".partial-20261118T110640Z"));
  EXPECT_FALSE(is_bundle_name("20261118T110640Z-"));
  EXPECT_FALSE(is_bundle_name("20261118T082640"));
  EXPECT_FALSE(is_bundle_name("2026111xT082640Z"));
}

TEST(EvidenceBundle, AFullDiskThrowsNamingTheFileAndLeavesNoBundle) {
  testing::run_on_private_tmpfs("size=64k", 0, [](const std::string& mount) -> std::string {
    std::string root = mount + "/evidence";
    try {
      EvidenceBundle bundle(root, at(1795000000));
      bundle.write_file("sockets.json", std::string(1 << 20, 'x'));
      bundle.commit({});
      return "a 1 MiB file fit in a 64 KiB tmpfs";
    } catch (const RuntimeError& error) {
      std::string message = error.what();
      if (message.find("sockets.json") == std::string::npos ||
          message.find("No space left") == std::string::npos) {
        return "unclear error: " + message;
      }
    }
    if (!entries(root).empty()) {
      return "something was left in " + root;
    }
    return "";
  });
}

TEST(EvidenceBundle, AnUncreatableRootIsAClearError) {
  TempDir dir;
  testing::write_file(dir.file("file"), "x");
  try {
    EvidenceBundle bundle(dir.file("file") + "/evidence", at(1795000000));
    FAIL() << "no error";
  } catch (const RuntimeError& error) {
    EXPECT_NE(std::string(error.what()).find(dir.file("file") + "/evidence"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ephport
