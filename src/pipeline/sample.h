#pragma once
// One sample: host facts, owners, socket stream, analysis. The wiring every
// command shares; no formatting here.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "analyze/analysis.h"
#include "collect/collector.h"
#include "collect/linux/owner_source.h"

namespace ephport {

class CaptureWriter;
class OwnerTable;
class ProcessInfoCache;

struct SampleOptions {
  CollectOptions collect;
  std::string netns;  // recorded in the output; entering it is done once at start
  bool owners = true;
  // --owner-source: the BPF task_file walk, /proc/PID/fd, or auto.
  OwnerSource::Mode owner_source = OwnerSource::Mode::automatic;
  std::optional<PortRange> range;  // --range override
  // Process owners scanned beforehand (socket inodes are host-wide), or null
  // to scan them in take_sample().
  const OwnerTable* scanned_owners = nullptr;
  // --bind-state: auto (BPF when it works, else estimate), bpf (required),
  // estimate (never try BPF).
  enum class BindState { automatic, bpf, estimate } bind_state = BindState::automatic;
  size_t top = 10;
  // Timewait sockets expiring within this many ms are counted
  // (time_wait_expiring); `log` sets it to the interval, 0 counts none.
  uint32_t expiry_window_ms = 0;
};

// Samples the current network namespace again and again (log, serve),
// keeping what can be reused between samples: the loaded owner walk and the
// identities of processes already seen.
class SampleSession {
 public:
  explicit SampleSession(SampleOptions options);
  ~SampleSession();
  SampleSession(const SampleSession&) = delete;
  SampleSession& operator=(const SampleSession&) = delete;

  // Collects and analyses; with `save`, every record and the host facts are
  // also written to it. `top` overrides options().top (evidence wants all).
  Analysis take(CaptureWriter* save, std::optional<size_t> top = std::nullopt);
  const SampleOptions& options() const { return options_; }

 private:
  SampleOptions options_;
  std::unique_ptr<OwnerSource> owners_;
  std::unique_ptr<ProcessInfoCache> processes_;
};

// One sample of the current network namespace (a session used once).
Analysis take_sample(const SampleOptions& options, CaptureWriter* save);

// Analyses a file written by `snapshot --save`.
Analysis analyze_capture(const std::string& path, const SampleOptions& options);

// Parses "FIRST-LAST" (1..65535, FIRST <= LAST); throws InputError naming `what`.
PortRange parse_port_range(const std::string& text, const std::string& what);

}  // namespace ephport
