// read_bind_state() through the bpf_iter/tcp program of bind_state.bpf.c,
// embedded by its libbpf skeleton (bind_state.skel.h, generated at build
// time by cmake/BpfSkeleton.cmake).
//
// The program is loaded and attached once per process; each read creates a
// new iterator, which walks the netns the calling thread is in at that moment.
// The program keeps the result in its global data (a port bitmap and
// counters), which the skeleton maps into this process: a walk reads nothing
// but EOF from the iterator, then the mapped result.

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/types.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>
#include <type_traits>

#include "bind_state.skel.h"
#include "collect/linux/bind_state.h"
#include "collect/linux/bpf/libbpf_support.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {
namespace {

// The program's global data as the skeleton maps it.
using WalkState = std::remove_pointer_t<decltype(bind_state_bpf::bss)>;
static_assert(sizeof(WalkState::bind_ports) * 8 == 65536, "one bit per port");

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";
// The program writes nothing, so read() returns 0 at the end of the walk, and
// EAGAIN before that after every million sockets (the kernel stops there
// when it has nothing to return; the next read() goes on). Past this many
// reads something is wrong, and the walk fails rather than loops.
constexpr int kMaxReads = 1 << 16;

[[noreturn]] void unavailable(const std::string& why) {
  throw RuntimeError("BPF bind-state reader unavailable: " + why);
}

// A port bitmap of the program's global data (bit p % 64 of word p / 64).
template <size_t Words>
PortSet ports_of(const __u64 (&bitmap)[Words]) {
  static_assert(Words * 64 == 65536, "one bit per port");
  PortSet ports;
  for (size_t word = 0; word < Words; ++word) {
    for (uint64_t bits = bitmap[word]; bits != 0; bits &= bits - 1) {
      ports.insert(static_cast<uint16_t>(word * 64 + std::countr_zero(bits)));
    }
  }
  return ports;
}

BindStateReport fold(const WalkState& state) {
  BindStateReport report;
  report.bind_owned = ports_of(state.bind_ports);
  report.v6only[static_cast<size_t>(Protocol::tcp)] = {ports_of(state.v6only_ports),
                                                       ports_of(state.dual_stack_ports)};
  report.v6only[static_cast<size_t>(Protocol::udp)] = {ports_of(state.udp_v6only_ports),
                                                       ports_of(state.udp_dual_stack_ports)};
  report.sockets = state.sockets_walked;
  report.reuseaddr = state.reuseaddr_sockets;
  report.reuseport = state.reuseport_sockets;
  report.local_port_range = state.port_range_sockets;
  return report;
}

// The loaded program and its iterator link; lives until the process exits.
//
// Every walk of the object accumulates into the same global data, so walks
// take turns (a mutex). A fork()ed child shares that mapping, and the
// kernel's map, with its parent: the two must not walk at the same time
// (run_with_deadline()'s child collects while its parent only waits).
class Iterator {
 public:
  Iterator() {
    if (::access(kBtfPath, R_OK) != 0) {
      unavailable(fmt::format("no BTF at {} (the kernel needs CONFIG_DEBUG_INFO_BTF=y)", kBtfPath));
    }
    quiet_libbpf();
    skeleton_ = bind_state_bpf__open();
    if (skeleton_ == nullptr) {
      const int error = errno;
      unavailable(describe_bpf_failure("opening the BPF object", error));
    }
    if (const int result = bind_state_bpf__load(skeleton_); result != 0) {
      const int error = -result;
      bind_state_bpf__destroy(skeleton_);
      unavailable(describe_bpf_failure("loading the iterator", error));
    }
    if (skeleton_->bss == nullptr) {  // libbpf maps global data whenever the kernel can
      bind_state_bpf__destroy(skeleton_);
      unavailable("the program's global data is not mapped (kernel without mmap-able maps)");
    }
    link_ = bpf_program__attach_iter(skeleton_->progs.dump_bind_state, nullptr);
    if (link_ == nullptr) {
      const int error = errno;
      bind_state_bpf__destroy(skeleton_);
      unavailable(describe_bpf_failure("attaching the iterator", error));
    }
    udp_link_ = bpf_program__attach_iter(skeleton_->progs.dump_udp_v6only, nullptr);
    if (udp_link_ == nullptr) {
      const int error = errno;
      bpf_link__destroy(link_);
      bind_state_bpf__destroy(skeleton_);
      unavailable(describe_bpf_failure("attaching the UDP iterator", error));
    }
  }
  ~Iterator() {
    bpf_link__destroy(udp_link_);
    bpf_link__destroy(link_);
    bind_state_bpf__destroy(skeleton_);
  }
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  // One walk over the TCP, then the UDP, sockets of the calling thread's netns.
  BindStateReport walk() {
    const std::lock_guard<std::mutex> lock(mutex_);
    WalkState& state = *skeleton_->bss;
    state = WalkState{};  // the last walk's result, or what a failed walk left
    drain(link_);
    drain(udp_link_);
    return fold(state);
  }

 private:
  // Runs one iterator over every socket: read() returns 0 once its program
  // has run for every socket and for the walk's end, in this thread.
  static void drain(bpf_link* link) {
    UniqueFd iterator(bpf_iter_create(bpf_link__fd(link)));
    if (!iterator.valid()) {
      const int error = errno;
      unavailable(describe_bpf_failure("creating the iterator", error));
    }
    std::array<char, 64> buffer{};
    for (int reads = 0;; ++reads) {
      if (reads == kMaxReads) {
        unavailable(fmt::format("the walk did not end after {} reads", kMaxReads));
      }
      const ssize_t got = ::read(iterator.get(), buffer.data(), buffer.size());
      if (got == 0) {
        return;
      }
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (got < 0) {
        unavailable(fmt::format("reading the iterator failed: {}", std::strerror(errno)));
      }
      unavailable("the iterator returned output; its program should write none");
    }
  }

  bind_state_bpf* skeleton_ = nullptr;
  bpf_link* link_ = nullptr;      // bpf_iter/tcp: bind state and TCP V6ONLY
  bpf_link* udp_link_ = nullptr;  // bpf_iter/udp: UDP V6ONLY
  std::mutex mutex_;              // one walk at a time: they share the global data
};

// Loaded on first use; a failed load throws and is retried by the next call.
Iterator& iterator() {
  static Iterator loaded;
  return loaded;
}

}  // namespace

bool bind_state_reader_built() {
  return true;
}

BindStateReport read_bind_state() {
  return iterator().walk();
}

}  // namespace ephport
