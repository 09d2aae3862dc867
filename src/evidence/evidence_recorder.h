#pragma once
// `log`'s evidence: when pressure reaches --evidence-at, a bundle
// (evidence/evidence_bundle.h) with what an engineer needs afterwards: every
// socket, the analysis, the processes and their destinations, the sysctls,
// details of the heavy processes and the packet ring. At most one per
// --evidence-every; before each, the oldest are pruned until the new one
// fits --evidence-keep, --evidence-max-bytes and --evidence-min-free
// (evidence/evidence_retention.h), so new evidence wins over old.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analyze/analysis.h"
#include "evidence/evidence_retention.h"

namespace ephport {

class EvidenceBundle;
class PacketRing;
class SampleSession;

struct EvidenceOptions {
  bool disabled = false;   // --no-evidence
  std::string directory;   // default: "evidence" beside the log
  double at_percent = 10;  // the seed's threshold
  double every_seconds = 600;
  int keep = 20;
  uint64_t max_bytes = 0;         // --evidence-max-bytes; 0: sized to the file system
  uint64_t min_free = 0;          // --evidence-min-free; 0: sized to the file system
  uint32_t heavy = 1000;          // sockets from which a process gets its details
  std::string capture_interface;  // --capture: the packet ring's interface
  double capture_mb = 16;
};

void add_evidence_options(CLI::App& command, EvidenceOptions& options);

class EvidenceRecorder {
 public:
  // `log_path` places the default directory. Opens the packet ring (in the
  // current network namespace: enter --netns first) and removes partial
  // bundles a crash left. Throws InputError/RuntimeError if the ring or the
  // directory cannot be set up, before the loop starts.
  EvidenceRecorder(const EvidenceOptions& options, const std::string& log_path,
                   SampleSession& session);
  ~EvidenceRecorder();
  EvidenceRecorder(const EvidenceRecorder&) = delete;
  EvidenceRecorder& operator=(const EvidenceRecorder&) = delete;

  // After each sample: writes a bundle when due. A failure is said on stderr
  // and returns false; the loop goes on.
  bool after_sample(const Analysis& analysis);
  const std::string& directory() const { return directory_; }

 private:
  void write_bundle(const Analysis& trigger);
  // Writes every file of the bundle; returns its manifest.
  nlohmann::ordered_json fill_bundle(EvidenceBundle& bundle, const Analysis& trigger);
  // The options' limits, the defaults sized to the directory's file system.
  EvidenceLimits limits() const;

  EvidenceOptions options_;
  std::string directory_;
  SampleSession& session_;
  std::unique_ptr<PacketRing> ring_;
  std::optional<std::chrono::steady_clock::time_point> last_written_;
  uint64_t failed_bytes_ = 0;  // written by the last bundle before a full disk
};

}  // namespace ephport
