#pragma once
// One socket as a collector reports it: the neutral record every collector
// (netlink, /proc/net, saved capture) produces and the analysis consumes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "snapshot/address.h"

namespace ephport {

enum class Protocol : uint8_t { tcp = 0, udp = 1 };
constexpr size_t kProtocolCount = 2;

// Kernel TCP states (include/net/tcp_states.h). UDP uses ESTABLISHED for a
// connected socket and CLOSE for a bound or unbound one.
enum class SockState : uint8_t {
  unknown = 0,
  established = 1,
  syn_sent = 2,
  syn_recv = 3,
  fin_wait1 = 4,
  fin_wait2 = 5,
  time_wait = 6,
  close = 7,
  close_wait = 8,
  last_ack = 9,
  listen = 10,
  closing = 11,
  new_syn_recv = 12,
  bound_inactive = 13,
};
constexpr int kSockStateCount = 14;

std::string_view protocol_name(Protocol protocol);  // "tcp", "udp"
std::optional<Protocol> parse_protocol(std::string_view name);
std::string_view state_name(SockState state);  // "ESTABLISHED", "TIME_WAIT", ...
std::optional<SockState> parse_state(std::string_view name);

struct SocketRecord {
  Protocol protocol = Protocol::tcp;
  // Family the kernel reported (6 for a v4-mapped socket even though the
  // addresses below are normalised to IPv4).
  Address::Family family = Address::Family::v4;
  SockState state = SockState::unknown;
  Address local;
  Address remote;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  uint32_t ifindex = 0;  // bound device (SO_BINDTODEVICE), 0 = none
  uint32_t uid = 0;
  uint64_t inode = 0;                 // 0: no file (TIME_WAIT and orphans)
  uint32_t expires_ms = 0;            // remaining timer, meaningful when timer != 0
  uint8_t timer = 0;                  // idiag_timer: 3 = TIME_WAIT / FIN_WAIT2 timewait
  int8_t v6only = -1;                 // INET_DIAG_SKV6ONLY: -1 not reported, 0, 1
  bool bind_address_no_port = false;  // INET_DIAG_SOCKOPT bit
  // Owning processes, filled by the collector when owners are resolved
  // (Linux: from the socket's inode; Windows tables carry the PID). Points
  // into the collector's memory: valid only while the record is visited.
  std::span<const uint32_t> pids;

  // A TCP socket that is bound but neither listening nor connected: the
  // kernel dumps it (state bit 13) with state CLOSE.
  bool is_bound_only() const { return protocol == Protocol::tcp && state == SockState::close; }
  // Request sockets live on their listener's port and are not counted.
  bool is_request() const {
    return state == SockState::syn_recv || state == SockState::new_syn_recv;
  }
};

}  // namespace ephport
