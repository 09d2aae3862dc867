#pragma once
// An append-only log file written one whole record at a time. A record is
// either all in the file or not in it at all: a write that fails part way
// (full disk, I/O error, file too large) is cut back off before the error is
// reported, so the log is never left with a partial record, and nothing that
// was in the file before is ever truncated or rewritten.

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/write_all.h"
#include "util/fd.h"

namespace ephport {

class AppendFile {
 public:
  // Opens (creating with mode 0644) `path` for appending. `write_fn` replaces
  // ::write, for tests. Throws RuntimeError("cannot open log file PATH for
  // appending: <reason>").
  static AppendFile open(const std::string& path, WriteFn write_fn = {});

  // Current size, read with fstat each time, so a file truncated by an
  // external rotation (copytruncate) reads as empty again. Throws RuntimeError.
  uint64_t size() const;
  // True when the file has no content: a CSV header is needed first.
  bool empty() const { return size() == 0; }

  // Appends the whole record. On failure, removes whatever part of it reached
  // the file (never cutting below the size the file had before this record)
  // and throws RuntimeError("cannot append to PATH: <reason> (record of N
  // bytes dropped; log left intact)"). The file stays usable afterwards.
  void append(std::string_view record);

  const std::string& path() const { return path_; }

 private:
  AppendFile(std::string path, UniqueFd fd, WriteFn write_fn)
      : path_(std::move(path)), fd_(std::move(fd)), write_fn_(std::move(write_fn)) {}

  std::string path_;
  UniqueFd fd_;
  WriteFn write_fn_;
};

}  // namespace ephport
