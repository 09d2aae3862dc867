#pragma once
// Socket inode -> owning process(es) from a BPF task-file iterator
// (iter/task_file): the kernel hands ephport the socket files of every
// process in one read stream, where scan_proc_owners() needs a readdir() of
// every /proc/PID/fd and a readlink() of every descriptor.
//
// It fills the same OwnerTable with the same pairs /proc shows, with these
// differences:
//  - sockets held only in the private file table of a thread (one that called
//    unshare(CLONE_FILES)) are found, under the thread's process id;
//    /proc/PID/fd shows the leader's table only;
//  - the process count is of processes with at least one open file (kernel
//    threads have none), not of every /proc/PID directory;
//  - no process is unreadable: the walk sees all of them or refuses to start.
// Pids are those of ephport's own pid namespace (what getpid() and /proc
// show); the constructor refuses when /proc is mounted for another one.

#include <cstddef>
#include <memory>

#include "snapshot/owner_table.h"

namespace ephport {

// True when this binary was built with the BPF socket-owner walk (clang,
// bpftool and libbpf were found at build time).
bool socket_owner_iterator_built();

// Loaded once and reused for every sample (log mode samples every second):
// the load cost is paid once. One scan() at a time per object.
class SocketOwnerIterator {
 public:
  // Loads and attaches the program, then checks that a walk reports a socket
  // of ephport's own under getpid(). Throws RuntimeError saying why it cannot
  // (built without BPF, no BTF, needs CAP_BPF+CAP_PERFMON or root, /proc of
  // another pid namespace, ...), so callers can fall back to /proc and say so
  // once.
  SocketOwnerIterator();
  ~SocketOwnerIterator();
  SocketOwnerIterator(const SocketOwnerIterator&) = delete;
  SocketOwnerIterator& operator=(const SocketOwnerIterator&) = delete;
  // A moved-from iterator may only be destroyed or assigned to.
  SocketOwnerIterator(SocketOwnerIterator&& other) noexcept;
  SocketOwnerIterator& operator=(SocketOwnerIterator&& other) noexcept;

  // One walk: adds every socket of every process of ephport's pid namespace
  // to `table` (OwnerTable::add(inode, pid)) and returns the number of
  // distinct processes whose file table it read. Throws RuntimeError if the
  // walk fails; `table` may then hold part of it and should be dropped.
  size_t scan(OwnerTable& table);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ephport
