#include "collect/owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "util/error.h"
#include "util/fd.h"
#include "util/parse_number.h"

namespace ephport {

namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Opens a directory relative to `base` for readdir(); the DIR owns the fd.
DirPtr open_dir_at(int base, const char* path) {
  int fd = ::openat(base, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return nullptr;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
  }
  return DirPtr(dir);
}

// "socket:[12345]" -> 12345; anything else (pipes, files, anon inodes) -> nullopt.
std::optional<uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() <= kPrefix.size() + 1 || link.substr(0, kPrefix.size()) != kPrefix ||
      link.back() != ']') {
    return std::nullopt;
  }
  return parse_decimal<uint64_t>(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1));
}

bool is_permission_error(int error_number) {
  return error_number == EACCES || error_number == EPERM;
}

enum class FdScan { read, unreadable, vanished };

// Adds the sockets of one process; `fd_path` is "<pid>/fd" under `proc`.
FdScan scan_fds(int proc, const std::string& fd_path, uint32_t pid, OwnerTable& table) {
  DirPtr fds = open_dir_at(proc, fd_path.c_str());
  if (!fds) {
    if (is_permission_error(errno)) {
      return FdScan::unreadable;
    }
    // ENOENT/ESRCH: the process exited while we looked. Anything else (a
    // fixture pid directory without fd/) has no sockets to give either.
    return FdScan::vanished;
  }
  bool denied = false;
  char target[64];
  while (dirent* entry = ::readdir(fds.get())) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    ssize_t length = ::readlinkat(::dirfd(fds.get()), entry->d_name, target, sizeof target);
    if (length < 0) {
      // An fd closed since readdir() is normal; a refused one is not.
      denied = denied || is_permission_error(errno);
      continue;
    }
    if (std::optional<uint64_t> inode =
            socket_inode(std::string_view(target, static_cast<size_t>(length)))) {
      table.add(*inode, pid);
    }
  }
  return denied ? FdScan::unreadable : FdScan::read;
}

}  // namespace

OwnerTable OwnerTable::scan(const std::string& proc_root) {
  OwnerTable table;
  UniqueFd proc(::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc.valid()) {
    throw RuntimeError(fmt::format("cannot read {}: {}", proc_root, std::strerror(errno)));
  }
  DirPtr processes = open_dir_at(proc.get(), ".");
  if (!processes) {
    throw RuntimeError(fmt::format("cannot read {}: {}", proc_root, std::strerror(errno)));
  }
  // readdir(/proc) lists processes only; threads hide under <pid>/task.
  std::string fd_path;
  while (dirent* entry = ::readdir(processes.get())) {
    std::optional<uint32_t> pid = parse_decimal<uint32_t>(entry->d_name);
    if (!pid) {
      continue;
    }
    fd_path.assign(entry->d_name).append("/fd");
    switch (scan_fds(proc.get(), fd_path, *pid, table)) {
      case FdScan::read:
        ++table.processes_scanned_;
        break;
      case FdScan::unreadable:
        ++table.processes_scanned_;
        ++table.processes_unreadable_;
        break;
      case FdScan::vanished:
        break;
    }
  }
  return table;
}

namespace {
size_t slot_of(uint64_t inode, size_t mask) {
  // Inodes are near-sequential: mix them so neighbours spread out.
  return static_cast<size_t>((inode * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
}
}  // namespace

const OwnerTable::Slot* OwnerTable::find(uint64_t inode) const {
  if (slots_.empty() || inode == 0) {
    return nullptr;
  }
  const size_t mask = slots_.size() - 1;
  for (size_t index = slot_of(inode, mask);; index = (index + 1) & mask) {
    const Slot& slot = slots_[index];
    if (slot.inode == inode) {
      return &slot;
    }
    if (slot.inode == 0) {
      return nullptr;
    }
  }
}

void OwnerTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.inode != 0) {
      size_t index = slot_of(slot.inode, mask);
      while (slots_[index].inode != 0) {
        index = (index + 1) & mask;
      }
      slots_[index] = slot;
    }
  }
}

void OwnerTable::add(uint64_t inode, uint32_t pid) {
  if (inode == 0) {
    return;
  }
  if ((used_ + 1) * 2 > slots_.size()) {
    grow();  // keep the load under one half: short probes
  }
  const size_t mask = slots_.size() - 1;
  size_t index = slot_of(inode, mask);
  while (slots_[index].inode != 0 && slots_[index].inode != inode) {
    index = (index + 1) & mask;
  }
  Slot& slot = slots_[index];
  if (slot.inode == 0) {
    slot = {inode, pid, 0};
    ++used_;
    return;
  }
  if (slot.shared == 0) {
    if (slot.pid == pid) {
      return;  // a process holding the same socket in two fds
    }
    shared_.push_back({slot.pid, pid});
    slot.shared = static_cast<uint32_t>(shared_.size());
    return;
  }
  std::vector<uint32_t>& pids = shared_[slot.shared - 1];
  for (uint32_t known : pids) {
    if (known == pid) {
      return;
    }
  }
  pids.push_back(pid);
}

std::span<const uint32_t> OwnerTable::pids_of(uint64_t inode) const {
  const Slot* slot = find(inode);
  if (slot == nullptr) {
    return {};
  }
  if (slot->shared != 0) {
    return shared_[slot->shared - 1];
  }
  return {&slot->pid, 1};
}

}  // namespace ephport
