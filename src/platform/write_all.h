#pragma once
// Writing a whole buffer to a file descriptor, through a seam that tests can
// replace to make writes fail on purpose (full disk, I/O error, short write).

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string_view>

#include "util/result.h"

namespace ephport {

// Same contract as ::write(2): returns bytes written, or -1 with errno set.
using WriteFn = std::function<ssize_t(int fd, const void* data, size_t size)>;

// Writes all of `data` to `fd` with `write_fn` (::write when empty): one call
// for the whole buffer, more only after a short write. Retries EINTR. A write
// that reports 0 bytes counts as failing with ENOSPC. A failure's Error holds
// strerror(errno) as message and the errno as error_number.
Result<void> write_all(int fd, std::string_view data, const WriteFn& write_fn = {});

}  // namespace ephport
