#pragma once
// `--netns all`: one analysis per network namespace of the host, taken in
// one pass over the namespaces. Plain values, no I/O; every sink renders it.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "analyze/analysis.h"

namespace ephport {

struct NetnsSamples {
  std::string computer;                        // host name
  std::chrono::system_clock::time_point time;  // when the pass began
  // One per namespace, by inode; each has host.netns_identity set.
  std::vector<Analysis> namespaces;
  uint64_t vanished = 0;              // listed, then gone before they could be entered
  uint64_t processes_unreadable = 0;  // processes whose namespace could not be read
};

}  // namespace ephport
