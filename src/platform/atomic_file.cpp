#include "platform/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace ephport {

namespace {

Error errno_error(int error_number) {
  return Error{std::strerror(error_number), error_number};
}

Result<void> sync_path(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return errno_error(errno);
  }
  return {};
}

}  // namespace

Result<AtomicFile> AtomicFile::create(std::string path, mode_t mode, WriteFn write_fn) {
  std::string temp_path = path + ".tmp";
  UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return errno_error(errno);
  }
  return AtomicFile(std::move(path), std::move(temp_path), std::move(fd), std::move(write_fn));
}

AtomicFile::AtomicFile(std::string path, std::string temp_path, UniqueFd fd, WriteFn write_fn)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      fd_(std::move(fd)),
      write_fn_(std::move(write_fn)) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::move(other.fd_)),
      write_fn_(std::move(other.write_fn_)),
      committed_(std::exchange(other.committed_, true)) {}  // the moved-from one owns nothing

AtomicFile::~AtomicFile() {
  if (!committed_) {
    fd_.reset();
    ::unlink(temp_path_.c_str());
  }
}

Result<void> AtomicFile::write(std::string_view data) {
  return write_all(fd_.get(), data, write_fn_);
}

Result<void> AtomicFile::commit() {
  if (::fsync(fd_.get()) != 0) {
    return errno_error(errno);
  }
  fd_.reset();
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return errno_error(errno);
  }
  committed_ = true;
  std::string directory = std::filesystem::path(path_).parent_path().string();
  (void)sync_directory(directory.empty() ? "." : directory);  // best effort, see header
  return {};
}

Result<void> write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
  Result<AtomicFile> file = AtomicFile::create(path, mode);
  if (!file.ok()) {
    return file.error();
  }
  if (Result<void> written = file.value().write(content); !written.ok()) {
    return written;
  }
  return file.value().commit();
}

Result<void> sync_file(const std::string& path) {
  return sync_path(path, O_RDONLY);
}

Result<void> sync_directory(const std::string& path) {
  return sync_path(path, O_RDONLY | O_DIRECTORY);
}

}  // namespace ephport
