#pragma once
// A directory stream (opendir/readdir) that closes itself on destruction.

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>

namespace ephport {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

// Opens `path` relative to the directory fd `base` for readdir(); the DIR
// owns its fd. Null with errno set when it cannot be opened.
inline UniqueDir open_dir_at(int base, const char* path) {
  int fd = ::openat(base, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return nullptr;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int error_number = errno;
    ::close(fd);
    errno = error_number;
  }
  return UniqueDir(dir);
}

}  // namespace ephport
