#pragma once
// `--pid N` and `--process NAME`: which processes a view shows. The pressure
// figures stay the host's: ports are a shared budget, whoever holds them.

#include <cstdint>
#include <string>
#include <vector>

#include "analyze/analysis.h"

namespace ephport {

struct ProcessFilter {
  std::vector<uint32_t> pids;
  std::vector<std::string> names;  // comm, or the base name of the executable

  bool empty() const { return pids.empty() && names.empty(); }
  // A process matches if any pid or any name does.
  bool matches(const ProcessRow& row) const;
};

// Drops the processes the filter does not match (none when it is empty).
void keep_matching_processes(Analysis& analysis, const ProcessFilter& filter);

}  // namespace ephport
