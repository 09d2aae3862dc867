#include "collect/linux/owner_source.h"

#include <utility>

#include "collect/linux/proc_owners.h"
#include "collect/linux/socket_owners_bpf.h"
#include "util/error.h"

namespace ephport {

OwnerSource::OwnerSource(std::string proc_root, Mode mode)
    : proc_root_(std::move(proc_root)), mode_(mode) {
  if (proc_root_ != "/proc" && mode_ == Mode::automatic) {
    mode_ = Mode::procfs;  // the iterator sees this host, not the tree
  }
}

OwnerSource::~OwnerSource() = default;

OwnerTable OwnerSource::scan() {
  if (mode_ != Mode::procfs && !iterator_tried_) {
    iterator_tried_ = true;
    try {
      iterator_ = std::make_unique<SocketOwnerIterator>();
    } catch (const RuntimeError& error) {
      if (mode_ == Mode::bpf) {
        throw;
      }
      fallback_reason_ = error.what();
    }
  }
  if (iterator_) {
    OwnerTable table;
    size_t processes = iterator_->scan(table);
    table.set_process_counts(processes, 0);
    method_ = OwnerMethod::bpf;
    return table;
  }
  method_ = OwnerMethod::procfs;
  return scan_proc_owners(proc_root_);
}

}  // namespace ephport
