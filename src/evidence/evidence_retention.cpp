#include "evidence/evidence_retention.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "evidence/evidence_bundle.h"
#include "platform/atomic_file.h"

namespace ephport {

namespace fs = std::filesystem;

namespace {
constexpr uint64_t kMiB = uint64_t{1024} * 1024;
constexpr uint64_t kMaxBytesCap = 1024 * kMiB;
constexpr uint64_t kMinFreeCap = 256 * kMiB;

uint64_t allocated(const fs::path& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    return 0;  // gone meanwhile
  }
  return static_cast<uint64_t>(status.st_blocks) * 512;
}

// Oldest first: names sort by time; "-N" suffixes sort after their second.
bool older(const std::string& a, const std::string& b) {
  std::string_view sa(a);
  std::string_view sb(b);
  if (sa.substr(0, 16) != sb.substr(0, 16)) {
    return sa.substr(0, 16) < sb.substr(0, 16);
  }
  if (a.size() != b.size()) {
    return a.size() < b.size();
  }
  return a < b;
}

// Hides the bundle under a .partial- name, then deletes it. False if it
// could not be hidden (it is left whole).
bool prune_bundle(const std::string& root, const std::string& name) {
  const fs::path doomed = fs::path(root) / (std::string(kPartialEvidencePrefix) + "pruned-" + name);
  std::error_code error;
  fs::remove_all(doomed, error);  // an earlier prune of the same name, interrupted
  if (std::rename((fs::path(root) / name).c_str(), doomed.c_str()) != 0) {
    return false;
  }
  // Once the rename is on disk, a power loss cannot bring back a bundle
  // whose deletion had begun.
  [[maybe_unused]] Result<void> synced = sync_directory(root);
  fs::remove_all(doomed, error);
  return true;
}

bool fits(const EvidenceLimits& limits, size_t count, uint64_t total, uint64_t bytes,
          const std::optional<DiskSpace>& space, uint64_t still_to_write) {
  if (count + 1 > limits.keep || total + bytes > limits.max_bytes) {
    return false;
  }
  return !space ||
         (space->free >= still_to_write && space->free - still_to_write >= limits.min_free);
}
}  // namespace

std::optional<DiskSpace> disk_space(const std::string& path) {
  struct statvfs status {};
  if (::statvfs(path.c_str(), &status) != 0) {
    return std::nullopt;
  }
  return DiskSpace{static_cast<uint64_t>(status.f_blocks) * status.f_frsize,
                   static_cast<uint64_t>(status.f_bavail) * status.f_frsize};
}

uint64_t default_max_bytes(uint64_t filesystem_size) {
  return std::min(filesystem_size / 5, kMaxBytesCap);
}

uint64_t default_min_free(uint64_t filesystem_size) {
  return std::min(filesystem_size / 20, kMinFreeCap);
}

uint64_t disk_use(const std::string& path) {
  uint64_t bytes = allocated(path);
  std::error_code error;
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
       it.increment(error)) {
    bytes += allocated(it->path());
  }
  return bytes;
}

std::vector<BundleUse> list_bundles(const std::string& root) {
  std::vector<BundleUse> bundles;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    std::string name = entry.path().filename().string();
    if (is_bundle_name(name) && entry.is_directory()) {
      bundles.push_back({name, 0});
    }
  }
  std::sort(bundles.begin(), bundles.end(),
            [](const BundleUse& a, const BundleUse& b) { return older(a.name, b.name); });
  for (BundleUse& bundle : bundles) {
    bundle.bytes = disk_use((fs::path(root) / bundle.name).string());
  }
  return bundles;
}

Room make_room(const std::string& root, const EvidenceLimits& limits, uint64_t bytes,
               uint64_t still_to_write) {
  std::vector<BundleUse> bundles = list_bundles(root);
  uint64_t total = 0;
  for (const BundleUse& bundle : bundles) {
    total += bundle.bytes;
  }
  Room room;
  // Old evidence is only given up for a new bundle that will then fit.
  std::optional<DiskSpace> space = disk_space(root);
  if (bytes > limits.max_bytes ||
      (space && space->free + total < limits.min_free + still_to_write)) {
    return room;
  }
  for (size_t oldest = 0;; ++oldest) {
    size_t count = bundles.size() - oldest;
    if (fits(limits, count, total, bytes, disk_space(root), still_to_write)) {
      room.fits = true;
      return room;
    }
    if (count == 0 || !prune_bundle(root, bundles[oldest].name)) {
      return room;
    }
    total -= bundles[oldest].bytes;
    ++room.pruned;
  }
}

size_t prune_evidence(const std::string& root, size_t keep) {
  std::vector<BundleUse> bundles = list_bundles(root);
  size_t pruned = 0;
  for (size_t i = 0; i + keep < bundles.size(); ++i) {
    pruned += prune_bundle(root, bundles[i].name) ? 1 : 0;
  }
  return pruned;
}

size_t remove_partial_evidence(const std::string& root) {
  size_t removed = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    if (entry.path().filename().string().starts_with(kPartialEvidencePrefix)) {
      std::error_code failed;
      fs::remove_all(entry.path(), failed);
      removed += failed ? 0 : 1;
    }
  }
  return removed;
}

}  // namespace ephport
