#pragma once
// Evidence bundles: a directory <root>/<UTC timestamp>/ written whole or not
// at all. Files go into <root>/.partial-<timestamp>/ first; commit() fsyncs
// them, adds MANIFEST.json (every file with its size) and renames the
// directory into place, so a crash or a full disk never leaves a half bundle
// under a timestamp name. Every committed bundle has a MANIFEST.json.
// Which bundles stay, and how they go: evidence/evidence_retention.h.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ephport {

// Names of what is not (or no longer) a whole bundle: a bundle being written,
// or being pruned. Never counted as a bundle.
inline constexpr std::string_view kPartialEvidencePrefix = ".partial-";

class EvidenceBundle {
 public:
  // Creates <root> if needed and the partial directory. Throws RuntimeError
  // naming the directory that could not be made.
  EvidenceBundle(const std::string& root, std::chrono::system_clock::time_point time);
  // Removes the partial directory unless commit() succeeded.
  ~EvidenceBundle();
  EvidenceBundle(const EvidenceBundle&) = delete;
  EvidenceBundle& operator=(const EvidenceBundle&) = delete;

  // Where a file of the bundle is written before commit (for writers that
  // make their own files: captures, pcap).
  std::string path_of(std::string_view relative) const;
  // Writes one file whole (parents created). Throws RuntimeError.
  void write_file(std::string_view relative, std::string_view content);
  // What the files written so far occupy on disk (MANIFEST.json, written by
  // commit(), is a few hundred bytes more).
  uint64_t disk_bytes() const;
  // Adds MANIFEST.json (`manifest` plus the file list) and renames the
  // bundle into place; returns its final path. Throws RuntimeError.
  std::string commit(nlohmann::ordered_json manifest);

 private:
  std::string root_;
  std::string name_;
  std::string partial_;
  bool committed_ = false;
};

// Whether a directory name is a committed bundle's ("20261125T171500Z", or
// with "-N" when several were taken in one second).
bool is_bundle_name(std::string_view name);

}  // namespace ephport
