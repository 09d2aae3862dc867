#pragma once
// Socket owners from /proc/<pid>/fd links: the fallback when the BPF
// task_file walk (socket_owners_bpf.h) cannot be used, and --proc-root trees.

#include <string>

#include "snapshot/owner_table.h"

namespace ephport {

// Scans <proc_root>/<pid>/fd/* for "socket:[inode]" links. Processes whose
// fd directory cannot be read (other users' without privileges) are counted,
// not silently skipped. Throws RuntimeError when proc_root cannot be read.
OwnerTable scan_proc_owners(const std::string& proc_root);

}  // namespace ephport
