#include "model/linux_rules.h"

namespace ephport {

namespace {
constexpr uint32_t kTimeWaitLengthMs = 60000;  // TCP_TIMEWAIT_LEN
constexpr int kDefaultTwReuseDelayMs = 1000;   // tcp_tw_reuse_delay default

size_t index(OverlapGroup group) {
  return static_cast<size_t>(group);
}

// tcp_twsk_unique(): may connect() take over this TIME_WAIT 4-tuple?
bool time_wait_recyclable(const SocketRecord& socket, const HostFacts& host) {
  if (socket.state != SockState::time_wait) {
    return false;  // FIN_WAIT2 timewait (orphan) sockets: reuse forced to 0
  }
  bool reuse =
      host.tcp_tw_reuse == 1 ||
      (host.tcp_tw_reuse == 2 && (socket.local.is_loopback() || socket.remote.is_loopback()));
  if (!reuse || host.tcp_timestamps == 0) {
    return false;  // timestamps on the TW itself are invisible: assume negotiated
  }
  uint32_t remaining =
      socket.expires_ms < kTimeWaitLengthMs ? socket.expires_ms : kTimeWaitLengthMs;
  uint32_t age_ms = kTimeWaitLengthMs - remaining;
  int delay = host.tcp_tw_reuse_delay_ms.value_or(kDefaultTwReuseDelayMs);
  return static_cast<int64_t>(age_ms) > delay;
}
}  // namespace

// v6only(s): SKV6ONLY when sock_diag reports it (LISTEN/CLOSE AF_INET6).
// Without it (/proc/net, or a connected socket): __inet6_bind() forces V6ONLY
// on a socket bound to a specific IPv6 address, which is what a LISTEN or
// bound-only socket on such an address did; autobound clients follow
// net.ipv6.bindv6only.
bool is_v6only(const SocketRecord& socket, const HostFacts& host) {
  if (socket.v6only >= 0) {
    return socket.v6only == 1;
  }
  bool bound = socket.state == SockState::listen || socket.state == SockState::close;
  if (bound && socket.local.is_v6() && !socket.local.is_wildcard()) {
    return true;
  }
  return host.bindv6only != 0;
}

PortSet ephemeral_ports(const HostFacts& host) {
  PortSet reserved;
  for (const PortRange& range : host.reserved) {
    for (uint32_t port = range.first; port <= range.last && port <= 65535; ++port) {
      reserved.insert(static_cast<uint16_t>(port));
    }
  }
  PortSet result;
  for (uint32_t port = host.range.first; port <= host.range.last && port <= 65535; ++port) {
    if (!reserved.contains(static_cast<uint16_t>(port))) {
      result.insert(static_cast<uint16_t>(port));
    }
  }
  return result;
}

uint32_t guaranteed_capacity(const HostFacts& host, uint32_t capacity, Protocol protocol) {
  uint32_t span = host.range.last >= host.range.first ? host.range.last - host.range.first + 1 : 0;
  // udp_lib_get_port() does not round the count.
  if (protocol == Protocol::tcp && span % 2 == 1 && capacity > 0) {
    return capacity - 1;
  }
  return capacity;
}

bool holds_port_in_bind_state(const SocketRecord& socket) {
  return socket.protocol == Protocol::tcp &&
         (socket.state == SockState::listen || socket.is_bound_only());
}

bool is_connection(const SocketRecord& socket) {
  return socket.state != SockState::listen && socket.state != SockState::close &&
         !socket.is_request() && !socket.remote.is_wildcard() && socket.remote_port != 0;
}

bool timewait_expires_within(const SocketRecord& socket, uint32_t window_ms) {
  constexpr uint8_t kTimewaitTimer = 3;
  return window_ms != 0 && socket.timer == kTimewaitTimer && socket.expires_ms <= window_ms &&
         (socket.state == SockState::time_wait || socket.state == SockState::fin_wait2);
}

bool blocks_own_four_tuple(const SocketRecord& socket, const HostFacts& host) {
  if (!is_connection(socket) || socket.ifindex != 0) {
    return false;  // inet_bound_dev_eq(): a device-bound socket blocks only its device
  }
  return !time_wait_recyclable(socket, host);
}

OverlapMask overlap_groups_of(const SocketRecord& socket, const HostFacts& host) {
  OverlapMask mask{};
  bool real_v6 = socket.local.is_v6();  // v4-mapped sockets were normalised to IPv4
  bool v6only = real_v6 && is_v6only(socket, host);
  bool wildcard = socket.local.is_wildcard();
  mask[index(OverlapGroup::all)] = true;
  mask[index(OverlapGroup::v4_or_dual)] = !v6only;
  mask[index(OverlapGroup::v6_all)] = real_v6;
  mask[index(OverlapGroup::any_v4)] = wildcard && !real_v6;
  mask[index(OverlapGroup::any_v6_dual)] = wildcard && real_v6 && !v6only;
  mask[index(OverlapGroup::any_v6_only)] = wildcard && real_v6 && v6only;
  return mask;
}

OverlapMask overlap_groups_for_bind(const Address& address, const HostFacts& host, bool& exact) {
  OverlapMask mask{};
  exact = !address.is_wildcard();
  if (address.is_v4()) {
    if (address.is_wildcard()) {
      mask[index(OverlapGroup::v4_or_dual)] = true;
    } else {
      mask[index(OverlapGroup::any_v4)] = true;
      mask[index(OverlapGroup::any_v6_dual)] = true;
    }
  } else if (address.is_wildcard()) {
    // bind([::]:0) as a new socket would: V6ONLY only if bindv6only says so.
    mask[index(host.bindv6only != 0 ? OverlapGroup::v6_all : OverlapGroup::all)] = true;
  } else {
    mask[index(OverlapGroup::any_v6_dual)] = true;
    mask[index(OverlapGroup::any_v6_only)] = true;
  }
  return mask;
}

}  // namespace ephport
