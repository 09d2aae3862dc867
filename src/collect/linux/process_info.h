#pragma once
// What a process is, from <proc_root>/PID: name, executable, command line,
// user, cgroup (systemd unit, container) and open-fd count, so that reports
// name the processes holding ephemeral ports.
//
// Every file of one process is read through one open directory fd of
// <proc_root>/PID: if the process exits and its pid is reused meanwhile, the
// reads fail instead of mixing two processes. A process that is gone
// (ENOENT/ESRCH, also when it exits between two reads) gives nullopt;
// exiting is normal, not an error. A zombie is still there: no exe, no
// command line, no fds. What cannot be read (other users' exe, maps or fd
// without privileges) is left empty and named in `unreadable` with the
// reason ("process: ..." if not even <proc_root>/PID opens); the rest is
// filled.
// Content is treated as hostile: comm may hold ')', spaces and newlines,
// a command line may be megabytes; every read is bounded, and the text of
// names, command lines, exe paths, cgroups and mapped files is escaped
// (util/escape.h) before it leaves this file.
//
// The parsers are pure (file content in, fields out), so tests feed them
// captured files.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "snapshot/process_info.h"

namespace ephport {

constexpr size_t kCmdlineMaxBytes = 256;

// nullopt when the process is gone. Throws RuntimeError if <proc_root>
// itself cannot be opened.
std::optional<ProcessInfo> read_process_info(const std::string& proc_root, uint32_t pid);

// nullopt when the process is gone. Throws RuntimeError if <proc_root>
// itself cannot be opened.
std::optional<ProcessDetail> read_process_detail(const std::string& proc_root, uint32_t pid);

// For log mode, which asks about the same processes every sample: a process
// is read in full once per (pid, start_time); later get()s read its stat
// (to see a reused pid) and refresh fd_count. Not thread-safe.
class ProcessInfoCache {
 public:
  // Throws RuntimeError if <proc_root> cannot be opened.
  explicit ProcessInfoCache(const std::string& proc_root);
  ~ProcessInfoCache();
  ProcessInfoCache(ProcessInfoCache&&) noexcept;
  ProcessInfoCache& operator=(ProcessInfoCache&&) noexcept;

  // nullptr when the process is gone. Valid until end_sample() or the next
  // get() of the same pid.
  const ProcessInfo* get(uint32_t pid);
  // Evicts the processes not asked for since the previous end_sample().
  void end_sample();
  size_t size() const { return entries_.size(); }
  // Full reads so far (new processes and reused pids), for tests and bench.
  size_t full_reads() const { return full_reads_; }

 private:
  struct Reader;
  struct Entry {
    ProcessInfo info;
    bool used = false;
  };
  std::unique_ptr<Reader> reader_;
  std::unordered_map<uint32_t, Entry> entries_;
  size_t full_reads_ = 0;
};

// ---- Parsers, on file content ----

struct ProcessStat {  // the fields of /proc/PID/stat that ProcessInfo uses
  uint32_t pid = 0;
  std::string name;
  char state = 0;
  uint32_t ppid = 0;
  uint32_t flags = 0;
  uint64_t start_time = 0;
};
// nullopt if the content is not a stat line. The name is everything between
// the first '(' and the LAST ')': comm may contain ") (".
std::optional<ProcessStat> parse_stat(std::string_view stat);

// Fields of /proc/PID/status; nullopt when the line is missing (VmRSS for
// kernel threads) or malformed.
std::optional<uint32_t> parse_status_uid(std::string_view status);  // real uid
std::optional<uint32_t> parse_status_threads(std::string_view status);
std::optional<uint64_t> parse_status_rss_kib(std::string_view status);

struct CgroupPlacement {
  // The path of the cgroup v2 line ("0::PATH"), unless it is the root and
  // v1 lines exist (hybrid hosts, where only the controllers are
  // delegated); then the first non-root path among the v1 lines naming the
  // pids, memory or cpu controller, then any line; "/" if all are the root.
  std::string cgroup;
  // Innermost .service or .scope component of the first such path that has
  // one: systemd attaches processes to services and scopes only, slices
  // just group them; a service's delegated subgroups are not units.
  std::string unit;
  std::string container;  // as parse_cgroup_identity() (netns_enum.h)
  std::string runtime;
  std::string pod;
  bool operator==(const CgroupPlacement&) const = default;
};
CgroupPlacement parse_cgroup(std::string_view cgroup_file);

// The rows of /proc/PID/limits, the header excluded. The name column's
// width is taken from the header (names contain spaces).
std::vector<ProcessLimit> parse_limits(std::string_view limits);

// Unique paths of the file-backed mappings of /proc/PID/maps (inode not 0,
// path starting with '/'), first-seen order; paths may contain spaces.
std::vector<std::string> parse_maps_libraries(std::string_view maps);

struct Cmdline {
  std::string text;
  bool truncated = false;
};
// /proc/PID/cmdline (NUL-terminated arguments) as one line: trailing NULs
// dropped (setproctitle pads with them), the others become spaces. Longer
// than `max_bytes`: cut before the character that crosses it and "…"
// appended (so at most max_bytes + 3 bytes).
Cmdline join_cmdline(std::string_view raw, size_t max_bytes = kCmdlineMaxBytes);

}  // namespace ephport
