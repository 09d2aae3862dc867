#include "platform/append_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace ephport {

AppendFile AppendFile::open(const std::string& path, WriteFn write_fn) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RuntimeError(
        fmt::format("cannot open log file {} for appending: {}", path, std::strerror(errno)));
  }
  UniqueFd file(fd);
  // Some files open for writing but refuse every write (/proc/version, say):
  // an empty write asks the file system, so such a log fails before the loop.
  if (::write(fd, "", 0) < 0) {
    throw RuntimeError(
        fmt::format("cannot open log file {} for appending: {}", path, std::strerror(errno)));
  }
  return AppendFile(path, std::move(file), std::move(write_fn));
}

uint64_t AppendFile::size() const {
  struct stat status {};
  if (::fstat(fd_.get(), &status) != 0) {
    throw RuntimeError(fmt::format("cannot stat log file {}: {}", path_, std::strerror(errno)));
  }
  return static_cast<uint64_t>(status.st_size);
}

void AppendFile::append(std::string_view record) {
  uint64_t size_before = size();
  Result<void> result = write_all(fd_.get(), record, write_fn_);
  if (result.ok()) {
    return;
  }

  // Cut back only what grew past size_before. One writer per log is assumed:
  // bytes another process appended meanwhile would be cut too. If the file
  // shrank meanwhile (an external truncation), ftruncate would extend it with
  // zeros, so it is left alone.
  std::string outcome = "log left intact";
  struct stat status {};
  if (::fstat(fd_.get(), &status) != 0) {
    outcome = fmt::format("part of it may remain at the end of the log: {}", std::strerror(errno));
  } else if (static_cast<uint64_t>(status.st_size) > size_before &&
             ::ftruncate(fd_.get(), static_cast<off_t>(size_before)) != 0) {
    outcome =
        fmt::format("{} bytes of it remain at the end of the log: {}",
                    static_cast<uint64_t>(status.st_size) - size_before, std::strerror(errno));
  }
  throw RuntimeError(fmt::format("cannot append to {}: {} (record of {} bytes dropped; {})", path_,
                                 result.error().message, record.size(), outcome));
}

}  // namespace ephport
