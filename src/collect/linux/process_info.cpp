#include "collect/linux/process_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "collect/linux/netns_enum.h"
#include "collect/linux/proc_file.h"
#include "util/dir.h"
#include "util/error.h"
#include "util/escape.h"
#include "util/fd.h"
#include "util/parse_number.h"
#include "util/result.h"
#include "util/strings.h"

namespace ephport {

namespace {

constexpr uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD, include/linux/sched.h

// Read bounds. stat is 52 numbers and a name of at most 64 bytes; status is
// about 1.5 KiB, more with thousands of supplementary groups; a page of
// cmdline holds the 256 bytes kept plus setproctitle's NUL padding.
constexpr size_t kStatLimit = 4096;
constexpr size_t kStatusLimit = size_t{64} * 1024;
constexpr size_t kCmdlineLimit = 4096;
constexpr size_t kCgroupLimit = size_t{64} * 1024;
constexpr size_t kLimitsLimit = size_t{16} * 1024;
constexpr size_t kMapsLimit = size_t{16} * 1024 * 1024;

constexpr std::string_view kEllipsis = "…";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

// Removes and returns the next line of `text`, without its '\n'.
std::string_view next_line(std::string_view& text) {
  size_t newline = text.find('\n');
  std::string_view line = text.substr(0, newline);
  text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  return line;
}

// Removes and returns the next whitespace-separated token of `text`.
std::string_view next_token(std::string_view& text) {
  size_t start = 0;
  while (start < text.size() && is_space(text[start])) {
    ++start;
  }
  size_t end = start;
  while (end < text.size() && !is_space(text[end])) {
    ++end;
  }
  std::string_view token = text.substr(start, end - start);
  text.remove_prefix(end);
  return token;
}

// The value of a "Key:\tvalue" line of /proc/PID/status. The Name line is
// escaped there ("\n" as two characters), so comm cannot forge a line.
std::optional<std::string_view> status_field(std::string_view status, std::string_view key) {
  while (!status.empty()) {
    std::string_view line = next_line(status);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
      return trim(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

template <typename T>
std::optional<T> status_number(std::string_view status, std::string_view key) {
  std::optional<std::string_view> value = status_field(status, key);
  if (!value) {
    return std::nullopt;
  }
  return parse_decimal<T>(next_token(*value));  // "65534\t65534...", "1756 kB"
}

// The innermost systemd unit (service or scope) of a cgroup path.
std::string_view innermost_unit(std::string_view path) {
  std::string_view unit;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view component = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (component.ends_with(".service") || component.ends_with(".scope")) {
      unit = component;
    }
  }
  return unit;
}

bool names_main_controller(std::string_view controllers) {
  while (!controllers.empty()) {
    size_t comma = controllers.find(',');
    std::string_view controller = controllers.substr(0, comma);
    controllers =
        comma == std::string_view::npos ? std::string_view() : controllers.substr(comma + 1);
    if (controller == "pids" || controller == "memory" || controller == "cpu") {
      return true;
    }
  }
  return false;
}

bool is_root_path(std::string_view path) {
  return path.empty() || path == "/";
}

// A limits value: a number or "unlimited". Names have neither.
bool is_limit_value(std::string_view token) {
  return token == "unlimited" || parse_decimal<uint64_t>(token).has_value();
}

bool is_gone(int error_number) {
  return error_number == ENOENT || error_number == ESRCH;
}

std::string reason(std::string_view what, int error_number) {
  return fmt::format("{}: {}", what, std::strerror(error_number));
}

// After a read stopped at its bound: the last line may be cut short.
void drop_partial_line(std::string& content) {
  size_t newline = content.rfind('\n');
  content.resize(newline == std::string::npos ? 0 : newline + 1);
}

// Replaces the note about `what` ("fd: ...") by `note`, or removes it.
void set_note(std::vector<std::string>& notes, std::string_view what, const std::string& note) {
  std::erase_if(notes, [&](const std::string& existing) {
    return existing.size() > what.size() && existing.starts_with(what) &&
           existing[what.size()] == ':';
  });
  if (!note.empty()) {
    notes.push_back(note);
  }
}

void escape_in_place(std::string& text) {
  if (needs_escaping(text)) {
    text = escape_controls(text);
  }
}

// What a process names itself (comm, argv), its executable's path and its
// cgroup are anyone's text: a program can call itself "\x1b[2J" or put a
// newline in its argv. Escaped here, where they enter, so every sink (table,
// CSV, JSON, metrics labels, evidence) gets them visible (util/escape.h).
// Done after parsing: the cgroup path is parsed raw.
void escape_outside_text(ProcessInfo& info) {
  for (std::string* text : {&info.name, &info.exe, &info.cmdline, &info.user, &info.cgroup,
                            &info.unit, &info.container, &info.runtime, &info.pod}) {
    escape_in_place(*text);
  }
}

std::string lookup_user(uint32_t uid) {
  std::vector<char> buffer(1024);
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    int error_number = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (error_number == ERANGE && buffer.size() < (1U << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (error_number == 0 && found != nullptr && found->pw_name != nullptr) {
      return found->pw_name;
    }
    return std::to_string(uid);
  }
}

// Reads processes under one <proc_root>, kept open. Reuses one buffer and
// remembers user names: NSS lookups cost more than the /proc reads.
class ProcReader {
 public:
  explicit ProcReader(const std::string& proc_root)
      : root_(::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (!root_.valid()) {
      throw RuntimeError(fmt::format("cannot read {}: {}", proc_root, std::strerror(errno)));
    }
    // Only procfs reports the number of fds as the fd directory's size; a
    // fixture tree's directory size is the filesystem's.
    struct statfs filesystem {};
    procfs_ = ::fstatfs(root_.get(), &filesystem) == 0 && filesystem.f_type == PROC_SUPER_MAGIC;
  }

  // <proc_root>/PID, or an invalid fd with errno set.
  UniqueFd open_process(uint32_t pid) const {
    char name[16];
    *std::to_chars(name, name + sizeof name - 1, pid).ptr = '\0';
    return UniqueFd(::openat(root_.get(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }

  // Reads stat. False if the process is gone; else `stat` is set, or
  // `problem` says why it is not.
  bool read_stat(int dir, std::optional<ProcessStat>& stat, std::string& problem) {
    buffer_.clear();
    if (Result<void> read = read_proc_file_at(dir, "stat", kStatLimit, buffer_); !read.ok()) {
      problem = reason("stat", read.error().error_number);
      return !is_gone(read.error().error_number);
    }
    stat = parse_stat(buffer_);
    if (!stat) {
      problem = "stat: unexpected content";
    }
    return true;
  }

  // Everything after stat. `status` receives the status file when asked
  // for (read_detail() parses more of it).
  std::optional<ProcessInfo> complete_info(int dir, uint32_t pid,
                                           const std::optional<ProcessStat>& stat,
                                           const std::string& stat_problem, std::string* status) {
    ProcessInfo info;
    info.pid = pid;
    if (stat) {
      info.ppid = stat->ppid;
      info.start_time = stat->start_time;
      info.name = stat->name;
      info.kernel_thread = (stat->flags & kPfKthread) != 0;
    } else {
      info.unreadable.push_back(stat_problem);
    }
    bool maybe_gone = false;
    auto failed = [&](std::string_view what, int error_number) {
      maybe_gone = maybe_gone || is_gone(error_number);
      info.unreadable.push_back(reason(what, error_number));
    };

    buffer_.clear();
    if (Result<void> read = read_bounded(dir, "status", kStatusLimit); !read.ok()) {
      failed("status", read.error().error_number);
    } else if (std::optional<uint32_t> uid = parse_status_uid(buffer_)) {
      info.uid = *uid;
      info.user = user_name(*uid);
    } else {
      info.unreadable.emplace_back("status: no Uid line");
    }
    if (status != nullptr) {
      *status = buffer_;
    }

    // A kernel thread has no memory (so no command line), no exe and no
    // fd table; asking would cost syscalls and, without root, an EACCES.
    if (info.kernel_thread) {
      info.fd_count = 0;
    } else {
      buffer_.clear();
      if (Result<void> read = read_proc_file_at(dir, "cmdline", kCmdlineLimit, buffer_);
          !read.ok()) {
        failed("cmdline", read.error().error_number);
      } else {
        Cmdline cmdline = join_cmdline(buffer_);
        if (buffer_.size() == kCmdlineLimit && !cmdline.truncated) {
          cmdline.text += kEllipsis;  // more than we read, all of it padding so far
          cmdline.truncated = true;
        }
        info.cmdline = std::move(cmdline.text);
        info.cmdline_truncated = cmdline.truncated;
      }

      char target[4096];  // the kernel's d_path() gives at most a page
      ssize_t length = ::readlinkat(dir, "exe", target, sizeof target);
      if (length < 0) {
        failed("exe", errno);  // ENOENT: a zombie, or gone (checked below)
      } else {
        info.exe.assign(target, static_cast<size_t>(length));
      }

      if (Result<int64_t> count = count_fds(dir); count.ok()) {
        info.fd_count = count.value();
      } else {
        failed("fd", count.error().error_number);
      }
    }

    buffer_.clear();
    if (Result<void> read = read_bounded(dir, "cgroup", kCgroupLimit); !read.ok()) {
      failed("cgroup", read.error().error_number);
    } else {
      CgroupPlacement placement = parse_cgroup(buffer_);
      info.cgroup = std::move(placement.cgroup);
      info.unit = std::move(placement.unit);
      info.container = std::move(placement.container);
      info.runtime = std::move(placement.runtime);
      info.pod = std::move(placement.pod);
    }

    if (maybe_gone && !alive(dir)) {
      return std::nullopt;
    }
    escape_outside_text(info);
    return info;
  }

  std::optional<ProcessInfo> read_info(uint32_t pid) {
    UniqueFd dir = open_process(pid);
    if (!dir.valid()) {
      return unopened(pid, errno);
    }
    std::optional<ProcessStat> stat;
    std::string problem;
    if (!read_stat(dir.get(), stat, problem)) {
      return std::nullopt;
    }
    return complete_info(dir.get(), pid, stat, problem, nullptr);
  }

  std::optional<ProcessDetail> read_detail(uint32_t pid) {
    UniqueFd dir = open_process(pid);
    if (!dir.valid()) {
      std::optional<ProcessInfo> info = unopened(pid, errno);
      if (!info) {
        return std::nullopt;
      }
      ProcessDetail detail;
      detail.info = std::move(*info);
      return detail;
    }
    std::optional<ProcessStat> stat;
    std::string problem;
    if (!read_stat(dir.get(), stat, problem)) {
      return std::nullopt;
    }
    ProcessDetail detail;
    std::string status;
    std::optional<ProcessInfo> info = complete_info(dir.get(), pid, stat, problem, &status);
    if (!info) {
      return std::nullopt;
    }
    detail.info = std::move(*info);
    detail.threads = parse_status_threads(status).value_or(0);
    detail.rss_kib = parse_status_rss_kib(status).value_or(0);

    bool maybe_gone = false;
    auto failed = [&](std::string_view what, int error_number) {
      maybe_gone = maybe_gone || is_gone(error_number);
      detail.unreadable.push_back(reason(what, error_number));
    };
    buffer_.clear();
    if (Result<void> read = read_bounded(dir.get(), "limits", kLimitsLimit); !read.ok()) {
      failed("limits", read.error().error_number);
    } else {
      detail.limits = parse_limits(buffer_);
    }
    if (!detail.info.kernel_thread) {
      buffer_.clear();
      bool cut = false;
      if (Result<void> read = read_bounded(dir.get(), "maps", kMapsLimit, &cut); !read.ok()) {
        failed("maps", read.error().error_number);
      } else {
        if (cut) {
          detail.unreadable.push_back(
              fmt::format("maps: only the first {} MiB read", kMapsLimit >> 20));
        }
        detail.libraries = parse_maps_libraries(buffer_);
      }
    }
    if (maybe_gone && !alive(dir.get())) {
      return std::nullopt;
    }
    for (std::string& library : detail.libraries) {
      escape_in_place(library);  // file names may hold any byte but '/' and NUL
    }
    return detail;
  }

  // Number of open fds of the process in `dir`; the error carries the errno.
  Result<int64_t> count_fds(int dir) const {
    if (procfs_) {
      // Linux >= 6.2: st_size is the number of open fds, one stat() for any
      // number of them. Older kernels say 0: list the directory.
      struct stat status {};
      if (::fstatat(dir, "fd", &status, 0) != 0) {
        return system_error(errno);
      }
      if (status.st_size > 0) {
        return static_cast<int64_t>(status.st_size);
      }
    }
    UniqueDir fds = open_dir_at(dir, "fd");
    if (!fds) {
      return system_error(errno);
    }
    int64_t entries = 0;
    while (dirent* entry = ::readdir(fds.get())) {
      entries += entry->d_name[0] != '.';
    }
    return entries;
  }

  // The pid directory could not be opened: gone, or a bare entry.
  static std::optional<ProcessInfo> unopened(uint32_t pid, int error_number) {
    if (is_gone(error_number) || error_number == ENOTDIR) {
      return std::nullopt;
    }
    ProcessInfo info;
    info.pid = pid;
    info.unreadable.push_back(reason("process", error_number));
    return info;
  }

  // A reaped process's directory has no entries any more; a zombie's does.
  static bool alive(int dir) { return ::faccessat(dir, "stat", F_OK, 0) == 0; }

 private:
  // Reads a line-oriented file into buffer_; a read cut by its bound loses
  // its last, partial line rather than misparse it.
  Result<void> read_bounded(int dir, const char* name, size_t limit, bool* cut = nullptr) {
    Result<void> read = read_proc_file_at(dir, name, limit, buffer_);
    bool reached = read.ok() && buffer_.size() >= limit;
    if (reached) {
      drop_partial_line(buffer_);
    }
    if (cut != nullptr) {
      *cut = reached;
    }
    return read;
  }

  const std::string& user_name(uint32_t uid) {
    auto [entry, inserted] = user_names_.try_emplace(uid);
    if (inserted) {
      entry->second = lookup_user(uid);
    }
    return entry->second;
  }

  UniqueFd root_;
  bool procfs_ = false;
  std::string buffer_;
  std::unordered_map<uint32_t, std::string> user_names_;
};

}  // namespace

// ---- Parsers ----

std::optional<ProcessStat> parse_stat(std::string_view stat) {
  size_t open = stat.find('(');
  size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  std::optional<uint32_t> pid = parse_decimal<uint32_t>(trim(stat.substr(0, open)));
  if (!pid) {
    return std::nullopt;
  }
  ProcessStat result;
  result.pid = *pid;
  result.name = stat.substr(open + 1, close - open - 1);
  std::string_view rest = stat.substr(close + 1);
  std::string_view state;
  std::optional<uint32_t> ppid;
  std::optional<uint32_t> flags;
  std::optional<uint64_t> start_time;
  for (int field = 3; field <= 22; ++field) {
    std::string_view token = next_token(rest);
    switch (field) {
      case 3:
        state = token;
        break;
      case 4:
        ppid = parse_decimal<uint32_t>(token);
        break;
      case 9:
        flags = parse_decimal<uint32_t>(token);
        break;
      case 22:
        start_time = parse_decimal<uint64_t>(token);
        break;
      default:
        break;
    }
  }
  if (state.size() != 1 || !ppid || !flags || !start_time) {
    return std::nullopt;
  }
  result.state = state[0];
  result.ppid = *ppid;
  result.flags = *flags;
  result.start_time = *start_time;
  return result;
}

std::optional<uint32_t> parse_status_uid(std::string_view status) {
  return status_number<uint32_t>(status, "Uid");
}

std::optional<uint32_t> parse_status_threads(std::string_view status) {
  return status_number<uint32_t>(status, "Threads");
}

std::optional<uint64_t> parse_status_rss_kib(std::string_view status) {
  return status_number<uint64_t>(status, "VmRSS");
}

CgroupPlacement parse_cgroup(std::string_view cgroup_file) {
  CgroupIdentity identity = parse_cgroup_identity(cgroup_file);
  CgroupPlacement placement;
  placement.container = std::move(identity.container);
  placement.runtime = std::move(identity.runtime);
  placement.pod = std::move(identity.pod);

  // Paths in the order they are preferred: the v2 line, the v1 lines of the
  // controllers every setup mounts, the other lines.
  std::vector<std::string_view> v2;
  std::vector<std::string_view> main_v1;
  std::vector<std::string_view> other_v1;
  for (std::string_view rest = cgroup_file; !rest.empty();) {
    std::string_view line = next_line(rest);  // "ID:CONTROLLERS:PATH"
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      continue;
    }
    std::string_view hierarchy = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (hierarchy == "0" && controllers.empty()) {
      v2.push_back(path);
    } else if (names_main_controller(controllers)) {
      main_v1.push_back(path);
    } else {
      other_v1.push_back(path);
    }
  }
  std::vector<std::string_view> candidates = v2;
  candidates.insert(candidates.end(), main_v1.begin(), main_v1.end());
  candidates.insert(candidates.end(), other_v1.begin(), other_v1.end());
  if (candidates.empty()) {
    return placement;
  }

  const bool has_v1 = !main_v1.empty() || !other_v1.empty();
  if (!v2.empty() && (!is_root_path(v2.front()) || !has_v1)) {
    placement.cgroup = v2.front();
  } else {
    auto specific = std::find_if(candidates.begin(), candidates.end(),
                                 [](std::string_view path) { return !is_root_path(path); });
    placement.cgroup = specific != candidates.end() ? *specific : std::string_view("/");
  }
  for (std::string_view path : candidates) {
    if (std::string_view unit = innermost_unit(path); !unit.empty()) {
      placement.unit = unit;
      break;
    }
  }
  return placement;
}

std::vector<ProcessLimit> parse_limits(std::string_view limits) {
  // "Max open files            1024                 524288               files     "
  // The name is the words before the first value; the header has no value.
  std::vector<ProcessLimit> rows;
  while (!limits.empty()) {
    const std::string_view line = next_line(limits);
    std::string_view rest = line;
    std::string_view token;
    size_t name_length = 0;
    for (;;) {
      token = next_token(rest);
      if (token.empty() || is_limit_value(token)) {
        break;
      }
      name_length = static_cast<size_t>(rest.data() - line.data());
    }
    if (token.empty()) {
      continue;  // the header, or a blank line
    }
    ProcessLimit row;
    row.name = line.substr(0, name_length);
    row.soft = token;
    row.hard = next_token(rest);
    row.units = next_token(rest);
    if (row.name.empty() || !is_limit_value(row.hard)) {
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> parse_maps_libraries(std::string_view maps) {
  // "7f2c1a000000-7f2c1a022000 r--p 00000000 fe:00 1234   /usr/lib/x.so"
  std::vector<std::string> paths;
  std::unordered_set<std::string_view> seen;
  while (!maps.empty()) {
    std::string_view rest = next_line(maps);
    std::string_view inode;
    for (int field = 1; field <= 5; ++field) {
      inode = next_token(rest);
    }
    // The path is the rest of the line after the padding: it may hold spaces.
    while (!rest.empty() && rest.front() == ' ') {
      rest.remove_prefix(1);
    }
    if (inode.empty() || inode == "0" || !rest.starts_with('/')) {
      continue;
    }
    if (seen.insert(rest).second) {
      paths.emplace_back(rest);
    }
  }
  return paths;
}

Cmdline join_cmdline(std::string_view raw, size_t max_bytes) {
  while (!raw.empty() && raw.back() == '\0') {
    raw.remove_suffix(1);
  }
  Cmdline result;
  result.text.assign(raw);
  std::replace(result.text.begin(), result.text.end(), '\0', ' ');
  if (result.text.size() <= max_bytes) {
    return result;
  }
  // Cut before the character that crosses the limit: back up over UTF-8
  // continuation bytes (10xxxxxx), three at most as a character has four
  // bytes at most. Text that is no UTF-8 there is cut at the limit.
  auto continuation = [&](size_t at) {
    return (static_cast<unsigned char>(result.text[at]) & 0xC0) == 0x80;
  };
  size_t cut = max_bytes;
  while (cut > 0 && cut + 3 > max_bytes && continuation(cut)) {
    --cut;
  }
  if (continuation(cut)) {
    cut = max_bytes;
  }
  result.text.resize(cut);
  result.text += kEllipsis;
  result.truncated = true;
  return result;
}

// ---- Reads ----

std::optional<ProcessInfo> read_process_info(const std::string& proc_root, uint32_t pid) {
  ProcReader reader(proc_root);
  return reader.read_info(pid);
}

std::optional<ProcessDetail> read_process_detail(const std::string& proc_root, uint32_t pid) {
  ProcReader reader(proc_root);
  return reader.read_detail(pid);
}

struct ProcessInfoCache::Reader : ProcReader {
  using ProcReader::ProcReader;
};

ProcessInfoCache::ProcessInfoCache(const std::string& proc_root)
    : reader_(std::make_unique<Reader>(proc_root)) {}
ProcessInfoCache::~ProcessInfoCache() = default;
ProcessInfoCache::ProcessInfoCache(ProcessInfoCache&&) noexcept = default;
ProcessInfoCache& ProcessInfoCache::operator=(ProcessInfoCache&&) noexcept = default;

const ProcessInfo* ProcessInfoCache::get(uint32_t pid) {
  UniqueFd dir = reader_->open_process(pid);
  std::optional<ProcessInfo> info;
  if (!dir.valid()) {
    info = ProcReader::unopened(pid, errno);
  } else {
    std::optional<ProcessStat> stat;
    std::string problem;
    if (!reader_->read_stat(dir.get(), stat, problem)) {
      entries_.erase(pid);
      return nullptr;
    }
    auto known = entries_.find(pid);
    if (known != entries_.end() && stat && known->second.info.start_time == stat->start_time) {
      // The same process: only the fd count moves.
      ProcessInfo& cached = known->second.info;
      if (!cached.kernel_thread) {
        Result<int64_t> count = reader_->count_fds(dir.get());
        const int error_number = count.ok() ? 0 : count.error().error_number;
        if (error_number != 0 && is_gone(error_number) && !ProcReader::alive(dir.get())) {
          entries_.erase(known);
          return nullptr;
        }
        cached.fd_count = count.ok() ? count.value() : -1;
        set_note(cached.unreadable, "fd", error_number == 0 ? "" : reason("fd", error_number));
      }
      known->second.used = true;
      return &cached;
    }
    info = reader_->complete_info(dir.get(), pid, stat, problem, nullptr);
  }
  ++full_reads_;
  if (!info) {
    entries_.erase(pid);
    return nullptr;
  }
  Entry& entry = entries_[pid];
  entry.info = std::move(*info);
  entry.used = true;
  return &entry.info;
}

void ProcessInfoCache::end_sample() {
  std::erase_if(entries_, [](const auto& item) { return !item.second.used; });
  for (auto& [pid, entry] : entries_) {
    entry.used = false;
  }
}

}  // namespace ephport
