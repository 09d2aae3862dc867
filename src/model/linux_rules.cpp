#include "model/linux_rules.h"

namespace ephport {

namespace {
constexpr uint32_t kTimeWaitLengthMs = 60000;  // TCP_TIMEWAIT_LEN
constexpr int kDefaultTwReuseDelayMs = 1000;   // tcp_tw_reuse_delay default
constexpr uint8_t kTimewaitTimer = 3;          // idiag_timer of a timewait socket

size_t index(OverlapGroup group) {
  return static_cast<size_t>(group);
}
}  // namespace

PortSet ephemeral_ports(const PortRange& range, const std::vector<PortRange>& reserved) {
  PortSet held_back;
  for (const PortRange& ports : reserved) {
    for (uint32_t port = ports.first; port <= ports.last && port <= 65535; ++port) {
      held_back.insert(static_cast<uint16_t>(port));
    }
  }
  PortSet result;
  for (uint32_t port = range.first; port <= range.last && port <= 65535; ++port) {
    if (!held_back.contains(static_cast<uint16_t>(port))) {
      result.insert(static_cast<uint16_t>(port));
    }
  }
  return result;
}

namespace {
uint32_t span_of(const PortRange& range) {
  return range.last >= range.first ? range.last - range.first + 1 : 0;
}
}  // namespace

bool never_visited(uint16_t port, const PortRange& range, Protocol protocol) {
  return protocol == Protocol::tcp && span_of(range) == 3 && port == range.last;
}

PortSet allocatable_ports(const PortRange& range, const std::vector<PortRange>& reserved,
                          Protocol protocol) {
  const PortSet ephemeral = ephemeral_ports(range, reserved);
  PortSet result;
  for (uint32_t port = range.first; port <= range.last && port <= 65535; ++port) {
    auto p = static_cast<uint16_t>(port);
    if (ephemeral.contains(p) && !never_visited(p, range, protocol)) {
      result.insert(p);
    }
  }
  return result;
}

uint32_t guaranteed_capacity(const PortRange& range, const PortSet& allocatable,
                             Protocol protocol) {
  const uint32_t span = span_of(range);
  const bool leaves_out_an_end = protocol == Protocol::tcp && span >= 5 && span % 2 == 1;
  if (leaves_out_an_end &&
      (allocatable.contains(range.first) || allocatable.contains(range.last))) {
    return allocatable.size() - 1;
  }
  return allocatable.size();
}

bool is_first_parity(uint16_t port, const PortRange& range) {
  return (port & 1) == (range.first & 1);
}

bool other_parity_port_came_from_bind(uint32_t first_parity_used, uint32_t first_parity_in_bind,
                                      uint32_t first_parity_ports) {
  return first_parity_used + first_parity_in_bind < first_parity_ports;
}

bool holds_port_in_bind_state(const SocketRecord& socket) {
  return socket.protocol == Protocol::tcp &&
         (socket.state == SockState::listen || socket.is_bound_only());
}

bool is_connection(const SocketRecord& socket) {
  return socket.state != SockState::listen && socket.state != SockState::close &&
         !socket.is_request() && !socket.remote.is_wildcard() && socket.remote_port != 0;
}

bool is_timewait(const SocketRecord& socket) {
  return socket.state == SockState::time_wait ||
         (socket.state == SockState::fin_wait2 && socket.timer == kTimewaitTimer);
}

bool time_wait_recyclable(const SocketRecord& socket, const LinuxSysctls& sysctls) {
  if (socket.state != SockState::time_wait) {
    return false;  // FIN_WAIT2 timewait (orphan) sockets: reuse forced to 0
  }
  bool reuse =
      sysctls.tcp_tw_reuse == 1 ||
      (sysctls.tcp_tw_reuse == 2 && (socket.local.is_loopback() || socket.remote.is_loopback()));
  if (!reuse || sysctls.tcp_timestamps == 0) {
    return false;  // timestamps on the TW itself are invisible: assume negotiated
  }
  uint32_t remaining =
      socket.expires_ms < kTimeWaitLengthMs ? socket.expires_ms : kTimeWaitLengthMs;
  uint32_t age_ms = kTimeWaitLengthMs - remaining;
  int delay = sysctls.tcp_tw_reuse_delay_ms.value_or(kDefaultTwReuseDelayMs);
  return static_cast<int64_t>(age_ms) > delay;
}

namespace {
// blocks_own_four_tuple() for a socket already known to be a connection.
bool connection_blocks_own_four_tuple(const SocketRecord& socket, const LinuxSysctls& sysctls) {
  if (socket.ifindex != 0) {
    return false;  // inet_bound_dev_eq(): a device-bound socket blocks only its device
  }
  return !time_wait_recyclable(socket, sysctls);
}
}  // namespace

bool blocks_own_four_tuple(const SocketRecord& socket, const LinuxSysctls& sysctls) {
  return is_connection(socket) && connection_blocks_own_four_tuple(socket, sysctls);
}

bool timewait_expires_within(const SocketRecord& socket, uint32_t window_ms) {
  return window_ms != 0 && socket.timer == kTimewaitTimer && socket.expires_ms <= window_ms &&
         (socket.state == SockState::time_wait || socket.state == SockState::fin_wait2);
}

bool v6only_known(const SocketRecord& socket) {
  if (socket.v6only >= 0) {
    return true;
  }
  bool bound = socket.state == SockState::listen || socket.state == SockState::close;
  return bound && socket.local.is_v6() && !socket.local.is_wildcard();
}

bool bound_connection_v6only(const SocketRecord& socket) {
  return socket.protocol == Protocol::tcp && socket.bind_address_no_port && socket.local.is_v6() &&
         !socket.local.is_wildcard() && is_connection(socket);
}

// SKV6ONLY when sock_diag reports it (LISTEN/CLOSE AF_INET6) or the BPF walk
// read it. Without either (/proc/net, or a connected socket without BPF):
// __inet6_bind() forces V6ONLY on a socket bound to a specific IPv6 address;
// autobound clients follow net.ipv6.bindv6only unless they set the option,
// which nothing reports.
bool is_v6only(const SocketRecord& socket, const LinuxSysctls& sysctls) {
  if (socket.v6only >= 0) {
    return socket.v6only == 1;
  }
  if (v6only_known(socket) || bound_connection_v6only(socket)) {
    return true;
  }
  return sysctls.bindv6only != 0;
}

int8_t inherited_v6only(bool listener_v6only) {
  return listener_v6only ? 1 : 0;
}

bool is_ipv4_loopback_substitute(const Address& address) {
  const auto& bytes = address.bytes();
  return address.is_v4() && bytes[0] == 127 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 6;
}

bool holds_ipv4_loopback_substitute(const SocketRecord& socket, bool v6only) {
  return socket.protocol == Protocol::udp && socket.local.is_v6() && !socket.local.is_wildcard() &&
         !v6only;
}

OverlapMask overlap_groups_of(const SocketRecord& socket, const LinuxSysctls& sysctls) {
  return overlap_groups_with_v6only(socket, socket.local.is_v6() && is_v6only(socket, sysctls));
}

OverlapMask overlap_groups_with_v6only(const SocketRecord& socket, bool v6only_option) {
  OverlapMask mask{};
  bool real_v6 = socket.local.is_v6();  // v4-mapped sockets were normalised to IPv4
  bool v6only = real_v6 && v6only_option;
  bool wildcard = socket.local.is_wildcard();
  mask[index(OverlapGroup::all)] = true;
  mask[index(OverlapGroup::v4_or_dual)] = !v6only;
  mask[index(OverlapGroup::v6_all)] = real_v6;
  mask[index(OverlapGroup::any_v4)] = wildcard && !real_v6;
  mask[index(OverlapGroup::any_v6_dual)] = wildcard && real_v6 && !v6only;
  mask[index(OverlapGroup::any_v6_only)] = wildcard && real_v6 && v6only;
  mask[index(OverlapGroup::ipv4_loopback_substitute)] =
      holds_ipv4_loopback_substitute(socket, v6only);
  return mask;
}

OverlapMask overlap_groups_for_bind(const Address& address, const LinuxSysctls& sysctls,
                                    bool& exact) {
  OverlapMask mask{};
  exact = !address.is_wildcard();
  if (address.is_v4()) {
    if (address.is_wildcard()) {
      mask[index(OverlapGroup::v4_or_dual)] = true;
    } else {
      mask[index(OverlapGroup::any_v4)] = true;
      mask[index(OverlapGroup::any_v6_dual)] = true;
      mask[index(OverlapGroup::ipv4_loopback_substitute)] = is_ipv4_loopback_substitute(address);
    }
  } else if (address.is_wildcard()) {
    // bind([::]:0) as a new socket would: V6ONLY only if bindv6only says so.
    mask[index(sysctls.bindv6only != 0 ? OverlapGroup::v6_all : OverlapGroup::all)] = true;
  } else {
    mask[index(OverlapGroup::any_v6_dual)] = true;
    mask[index(OverlapGroup::any_v6_only)] = true;
  }
  return mask;
}

LinuxPortRules::LinuxPortRules(const HostFacts& host, Protocol protocol)
    : sysctls_(host.linux_sysctls),
      protocol_(protocol),
      range_(host.range(protocol)),
      ephemeral_(allocatable_ports(range_, host.reserved_ports(protocol), protocol)) {}

uint32_t LinuxPortRules::guaranteed_capacity() const {
  return ephport::guaranteed_capacity(range_, ephemeral_, protocol_);
}

// Rule 8: a UDP port is never shared between destinations.
bool LinuxPortRules::shares_ports_between_destinations() const {
  return protocol_ == Protocol::tcp;
}

const SocketRecord& LinuxPortRules::observe(const SocketRecord& socket) {
  if (protocol_ != Protocol::tcp) {
    return socket;
  }
  if (socket.state == SockState::listen) {
    if (socket.local.is_v6() && is_v6only(socket, sysctls_)) {
      v6only_listener_ports_.insert(socket.local_port);
    }
    if (socket.local.is_v6() && !v6only_known(socket)) {
      v6only_guessed_listener_ports_.insert(socket.local_port);
    }
    if (socket.local.is_wildcard()) {
      wildcard_listener_ports_.insert(socket.local_port);
    } else {
      listeners_.insert({socket.local, socket.local_port});
    }
    return socket;
  }
  // The collector delivered every listener first, so a child's is known.
  // A child of a listener whose own V6ONLY is guessed stays guessed.
  if (socket.v6only >= 0 || !socket.local.is_v6() || !is_connection(socket) ||
      !on_listener_port(socket) || v6only_guessed_listener_ports_.contains(socket.local_port)) {
    return socket;
  }
  child_ = socket;
  child_.v6only = inherited_v6only(v6only_listener_ports_.contains(socket.local_port));
  return child_;
}

bool LinuxPortRules::on_listener_port(const SocketRecord& socket) const {
  return wildcard_listener_ports_.contains(socket.local_port) ||
         listeners_.contains({socket.local, socket.local_port});
}

SocketVerdict LinuxPortRules::judge(const SocketRecord& reported, uint32_t expiry_window_ms) {
  const SocketRecord& socket = observe(reported);
  SocketVerdict verdict;
  verdict.socket = &socket;
  verdict.connection = is_connection(socket);
  // Looked up only where it changes a figure (a destination's budget): a
  // lookup per socket would cost more than the rest of the verdict.
  verdict.accepted_child =
      verdict.connection && ephemeral_.contains(socket.local_port) && on_listener_port(socket);
  verdict.timewait = is_timewait(socket);
  verdict.holds_bind_state = holds_port_in_bind_state(socket);
  verdict.blocks_four_tuple =
      verdict.connection && connection_blocks_own_four_tuple(socket, sysctls_);
  verdict.expiring = timewait_expires_within(socket, expiry_window_ms);
  verdict.groups = overlap_groups_of(socket, sysctls_);
  verdict.v6only_guessed = socket.local.is_v6() && !v6only_known(socket);
  verdict.groups_other_v6only =
      verdict.v6only_guessed ? overlap_groups_with_v6only(socket, !is_v6only(socket, sysctls_))
                             : verdict.groups;
  return verdict;
}

OverlapMask LinuxPortRules::overlap_groups_for_bind(const Address& address, bool& exact) const {
  return ephport::overlap_groups_for_bind(address, sysctls_, exact);
}

bool LinuxPortRules::note_connection(uint32_t destination, const SocketRecord& socket,
                                     bool port_in_bind_state, uint32_t tag) {
  if (protocol_ != Protocol::tcp) {
    return false;
  }
  if (first_parity_used_.size() <= destination) {
    first_parity_used_.resize(destination + 1, 0);
  }
  if (is_first_parity(socket.local_port, range_)) {
    ++first_parity_used_[destination];
    return false;
  }
  if (port_in_bind_state || socket.bind_address_no_port) {
    return false;
  }
  parity_candidates_.push_back({socket.local_port, destination, tag});
  return true;
}

std::vector<uint32_t> LinuxPortRules::estimated_bind_owned(const PortSet& known) {
  uint32_t first_parity_ports = 0;
  uint32_t first_parity_in_bind = 0;
  for (uint32_t port = range_.first; port <= range_.last && port <= 65535; ++port) {
    auto p = static_cast<uint16_t>(port);
    if (ephemeral_.contains(p) && is_first_parity(p, range_)) {
      ++first_parity_ports;
      first_parity_in_bind += known.contains(p) ? 1 : 0;
    }
  }
  std::vector<uint32_t> tags;
  for (const ParityCandidate& candidate : parity_candidates_) {
    if (other_parity_port_came_from_bind(first_parity_used_[candidate.destination],
                                         first_parity_in_bind, first_parity_ports)) {
      tags.push_back(candidate.tag);
    }
  }
  parity_candidates_.clear();
  return tags;
}

}  // namespace ephport
