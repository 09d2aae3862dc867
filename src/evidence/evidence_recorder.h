#pragma once
// `log`'s evidence: when pressure reaches --evidence-at, a bundle
// (evidence/evidence_bundle.h) with what an engineer needs afterwards: every
// socket, the analysis, the processes and their destinations, the sysctls,
// details of the heavy processes and the packet ring. At most one per
// --evidence-every, the newest --evidence-keep kept.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "analyze/analysis.h"

namespace ephport {

class PacketRing;
class SampleSession;

struct EvidenceOptions {
  bool disabled = false;   // --no-evidence
  std::string directory;   // default: "evidence" beside the log
  double at_percent = 10;  // the seed's threshold
  double every_seconds = 600;
  int keep = 20;
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

  EvidenceOptions options_;
  std::string directory_;
  SampleSession& session_;
  std::unique_ptr<PacketRing> ring_;
  std::optional<std::chrono::steady_clock::time_point> last_written_;
};

}  // namespace ephport
