#include "platform/write_all.h"

#include <unistd.h>

#include <cerrno>

namespace ephport {

WriteResult write_all(int fd, std::string_view data, const WriteFn& write_fn) {
  WriteResult result;
  while (result.written < data.size()) {
    const char* next = data.data() + result.written;
    size_t left = data.size() - result.written;
    ssize_t count = write_fn ? write_fn(fd, next, left) : ::write(fd, next, left);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      result.error = errno != 0 ? errno : EIO;
      return result;
    }
    if (count == 0) {
      result.error = ENOSPC;
      return result;
    }
    result.written += static_cast<size_t>(count);
  }
  return result;
}

}  // namespace ephport
