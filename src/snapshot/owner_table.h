#pragma once
// Socket inode -> owning process(es): what a platform's owner walk found
// (collect/linux/proc_owners.h, the BPF task_file walk) or a capture recorded.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ephport {

// How the owners of a sample's sockets were found.
enum class OwnerMethod : uint8_t {
  none,     // not resolved
  bpf,      // the BPF task_file walk
  procfs,   // /proc/PID/fd
  capture,  // pids as a saved capture recorded them
};
std::string_view owner_method_name(OwnerMethod method);  // "", "bpf", "procfs", "capture"
std::optional<OwnerMethod> parse_owner_method(std::string_view name);

// What one owner walk covered.
struct OwnerScan {
  OwnerMethod method = OwnerMethod::none;
  uint64_t processes_scanned = 0;
  uint64_t processes_unreadable = 0;  // processes whose sockets could not be read
};

class OwnerTable {
 public:
  void add(uint64_t inode, uint32_t pid);
  // PIDs holding the socket (usually one; several after fork). Empty if
  // unknown. Valid until the next add().
  std::span<const uint32_t> pids_of(uint64_t inode) const;

  // Processes walked, and those whose sockets could not be read.
  void set_process_counts(size_t scanned, size_t unreadable) {
    processes_scanned_ = scanned;
    processes_unreadable_ = unreadable;
  }

  size_t processes_scanned() const { return processes_scanned_; }
  size_t processes_unreadable() const { return processes_unreadable_; }
  bool complete() const { return processes_unreadable_ == 0; }
  size_t size() const { return used_; }

 private:
  // Open addressing with linear probing: one lookup per socket at 100k+
  // sockets is the hot path, and node-based maps miss the cache each time.
  struct Slot {
    uint64_t inode = 0;   // 0: empty (no socket has inode 0)
    uint32_t pid = 0;     // the first owner
    uint32_t shared = 0;  // 1-based index into shared_ when several own it
  };
  const Slot* find(uint64_t inode) const;
  void grow();

  std::vector<Slot> slots_;
  size_t used_ = 0;
  std::vector<std::vector<uint32_t>> shared_;  // every owner, first one included
  size_t processes_scanned_ = 0;
  size_t processes_unreadable_ = 0;
};

}  // namespace ephport
