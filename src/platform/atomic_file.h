#pragma once
// Files that appear whole or not at all. An AtomicFile is written under a
// temporary name (PATH.tmp) and only commit() renames it over PATH, after an
// fsync, then fsyncs the directory so the rename itself survives a crash. A
// failure, or an AtomicFile destroyed before commit(), removes the temporary
// file: nothing partial is ever left under the final name, and a file
// already there stays as it was.
//
// Errors are returned (util/result.h): message strerror(errno), error_number
// the errno; the caller adds which file it was writing.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "platform/write_all.h"
#include "util/fd.h"
#include "util/result.h"

namespace ephport {

class AtomicFile {
 public:
  // Creates (truncating) PATH.tmp with `mode`. `write_fn` replaces ::write,
  // for tests.
  static Result<AtomicFile> create(std::string path, mode_t mode = 0644, WriteFn write_fn = {});

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // removes the temporary file unless committed

  // Appends all of `data` to the temporary file.
  Result<void> write(std::string_view data);

  // fsyncs and closes the temporary file and renames it over the final path;
  // then fsyncs the directory, best effort (some file systems refuse fsync on
  // a directory, and the file is complete either way).
  Result<void> commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  bool committed() const { return committed_; }

 private:
  AtomicFile(std::string path, std::string temp_path, UniqueFd fd, WriteFn write_fn);

  std::string path_;
  std::string temp_path_;
  UniqueFd fd_;
  WriteFn write_fn_;
  bool committed_ = false;
};

// Writes `content` to `path` through an AtomicFile.
Result<void> write_file_atomically(const std::string& path, std::string_view content,
                                   mode_t mode = 0644);

// fsync of a file or a directory, opened read-only by path.
Result<void> sync_file(const std::string& path);
Result<void> sync_directory(const std::string& path);

}  // namespace ephport
