#pragma once
// An append-only log file written one whole record at a time. A record is
// either all in the file or not in it at all: a write that fails part way
// (full disk, I/O error, file too large) is cut back off before the error is
// reported, so the log is never left with a partial record, and nothing that
// was in the file before is ever truncated or rewritten.
//
// The file is written by name, not only by descriptor: before each record
// append_record() checks that the path still names the open file (st_dev,
// st_ino, st_nlink) and reopens it by name when it was renamed (logrotate's
// create mode), replaced or deleted, so records never go on into log.1 or an
// unlinked inode. With a Rotation it also rotates by itself: PATH -> PATH.1
// -> ... -> PATH.N by rename(2), the oldest replaced, so a record is never
// split between files and nothing written is ever lost but PATH.N's.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "platform/write_all.h"
#include "util/fd.h"

namespace ephport {

// Built-in size rotation (--max-size, --max-files); max_size 0: off.
struct Rotation {
  uint64_t max_size = 0;  // bytes a file may reach; a bigger record gets a file of its own
  int max_files = 5;      // rotated files kept: PATH.1 (newest) .. PATH.max_files
};

class AppendFile {
 public:
  // Renders a record; `header`: the file is new or empty, a CSV header first.
  using Render = std::function<std::string(bool header)>;
  // Told once per reopen or rotation, with a one-line reason.
  using Notice = std::function<void(const std::string&)>;

  // Opens (creating with mode 0644) `path` for appending. `write_fn` replaces
  // ::write, for tests. Throws RuntimeError("cannot open log file PATH for
  // appending: <reason>").
  static AppendFile open(const std::string& path, WriteFn write_fn = {}, Rotation rotation = {});

  void on_notice(Notice notice) { notice_ = std::move(notice); }

  // Reopens PATH by name if it no longer names the open file (renamed,
  // replaced or deleted), telling the notice why. Throws RuntimeError when
  // the new file cannot be opened; the old descriptor is kept then.
  void reopen_if_moved();
  // Reopens PATH by name unconditionally (SIGHUP), telling the notice.
  void reopen(const std::string& why);

  // One record: reopens if moved, renders it (header if the file is empty),
  // rotates first when it would take the file past max_size (re-rendering
  // it with the header for the fresh file), then appends it whole.
  void append_record(const Render& render);

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
  AppendFile(std::string path, UniqueFd fd, WriteFn write_fn, Rotation rotation)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        write_fn_(std::move(write_fn)),
        rotation_(rotation) {}

  // PATH.k -> PATH.k+1 for k = max_files-1 .. 1, then PATH -> PATH.1, then
  // a fresh PATH. Throws RuntimeError.
  void rotate();
  void tell(const std::string& text) const;

  std::string path_;
  UniqueFd fd_;
  WriteFn write_fn_;
  Rotation rotation_;
  Notice notice_;
};

}  // namespace ephport
