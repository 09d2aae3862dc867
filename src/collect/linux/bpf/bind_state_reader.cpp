// read_bind_state() through the bpf_iter/tcp program of bind_state.bpf.c,
// embedded by its libbpf skeleton (bind_state.skel.h, generated at build
// time by cmake/BpfSkeleton.cmake).
//
// The program is loaded and attached once per process; each read creates a
// new iterator, which walks the netns the calling thread is in at that moment.

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bind_state.skel.h"
#include "collect/bind_state.h"
#include "collect/linux/bpf/bind_state_record.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {
namespace {

static_assert(sizeof(bind_state_record) == 56, "bind_state_record must match the BPF side");

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";

[[noreturn]] void unavailable(const std::string& why) {
  throw RuntimeError("BPF bind-state reader unavailable: " + why);
}

// What to do about a failed bpf() call, after strerror.
std::string hint(int error) {
  if (error == EPERM || error == EACCES) {
    return " (needs root or CAP_BPF+CAP_PERFMON)";
  }
  return " (set EPHPORT_BPF_DEBUG=1 to see libbpf's log)";
}

// libbpf prints to stderr by default; ephport reports one line instead,
// unless EPHPORT_BPF_DEBUG is set.
int print_libbpf(enum libbpf_print_level, const char* format, va_list args) {
  static const bool debug = std::getenv("EPHPORT_BPF_DEBUG") != nullptr;
  return debug ? std::vfprintf(stderr, format, args) : 0;
}

// The loaded program and its iterator link; lives until the process exits.
class Iterator {
 public:
  Iterator() {
    if (::access(kBtfPath, R_OK) != 0) {
      unavailable(fmt::format("no BTF at {} (the kernel needs CONFIG_DEBUG_INFO_BTF=y)", kBtfPath));
    }
    libbpf_set_print(print_libbpf);
    skeleton_ = bind_state_bpf__open();
    if (skeleton_ == nullptr) {
      const int error = errno;
      unavailable(
          fmt::format("opening the BPF object failed: {}{}", std::strerror(error), hint(error)));
    }
    if (const int result = bind_state_bpf__load(skeleton_); result != 0) {
      const int error = -result;
      bind_state_bpf__destroy(skeleton_);
      unavailable(
          fmt::format("loading the iterator failed: {}{}", std::strerror(error), hint(error)));
    }
    link_ = bpf_program__attach_iter(skeleton_->progs.dump_bind_state, nullptr);
    if (link_ == nullptr) {
      const int error = errno;
      bind_state_bpf__destroy(skeleton_);
      unavailable(
          fmt::format("attaching the iterator failed: {}{}", std::strerror(error), hint(error)));
    }
  }
  ~Iterator() {
    bpf_link__destroy(link_);
    bind_state_bpf__destroy(skeleton_);
  }
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  // A new walk over the TCP sockets of the calling thread's netns.
  UniqueFd start() const {
    UniqueFd fd(bpf_iter_create(bpf_link__fd(link_)));
    if (!fd.valid()) {
      const int error = errno;
      unavailable(
          fmt::format("creating the iterator failed: {}{}", std::strerror(error), hint(error)));
    }
    return fd;
  }

 private:
  bind_state_bpf* skeleton_ = nullptr;
  bpf_link* link_ = nullptr;
};

// Loaded on first use; a failed load throws and is retried by the next call.
const Iterator& iterator() {
  static const Iterator loaded;
  return loaded;
}

void add(BindStateReport& report, const bind_state_record& record) {
  ++report.sockets;
  if ((record.flags & BSR_BIND_STATE) != 0) {
    report.bind_owned.insert(record.local_port);
  }
  if (record.reuse != 0) {
    ++report.reuseaddr;
  }
  if (record.reuseport != 0) {
    ++report.reuseport;
  }
  if (record.local_port_range != 0) {
    ++report.local_port_range;
  }
}

}  // namespace

bool bind_state_reader_built() {
  return true;
}

BindStateReport read_bind_state() {
  UniqueFd walk = iterator().start();
  BindStateReport report;
  // read() may end in the middle of a record: keep the tail for the next one.
  std::vector<char> buffer(1024 * sizeof(bind_state_record));
  size_t filled = 0;
  for (;;) {
    const ssize_t got = ::read(walk.get(), buffer.data() + filled, buffer.size() - filled);
    if (got < 0 && errno == EINTR) {
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
    for (; filled - used >= sizeof(bind_state_record); used += sizeof(bind_state_record)) {
      bind_state_record record{};
      std::memcpy(&record, buffer.data() + used, sizeof(record));
      add(report, record);
    }
    std::memmove(buffer.data(), buffer.data() + used, filled - used);
    filled -= used;
  }
  if (filled != 0) {
    unavailable(fmt::format("the iterator ended inside a record ({} bytes left)", filled));
  }
  return report;
}

}  // namespace ephport
