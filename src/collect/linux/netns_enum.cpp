#include "collect/linux/netns_enum.h"

#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <map>

#include "collect/linux/proc_file.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace ephport {

namespace {

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Runtimes name a container's ids in 64 hex digits; a shorter run of at
// least 12 (docker's short form) is accepted after a runtime's prefix.
bool is_container_id(std::string_view text) {
  return text.size() >= 12 && text.size() <= 64 && is_hex(text);
}

bool is_pod_uid(std::string_view text) {
  return text.size() >= 8 && std::all_of(text.begin(), text.end(), [](char c) {
           return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string_view without_suffix(std::string_view text, std::string_view suffix) {
  return text.ends_with(suffix) ? text.substr(0, text.size() - suffix.size()) : text;
}

struct ScopePrefix {
  std::string_view prefix;
  std::string_view runtime;
};

// `<prefix><id>.scope` (systemd cgroup driver) or `<prefix><id>` (podman's
// cgroupfs driver). The conmon monitors (`crio-conmon-<id>`,
// `libpod-conmon-<id>`) fail the id check: they are not the container.
constexpr std::array<ScopePrefix, 4> kScopePrefixes = {{{"docker-", "docker"},
                                                        {"cri-containerd-", "containerd"},
                                                        {"crio-", "cri-o"},
                                                        {"libpod-", "podman"}}};

// The pod UID of a kubelet cgroup component: `kubepods-<qos>-pod<uid>.slice`
// (systemd driver, '_' for '-') or `pod<uid>` below `kubepods` (cgroupfs).
std::optional<std::string> pod_uid(std::string_view component, bool below_kubepods) {
  std::string_view uid;
  if (component.starts_with("kubepods") && component.ends_with(".slice")) {
    std::string_view name = without_suffix(component, ".slice");
    size_t at = name.rfind("-pod");
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    uid = name.substr(at + 4);
  } else if (below_kubepods && component.starts_with("pod")) {
    uid = component.substr(3);
  } else {
    return std::nullopt;
  }
  std::string text(uid);
  std::replace(text.begin(), text.end(), '_', '-');
  if (!is_pod_uid(text)) {
    return std::nullopt;
  }
  return text;
}

// Reads one cgroup path ("/a/b/c"); deeper components override shallower.
void scan_cgroup_path(std::string_view path, CgroupIdentity& found) {
  std::string_view parent;
  bool below_kubepods = false;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view component = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (component.empty()) {
      continue;
    }
    std::string_view scope = without_suffix(component, ".scope");
    for (const ScopePrefix& known : kScopePrefixes) {
      if (scope.starts_with(known.prefix) && is_container_id(scope.substr(known.prefix.size()))) {
        found.runtime = known.runtime;
        found.container = scope.substr(known.prefix.size());
      }
    }
    if (component.size() == 64 && is_hex(component)) {
      // cgroupfs drivers: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>.
      found.runtime = parent == "docker" ? "docker" : "";
      found.container = component;
    }
    if (component.starts_with("lxc.payload.") && component.size() > 12) {
      found.runtime = "lxc";
      found.container = component.substr(12);
    } else if (parent == "lxc") {
      found.runtime = "lxc";
      found.container = component;
    }
    below_kubepods = below_kubepods || component.starts_with("kubepods");
    if (std::optional<std::string> uid = pod_uid(component, below_kubepods)) {
      found.pod = *uid;
    }
    if (component.ends_with(".service")) {
      found.unit = component;
    }
    parent = component;
  }
}

// What every process of one namespace agrees on: the first value, unless a
// later process differs.
class Consensus {
 public:
  void add(const std::string& value) {
    if (!seen_) {
      value_ = value;
      seen_ = true;
    } else if (value != value_) {
      mixed_ = true;
    }
  }
  std::string result() const { return mixed_ ? std::string() : value_; }

 private:
  std::string value_;
  bool seen_ = false;
  bool mixed_ = false;
};

struct Found {
  std::string name;
  std::string path;
  uint32_t pid = 0;
  Consensus runtime;
  Consensus container;
  Consensus pod;
  Consensus unit;

  void add(const CgroupIdentity& identity) {
    runtime.add(identity.runtime);
    container.add(identity.container);
    pod.add(identity.pod);
    unit.add(identity.unit);
  }
};

std::string join(const std::string& directory, const std::string& name) {
  if (!directory.empty() && directory.back() == '/') {
    return directory + name;
  }
  return directory + "/" + name;
}

// readlink() as text; nullopt with errno set on failure.
std::optional<std::string> read_link(const std::string& path) {
  char target[256];
  ssize_t length = ::readlink(path.c_str(), target, sizeof target);
  if (length < 0) {
    return std::nullopt;
  }
  return std::string(target, static_cast<size_t>(length));
}

// The namespace an `ip netns` file holds: a bind mount of nsfs on a live
// host (stat it), a "net:[INODE]" symlink in a fixture tree (read it).
std::optional<uint64_t> named_netns_inode(const std::string& path) {
  if (std::optional<std::string> link = read_link(path)) {
    return parse_netns_link(*link);
  }
  struct statfs filesystem {};
  struct stat status {};
  if (::statfs(path.c_str(), &filesystem) != 0 || filesystem.f_type != NSFS_MAGIC ||
      ::stat(path.c_str(), &status) != 0) {
    return std::nullopt;  // gone, or an empty file whose namespace was unmounted
  }
  return static_cast<uint64_t>(status.st_ino);
}

// Names of `directory`, sorted; empty if it cannot be listed.
std::vector<std::string> list_directory(const std::string& directory, std::error_code& error) {
  std::vector<std::string> names;
  std::filesystem::directory_iterator entry(directory, error);
  for (; !error && entry != std::filesystem::directory_iterator(); entry.increment(error)) {
    names.push_back(entry->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<uint32_t> list_pids(const std::string& proc_root) {
  std::error_code error;
  std::vector<std::string> names = list_directory(proc_root, error);
  if (error) {
    throw RuntimeError(fmt::format("cannot read {}: {}", proc_root, error.message()));
  }
  std::vector<uint32_t> pids;
  for (const std::string& name : names) {
    if (std::optional<uint32_t> pid = parse_decimal<uint32_t>(name)) {
      pids.push_back(*pid);
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::optional<CgroupIdentity> read_cgroup_identity(const std::string& path) {
  try {
    if (std::optional<std::string> content = read_proc_file_if_exists(path)) {
      return parse_cgroup_identity(*content);
    }
  } catch (const RuntimeError&) {
    // The process exited between open and read.
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> parse_netns_link(std::string_view link) {
  constexpr std::string_view kPrefix = "net:[";
  if (!link.starts_with(kPrefix) || !link.ends_with("]")) {
    return std::nullopt;
  }
  std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  return parse_decimal<uint64_t>(digits);
}

CgroupIdentity parse_cgroup_identity(std::string_view cgroup_file) {
  // One line per hierarchy, "ID:CONTROLLERS:PATH" (cgroup v2: "0::PATH").
  // The first line that names a field wins it.
  CgroupIdentity identity;
  while (!cgroup_file.empty()) {
    size_t newline = cgroup_file.find('\n');
    std::string_view line = cgroup_file.substr(0, newline);
    cgroup_file =
        newline == std::string_view::npos ? std::string_view() : cgroup_file.substr(newline + 1);
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      continue;
    }
    CgroupIdentity found;
    scan_cgroup_path(line.substr(second + 1), found);
    if (identity.container.empty() && !found.container.empty()) {
      identity.runtime = found.runtime;
      identity.container = found.container;
    }
    if (identity.pod.empty()) {
      identity.pod = found.pod;
    }
    if (identity.unit.empty()) {
      identity.unit = found.unit;
    }
  }
  return identity;
}

NetnsEnumeration enumerate_netns(const std::string& proc_root, const std::string& run_netns_dir) {
  NetnsEnumeration result;
  std::map<uint64_t, Found> by_inode;
  for (uint32_t pid : list_pids(proc_root)) {
    const std::string pid_dir = join(proc_root, std::to_string(pid));
    std::optional<std::string> link = read_link(pid_dir + "/ns/net");
    if (!link) {
      // Other users' links need ptrace access; ENOENT is a process gone.
      result.processes_unreadable += errno == EACCES || errno == EPERM;
      continue;
    }
    std::optional<uint64_t> inode = parse_netns_link(*link);
    if (!inode) {
      continue;
    }
    Found& found = by_inode[*inode];
    if (found.pid == 0) {
      found.pid = pid;  // the lowest: pids are sorted
      found.path = pid_dir + "/ns/net";
    }
    if (std::optional<CgroupIdentity> identity = read_cgroup_identity(pid_dir + "/cgroup")) {
      found.add(*identity);
    }
  }

  std::error_code ignored;  // no /run/netns: no names
  for (const std::string& name : list_directory(run_netns_dir, ignored)) {
    const std::string path = join(run_netns_dir, name);
    std::optional<uint64_t> inode = named_netns_inode(path);
    if (!inode) {
      continue;
    }
    Found& found = by_inode[*inode];
    if (found.name.empty()) {
      // A name outlives the processes: open the namespace by it.
      found.name = name;
      found.path = path;
    }
  }

  for (const auto& [inode, found] : by_inode) {
    NetnsIdentity identity;
    identity.inode = inode;
    identity.name = found.name;
    identity.path = found.path;
    identity.pid = found.pid;
    identity.container = found.container.result();
    identity.runtime = identity.container.empty() ? std::string() : found.runtime.result();
    identity.pod = found.pod.result();
    identity.unit = found.unit.result();
    result.namespaces.push_back(std::move(identity));
  }
  return result;
}

}  // namespace ephport
