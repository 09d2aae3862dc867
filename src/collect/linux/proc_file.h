#pragma once
// Small readers for /proc files, shared by the sysctl, /proc/net and
// /proc/PID code. Errors name the file: "cannot read /proc/net/tcp:
// Permission denied".

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace ephport {

// Reads a whole small file (a /proc/sys entry). Throws RuntimeError
// "cannot read PATH: reason" if it cannot be opened or read.
std::string read_proc_file(const std::string& path);

// Same, but returns nullopt when the file does not exist (ENOENT), as
// sysctls missing on older kernels or with IPv6 disabled do.
std::optional<std::string> read_proc_file_if_exists(const std::string& path);

// Calls `on_line` for every line of the file (without the '\n'), reading it
// in a stream, never whole. Returns false, without calling `on_line`, if the
// file does not exist and `missing_ok`; throws RuntimeError otherwise.
bool for_each_proc_line(const std::string& path, bool missing_ok,
                        const std::function<void(std::string_view line)>& on_line);

// Appends at most `limit` bytes of `name` (relative to the directory
// `dir_fd`, or AT_FDCWD) to `out`, with open()/read(), and returns the
// failure (with its errno) instead of throwing: per-process files vanish
// with their process and may be refused, which callers expect. Bounded because a
// command line or a memory map can be megabytes. On failure `out` keeps what
// was read before it. `out` keeps its capacity across calls: a caller
// reading many files reuses one buffer.
Result<void> read_proc_file_at(int dir_fd, const char* name, size_t limit, std::string& out);

}  // namespace ephport
