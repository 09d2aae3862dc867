#include "platform/write_all.h"

#include <unistd.h>

#include <cerrno>

namespace ephport {

Result<void> write_all(int fd, std::string_view data, const WriteFn& write_fn) {
  size_t written = 0;
  while (written < data.size()) {
    const char* next = data.data() + written;
    size_t left = data.size() - written;
    ssize_t count = write_fn ? write_fn(fd, next, left) : ::write(fd, next, left);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return system_error(errno != 0 ? errno : EIO);
    }
    if (count == 0) {
      return system_error(ENOSPC);
    }
    written += static_cast<size_t>(count);
  }
  return {};
}

}  // namespace ephport
