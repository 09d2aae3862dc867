#pragma once
// Which evidence bundles stay: the newest ones, within a count
// (--evidence-keep), a byte budget (--evidence-max-bytes) and a floor of free
// space on their file system (--evidence-min-free). Room for a new bundle is
// made by pruning the oldest first, so new evidence wins over old.
//
// A bundle is pruned by renaming it to a .partial- name (one atomic rename
// in the evidence directory) and only then deleting it: a crash in the
// middle leaves a bundle whole or hidden under .partial-, never a bundle
// whose MANIFEST lists missing files. Whatever is named .partial- (a write
// or a prune a crash interrupted) is never counted as a bundle and is
// removed by remove_partial_evidence() (at start and before each prune).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ephport {

struct EvidenceLimits {
  size_t keep = 20;        // bundles, the new one included
  uint64_t max_bytes = 0;  // disk use of all bundles together, the new one included
  uint64_t min_free = 0;   // bytes the file system keeps free after the new one
};

struct DiskSpace {
  uint64_t size = 0;  // the file system's size
  uint64_t free = 0;  // what an unprivileged writer may still use (f_bavail)
};

// statvfs of the file system holding `path`; nullopt if it cannot be read.
std::optional<DiskSpace> disk_space(const std::string& path);

// Defaults sized to the file system (docs/evidence.md says why): a fifth of
// it for bundles, at most 1 GiB; a twentieth kept free, at most 256 MiB.
uint64_t default_max_bytes(uint64_t filesystem_size);
uint64_t default_min_free(uint64_t filesystem_size);

// What a file or a directory tree occupies on disk (allocated blocks, as
// `du` counts them).
uint64_t disk_use(const std::string& path);

struct BundleUse {
  std::string name;
  uint64_t bytes = 0;  // disk_use()
};

// The committed bundles in `root`, oldest first (names sort by time; "-N"
// suffixes after their second). None if `root` does not exist.
std::vector<BundleUse> list_bundles(const std::string& root);

struct Room {
  size_t pruned = 0;  // bundles removed to make it
  bool fits = false;  // whether the new bundle now fits every limit
};

// Prunes the oldest bundles until a new bundle of `bytes` fits `limits`:
// fewer than `keep` bundles, all of them with the new one within
// `max_bytes`, and `min_free` left on the file system once the
// `still_to_write` bytes of it not yet on disk are written. Prunes nothing
// when even the removal of every bundle would not be enough (`fits` false).
Room make_room(const std::string& root, const EvidenceLimits& limits, uint64_t bytes,
               uint64_t still_to_write);

// Removes committed bundles beyond the newest `keep`; returns how many.
size_t prune_evidence(const std::string& root, size_t keep);
// Removes .partial- directories a crash left behind; returns how many.
size_t remove_partial_evidence(const std::string& root);

}  // namespace ephport
