// SocketOwnerIterator through the iter/task_file program of
// socket_owners.bpf.c, embedded by its libbpf skeleton (socket_owners.skel.h,
// generated at build time by cmake/BpfSkeleton.cmake).
//
// Each object loads and attaches the program once; each scan() creates a new
// iterator, which walks the pid namespace of the calling process.

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collect/linux/bpf/libbpf_support.h"
#include "collect/linux/bpf/socket_owner_record.h"
#include "collect/linux/proc_file.h"
#include "collect/linux/socket_owners_bpf.h"
#include "socket_owners.skel.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {
namespace {

static_assert(sizeof(socket_owner_record) == 16, "socket_owner_record must match the BPF side");

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";
// Per read() the kernel returns at most its seq_file buffer (8 pages); a
// larger buffer costs nothing and keeps the count of read() calls minimal.
constexpr size_t kReadBuffer = 4096 * sizeof(socket_owner_record);
// Bounds on one walk. The kernel's file limits keep real walks far below
// them; past them something is wrong, and the walk fails rather than loops.
constexpr uint64_t kMaxRecords = uint64_t{1} << 26;
constexpr uint64_t kMaxReads = uint64_t{1} << 24;

[[noreturn]] void unavailable(const std::string& why) {
  throw RuntimeError("BPF socket-owner walk unavailable: " + why);
}

// The program numbers processes as ephport's own pid namespace does; /proc
// (where ephport reads process names) must be mounted for that namespace.
// "NSpid:" lists this process's id in every namespace from /proc's down to
// its own: one entry when they are the same.
void require_own_proc() {
  size_t levels = 1;  // without CONFIG_PID_NS there is no NSpid line
  for_each_proc_line("/proc/self/status", false, [&](std::string_view line) {
    constexpr std::string_view kKey = "NSpid:";
    if (line.substr(0, kKey.size()) != kKey) {
      return;
    }
    levels = 0;
    bool in_number = false;
    for (char c : line.substr(kKey.size())) {
      const bool digit = c >= '0' && c <= '9';
      levels += digit && !in_number;
      in_number = digit;
    }
  });
  if (levels != 1) {
    unavailable(fmt::format(
        "/proc is mounted for an ancestor of ephport's pid namespace (NSpid lists {} ids): the "
        "walk would see fewer processes than /proc, under other pids",
        levels));
  }
}

struct SkeletonDeleter {
  void operator()(socket_owners_bpf* skeleton) const { socket_owners_bpf__destroy(skeleton); }
};
struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using SkeletonPtr = std::unique_ptr<socket_owners_bpf, SkeletonDeleter>;
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// A socket of ephport's own and its inode: every walk must report it under
// getpid(), which proves the pids are numbered as ephport sees them.
struct Probe {
  UniqueFd fd;
  uint64_t inode = 0;
};

Probe open_probe() {
  Probe probe;
  probe.fd = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  struct stat status {};
  if (!probe.fd.valid() || ::fstat(probe.fd.get(), &status) != 0) {
    unavailable(fmt::format("cannot open a probe socket: {}", std::strerror(errno)));
  }
  probe.inode = status.st_ino;
  return probe;
}

}  // namespace

struct SocketOwnerIterator::Impl {
  SkeletonPtr skeleton;
  LinkPtr link;  // every process of the pid namespace
  Probe probe;
  std::vector<char> buffer = std::vector<char>(kReadBuffer);  // reused by every walk

  // Runs one walk of `walk_link` to its end, calling visit(record) for each
  // record, and checks that the probe socket was among them under getpid().
  template <typename Visit>
  void walk(bpf_link* walk_link, Visit visit) {
    UniqueFd iterator(bpf_iter_create(bpf_link__fd(walk_link)));
    if (!iterator.valid()) {
      const int error = errno;
      unavailable(describe_bpf_failure("creating the iterator", error));
    }
    const auto self = static_cast<uint32_t>(::getpid());
    bool probe_seen = false;
    uint32_t probe_pid = 0;
    uint64_t records = 0;
    // read() may end in the middle of a record: keep the tail for the next one.
    size_t filled = 0;
    for (uint64_t reads = 0;; ++reads) {
      if (reads == kMaxReads) {
        unavailable(fmt::format("the walk did not end after {} reads", kMaxReads));
      }
      const ssize_t got = ::read(iterator.get(), buffer.data() + filled, buffer.size() - filled);
      // EAGAIN: the kernel stopped after a million files without a socket
      // among them, to reschedule; the next read() resumes where it stopped.
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (got < 0) {
        unavailable(fmt::format("reading the iterator failed: {}", std::strerror(errno)));
      }
      if (got == 0) {
        break;
      }
      filled += static_cast<size_t>(got);
      size_t used = 0;
      for (; filled - used >= sizeof(socket_owner_record); used += sizeof(socket_owner_record)) {
        socket_owner_record record{};
        std::memcpy(&record, buffer.data() + used, sizeof(record));
        if (record.inode == probe.inode) {
          // After a fork() the probe has several owners; ours must be one.
          probe_pid = record.pid;
          probe_seen = probe_seen || record.pid == self;
        }
        visit(record);
      }
      records += used / sizeof(socket_owner_record);
      if (records > kMaxRecords) {
        unavailable(fmt::format("the walk returned more than {} sockets", kMaxRecords));
      }
      std::memmove(buffer.data(), buffer.data() + used, filled - used);
      filled -= used;
    }
    if (filled != 0) {
      unavailable(fmt::format("the iterator ended inside a record ({} bytes left)", filled));
    }
    if (!probe_seen) {
      unavailable(probe_pid == 0
                      ? fmt::format("the walk missed ephport's own probe socket (pid {})", self)
                      : fmt::format("the walk reported ephport's probe socket under pid {}, not "
                                    "{}: pid namespaces differ",
                                    probe_pid, self));
    }
  }

  // One walk of ephport's own process only (a link for this pid, kernel 6.1
  // and later), so a wrong pid numbering shows before the first scan().
  // Older kernels refuse the link or ignore the filter; scan() checks anyway.
  void check_self() {
    bpf_iter_link_info info{};
    info.task.pid = static_cast<uint32_t>(::getpid());
    bpf_iter_attach_opts options{};  // not LIBBPF_OPTS: a GNU C extension in C++
    options.sz = sizeof(options);
    options.link_info = &info;
    options.link_info_len = sizeof(info);
    LinkPtr own(bpf_program__attach_iter(skeleton->progs.dump_socket_owners, &options));
    if (own) {
      walk(own.get(), [](const socket_owner_record&) {});
    }
  }
};

bool socket_owner_iterator_built() {
  return true;
}

SocketOwnerIterator::SocketOwnerIterator() : impl_(std::make_unique<Impl>()) {
  if (::access(kBtfPath, R_OK) != 0) {
    unavailable(fmt::format("no BTF at {} (the kernel needs CONFIG_DEBUG_INFO_BTF=y)", kBtfPath));
  }
  require_own_proc();
  quiet_libbpf();
  impl_->skeleton.reset(socket_owners_bpf__open());
  if (!impl_->skeleton) {
    const int error = errno;
    unavailable(describe_bpf_failure("opening the BPF object", error));
  }
  if (const int result = socket_owners_bpf__load(impl_->skeleton.get()); result != 0) {
    const int error = -result;
    unavailable(describe_bpf_failure("loading the iterator", error));
  }
  impl_->link.reset(bpf_program__attach_iter(impl_->skeleton->progs.dump_socket_owners, nullptr));
  if (!impl_->link) {
    const int error = errno;
    unavailable(describe_bpf_failure("attaching the iterator", error));
  }
  impl_->probe = open_probe();
  impl_->check_self();
}

SocketOwnerIterator::~SocketOwnerIterator() = default;
SocketOwnerIterator::SocketOwnerIterator(SocketOwnerIterator&& other) noexcept = default;
SocketOwnerIterator& SocketOwnerIterator::operator=(SocketOwnerIterator&& other) noexcept = default;

size_t SocketOwnerIterator::scan(OwnerTable& table) {
  impl_->walk(impl_->link.get(),
              [&table](const socket_owner_record& record) { table.add(record.inode, record.pid); });
  // Counted by the program as it walked (its global data, mapped here).
  return impl_->skeleton->bss->processes_walked;
}

}  // namespace ephport
