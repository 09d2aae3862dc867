#include "collect/linux/proc_owners.h"

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

#include "util/dir.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/parse_number.h"

namespace ephport {

namespace {

using DirPtr = UniqueDir;

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

OwnerTable scan_proc_owners(const std::string& proc_root) {
  OwnerTable table;
  size_t scanned = 0;
  size_t unreadable = 0;
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
        ++scanned;
        break;
      case FdScan::unreadable:
        ++scanned;
        ++unreadable;
        break;
      case FdScan::vanished:
        break;
    }
  }
  table.set_process_counts(scanned, unreadable);
  return table;
}

}  // namespace ephport
