#pragma once
// What a process is: the identity ephport attaches to the sockets it owns.
// Filled by collect/linux/process_info (from /proc); plain values here so the
// analysis and the sinks do not depend on where it came from.

#include <cstdint>
#include <string>
#include <vector>

namespace ephport {

struct ProcessInfo {
  uint32_t pid = 0;
  uint64_t start_time = 0;  // clock ticks after boot: (pid, start_time) names one process
  std::string name;         // comm
  std::string exe;          // empty when it cannot be read
  std::string cmdline;      // argv joined by spaces, truncated
  bool cmdline_truncated = false;
  uint32_t uid = 0;
  std::string user;
  std::string cgroup;                   // the cgroup path
  std::string unit;                     // systemd unit, when the cgroup names one
  std::string container;                // container id, when the cgroup names one
  int64_t fd_count = -1;                // -1: not readable
  std::vector<std::string> unreadable;  // what could not be read, and why
};

struct ProcessLimit {
  std::string name;
  std::string soft;
  std::string hard;
  std::string units;
};

// The expensive reads, for processes holding many sockets (evidence bundles).
struct ProcessDetail {
  ProcessInfo info;
  std::vector<ProcessLimit> limits;
  std::vector<std::string> libraries;  // file-backed mappings, first-seen order
  uint32_t threads = 0;
  uint64_t rss_kib = 0;
  std::vector<std::string> unreadable;
};

}  // namespace ephport
