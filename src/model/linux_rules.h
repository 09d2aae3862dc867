#pragma once
// The Linux port-allocation rules (docs/model.md; kernel references there),
// and the only code that knows them. LinuxPortRules answers the analysis'
// questions (model/port_rules.h); the free functions below are the rules
// themselves, one per kernel behaviour, so tests can ask each directly.

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "model/port_rules.h"
#include "snapshot/host_facts.h"
#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

// E: ports of ip_local_port_range minus ip_local_reserved_ports
// (inet_sk_get_local_port_range(), inet_is_local_reserved_port()).
PortSet ephemeral_ports(const PortRange& range, const std::vector<PortRange>& reserved);

// Rule 10d: __inet_hash_connect() and inet_csk_find_open_port() step by 2
// over the range's port count rounded down to even (a 1-port range is not
// rounded), so one call of an odd range of n >= 3 ports leaves out its first
// or its last port. With 3 ports the start is fixed (the random offset is
// taken modulo 2, then rounded down to even by connect() and up to odd by
// bind(0)), so the last port is never handed out. udp_lib_get_port() visits
// every port.
bool never_visited(uint16_t port, const PortRange& range, Protocol protocol);

// E as the allocator can hand it out: ephemeral_ports() without the ports
// never_visited() leaves out.
PortSet allocatable_ports(const PortRange& range, const std::vector<PortRange>& reserved,
                          Protocol protocol);

// Rule 10d: ports of `allocatable` one call is sure to visit. An odd TCP range
// of 5 or more ports leaves out its first or its last port at random, one
// fewer whenever either is in `allocatable`; every other range visits all.
uint32_t guaranteed_capacity(const PortRange& range, const PortSet& allocatable, Protocol protocol);

// Rule 2f: connect() walks the ports of the range's first port's parity
// first, bind(0) the other parity first (__inet_hash_connect(),
// inet_csk_find_open_port()).
bool is_first_parity(uint16_t port, const PortRange& range);

// Rule 2f, the estimate without BPF: a connection on an other-parity port,
// to a destination that still had unused first-parity ports, most likely
// got its port from bind(0); once the destination used them all, connect()
// had to take other-parity ports itself.
bool other_parity_port_came_from_bind(uint32_t first_parity_used, uint32_t first_parity_in_bind,
                                      uint32_t first_parity_ports);

// Rule 2: a port whose bind bucket is in bind() state is skipped by
// connect() for every destination. From sock_diag alone that is known for
// LISTEN and bound-only sockets; for bind-before-connect sockets it is not.
bool holds_port_in_bind_state(const SocketRecord& socket);

// A socket counts towards a destination's usage when it is an outgoing
// connection: not LISTEN, not bound-only/unconnected, not a request socket.
bool is_connection(const SocketRecord& socket);

// Rule 4: TIME_WAIT, or an orphaned FIN_WAIT2 the kernel turned into a
// timewait socket (idiag_timer 3).
bool is_timewait(const SocketRecord& socket);

// Rule 4: tcp_twsk_unique(): may connect() take over this TIME_WAIT
// 4-tuple? tcp_tw_reuse 1, or 2 on loopback, with timestamps, once the
// socket is older than tcp_tw_reuse_delay. FIN_WAIT2 timewait sockets never.
bool time_wait_recyclable(const SocketRecord& socket, const LinuxSysctls& sysctls);

// Rules 1, 4, 10: does this socket block its own 4-tuple for a plain,
// device-less connect()? Recyclable TIME_WAIT does not; device-bound
// sockets only block connects bound to the same device.
bool blocks_own_four_tuple(const SocketRecord& socket, const LinuxSysctls& sysctls);

// Rule 4: a timewait socket leaves its port and 4-tuple when idiag_expires
// runs out. True when that happens within `window_ms` (> 0).
bool timewait_expires_within(const SocketRecord& socket, uint32_t window_ms);

// Rule 7: whether an IPv6 socket's V6ONLY is known rather than guessed:
// reported (SKV6ONLY for LISTEN/CLOSE, or read by the BPF walk), or forced
// by bind() to a specific IPv6 address, which is what a LISTEN or
// bound-only socket on such an address did (__inet6_bind()).
bool v6only_known(const SocketRecord& socket);

// Rule 7: an IPv6 TCP connection with IP_BIND_ADDRESS_NO_PORT was bound
// before connect(), to a source address (binding [::] without a port would
// be pointless): __inet6_bind() made it V6ONLY. The estimate's best guess;
// sock_diag cannot tell the address it was bound to.
bool bound_connection_v6only(const SocketRecord& socket);

// Rule 7: whether an IPv6 socket is V6ONLY: known (v6only_known()), else
// guessed: bound_connection_v6only(), else net.ipv6.bindv6only.
bool is_v6only(const SocketRecord& socket, const LinuxSysctls& sysctls);

// Rule 9 and 7: an accepted IPv6 child inherits its listener's V6ONLY
// (inet_csk_clone_lock() copies sk_ipv6only); sock_diag reports it only for
// LISTEN/CLOSE sockets. Returns the child's SKV6ONLY value (0 or 1).
int8_t inherited_v6only(bool listener_v6only);

// Rule 8b: LOOPBACK4_IPV6, 127.0.0.6, the IPv4 receive address the kernel
// gives a dual-stack IPv6 socket that connects from a real IPv6 source.
bool is_ipv4_loopback_substitute(const Address& address);

// Rule 8b: a dual-stack IPv6 UDP socket connected from a real IPv6 address
// (ip6_datagram_dst_update() set its inet_rcv_saddr to 127.0.0.6) holds its
// port against IPv4 bind(127.0.0.6:0) (udp_lib_lport_inuse(),
// ipv4_rcv_saddr_equal()), whatever its reported source (::1 even when it
// connected again to a v4-mapped destination). TCP does the same to the
// address, but its bind() looks sockets up by their IPv6 address (bhash2):
// no conflict there.
bool holds_ipv4_loopback_substitute(const SocketRecord& socket, bool v6only);

// Rules 3 and 7: which bind(A, 0) calls a socket conflicts with
// (inet_bind_conflict(), inet_rcv_saddr_equal(), ipv6_rcv_saddr_equal()).
OverlapMask overlap_groups_of(const SocketRecord& socket, const LinuxSysctls& sysctls);
// The same with the socket's V6ONLY given: an estimate takes both values
// where V6ONLY is guessed, for the bounds of bind_free.
OverlapMask overlap_groups_with_v6only(const SocketRecord& socket, bool v6only);
OverlapMask overlap_groups_for_bind(const Address& address, const LinuxSysctls& sysctls,
                                    bool& exact);

// The rules above, applied to one protocol of one snapshot; remembers the
// listeners (rule 9) and, for the estimate, the ports connections took.
class LinuxPortRules final : public PortRules {
 public:
  LinuxPortRules(const HostFacts& host, Protocol protocol);

  const PortSet& ephemeral() const override { return ephemeral_; }
  uint32_t guaranteed_capacity() const override;
  bool shares_ports_between_destinations() const override;
  OverlapMask overlap_groups_for_bind(const Address& address, bool& exact) const override;

  SocketVerdict judge(const SocketRecord& socket, uint32_t expiry_window_ms) override;

  bool note_connection(uint32_t destination, const SocketRecord& socket, bool port_in_bind_state,
                       uint32_t tag) override;
  std::vector<uint32_t> estimated_bind_owned(const PortSet& known) override;

 private:
  // Remembers listeners; returns an accepted child with its inherited V6ONLY.
  const SocketRecord& observe(const SocketRecord& socket);
  // Rule 9: the kernel puts an accepted child on its listener's address and port.
  bool on_listener_port(const SocketRecord& socket) const;

  struct ListenerKey {
    Address address;
    uint16_t port = 0;
    bool operator==(const ListenerKey&) const = default;
  };
  struct ListenerKeyHash {
    size_t operator()(const ListenerKey& key) const noexcept {
      return AddressHash{}(key.address) * 31u ^ key.port;
    }
  };
  struct ParityCandidate {
    uint16_t port = 0;
    uint32_t destination = 0;
    uint32_t tag = 0;
  };

  const LinuxSysctls& sysctls_;
  Protocol protocol_;
  PortRange range_;
  PortSet ephemeral_;  // E, as allocatable_ports() gives it
  std::unordered_set<ListenerKey, ListenerKeyHash> listeners_;
  PortSet wildcard_listener_ports_;
  PortSet v6only_listener_ports_;          // IPv6 listeners with V6ONLY (their children inherit it)
  PortSet v6only_guessed_listener_ports_;  // IPv6 listeners whose V6ONLY is guessed (/proc/net)
  SocketRecord child_;                     // scratch copy returned by observe()
  std::vector<uint32_t> first_parity_used_;  // per destination index
  std::vector<ParityCandidate> parity_candidates_;
};

}  // namespace ephport
