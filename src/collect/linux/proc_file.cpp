#include "collect/linux/proc_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "util/error.h"
#include "util/fd.h"

namespace ephport {

namespace {

[[noreturn]] void throw_cannot_read(const std::string& path, int error_number) {
  throw RuntimeError(fmt::format("cannot read {}: {}", path, std::strerror(error_number)));
}

// Reads the file into `out`.
Result<void> read_whole(const std::string& path, std::string& out) {
  return read_proc_file_at(AT_FDCWD, path.c_str(), SIZE_MAX, out);
}

struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};

// The buffer getline() grows and reuses: one allocation for all lines.
struct LineBuffer {
  char* data = nullptr;
  size_t capacity = 0;
  LineBuffer() = default;
  LineBuffer(const LineBuffer&) = delete;
  LineBuffer& operator=(const LineBuffer&) = delete;
  ~LineBuffer() { std::free(data); }
};

}  // namespace

std::string read_proc_file(const std::string& path) {
  std::string content;
  if (Result<void> read = read_whole(path, content); !read.ok()) {
    throw_cannot_read(path, read.error().error_number);
  }
  return content;
}

std::optional<std::string> read_proc_file_if_exists(const std::string& path) {
  std::string content;
  if (Result<void> read = read_whole(path, content); !read.ok()) {
    if (read.error().error_number == ENOENT) {
      return std::nullopt;
    }
    throw_cannot_read(path, read.error().error_number);
  }
  return content;
}

bool for_each_proc_line(const std::string& path, bool missing_ok,
                        const std::function<void(std::string_view line)>& on_line) {
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "re"));
  if (!file) {
    if (errno == ENOENT && missing_ok) {
      return false;
    }
    throw_cannot_read(path, errno);
  }
  LineBuffer buffer;
  for (;;) {
    errno = 0;
    ssize_t length = ::getline(&buffer.data, &buffer.capacity, file.get());
    if (length < 0) {
      break;
    }
    std::string_view line(buffer.data, static_cast<size_t>(length));
    if (!line.empty() && line.back() == '\n') {
      line.remove_suffix(1);
    }
    on_line(line);
  }
  if (std::ferror(file.get())) {
    throw_cannot_read(path, errno != 0 ? errno : EIO);
  }
  return true;
}

Result<void> read_proc_file_at(int dir_fd, const char* name, size_t limit, std::string& out) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return system_error(errno);
  }
  // Straight into `out`, a page per read(): what most /proc files hand over
  // per call.
  constexpr size_t kChunk = 4096;
  const size_t start = out.size();
  size_t used = start;
  int error_number = 0;
  while (used - start < limit) {
    const size_t want = std::min(kChunk, limit - (used - start));
    out.resize(used + want);
    ssize_t n = ::read(fd.get(), out.data() + used, want);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error_number = errno;
      break;
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  out.resize(used);
  if (error_number != 0) {
    return system_error(error_number);
  }
  return {};
}

}  // namespace ephport
