#include "platform/append_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace ephport {

namespace {

UniqueFd open_for_append(const std::string& path) {
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
  return file;
}

}  // namespace

AppendFile AppendFile::open(const std::string& path, WriteFn write_fn, Rotation rotation) {
  return AppendFile(path, open_for_append(path), std::move(write_fn), rotation);
}

void AppendFile::tell(const std::string& text) const {
  if (notice_) {
    notice_(text);
  }
}

void AppendFile::reopen_if_moved() {
  struct stat open_file {};
  if (::fstat(fd_.get(), &open_file) != 0) {
    throw RuntimeError(fmt::format("cannot stat log file {}: {}", path_, std::strerror(errno)));
  }
  struct stat named {};
  std::string why;
  if (open_file.st_nlink == 0) {
    why = "was deleted";
  } else if (::stat(path_.c_str(), &named) != 0) {
    if (errno != ENOENT) {
      return;  // cannot tell (EACCES on a directory, say): keep writing
    }
    why = "was renamed or deleted";
  } else if (named.st_dev != open_file.st_dev || named.st_ino != open_file.st_ino) {
    why = "was renamed or replaced";
  } else {
    return;
  }
  reopen(fmt::format("log file {} {}; writing to a new {}", path_, why, path_));
}

void AppendFile::reopen(const std::string& why) {
  fd_ = open_for_append(path_);
  tell(why);
}

void AppendFile::rotate() {
  const int keep = std::max(rotation_.max_files, 1);
  for (int k = keep - 1; k >= 1; --k) {
    std::string from = fmt::format("{}.{}", path_, k);
    std::string to = fmt::format("{}.{}", path_, k + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      throw RuntimeError(fmt::format("cannot rotate {} to {}: {}", from, to, std::strerror(errno)));
    }
  }
  std::string first = path_ + ".1";
  if (::rename(path_.c_str(), first.c_str()) != 0 && errno != ENOENT) {
    throw RuntimeError(
        fmt::format("cannot rotate {} to {}: {}", path_, first, std::strerror(errno)));
  }
  fd_ = open_for_append(path_);
}

void AppendFile::append_record(const Render& render) {
  reopen_if_moved();
  bool fresh = empty();
  std::string record = render(fresh);
  if (rotation_.max_size != 0 && !fresh && size() + record.size() > rotation_.max_size) {
    rotate();
    record = render(true);
  }
  append(record);
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
