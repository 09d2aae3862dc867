#pragma once
// Socket inode -> owning process(es), read from /proc/<pid>/fd links.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ephport {

class OwnerTable {
 public:
  // Scans <proc_root>/<pid>/fd/* for "socket:[inode]" links. Processes whose
  // fd directory cannot be read (other users' without privileges) are counted,
  // not silently skipped.
  static OwnerTable scan(const std::string& proc_root);

  void add(uint64_t inode, uint32_t pid);
  // PIDs holding the socket (usually one; several after fork). Empty if unknown.
  const std::vector<uint32_t>& pids_of(uint64_t inode) const;

  // For tables rebuilt from a saved capture.
  void set_process_counts(size_t scanned, size_t unreadable) {
    processes_scanned_ = scanned;
    processes_unreadable_ = unreadable;
  }

  size_t processes_scanned() const { return processes_scanned_; }
  size_t processes_unreadable() const { return processes_unreadable_; }
  bool complete() const { return processes_unreadable_ == 0; }
  size_t size() const { return pids_by_inode_.size(); }

 private:
  std::unordered_map<uint64_t, std::vector<uint32_t>> pids_by_inode_;
  size_t processes_scanned_ = 0;
  size_t processes_unreadable_ = 0;
};

}  // namespace ephport
