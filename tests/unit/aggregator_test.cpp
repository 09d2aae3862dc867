// The single pass over socket records: per address, per destination and
// per protocol figures, on small populations whose answers follow from
// linux-port-rules.md by hand.

#include "analyze/aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "aggregator_fixtures.h"

namespace ephport {
namespace {

using testing::ip;
using testing::row_for;
using testing::small_host;

SocketRecord tcp(SockState state, const char* local, uint16_t lport, const char* remote,
                 uint16_t rport) {
  return testing::socket_of(Protocol::tcp, state, local, lport, remote, rport);
}

const DestinationRow& destination(const ProtocolAnalysis& protocol, const char* remote,
                                  uint16_t port) {
  auto found = std::find_if(protocol.destinations.begin(), protocol.destinations.end(),
                            [&](const DestinationRow& row) {
                              return row.remote_address == ip(remote) && row.remote_port == port;
                            });
  if (found == protocol.destinations.end()) {
    ADD_FAILURE() << "no destination row for " << remote << ":" << port;
    static const DestinationRow kMissing;
    return kMissing;
  }
  return *found;
}

TEST(Aggregator, DestinationsShareTheRangeButBindSeesEveryPort) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::listen, "0.0.0.0", 8080, "0.0.0.0", 0));
  // 4 connections to :8080 and 3 to :8081 reusing the same local ports
  // (even ones, as connect() takes them first when the range starts even).
  for (uint16_t i = 0; i < 4; ++i) {
    aggregator.add(tcp(SockState::established, "127.0.0.1", 40000 + 2 * i, "127.0.0.1", 8080));
    aggregator.add(tcp(SockState::established, "127.0.0.1", 8080, "127.0.0.1", 40000 + 2 * i));
  }
  for (uint16_t i = 0; i < 3; ++i) {
    aggregator.add(tcp(SockState::established, "127.0.0.1", 40000 + 2 * i, "127.0.0.1", 8081));
  }
  Analysis analysis = aggregator.finish(0);
  const ProtocolAnalysis& result = analysis.tcp;
  EXPECT_EQ(result.capacity, 10u);
  ASSERT_EQ(result.destination_count, 2u);  // accepted children are not destinations
  EXPECT_EQ(destination(result, "127.0.0.1", 8080).in_use, 4u);
  EXPECT_EQ(destination(result, "127.0.0.1", 8080).connect_free, 6u);
  EXPECT_EQ(destination(result, "127.0.0.1", 8081).connect_free, 7u);
  const AddressRow& loopback = row_for(result, "127.0.0.1");
  EXPECT_EQ(loopback.ports_in_use, 4u);  // distinct ports 40000-40006
  EXPECT_EQ(loopback.bind_free, 6u);
  EXPECT_EQ(loopback.listening_ports, 1u);                // the 0.0.0.0 listener counts for it
  EXPECT_EQ(loopback.connect_free_new_destination, 10u);  // listener is outside the range
  EXPECT_EQ(result.addresses.size(), 3u);                 // 127.0.0.1 and the two wildcard rows
}

TEST(Aggregator, ListenerAndBoundOnlyPortsBlockEveryDestination) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::listen, "127.0.0.1", 40003, "0.0.0.0", 0));
  aggregator.add(tcp(SockState::close, "127.0.0.2", 40005, "0.0.0.0", 0));  // bound-only
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40003, "127.0.0.1", 50000));  // child
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.9", 80));
  Analysis analysis = aggregator.finish(0);
  const ProtocolAnalysis& result = analysis.tcp;
  EXPECT_EQ(result.bind_owned_ports, 2u);
  EXPECT_EQ(result.destination_count, 1u);
  EXPECT_EQ(destination(result, "127.0.0.9", 80).connect_free, 7u);  // 10 - B(2) - 1
  const AddressRow& loopback = row_for(result, "127.0.0.1");
  EXPECT_EQ(loopback.connect_free_new_destination, 8u);
  EXPECT_EQ(loopback.bind_free, 8u);  // 40000 and 40003; 127.0.0.2's port does not overlap
  EXPECT_EQ(row_for(result, "0.0.0.0").bind_free, 7u);
}

TEST(Aggregator, TimeWaitBlocksOnlyWhenNotRecyclable) {
  HostFacts host = small_host();
  SocketRecord old_tw = tcp(SockState::time_wait, "127.0.0.1", 40000, "127.0.0.1", 5001);
  old_tw.timer = 3;
  old_tw.expires_ms = 50000;  // 10 s old
  SocketRecord young_tw = old_tw;
  young_tw.local_port = 40001;
  young_tw.expires_ms = 59800;  // 200 ms old
  SocketRecord orphan = old_tw;
  orphan.state = SockState::fin_wait2;
  orphan.local_port = 40002;

  for (int reuse : {0, 1, 2}) {
    host.linux_sysctls.tcp_tw_reuse = reuse;
    Aggregator aggregator(host, nullptr);
    aggregator.add(old_tw);
    aggregator.add(young_tw);
    aggregator.add(orphan);
    Analysis analysis = aggregator.finish(0);
    const DestinationRow& row = destination(analysis.tcp, "127.0.0.1", 5001);
    EXPECT_EQ(row.in_use, 3u);
    EXPECT_EQ(row.time_wait, 2u);
    // reuse 1 and 2 (loopback) recycle the old TIME_WAIT only; FIN_WAIT2 never.
    EXPECT_EQ(row.connect_free, reuse == 0 ? 7u : 8u) << "tcp_tw_reuse=" << reuse;
    EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").bind_free, 7u);  // bind() sees all three
  }
  host.linux_sysctls.tcp_tw_reuse = 1;
  host.linux_sysctls.tcp_timestamps = 0;
  Aggregator no_timestamps(host, nullptr);
  no_timestamps.add(old_tw);
  EXPECT_EQ(destination(no_timestamps.finish(0).tcp, "127.0.0.1", 5001).connect_free, 9u);
}

TEST(Aggregator, ReservedPortsLeaveCapacityAndAreNotCounted) {
  HostFacts host = small_host();
  host.set_reserved({{40002, 40002}, {40005, 40006}, {50000, 50000}});
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::listen, "127.0.0.1", 40005, "0.0.0.0", 0));  // reserved: not B
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40002, "127.0.0.1", 9));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.tcp.capacity, 7u);
  EXPECT_EQ(analysis.tcp.bind_owned_ports, 0u);
  EXPECT_EQ(analysis.tcp.destination_count, 0u);  // its port is not ephemeral
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").bind_free, 7u);
}

TEST(Aggregator, DualStackOverlapFollowsV6Only) {
  HostFacts host = small_host();
  SocketRecord dual = tcp(SockState::listen, "::", 40003, "::", 0);
  dual.v6only = 0;
  SocketRecord v6only = tcp(SockState::listen, "::", 40004, "::", 0);
  v6only.v6only = 1;
  SocketRecord v4_any = tcp(SockState::listen, "0.0.0.0", 40005, "0.0.0.0", 0);
  // An IPv6 client: V6ONLY not reported, bindv6only = 0, so it blocks 0.0.0.0.
  SocketRecord client6 = tcp(SockState::established, "::1", 40006, "::1", 443);
  client6.family = Address::Family::v6;
  Aggregator aggregator(host, nullptr);
  for (const SocketRecord& socket : {dual, v6only, v4_any, client6}) {
    aggregator.add(socket);
  }
  Analysis analysis = aggregator.finish(0);
  const ProtocolAnalysis& result = analysis.tcp;
  EXPECT_EQ(row_for(result, "0.0.0.0").bind_free, 7u);  // dual, v4_any, client6
  EXPECT_EQ(row_for(result, "::").bind_free, 6u);       // everything
  EXPECT_EQ(row_for(result, "::1").bind_free, 7u);      // dual, v6only, client6
  // Each row's sockets are those same ones, each counted once though a
  // query merges several wildcard groups.
  EXPECT_EQ(row_for(result, "0.0.0.0").sockets, 3u);
  EXPECT_EQ(row_for(result, "0.0.0.0").states[static_cast<size_t>(SockState::listen)], 2u);
  EXPECT_EQ(row_for(result, "::").sockets, 4u);
  EXPECT_EQ(row_for(result, "::1").sockets, 3u);
  EXPECT_EQ(row_for(result, "::1").states[static_cast<size_t>(SockState::established)], 1u);
  EXPECT_EQ(result.bind_owned_ports, 3u);
  EXPECT_EQ(destination(result, "::1", 443).connect_free, 6u);  // 10 - B(3) - itself
}

// Where an IPv6 socket's V6ONLY is guessed, bind_free carries the bounds of
// both values; where it is known (reported or read by BPF), min = max.
TEST(Aggregator, GuessedV6OnlyMakesBindFreeAnInterval) {
  HostFacts host = small_host();
  SocketRecord client6 = tcp(SockState::established, "::1", 40006, "::1", 443);
  SocketRecord walked6 = tcp(SockState::time_wait, "::1", 40007, "::1", 443);
  walked6.v6only = 1;  // as the BPF walk fills it in
  // A wildcard listener from /proc/net, V6ONLY unknown: with it, it blocks
  // bind(127.0.0.1:0); without it, not. Either way it blocks bind([::1]:0).
  SocketRecord listener6 = tcp(SockState::listen, "::", 40008, "::", 0);
  Aggregator aggregator(host, nullptr);
  for (const SocketRecord& socket : {client6, walked6, listener6}) {
    aggregator.add(socket);
  }
  Analysis analysis = aggregator.finish(0);
  const AddressRow& any4 = row_for(analysis.tcp, "0.0.0.0");
  EXPECT_EQ(any4.bind_free, 8u);  // guessed dual-stack (bindv6only 0): 40006, 40008
  EXPECT_EQ(any4.bind_free_min, 8u);
  EXPECT_EQ(any4.bind_free_max, 10u);  // both V6ONLY; 40007 is V6ONLY for sure
  const AddressRow& any6 = row_for(analysis.tcp, "::");
  EXPECT_EQ(any6.bind_free_min, 7u);  // bind([::]:0) meets every socket
  EXPECT_EQ(any6.bind_free_max, 7u);
  const AddressRow& loopback6 = row_for(analysis.tcp, "::1");
  EXPECT_EQ(loopback6.bind_free_min, loopback6.bind_free_max);
  EXPECT_EQ(loopback6.bind_free, 7u);
}

TEST(Aggregator, V4MappedSocketsJoinTheIpv4Destination) {
  HostFacts host = small_host();
  SocketRecord mapped =
      tcp(SockState::established, "::ffff:127.0.0.1", 40001, "::ffff:127.0.0.1", 5002);
  mapped.family = Address::Family::v6;
  Aggregator aggregator(host, nullptr);
  aggregator.add(mapped);
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40002, "127.0.0.1", 5002));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.tcp.destination_count, 1u);
  EXPECT_EQ(destination(analysis.tcp, "127.0.0.1", 5002).in_use, 2u);
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").ports_in_use, 2u);
}

TEST(Aggregator, UdpIsItsOwnPool) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 53));
  SocketRecord udp = tcp(SockState::established, "127.0.0.1", 40001, "127.0.0.1", 53);
  udp.protocol = Protocol::udp;
  SocketRecord udp_any = tcp(SockState::close, "0.0.0.0", 40002, "0.0.0.0", 0);
  udp_any.protocol = Protocol::udp;
  aggregator.add(udp);
  aggregator.add(udp_any);
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.udp.destination_count, 0u);
  EXPECT_EQ(analysis.udp.bind_owned_ports, 0u);
  EXPECT_EQ(row_for(analysis.udp, "127.0.0.1").bind_free, 8u);
  EXPECT_EQ(row_for(analysis.udp, "0.0.0.0").bind_free, 8u);
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").bind_free, 9u);
}

TEST(Aggregator, PressureIsTheWorstAddressOrDestination) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  for (uint16_t i = 0; i < 9; ++i) {
    aggregator.add(tcp(SockState::established, "127.0.0.1", 40000 + i, "127.0.0.5", 80));
  }
  aggregator.add(tcp(SockState::established, "127.0.0.2", 40000, "127.0.0.6", 80));
  Analysis analysis = aggregator.finish(1);
  EXPECT_DOUBLE_EQ(analysis.tcp.pressure_percent, 90.0);
  ASSERT_EQ(analysis.tcp.destinations.size(), 1u);  // top 1
  EXPECT_EQ(analysis.tcp.destination_count, 2u);
  EXPECT_EQ(analysis.tcp.destinations[0].remote_address, ip("127.0.0.5"));
  ASSERT_TRUE(row_for(analysis.tcp, "127.0.0.2").worst_destination.has_value());
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.2").worst_destination->remote_address, ip("127.0.0.6"));
}

// A wildcard row counts the ports of every socket a bind() there must
// avoid; its states and sockets must count those same sockets (issue #11:
// "ports_in_use 4" beside "states {CLOSE: 1}" was read as 4 idle ports).
TEST(Aggregator, AddressRowStatesCountTheSocketsBehindItsPorts) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::listen, "127.0.0.1", 8080, "0.0.0.0", 0));  // outside the range
  aggregator.add(tcp(SockState::close, "0.0.0.0", 40003, "0.0.0.0", 0));    // bound-only
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 8080));
  aggregator.add(tcp(SockState::established, "127.0.0.1", 8080, "127.0.0.1", 40000));  // child
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40001, "127.0.0.1", 8080));
  aggregator.add(tcp(SockState::established, "127.0.0.1", 8080, "127.0.0.1", 40001));  // child
  aggregator.add(tcp(SockState::time_wait, "127.0.0.2", 40000, "127.0.0.1", 8080));
  aggregator.add(tcp(SockState::time_wait, "127.0.0.2", 40002, "127.0.0.1", 8080));
  Analysis analysis = aggregator.finish(0);
  auto count = [](const AddressRow& row, SockState state) {
    return row.states[static_cast<size_t>(state)];
  };

  const AddressRow& any = row_for(analysis.tcp, "0.0.0.0");
  EXPECT_EQ(any.ports_in_use, 4u);  // 40000-40003
  EXPECT_EQ(any.sockets, 5u);
  EXPECT_EQ(count(any, SockState::established), 2u);
  EXPECT_EQ(count(any, SockState::time_wait), 2u);
  EXPECT_EQ(count(any, SockState::close), 1u);
  EXPECT_EQ(count(any, SockState::listen), 0u) << "port 8080 is not one of the range";

  // A specific address: its own sockets and the overlapping wildcard's.
  const AddressRow& loopback = row_for(analysis.tcp, "127.0.0.1");
  EXPECT_EQ(loopback.ports_in_use, 3u);  // 40000, 40001, 40003
  EXPECT_EQ(loopback.sockets, 3u);
  EXPECT_EQ(count(loopback, SockState::established), 2u) << "not the children on 8080";
  EXPECT_EQ(count(loopback, SockState::close), 1u);
  EXPECT_EQ(count(loopback, SockState::listen), 0u);

  const AddressRow& second = row_for(analysis.tcp, "127.0.0.2");
  EXPECT_EQ(second.ports_in_use, 3u);  // 40000, 40002, 40003
  EXPECT_EQ(count(second, SockState::time_wait), 2u);
  EXPECT_EQ(count(second, SockState::close), 1u);
  EXPECT_EQ(second.sockets, 3u);
}

// Ports held on two addresses, neither above 50%: bind(0.0.0.0:0) finds 9
// of 10 taken, and the pressure must say the 0.0.0.0 row sets it.
TEST(Aggregator, PressureSourceIsTheWildcardWhenNoSpecificRowReachesIt) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  for (uint16_t port = 40000; port < 40005; ++port) {
    aggregator.add(tcp(SockState::close, "127.0.0.1", port, "0.0.0.0", 0));
  }
  for (uint16_t port = 40005; port < 40009; ++port) {
    aggregator.add(tcp(SockState::close, "127.0.0.2", port, "0.0.0.0", 0));
  }
  Analysis analysis = aggregator.finish(0);
  EXPECT_DOUBLE_EQ(analysis.tcp.pressure_percent, 90.0);
  ASSERT_TRUE(analysis.tcp.pressure_source.has_value());
  EXPECT_FALSE(analysis.tcp.pressure_source->destination);
  EXPECT_EQ(analysis.tcp.pressure_source->local_address, ip("0.0.0.0"));
  EXPECT_FALSE(analysis.udp.pressure_source.has_value()) << "nothing in use: no source";
}

// A destination at the same usage as 0.0.0.0 (here every port it cannot use
// is held on some IPv4 address, so it cannot exceed it) is the more specific
// row.
TEST(Aggregator, PressureSourceIsTheMostSpecificRowAtThePressure) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::close, "127.0.0.3", 40009, "0.0.0.0", 0));
  for (uint16_t port = 40000; port < 40006; ++port) {
    aggregator.add(tcp(SockState::established, "127.0.0.1", port, "127.0.0.5", 443));
  }
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.6", 443));
  Analysis analysis = aggregator.finish(1);  // the --top cut leaves the source
  EXPECT_DOUBLE_EQ(analysis.tcp.pressure_percent, 70.0);
  EXPECT_DOUBLE_EQ(row_for(analysis.tcp, "0.0.0.0").usage_percent, 70.0);
  ASSERT_TRUE(analysis.tcp.pressure_source.has_value());
  const PressureSource& source = *analysis.tcp.pressure_source;
  EXPECT_TRUE(source.destination);
  EXPECT_EQ(source.local_address, ip("127.0.0.1"));
  EXPECT_EQ(source.remote_address, ip("127.0.0.5"));
  EXPECT_EQ(source.remote_port, 443);
  ASSERT_TRUE(analysis.tcp.pressure_source_max.has_value());
  EXPECT_EQ(analysis.tcp.pressure_source_max->remote_address, ip("127.0.0.5"));
}

TEST(Aggregator, OddRangeGuaranteesOneLessForTcp) {
  HostFacts host = small_host();
  host.set_range({40000, 40010});
  Aggregator aggregator(host, nullptr);
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.tcp.capacity, 11u);
  EXPECT_EQ(analysis.tcp.capacity_guaranteed, 10u);
  EXPECT_EQ(analysis.udp.capacity_guaranteed, 11u);
}

TEST(Aggregator, PidsCountOwnersOnTheAddressAndWildcard) {
  HostFacts host = small_host();
  OwnerTable owners;
  owners.add(100, 1);
  owners.add(101, 2);
  owners.add(102, 3);
  owners.add(102, 4);  // shared after fork
  SocketRecord listener = tcp(SockState::listen, "0.0.0.0", 22, "0.0.0.0", 0);
  listener.inode = 100;
  SocketRecord client = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 22);
  client.inode = 101;
  SocketRecord other = tcp(SockState::established, "127.0.0.2", 40000, "127.0.0.1", 22);
  other.inode = 102;
  const OwnerScan scan = testing::scan_of(owners);
  Aggregator aggregator(host, &scan);
  for (const SocketRecord& socket : {listener, client, other}) {
    testing::add_owned(aggregator, &owners, socket);
  }
  Analysis analysis = aggregator.finish(0);
  EXPECT_TRUE(analysis.owners.resolved);
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").pids, 2u);  // 1 (wildcard) + 2
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.2").pids, 3u);  // 1 + 3 + 4
}

// Issue #11: #OfPids is a lower bound (complete false, "+" in the table)
// only when a socket's owner could not be read, not whenever some process
// of the host (another user's, another namespace's) could not be.
TEST(Aggregator, OwnersIncompleteOnlyWhereASocketLostItsOwner) {
  OwnerTable owners;
  owners.add(101, 7);
  owners.set_process_counts(5, 4);  // four processes unreadable
  SocketRecord client = tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 22);
  client.inode = 101;
  SocketRecord hidden = tcp(SockState::established, "127.0.0.1", 40001, "127.0.0.1", 22);
  hidden.inode = 102;  // held by one of the unreadable processes
  const OwnerScan scan = testing::scan_of(owners);
  for (bool with_hidden : {false, true}) {
    SCOPED_TRACE(with_hidden);
    Aggregator aggregator(small_host(), &scan);
    testing::add_owned(aggregator, &owners, client);
    if (with_hidden) {
      testing::add_owned(aggregator, &owners, hidden);
    }
    const Analysis analysis = aggregator.finish(0);
    EXPECT_EQ(analysis.owners.processes_unreadable, 4u);
    EXPECT_EQ(analysis.owners.sockets_unattributed, with_hidden ? 1u : 0u);
    EXPECT_EQ(analysis.owners.complete, !with_hidden);
  }
}

}  // namespace
}  // namespace ephport

namespace ephport {
namespace {

// /proc/net cannot report V6ONLY; a socket bound to a specific IPv6 address
// is V6ONLY anyway (__inet6_bind()), so it must not block bind(0.0.0.0:0).
TEST(Aggregator, SpecificIpv6BindIsV6OnlyWhenNotReported) {
  HostFacts host = small_host();
  SocketRecord listener = tcp(SockState::listen, "::1", 40005, "::", 0);
  listener.family = Address::Family::v6;  // v6only stays -1, as from /proc/net
  SocketRecord udp_bound = tcp(SockState::close, "::1", 40003, "::", 0);
  udp_bound.protocol = Protocol::udp;
  Aggregator aggregator(host, nullptr);
  aggregator.add(listener);
  aggregator.add(udp_bound);
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(row_for(analysis.tcp, "0.0.0.0").bind_free, 10u);
  EXPECT_EQ(row_for(analysis.tcp, "::1").bind_free, 9u);
  EXPECT_EQ(row_for(analysis.udp, "0.0.0.0").bind_free, 10u);
}

}  // namespace
}  // namespace ephport

namespace ephport {
namespace {

// Rule 2f: without BPF, an other-parity port in a group that still has
// first-parity ports to spare was most likely bind()'s; it joins B and then
// blocks every destination. A group that filled its first parity is left
// alone, and IP_BIND_ADDRESS_NO_PORT sockets are connect()'s by definition.
TEST(Aggregator, ParityHeuristicFindsBindBeforeConnectPorts) {
  HostFacts host = small_host();  // 40000-40009: first parity = even
  Aggregator aggregator(host, nullptr);
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80));
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40003, "127.0.0.1", 80));  // bind(0)
  SocketRecord no_port = tcp(SockState::established, "127.0.0.1", 40005, "127.0.0.1", 81);
  no_port.bind_address_no_port = true;
  aggregator.add(no_port);
  // A group that used all five even ports, then an odd one: connect()'s own.
  for (uint16_t port = 40000; port <= 40008; port += 2) {
    aggregator.add(tcp(SockState::established, "127.0.0.2", port, "127.0.0.1", 82));
  }
  aggregator.add(tcp(SockState::established, "127.0.0.2", 40007, "127.0.0.1", 82));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(bind_state_name(analysis.bind_state), "estimated");
  EXPECT_EQ(analysis.tcp.bind_owned_ports, 1u);  // 40003 only
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").connect_free_new_destination, 9u);
  EXPECT_EQ(destination(analysis.tcp, "127.0.0.1", 80).connect_free, 8u);  // 9 - 40000
  EXPECT_EQ(destination(analysis.tcp, "127.0.0.1", 81).connect_free, 8u);  // 9 - 40005
  EXPECT_EQ(destination(analysis.tcp, "127.0.0.1", 82).connect_free, 3u);  // 9 - 6
}

TEST(Aggregator, ExactBindStateReplacesTheHeuristic) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  PortSet bind_owned;
  bind_owned.insert(40000);  // a bind(addr, 40000)+connect: even, yet bind()'s
  bind_owned.insert(50000);  // outside the range: ignored
  aggregator.use_exact_bind_state(bind_owned);
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80));
  aggregator.add(tcp(SockState::established, "127.0.0.1", 40003, "127.0.0.1", 80));  // connect()
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(bind_state_name(analysis.bind_state), "exact");
  EXPECT_EQ(analysis.tcp.bind_owned_ports, 1u);
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").connect_free_new_destination, 9u);
  EXPECT_EQ(destination(analysis.tcp, "127.0.0.1", 80).connect_free, 8u);
}

}  // namespace
}  // namespace ephport
