#pragma once
// One sample: collector -> aggregator -> Analysis. The wiring every command
// shares (snapshot, log, check, serve); no formatting here.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "analyze/analysis.h"
#include "collect/collector.h"
#include "collect/linux/linux_collector.h"

namespace ephport {

class CaptureWriter;

struct SampleOptions {
  CollectRequest collect;
  LinuxOptions linux_options;      // how this host is read
  std::string netns;               // recorded in the output; entering it is done once at start
  std::optional<PortRange> range;  // --range override
  size_t top = 10;
  // Timewait sockets expiring within this many ms are counted
  // (time_wait_expiring); `log` sets it to the interval, 0 counts none.
  uint32_t expiry_window_ms = 0;
  // Why the bind state is estimated (BPF refused, and how to allow it) is
  // said once per run on stderr; false when the output carries it (the
  // snapshot table's notes), so it is not said twice.
  bool bind_state_note_on_stderr = true;
};

// Samples this host again and again (log, serve), keeping its collector,
// and with it what can be reused between samples.
class SampleSession {
 public:
  explicit SampleSession(SampleOptions options);
  ~SampleSession();
  SampleSession(const SampleSession&) = delete;
  SampleSession& operator=(const SampleSession&) = delete;

  // Collects and analyses; with `save`, every record and the host facts are
  // also written to it. `top` overrides options().top (evidence wants all);
  // `netns` overrides options().netns as the label of this sample.
  Analysis take(CaptureWriter* save, std::optional<size_t> top = std::nullopt,
                const std::string* netns = nullptr);
  const SampleOptions& options() const { return options_; }

 private:
  SampleOptions options_;
  std::unique_ptr<Collector> collector_;
};

// One sample of the current network namespace (a session used once).
Analysis take_sample(const SampleOptions& options, CaptureWriter* save);

// Analyses a file written by `snapshot --save`, or an evidence bundle (its
// directory or its sockets.capture.jsonl), whose processes are then named
// from its processes.json.
Analysis analyze_capture(const std::string& path, const SampleOptions& options);

// Parses "FIRST-LAST" (1..65535, FIRST <= LAST); throws InputError naming `what`.
PortRange parse_port_range(const std::string& text, const std::string& what);

}  // namespace ephport
