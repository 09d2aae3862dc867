#include "collect/linux/netns.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

#include "collect/collector.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {

std::string netns_path(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) {
    return name_or_path;
  }
  return "/run/netns/" + name_or_path;
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
  if (::setns(fd.get(), CLONE_NEWNET) != 0) {
    const int error_number = errno;
    std::string reason = std::strerror(error_number);
    if (error_number == EPERM) {
      reason += " (needs CAP_SYS_ADMIN: run as root)";
    } else if (error_number == EINVAL) {
      reason += " (not a network namespace file)";
    }
    throw RuntimeError(
        fmt::format("cannot enter network namespace '{}' ({}): {}", name_or_path, path, reason));
  }
}

}  // namespace ephport
