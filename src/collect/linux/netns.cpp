#include "collect/linux/netns.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "collect/collector.h"
#include "util/error.h"

namespace ephport {

namespace {
constexpr const char* kSelfNetns = "/proc/self/ns/net";
}  // namespace

std::string netns_path(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) {
    return name_or_path;
  }
  return "/run/netns/" + name_or_path;
}

void set_netns(int fd, const std::string& label, const std::string& path) {
  if (::setns(fd, CLONE_NEWNET) != 0) {
    const int error_number = errno;
    std::string reason = std::strerror(error_number);
    if (error_number == EPERM) {
      reason += " (needs CAP_SYS_ADMIN: run as root)";
    } else if (error_number == EINVAL) {
      reason += " (not a network namespace file)";
    }
    throw RuntimeError(
        fmt::format("cannot enter network namespace '{}' ({}): {}", label, path, reason));
  }
}

void enter_netns(const std::string& name_or_path) {
  const std::string path = netns_path(name_or_path);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error_number = errno;
    if (error_number == ENOENT || error_number == ENOTDIR) {
      throw InputError(fmt::format("network namespace '{}' not found ({}): {}", name_or_path, path,
                                   std::strerror(error_number)));
    }
    throw RuntimeError(fmt::format("cannot open network namespace '{}' ({}): {}", name_or_path,
                                   path, std::strerror(error_number)));
  }
  set_netns(fd.get(), name_or_path, path);
}

UniqueFd open_netns_if_present(const std::string& path, uint64_t inode) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error_number = errno;
    if (error_number == ENOENT || error_number == ESRCH || error_number == ENOTDIR) {
      return UniqueFd();
    }
    std::string reason = std::strerror(error_number);
    if (error_number == EACCES || error_number == EPERM) {
      reason += " (run as root)";
    }
    throw RuntimeError(fmt::format("cannot open network namespace {}: {}", path, reason));
  }
  struct stat status {};
  if (inode != 0 && (::fstat(fd.get(), &status) != 0 || status.st_ino != inode)) {
    return UniqueFd();
  }
  return fd;
}

NetnsHome::NetnsHome() : home_(::open(kSelfNetns, O_RDONLY | O_CLOEXEC)) {
  struct stat status {};
  if (!home_.valid() || ::fstat(home_.get(), &status) != 0) {
    throw RuntimeError(fmt::format("cannot open this process's network namespace {}: {}",
                                   kSelfNetns, std::strerror(errno)));
  }
  inode_ = status.st_ino;
}

NetnsHome::~NetnsHome() {
  if (away_) {
    ::setns(home_.get(), CLONE_NEWNET);  // best effort: the process is ending or unwinding
  }
}

void NetnsHome::enter(int fd, const std::string& label, const std::string& path) {
  away_ = true;  // a failed setns leaves us where we were: going back is harmless
  set_netns(fd, label, path);
}

void NetnsHome::go_back() {
  if (away_) {
    set_netns(home_.get(), "(this process's own)", kSelfNetns);
    away_ = false;
  }
}

}  // namespace ephport
