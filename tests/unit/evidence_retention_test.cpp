// Which bundles stay: the oldest go first, until the new one fits the count,
// the byte budget and the floor of free space; what is named .partial- is
// never a bundle.

#include "evidence/evidence_retention.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "evidence/evidence_bundle.h"
#include "private_tmpfs.h"
#include "temp_dir.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Clock = std::chrono::system_clock;

constexpr uint64_t kKiB = 1024;

// A committed bundle at `minute` holding `bytes` of data.
std::string add_bundle(const std::string& root, int minute, size_t bytes) {
  EvidenceBundle bundle(root, Clock::time_point(std::chrono::seconds(1795000000 + minute * 60)));
  bundle.write_file("sockets.capture.jsonl", std::string(bytes, 'x'));
  return fs::path(bundle.commit({})).filename().string();
}

std::vector<std::string> names(const std::vector<BundleUse>& bundles) {
  std::vector<std::string> result;
  for (const BundleUse& bundle : bundles) {
    result.push_back(bundle.name);
  }
  return result;
}

TEST(EvidenceRetention, TheByteBudgetPrunesTheOldestUntilTheNewOneFits) {
  TempDir dir;
  std::string root = dir.file("evidence");
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    made.push_back(add_bundle(root, i, 40 * kKiB));
  }
  const uint64_t each = list_bundles(root).front().bytes;
  ASSERT_GE(each, 40 * kKiB);
  // Room for three bundles: two old ones stay beside the new one.
  EvidenceLimits limits{100, 3 * each, 0};
  Room room = make_room(root, limits, each, 0);
  EXPECT_TRUE(room.fits);
  EXPECT_EQ(room.pruned, 3u);
  EXPECT_EQ(names(list_bundles(root)), (std::vector<std::string>{made[3], made[4]}));
}

TEST(EvidenceRetention, TheCountCountsTheNewBundle) {
  TempDir dir;
  std::string root = dir.file("evidence");
  for (int i = 0; i < 4; ++i) {
    add_bundle(root, i, 10);
  }
  Room room = make_room(root, {3, UINT64_MAX, 0}, 0, 0);
  EXPECT_TRUE(room.fits);
  EXPECT_EQ(room.pruned, 2u);
  EXPECT_EQ(list_bundles(root).size(), 2u);
}

TEST(EvidenceRetention, ABundleLargerThanTheBudgetDoesNotFitAndCostsNoOldOne) {
  TempDir dir;
  std::string root = dir.file("evidence");
  std::string old = add_bundle(root, 0, 10);
  Room room = make_room(root, {20, 8 * kKiB, 0}, 64 * kKiB, 0);
  EXPECT_FALSE(room.fits);
  EXPECT_EQ(room.pruned, 0u);
  EXPECT_EQ(names(list_bundles(root)), std::vector<std::string>{old});
}

// On a real 1 MiB file system: the floor of free space, not the budget,
// decides, and the bytes still to be written are counted against it.
TEST(EvidenceRetention, TheFloorOfFreeSpacePrunesTheOldest) {
  testing::run_on_private_tmpfs("size=1m", 0, [](const std::string& mount) -> std::string {
    std::string root = mount + "/evidence";
    for (int i = 0; i < 6; ++i) {
      add_bundle(root, i, 128 * kKiB);
    }
    std::optional<DiskSpace> space = disk_space(root);
    if (!space || space->size != 1024 * kKiB) {
      return "statvfs does not see the 1 MiB tmpfs";
    }
    // 6 x 128 KiB used: 256 KiB free; a new 128 KiB bundle leaving 256 KiB
    // free needs two of the old ones gone.
    Room room = make_room(root, {20, UINT64_MAX, 256 * kKiB}, 128 * kKiB, 128 * kKiB);
    std::vector<BundleUse> left = list_bundles(root);
    if (!room.fits || room.pruned != 2 || left.size() != 4) {
      return "pruned " + std::to_string(room.pruned) + ", left " + std::to_string(left.size());
    }
    if (disk_space(root)->free < 256 * kKiB + 128 * kKiB) {
      return "the floor is not kept";
    }
    // A floor above the whole disk: it cannot fit, and no old bundle goes.
    room = make_room(root, {20, UINT64_MAX, 2048 * kKiB}, 0, 0);
    if (room.fits || room.pruned != 0 || list_bundles(root).size() != 4) {
      return "an unreachable floor cost old bundles or fit";
    }
    return "";
  });
}

TEST(EvidenceRetention, PartialsAreNeverBundlesAndAreRemoved) {
  TempDir dir;
  std::string root = dir.file("evidence");
  std::string kept = add_bundle(root, 0, 10);
  fs::create_directories(root + "/.partial-pruned-20261118T090000Z/heavy");  // a prune, cut
  fs::create_directories(root + "/.partial-20261118T090100Z");               // a write, cut
  EXPECT_EQ(names(list_bundles(root)), std::vector<std::string>{kept});
  EXPECT_EQ(prune_evidence(root, 1), 0u);
  EXPECT_EQ(remove_partial_evidence(root), 2u);
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(root)) {
    left.insert(entry.path().filename().string());
  }
  EXPECT_EQ(left, std::set<std::string>{kept});
}

TEST(EvidenceRetention, DefaultsAreSizedToTheDiskWithCaps) {
  EXPECT_EQ(default_max_bytes(3 * 1024 * kKiB), 3 * 1024 * kKiB / 5);
  EXPECT_EQ(default_min_free(3 * 1024 * kKiB), 3 * 1024 * kKiB / 20);
  const uint64_t disk = uint64_t{500} * 1024 * 1024 * kKiB;  // 500 GiB
  EXPECT_EQ(default_max_bytes(disk), 1024 * 1024 * kKiB);
  EXPECT_EQ(default_min_free(disk), 256 * 1024 * kKiB);
}

}  // namespace
}  // namespace ephport
