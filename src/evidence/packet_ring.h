#pragma once
// The capture ring for evidence bundles: a rolling in-memory capture of the
// last `max_bytes` of TCP packets with SYN, FIN or RST set on one interface
// of the current network namespace, saved on demand as a classic pcap file
// (`tcpdump -r` reads it).
//
// Contract:
// - The constructor opens and filters the capture in the calling thread, so
//   every set-up error is thrown there: InputError for an interface that does
//   not exist in the caller's network namespace, RuntimeError for anything
//   else (no CAP_NET_RAW, ...). Each message names the interface. Packets are
//   then taken by a thread of the ring's own until destruction.
// - Only headers are kept (snaplen kPacketRingSnaplen). IPv4 and IPv6 are
//   matched; an IPv6 packet is matched only when TCP follows the fixed header
//   directly (no extension headers), since BPF cannot walk the chain cheaply.
// - The bound counts pcap records (16-byte header + captured bytes), so a
//   saved file is at most max_bytes + 24 bytes (the file header).
// - If capturing fails later (the interface is deleted), the thread stops,
//   what was captured stays saveable, and stats().error says why. A link
//   going down and up again is not a failure: capturing resumes.
// - The destructor stops and joins the thread at once, even when the link is
//   quiet: an eventfd wakes its poll() (which also times out every 200 ms as
//   a fallback). Closing the capture then takes an RCU grace period (~25 ms).
// - save() copies the held packets under the buffer's mutex (capturing waits
//   for that copy, the kernel ring absorbs it) and writes the file outside.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "evidence/packet_buffer.h"
#include "util/fd.h"

struct pcap;  // pcap_t, kept out of this header

namespace ephport {

// Link header (20, LINUX_SLL2) + longest IPv4 header (60) + longest TCP
// header (60) = 140, with room left for a VLAN tag.
inline constexpr int kPacketRingSnaplen = 160;

// tcp[] only reaches IPv4 in libpcap; for IPv6, byte 53 is the TCP flags
// byte when the next header (ip6[6]) is TCP. 0x07 = FIN|SYN|RST.
inline constexpr const char* kPacketRingFilter =
    "(tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0) or "
    "(ip6[6] == 6 and ip6[53] & (tcp-syn|tcp-fin|tcp-rst) != 0)";

struct PacketRingStats {
  uint64_t captured = 0;        // packets taken from the kernel
  uint64_t kernel_dropped = 0;  // pcap_stats ps_drop + ps_ifdrop: never reached the ring
  uint64_t evicted = 0;         // oldest packets pushed out to stay within the bound
  uint64_t held_packets = 0;
  uint64_t held_bytes = 0;  // what the pcap file would hold, record headers included
  std::string error;        // why capturing stopped early; empty while it runs
};

struct PcapCloser {
  void operator()(pcap* handle) const;
};
using PcapPtr = std::unique_ptr<pcap, PcapCloser>;

// Writes `packets` as a classic pcap file (microsecond timestamps) at `path`,
// replacing it. Throws RuntimeError naming the path when it cannot be
// created or written completely (ENOSPC, EIO: checked through ferror, fflush
// and, for a regular file, fsync); a partly written regular file is removed.
void write_pcap_file(const std::string& path, int linktype, int snaplen,
                     const PacketSnapshot& packets);

class PacketRing {
 public:
  // `interface` is a name of the current network namespace, or "any".
  PacketRing(const std::string& interface, size_t max_bytes);
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  // Writes what is held now as a pcap file at `path` (see write_pcap_file).
  // Capturing goes on meanwhile.
  void save(const std::string& path) const;
  PacketRingStats stats() const;

  const std::string& interface() const { return interface_; }
  int linktype() const { return linktype_; }  // DLT_* of the capture and of saved files

 private:
  void run();
  void update_kernel_drops();
  void fail(std::string message);

  std::string interface_;
  PcapPtr handle_;
  int linktype_ = 0;
  int snaplen_ = 0;
  int selectable_fd_ = -1;  // owned by handle_
  PacketBuffer buffer_;
  UniqueFd wake_;  // eventfd: written once by the destructor to stop run()
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> kernel_dropped_{0};
  mutable std::mutex error_mutex_;
  std::string error_;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace ephport
