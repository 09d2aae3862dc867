#pragma once
// What a process is: the identity ephport attaches to the sockets it owns.
// Filled by collect/linux/process_info (from /proc); plain values here so the
// analysis and the sinks do not depend on where they came from.

#include <cstdint>
#include <string>
#include <vector>

namespace ephport {

struct ProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  // stat field 22, clock ticks after boot: (pid, start_time) names one
  // process across samples, pids being reused.
  uint64_t start_time = 0;
  std::string name;            // comm, from stat (the same bytes as /proc/PID/comm)
  bool kernel_thread = false;  // PF_KTHREAD: no exe, no command line, no fds
  // readlink of exe; empty when it cannot be read (kernel threads, other
  // users' without privileges, zombies). " (deleted)" kept as the kernel
  // says it.
  std::string exe;
  // argv joined by single spaces, at most kCmdlineMaxBytes then cut at a
  // UTF-8 character boundary with "…" appended. Empty for kernel threads
  // and zombies.
  std::string cmdline;
  bool cmdline_truncated = false;
  uint32_t uid = 0;       // real uid (status Uid: first field)
  std::string user;       // its passwd name, or the number as text when unknown
  std::string cgroup;     // see parse_cgroup()
  std::string unit;       // innermost systemd .service or .scope, "" if none
  std::string container;  // container id (64 hex digits, or an lxc name), "" if none
  std::string runtime;    // "docker", "containerd", "cri-o", "podman", "lxc", or ""
  std::string pod;        // Kubernetes pod UID, "" if none
  // Open fds; -1 when they cannot be counted. From st_size of the fd
  // directory (Linux >= 6.2, one stat()), else by listing it.
  int64_t fd_count = -1;
  std::vector<std::string> unreadable;  // "exe: Permission denied"
};

struct ProcessLimit {  // a row of /proc/PID/limits
  std::string name;    // "Max open files"
  std::string soft;    // "1024", "unlimited"
  std::string hard;
  std::string units;  // "files"; "" for the rows without one (priorities)
  bool operator==(const ProcessLimit&) const = default;
};

// The expensive extras, for the heavy processes only (>= 1000 sockets):
// maps can be megabytes and its read takes the process's mmap lock.
struct ProcessDetail {
  ProcessInfo info;
  std::vector<ProcessLimit> limits;
  // Unique file-backed mappings (executable, libraries, mapped files), in
  // first-seen order; no [heap], [stack], [vdso] or anonymous memory.
  std::vector<std::string> libraries;
  uint32_t threads = 0;                 // status Threads:
  uint64_t rss_kib = 0;                 // status VmRSS: (0 for kernel threads)
  std::vector<std::string> unreadable;  // "maps: Permission denied"; info has its own
};

}  // namespace ephport
