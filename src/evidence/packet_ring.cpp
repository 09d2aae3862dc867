#include "evidence/packet_ring.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace ephport {

namespace {

// Longest wait in poll(): bounds how stale kernel_dropped gets, and how long
// shutdown takes should the eventfd write ever fail.
constexpr int kPollMs = 200;
// Packets per pcap_dispatch(), so a storm cannot keep the thread from
// seeing the stop request.
constexpr int kDispatchBatch = 1024;
// The kernel ring (default 2 MiB): a SYN storm is many small frames.
constexpr int kKernelBufferBytes = 4 << 20;

struct DumperCloser {
  void operator()(pcap_dumper_t* dumper) const { pcap_dump_close(dumper); }
};
using DumperPtr = std::unique_ptr<pcap_dumper_t, DumperCloser>;

// Frees a compiled filter whatever happens.
class FilterProgram {
 public:
  FilterProgram() = default;
  ~FilterProgram() { pcap_freecode(&program_); }
  FilterProgram(const FilterProgram&) = delete;
  FilterProgram& operator=(const FilterProgram&) = delete;
  bpf_program* get() { return &program_; }

 private:
  bpf_program program_{};
};

std::string pcap_reason(pcap_t* handle, int status) {
  std::string reason = pcap_geterr(handle);
  if (reason.empty()) {
    reason = pcap_statustostr(status);
  }
  return reason;
}

[[noreturn]] void throw_activate_error(const std::string& interface, pcap_t* handle, int status) {
  const std::string reason = pcap_reason(handle, status);
  switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      throw InputError(fmt::format(
          "cannot capture on interface '{}': no such interface in this network namespace",
          interface));
    case PCAP_ERROR_PERM_DENIED:
      throw RuntimeError(
          fmt::format("cannot capture on interface '{}': {} (needs CAP_NET_RAW: run as root)",
                      interface, reason));
    default:
      throw RuntimeError(fmt::format("cannot capture on interface '{}': {}", interface, reason));
  }
}

void check_setting(const std::string& interface, pcap_t* handle, int status, const char* what) {
  if (status != 0) {
    throw RuntimeError(fmt::format("cannot capture on interface '{}': {}: {}", interface, what,
                                   pcap_reason(handle, status)));
  }
}

// The pcap callback: runs on the ring's thread inside pcap_dispatch().
void keep_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  PacketRecordHeader record;
  // The classic file format has 32-bit seconds; the buffer keeps file records.
  record.ts_sec = static_cast<uint32_t>(header->ts.tv_sec);
  record.ts_usec = static_cast<uint32_t>(header->ts.tv_usec);
  record.caplen = header->caplen;
  record.wire_length = header->len;
  reinterpret_cast<PacketBuffer*>(user)->push(record, bytes);
}

// The write error of a dump file so far, or 0.
int dump_error(pcap_dumper_t* dumper) {
  if (std::ferror(pcap_dump_file(dumper)) != 0) {
    return errno != 0 ? errno : EIO;
  }
  return 0;
}

}  // namespace

void PcapCloser::operator()(pcap* handle) const {
  pcap_close(handle);
}

void write_pcap_file(const std::string& path, int linktype, int snaplen,
                     const PacketSnapshot& packets) {
  PcapPtr dead(pcap_open_dead(linktype, snaplen));
  if (!dead) {
    throw RuntimeError(fmt::format("cannot write capture {}: pcap_open_dead failed", path));
  }
  errno = 0;
  DumperPtr dumper(pcap_dump_open(dead.get(), path.c_str()));
  if (!dumper) {
    // pcap_geterr() repeats the path; errno is fopen()'s or the header write's.
    const int error_number = errno;
    throw RuntimeError(
        fmt::format("cannot write capture {}: {}", path,
                    error_number != 0 ? std::strerror(error_number) : pcap_geterr(dead.get())));
  }
  // pcap_dump() reports nothing: watch the stream's error flag instead.
  int error_number = 0;
  packets.for_each([&](const PacketRecordHeader& record, const uint8_t* data) {
    if (error_number != 0) {
      return;
    }
    pcap_pkthdr header{};
    header.ts.tv_sec = record.ts_sec;
    header.ts.tv_usec = record.ts_usec;
    header.caplen = record.caplen;
    header.len = record.wire_length;
    pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &header, data);
    error_number = dump_error(dumper.get());
  });
  if (error_number == 0 && pcap_dump_flush(dumper.get()) != 0) {
    error_number = errno != 0 ? errno : EIO;
  }
  if (error_number == 0) {
    error_number = dump_error(dumper.get());
  }
  // Only a regular file is synced, and removed on failure: never a device
  // or pipe the caller named.
  const int fd = fileno(pcap_dump_file(dumper.get()));
  struct stat status {};
  const bool regular = ::fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
  // pcap_dump_close() ignores fclose()'s result; fsync() surfaces delayed
  // write errors first.
  if (error_number == 0 && regular && ::fsync(fd) != 0) {
    error_number = errno;
  }
  dumper.reset();
  if (error_number != 0) {
    if (regular) {
      ::unlink(path.c_str());
    }
    throw RuntimeError(
        fmt::format("cannot write capture {}: {}", path, std::strerror(error_number)));
  }
}

PacketRing::PacketRing(const std::string& interface, size_t max_bytes)
    : interface_(interface), buffer_(max_bytes) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_.reset(pcap_create(interface.c_str(), errbuf));
  if (!handle_) {
    throw RuntimeError(fmt::format("cannot capture on interface '{}': {}", interface, errbuf));
  }
  pcap_t* handle = handle_.get();
  check_setting(interface, handle, pcap_set_snaplen(handle, kPacketRingSnaplen), "snaplen");
  // Immediate mode: each packet is handed over at once, poll() sees it.
  check_setting(interface, handle, pcap_set_immediate_mode(handle, 1), "immediate mode");
  check_setting(interface, handle, pcap_set_timeout(handle, kPollMs), "timeout");
  check_setting(interface, handle, pcap_set_buffer_size(handle, kKernelBufferBytes), "buffer size");
  const int status = pcap_activate(handle);
  if (status < 0) {
    throw_activate_error(interface, handle, status);
  }
  // Positive statuses are warnings (e.g. no promiscuous mode): capturing works.

  // "any": the SLL2 header also records the interface index of each packet.
  if (pcap_datalink(handle) == DLT_LINUX_SLL) {
    (void)pcap_set_datalink(handle, DLT_LINUX_SLL2);
  }
  FilterProgram program;
  if (pcap_compile(handle, program.get(), kPacketRingFilter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw RuntimeError(fmt::format("cannot capture on interface '{}' (link type {}): filter: {}",
                                   interface, pcap_datalink_val_to_name(pcap_datalink(handle)),
                                   pcap_geterr(handle)));
  }
  check_setting(interface, handle, pcap_setfilter(handle, program.get()), "filter");
  if (pcap_setnonblock(handle, 1, errbuf) != 0) {
    throw RuntimeError(
        fmt::format("cannot capture on interface '{}': nonblocking mode: {}", interface, errbuf));
  }
  selectable_fd_ = pcap_get_selectable_fd(handle);
  if (selectable_fd_ < 0) {
    throw RuntimeError(
        fmt::format("cannot capture on interface '{}': no selectable descriptor", interface));
  }
  linktype_ = pcap_datalink(handle);
  snaplen_ = pcap_snapshot(handle);
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) {
    throw RuntimeError(fmt::format("cannot capture on interface '{}': eventfd: {}", interface,
                                   std::strerror(errno)));
  }
  thread_ = std::thread(&PacketRing::run, this);
}

PacketRing::~PacketRing() {
  stopping_.store(true);
  // The eventfd stays readable once written, so a wake-up sent before the
  // thread reaches poll() is not lost; stopping_ bounds the wait anyway.
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void PacketRing::fail(std::string message) {
  std::lock_guard lock(error_mutex_);
  error_ = std::move(message);
}

// Called on the ring's thread only: libpcap handles are not thread-safe.
void PacketRing::update_kernel_drops() {
  pcap_stat counters{};
  if (pcap_stats(handle_.get(), &counters) == 0) {
    kernel_dropped_.store(uint64_t{counters.ps_drop} + counters.ps_ifdrop);
  }
}

void PacketRing::run() {
  int poll_ms = kPollMs;
  if (const timeval* required = pcap_get_required_select_timeout(handle_.get())) {
    poll_ms = std::min<int>(poll_ms,
                            static_cast<int>(required->tv_sec * 1000 + required->tv_usec / 1000));
  }
  auto* user = reinterpret_cast<u_char*>(&buffer_);
  auto last_stats = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    pollfd fds[2] = {{selectable_fd_, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, poll_ms) < 0 && errno != EINTR) {
      fail(fmt::format("capture on interface '{}' stopped: poll: {}", interface_,
                       std::strerror(errno)));
      break;
    }
    if (fds[1].revents != 0) {
      break;
    }
    // Also on a timeout: libpcap may need the call (required select timeout),
    // and a nonblocking dispatch with nothing to read returns 0 at once.
    if (pcap_dispatch(handle_.get(), kDispatchBatch, keep_packet, user) == PCAP_ERROR) {
      fail(fmt::format("capture on interface '{}' stopped: {}", interface_,
                       pcap_geterr(handle_.get())));
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_stats >= std::chrono::milliseconds(kPollMs)) {
      update_kernel_drops();
      last_stats = now;
    }
  }
  update_kernel_drops();
}

void PacketRing::save(const std::string& path) const {
  write_pcap_file(path, linktype_, snaplen_, buffer_.snapshot());
}

PacketRingStats PacketRing::stats() const {
  const PacketBufferCounts counts = buffer_.counts();
  PacketRingStats stats;
  stats.captured = counts.pushed;
  stats.kernel_dropped = kernel_dropped_.load();
  stats.evicted = counts.evicted;
  stats.held_packets = counts.held_packets;
  stats.held_bytes = counts.held_bytes;
  std::lock_guard lock(error_mutex_);
  stats.error = error_;
  return stats;
}

}  // namespace ephport
