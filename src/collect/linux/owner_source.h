#pragma once
// Where socket owners come from, chosen once and kept between samples (log
// and serve sample every few seconds): the BPF task_file iterator, loaded
// once, walks every process's files in the kernel; without it (no BPF, not
// root, a --proc-root tree) /proc/PID/fd is read.

#include <memory>
#include <string>

#include "snapshot/owner_table.h"

namespace ephport {

class SocketOwnerIterator;

class OwnerSource {
 public:
  enum class Mode { automatic, bpf, procfs };

  // Mode::bpf throws RuntimeError (on the first scan) when the iterator
  // cannot be used; automatic falls back to /proc and remembers why.
  OwnerSource(std::string proc_root, Mode mode);
  ~OwnerSource();
  OwnerSource(const OwnerSource&) = delete;
  OwnerSource& operator=(const OwnerSource&) = delete;

  OwnerTable scan();
  // What the last scan used: OwnerMethod::bpf or OwnerMethod::procfs.
  OwnerMethod method() const { return method_; }
  // Why the iterator is not used, when automatic fell back.
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  std::string proc_root_;
  Mode mode_;
  std::unique_ptr<SocketOwnerIterator> iterator_;
  bool iterator_tried_ = false;
  OwnerMethod method_ = OwnerMethod::procfs;
  std::string fallback_reason_;
};

}  // namespace ephport
