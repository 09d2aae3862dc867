// The Linux port-allocation rules (model/linux_rules.h), asked directly: one
// test per rule, each with the case a wrong rule would get wrong. The lab
// (tests/lab/model_lab_test.cpp) checks the same rules against the kernel.

#include "model/linux_rules.h"

#include <gtest/gtest.h>

#include "aggregator_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::ip;
using testing::socket_of;

SocketRecord tcp(SockState state, const char* local, uint16_t lport, const char* remote = "0.0.0.0",
                 uint16_t rport = 0) {
  return socket_of(Protocol::tcp, state, local, lport, remote, rport);
}

SocketRecord time_wait(const char* local, const char* remote, uint32_t expires_ms) {
  SocketRecord socket = tcp(SockState::time_wait, local, 40000, remote, 8080);
  socket.timer = 3;
  socket.expires_ms = expires_ms;
  return socket;
}

size_t at(OverlapGroup group) {
  return static_cast<size_t>(group);
}

TEST(LinuxRules, EphemeralPortsAreTheRangeWithoutReservedPorts) {
  PortSet ports = ephemeral_ports({40000, 40009}, {{40002, 40003}, {50000, 50000}});
  EXPECT_EQ(ports.size(), 8u);
  EXPECT_TRUE(ports.contains(40000));
  EXPECT_FALSE(ports.contains(40002));
  EXPECT_FALSE(ports.contains(40003));
  EXPECT_TRUE(ports.contains(40009));
  EXPECT_FALSE(ports.contains(50000));  // reserved outside the range changes nothing
}

// Lab: RangeSizeLabTest (3 ports: connect() and bind(0) each 2, UDP 3).
TEST(LinuxRules, ThreePortTcpRangeNeverHandsOutItsLastPort) {
  for (const uint16_t first : {uint16_t{40000}, uint16_t{40001}}) {
    const PortRange three{first, static_cast<uint16_t>(first + 2)};
    EXPECT_FALSE(never_visited(first, three, Protocol::tcp));
    EXPECT_FALSE(never_visited(first + 1, three, Protocol::tcp));
    EXPECT_TRUE(never_visited(first + 2, three, Protocol::tcp));
    EXPECT_FALSE(never_visited(first + 2, three, Protocol::udp));  // UDP visits every port
  }
  // Every other size visits every port over its calls (1 port: not rounded).
  for (const uint16_t last : {40000, 40001, 40003, 40004, 40005, 40006, 40007, 40010}) {
    const PortRange range{40000, last};
    for (uint32_t port = range.first; port <= range.last; ++port) {
      EXPECT_FALSE(never_visited(static_cast<uint16_t>(port), range, Protocol::tcp))
          << port << " of " << range.first << "-" << range.last;
    }
  }
}

TEST(LinuxRules, AllocatablePortsLeaveOutReservedAndNeverVisitedPorts) {
  const PortSet tcp = allocatable_ports({40000, 40002}, {{40000, 40000}}, Protocol::tcp);
  EXPECT_EQ(tcp.size(), 1u);
  EXPECT_TRUE(tcp.contains(40001));
  EXPECT_FALSE(tcp.contains(40002));
  EXPECT_EQ(allocatable_ports({40000, 40002}, {}, Protocol::udp).size(), 3u);
  EXPECT_EQ(allocatable_ports({40000, 40009}, {{40002, 40003}}, Protocol::tcp).size(), 8u);
}

// Lab: RangeSizeLabTest and ModelLabTest.OddSizedRange (5, 7 and 11 ports:
// n - 1 or n over runs; 1 and 3 ports: always all the allocator hands out).
TEST(LinuxRules, OnlyOddTcpRangesOfFiveOrMorePortsGuaranteeOnePortLess) {
  const auto guaranteed = [](PortRange range, Protocol protocol) {
    return guaranteed_capacity(range, allocatable_ports(range, {}, protocol), protocol);
  };
  EXPECT_EQ(guaranteed({40000, 40000}, Protocol::tcp), 1u);
  EXPECT_EQ(guaranteed({40000, 40001}, Protocol::tcp), 2u);
  EXPECT_EQ(guaranteed({40000, 40002}, Protocol::tcp), 2u);
  EXPECT_EQ(guaranteed({40001, 40003}, Protocol::tcp), 2u);
  EXPECT_EQ(guaranteed({40000, 40004}, Protocol::tcp), 4u);
  EXPECT_EQ(guaranteed({40001, 40007}, Protocol::tcp), 6u);
  EXPECT_EQ(guaranteed({40000, 40008}, Protocol::tcp), 8u);
  EXPECT_EQ(guaranteed({40000, 40009}, Protocol::tcp), 10u);
  EXPECT_EQ(guaranteed({40000, 40008}, Protocol::udp), 9u);
  EXPECT_EQ(guaranteed({40000, 40002}, Protocol::udp), 3u);
  // The port a call may leave out is the first or the last: reserved both, nothing is lost.
  const PortRange five{40000, 40004};
  EXPECT_EQ(guaranteed_capacity(five, ephemeral_ports(five, {{40000, 40000}, {40004, 40004}}),
                                Protocol::tcp),
            3u);
  EXPECT_EQ(guaranteed_capacity(five, ephemeral_ports(five, {{40000, 40000}}), Protocol::tcp), 3u);
  EXPECT_EQ(guaranteed_capacity(five, PortSet{}, Protocol::tcp), 0u);
}

TEST(LinuxRules, ConnectWalksTheFirstPortsParityFirst) {
  EXPECT_TRUE(is_first_parity(40000, {40000, 40009}));
  EXPECT_FALSE(is_first_parity(40001, {40000, 40009}));
  EXPECT_TRUE(is_first_parity(40001, {40001, 40010}));
}

TEST(LinuxRules, OtherParityPortIsBindsWhileTheDestinationHadFirstParityLeft) {
  // 5 first-parity ports; 2 used by connections, 1 held in bind() state.
  EXPECT_TRUE(other_parity_port_came_from_bind(2, 1, 5));
  // All 5 gone: connect() had to take the other parity itself.
  EXPECT_FALSE(other_parity_port_came_from_bind(4, 1, 5));
}

TEST(LinuxRules, ListenAndBoundOnlyTcpHoldTheirPortInBindState) {
  EXPECT_TRUE(holds_port_in_bind_state(tcp(SockState::listen, "0.0.0.0", 40000)));
  EXPECT_TRUE(holds_port_in_bind_state(tcp(SockState::close, "127.0.0.1", 40000)));
  EXPECT_FALSE(
      holds_port_in_bind_state(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80)));
  EXPECT_FALSE(holds_port_in_bind_state(
      socket_of(Protocol::udp, SockState::close, "127.0.0.1", 40000, "0.0.0.0", 0)));
}

TEST(LinuxRules, OnlyOutgoingConnectionsCount) {
  EXPECT_TRUE(is_connection(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80)));
  EXPECT_TRUE(is_connection(time_wait("127.0.0.1", "127.0.0.1", 1000)));
  EXPECT_FALSE(is_connection(tcp(SockState::listen, "0.0.0.0", 80)));
  EXPECT_FALSE(is_connection(tcp(SockState::close, "127.0.0.1", 40000)));
  EXPECT_FALSE(is_connection(tcp(SockState::syn_recv, "127.0.0.1", 80, "127.0.0.1", 40000)));
  EXPECT_FALSE(is_connection(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 0)));
}

TEST(LinuxRules, TimewaitSocketsIncludeOrphanedFinWait2) {
  EXPECT_TRUE(is_timewait(time_wait("127.0.0.1", "127.0.0.1", 1000)));
  SocketRecord orphan = tcp(SockState::fin_wait2, "127.0.0.1", 40000, "127.0.0.1", 80);
  EXPECT_FALSE(is_timewait(orphan));  // still owned: a FIN_WAIT2 with a file
  orphan.timer = 3;
  EXPECT_TRUE(is_timewait(orphan));
}

TEST(LinuxRules, TimeWaitIsRecycledOnlyAsTcpTwReuseAllows) {
  LinuxSysctls sysctls;
  sysctls.tcp_tw_reuse_delay_ms = 1000;
  SocketRecord old_loopback = time_wait("127.0.0.1", "127.0.0.1", 50000);    // 10 s old
  SocketRecord young_loopback = time_wait("127.0.0.1", "127.0.0.1", 59500);  // 0.5 s old
  SocketRecord old_remote = time_wait("10.0.0.1", "10.0.0.2", 50000);
  sysctls.tcp_tw_reuse = 0;
  EXPECT_FALSE(time_wait_recyclable(old_loopback, sysctls));
  sysctls.tcp_tw_reuse = 2;  // loopback only
  EXPECT_TRUE(time_wait_recyclable(old_loopback, sysctls));
  EXPECT_FALSE(time_wait_recyclable(young_loopback, sysctls));
  EXPECT_FALSE(time_wait_recyclable(old_remote, sysctls));
  sysctls.tcp_tw_reuse = 1;
  EXPECT_TRUE(time_wait_recyclable(old_remote, sysctls));
  sysctls.tcp_timestamps = 0;
  EXPECT_FALSE(time_wait_recyclable(old_remote, sysctls));
  sysctls.tcp_timestamps = 1;
  SocketRecord fin_wait2 = old_remote;
  fin_wait2.state = SockState::fin_wait2;
  EXPECT_FALSE(time_wait_recyclable(fin_wait2, sysctls));
}

TEST(LinuxRules, FourTupleBlockedUnlessRecycledOrDeviceBound) {
  LinuxSysctls sysctls;
  sysctls.tcp_tw_reuse = 0;
  SocketRecord established = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80);
  EXPECT_TRUE(blocks_own_four_tuple(established, sysctls));
  EXPECT_TRUE(blocks_own_four_tuple(time_wait("127.0.0.1", "127.0.0.1", 50000), sysctls));
  sysctls.tcp_tw_reuse = 1;
  EXPECT_FALSE(blocks_own_four_tuple(time_wait("127.0.0.1", "127.0.0.1", 50000), sysctls));
  established.ifindex = 2;
  EXPECT_FALSE(blocks_own_four_tuple(established, sysctls));
  EXPECT_FALSE(blocks_own_four_tuple(tcp(SockState::listen, "0.0.0.0", 80), sysctls));
}

TEST(LinuxRules, TimewaitExpiresWithinTheWindow) {
  EXPECT_TRUE(timewait_expires_within(time_wait("127.0.0.1", "127.0.0.1", 900), 1000));
  EXPECT_FALSE(timewait_expires_within(time_wait("127.0.0.1", "127.0.0.1", 1100), 1000));
  EXPECT_FALSE(timewait_expires_within(time_wait("127.0.0.1", "127.0.0.1", 900), 0));
  SocketRecord keepalive = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80);
  keepalive.timer = 2;
  keepalive.expires_ms = 10;
  EXPECT_FALSE(timewait_expires_within(keepalive, 1000));
}

TEST(LinuxRules, V6onlyIsReportedInferredFromTheBindOrTheSysctl) {
  LinuxSysctls sysctls;
  SocketRecord reported = tcp(SockState::listen, "::", 80);
  reported.v6only = 1;
  EXPECT_TRUE(is_v6only(reported, sysctls));
  // Bound to a specific IPv6 address: __inet6_bind() forces V6ONLY.
  EXPECT_TRUE(is_v6only(tcp(SockState::listen, "::1", 80), sysctls));
  // Autobound clients follow net.ipv6.bindv6only.
  SocketRecord client = tcp(SockState::established, "::1", 40000, "::1", 80);
  EXPECT_FALSE(is_v6only(client, sysctls));
  sysctls.bindv6only = 1;
  EXPECT_TRUE(is_v6only(client, sysctls));
}

TEST(LinuxRules, V6onlyIsKnownWhenReportedOrForcedByTheBind) {
  SocketRecord client = tcp(SockState::established, "::1", 40000, "::1", 80);
  EXPECT_FALSE(v6only_known(client));  // sock_diag reports no SKV6ONLY for it
  client.v6only = 0;                   // read by the BPF walk
  EXPECT_TRUE(v6only_known(client));
  EXPECT_TRUE(v6only_known(tcp(SockState::close, "::1", 40000)));  // bound-only on ::1
  EXPECT_FALSE(v6only_known(tcp(SockState::listen, "::", 80)));    // /proc/net: no attribute
  EXPECT_FALSE(v6only_known(time_wait("::1", "::1", 1000)));
}

TEST(LinuxRules, ConnectionBoundWithoutPortIsGuessedV6only) {
  LinuxSysctls sysctls;
  SocketRecord bound = tcp(SockState::established, "::1", 40000, "::1", 80);
  bound.bind_address_no_port = true;
  EXPECT_TRUE(bound_connection_v6only(bound));
  EXPECT_TRUE(is_v6only(bound, sysctls));
  EXPECT_FALSE(v6only_known(bound));  // a guess: it may have bound [::]
  SocketRecord unbound = bound;
  unbound.bind_address_no_port = false;
  EXPECT_FALSE(bound_connection_v6only(unbound));
  SocketRecord mapped = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80);
  mapped.family = Address::Family::v6;
  mapped.bind_address_no_port = true;
  EXPECT_FALSE(bound_connection_v6only(mapped));  // IPv4 to the allocator
  SocketRecord udp = socket_of(Protocol::udp, SockState::established, "::1", 40000, "::1", 53);
  udp.bind_address_no_port = true;
  EXPECT_FALSE(bound_connection_v6only(udp));
}

TEST(LinuxRules, BindConflictGroupsWithEitherV6only) {
  SocketRecord client = tcp(SockState::established, "::1", 40000, "::1", 80);
  EXPECT_TRUE(overlap_groups_with_v6only(client, false)[at(OverlapGroup::v4_or_dual)]);
  EXPECT_FALSE(overlap_groups_with_v6only(client, true)[at(OverlapGroup::v4_or_dual)]);
  EXPECT_TRUE(overlap_groups_with_v6only(client, true)[at(OverlapGroup::v6_all)]);
  // An IPv4 socket is never V6ONLY.
  SocketRecord v4 = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80);
  EXPECT_TRUE(overlap_groups_with_v6only(v4, true)[at(OverlapGroup::v4_or_dual)]);
}

TEST(LinuxRules, VerdictCarriesTheOtherV6onlyWhenGuessed) {
  HostFacts host = testing::small_host();
  LinuxPortRules rules(host, Protocol::tcp);
  SocketVerdict guessed = rules.judge(time_wait("::1", "::1", 1000), 0);
  EXPECT_TRUE(guessed.v6only_guessed);
  EXPECT_TRUE(guessed.groups[at(OverlapGroup::v4_or_dual)]);  // bindv6only 0
  EXPECT_FALSE(guessed.groups_other_v6only[at(OverlapGroup::v4_or_dual)]);
  SocketRecord walked = time_wait("::1", "::1", 1000);
  walked.v6only = 1;
  SocketVerdict known = rules.judge(walked, 0);
  EXPECT_FALSE(known.v6only_guessed);
  EXPECT_EQ(known.groups, known.groups_other_v6only);
}

TEST(LinuxRules, ChildrenOfAListenerWithAGuessedV6onlyStayGuessed) {
  HostFacts host = testing::small_host();
  LinuxPortRules rules(host, Protocol::tcp);
  rules.judge(tcp(SockState::listen, "::", 8080), 0);  // /proc/net: V6ONLY not reported
  // The verdict may point at the record it judged: keep it alive.
  const SocketRecord accepted = tcp(SockState::established, "::1", 8080, "::1", 40000);
  SocketVerdict child = rules.judge(accepted, 0);
  EXPECT_EQ(child.socket->v6only, -1);
  EXPECT_TRUE(child.v6only_guessed);
}

TEST(LinuxRules, AcceptedChildrenInheritTheirListenersV6only) {
  HostFacts host = testing::small_host();
  LinuxPortRules rules(host, Protocol::tcp);
  SocketRecord listener = tcp(SockState::listen, "::", 8080);
  listener.v6only = 1;
  rules.judge(listener, 0);
  SocketRecord child = tcp(SockState::established, "::1", 8080, "::1", 40000);  // out of E too
  EXPECT_EQ(rules.judge(child, 0).socket->v6only, 1);
  EXPECT_EQ(inherited_v6only(false), 0);
}

TEST(LinuxRules, AcceptedChildrenSitOnTheirListenersAddressAndPort) {
  HostFacts host = testing::small_host();
  LinuxPortRules rules(host, Protocol::tcp);
  EXPECT_FALSE(rules.judge(tcp(SockState::listen, "127.0.0.1", 40008), 0).accepted_child);
  rules.judge(tcp(SockState::listen, "0.0.0.0", 40009), 0);
  auto accepted = [&](const char* local, uint16_t port) {
    return rules.judge(tcp(SockState::established, local, port, "127.0.0.1", 40000), 0)
        .accepted_child;
  };
  EXPECT_TRUE(accepted("127.0.0.1", 40008));
  EXPECT_FALSE(accepted("127.0.0.2", 40008));
  EXPECT_TRUE(accepted("127.0.0.9", 40009));
}

TEST(LinuxRules, BindConflictGroupsOfASocket) {
  LinuxSysctls sysctls;
  OverlapMask v4_any = overlap_groups_of(tcp(SockState::listen, "0.0.0.0", 80), sysctls);
  EXPECT_TRUE(v4_any[at(OverlapGroup::any_v4)]);
  EXPECT_TRUE(v4_any[at(OverlapGroup::v4_or_dual)]);
  EXPECT_FALSE(v4_any[at(OverlapGroup::v6_all)]);
  SocketRecord v6_only = tcp(SockState::listen, "::", 80);
  v6_only.v6only = 1;
  OverlapMask v6 = overlap_groups_of(v6_only, sysctls);
  EXPECT_TRUE(v6[at(OverlapGroup::any_v6_only)]);
  EXPECT_FALSE(v6[at(OverlapGroup::v4_or_dual)]);  // does not block bind(0.0.0.0:0)
  EXPECT_TRUE(v6[at(OverlapGroup::all)]);
}

TEST(LinuxRules, ConnectedDualStackUdpHoldsTheIpv4LoopbackSubstitute) {
  EXPECT_TRUE(is_ipv4_loopback_substitute(ip("127.0.0.6")));
  EXPECT_FALSE(is_ipv4_loopback_substitute(ip("127.0.0.1")));
  EXPECT_FALSE(is_ipv4_loopback_substitute(ip("::ffff:127.0.0.7")));
  SocketRecord udp = socket_of(Protocol::udp, SockState::established, "::1", 40000, "::1", 53);
  EXPECT_TRUE(holds_ipv4_loopback_substitute(udp, false));
  EXPECT_FALSE(holds_ipv4_loopback_substitute(udp, true));  // V6ONLY: no IPv4 address at all
  SocketRecord mapped =
      socket_of(Protocol::udp, SockState::established, "::ffff:127.0.0.1", 40000, "127.0.0.1", 53);
  EXPECT_FALSE(holds_ipv4_loopback_substitute(mapped, false));  // holds 127.0.0.1 itself
  SocketRecord tcp_client = tcp(SockState::established, "::1", 40000, "::1", 80);
  EXPECT_FALSE(holds_ipv4_loopback_substitute(tcp_client, false));  // bhash2: no conflict
  LinuxSysctls sysctls;
  bool exact = false;
  EXPECT_TRUE(overlap_groups_for_bind(ip("127.0.0.6"), sysctls,
                                      exact)[at(OverlapGroup::ipv4_loopback_substitute)]);
  EXPECT_FALSE(overlap_groups_for_bind(ip("127.0.0.1"), sysctls,
                                       exact)[at(OverlapGroup::ipv4_loopback_substitute)]);
}

TEST(LinuxRules, BindConflictGroupsABindMustAvoid) {
  LinuxSysctls sysctls;
  bool exact = false;
  OverlapMask specific = overlap_groups_for_bind(ip("127.0.0.1"), sysctls, exact);
  EXPECT_TRUE(exact);
  EXPECT_TRUE(specific[at(OverlapGroup::any_v4)]);
  EXPECT_TRUE(specific[at(OverlapGroup::any_v6_dual)]);
  EXPECT_FALSE(specific[at(OverlapGroup::any_v6_only)]);
  OverlapMask any6 = overlap_groups_for_bind(ip("::"), sysctls, exact);
  EXPECT_FALSE(exact);
  EXPECT_TRUE(any6[at(OverlapGroup::all)]);
  sysctls.bindv6only = 1;
  any6 = overlap_groups_for_bind(ip("::"), sysctls, exact);
  EXPECT_TRUE(any6[at(OverlapGroup::v6_all)]);
  EXPECT_FALSE(any6[at(OverlapGroup::all)]);
}

TEST(LinuxRules, UdpSharesNoPortBetweenDestinations) {
  HostFacts host = testing::small_host();
  EXPECT_TRUE(LinuxPortRules(host, Protocol::tcp).shares_ports_between_destinations());
  EXPECT_FALSE(LinuxPortRules(host, Protocol::udp).shares_ports_between_destinations());
}

TEST(LinuxRules, EstimateJudgesOtherParityPortsByWhatTheirDestinationUsed) {
  HostFacts host = testing::small_host();  // 40000-40009: 5 even ports first
  LinuxPortRules rules(host, Protocol::tcp);
  // Destination 0 used 2 even ports, then an odd one: bind()'s.
  EXPECT_FALSE(rules.note_connection(
      0, tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80), false, 0));
  EXPECT_FALSE(rules.note_connection(
      0, tcp(SockState::established, "127.0.0.1", 40002, "127.0.0.1", 80), false, 1));
  EXPECT_TRUE(rules.note_connection(
      0, tcp(SockState::established, "127.0.0.1", 40001, "127.0.0.1", 80), false, 7));
  // Destination 1 used all 5 even ports: its odd one was connect()'s.
  for (uint16_t port = 40000; port <= 40008; port += 2) {
    rules.note_connection(1, tcp(SockState::established, "127.0.0.1", port, "127.0.0.1", 81), false,
                          100);
  }
  EXPECT_TRUE(rules.note_connection(
      1, tcp(SockState::established, "127.0.0.1", 40003, "127.0.0.1", 81), false, 8));
  // IP_BIND_ADDRESS_NO_PORT: the port came from connect().
  SocketRecord no_port = tcp(SockState::established, "127.0.0.1", 40005, "127.0.0.1", 80);
  no_port.bind_address_no_port = true;
  EXPECT_FALSE(rules.note_connection(0, no_port, false, 9));
  EXPECT_EQ(rules.estimated_bind_owned(PortSet{}), (std::vector<uint32_t>{7}));
}

TEST(LinuxRules, OneVerdictPerSocketAnswersEveryQuestion) {
  HostFacts host = testing::small_host();  // tcp_tw_reuse 0
  LinuxPortRules rules(host, Protocol::tcp);
  SocketRecord old = time_wait("127.0.0.1", "127.0.0.1", 900);
  SocketVerdict verdict = rules.judge(old, 1000);
  EXPECT_TRUE(verdict.connection);
  EXPECT_TRUE(verdict.timewait);
  EXPECT_TRUE(verdict.blocks_four_tuple);
  EXPECT_TRUE(verdict.expiring);
  EXPECT_FALSE(verdict.holds_bind_state);
  EXPECT_FALSE(verdict.accepted_child);
  EXPECT_TRUE(verdict.groups[at(OverlapGroup::v4_or_dual)]);
  EXPECT_FALSE(rules.judge(old, 500).expiring);
}

TEST(PortRules, ChosenByThePlatformOfTheSnapshot) {
  HostFacts host = testing::small_host();
  EXPECT_NE(dynamic_cast<LinuxPortRules*>(make_port_rules(host, Protocol::tcp).get()), nullptr);
  host.platform = Platform::windows;
  EXPECT_THROW(make_port_rules(host, Protocol::tcp), InputError);
}

}  // namespace
}  // namespace ephport
