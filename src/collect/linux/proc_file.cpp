#include "collect/linux/proc_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
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

// Reads the file into `out`; returns 0 or the errno of the failure.
int read_whole(const std::string& path, std::string& out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno;
  }
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (n == 0) {
      return 0;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
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
  if (int error_number = read_whole(path, content); error_number != 0) {
    throw_cannot_read(path, error_number);
  }
  return content;
}

std::optional<std::string> read_proc_file_if_exists(const std::string& path) {
  std::string content;
  int error_number = read_whole(path, content);
  if (error_number == ENOENT) {
    return std::nullopt;
  }
  if (error_number != 0) {
    throw_cannot_read(path, error_number);
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

}  // namespace ephport
