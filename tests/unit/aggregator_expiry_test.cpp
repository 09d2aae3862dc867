// time_wait_expiring: timewait sockets (TIME_WAIT, and orphaned FIN_WAIT2
// turned into timewait, idiag_timer 3) whose idiag_expires falls within the
// expiry window, per destination (sockets that block their 4-tuple) and per
// address (ports that only such sockets hold). linux-port-rules.md, rule 4.

#include <gtest/gtest.h>

#include <algorithm>

#include "aggregator_fixtures.h"
#include "analyze/aggregator.h"

namespace ephport {
namespace {

using testing::ip;
using testing::row_for;
using testing::small_host;

constexpr uint8_t kTimewaitTimer = 3;

SocketRecord connection(SockState state, const char* local, uint16_t lport, uint16_t rport) {
  SocketRecord socket;
  socket.protocol = Protocol::tcp;
  socket.state = state;
  socket.local = ip(local);
  socket.remote = ip("10.0.0.1");
  socket.family = socket.local.family();
  socket.local_port = lport;
  socket.remote_port = rport;
  return socket;
}

SocketRecord timewait(SockState state, const char* local, uint16_t lport, uint16_t rport,
                      uint32_t expires_ms) {
  SocketRecord socket = connection(state, local, lport, rport);
  socket.timer = kTimewaitTimer;
  socket.expires_ms = expires_ms;
  return socket;
}

const DestinationRow& destination(const ProtocolAnalysis& protocol, uint16_t port) {
  auto found = std::find_if(protocol.destinations.begin(), protocol.destinations.end(),
                            [&](const DestinationRow& row) { return row.remote_port == port; });
  if (found == protocol.destinations.end()) {
    ADD_FAILURE() << "no destination row for " << port;
    static const DestinationRow kMissing;
    return kMissing;
  }
  return *found;
}

// To 10.0.0.1:80 from 127.0.0.1: TIME_WAIT expiring in 0.5 s and 1.9 s,
// fresh TIME_WAIT (59 s), an orphaned FIN_WAIT2 expiring in 1.5 s, and an
// ESTABLISHED connection with a running retransmit timer.
void add_population(Aggregator& aggregator) {
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 500));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40002, 80, 1900));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40004, 80, 59000));
  aggregator.add(timewait(SockState::fin_wait2, "127.0.0.1", 40006, 80, 1500));
  SocketRecord retransmitting = connection(SockState::established, "127.0.0.1", 40008, 80);
  retransmitting.timer = 1;
  retransmitting.expires_ms = 200;
  aggregator.add(retransmitting);
}

TEST(AggregatorExpiry, CountsTimewaitSocketsExpiringWithinTheWindow) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(2000);
  add_population(aggregator);
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.expiry_window_ms, 2000u);
  const DestinationRow& to_80 = destination(analysis.tcp, 80);
  EXPECT_EQ(to_80.in_use, 5u);
  EXPECT_EQ(to_80.connect_free, 5u);
  EXPECT_EQ(to_80.time_wait_expiring, 3u);  // 0.5 s, 1.9 s and the FIN_WAIT2 orphan
  const AddressRow& loopback = row_for(analysis.tcp, "127.0.0.1");
  EXPECT_EQ(loopback.ports_in_use, 5u);  // expiring ports are still in use now
  EXPECT_EQ(loopback.time_wait_expiring, 3u);
  EXPECT_EQ(loopback.worst_destination->time_wait_expiring, 3u);
  // The wildcard rows overlap every IPv4 socket: the same ports free themselves.
  EXPECT_EQ(row_for(analysis.tcp, "0.0.0.0").time_wait_expiring, 3u);
  EXPECT_EQ(row_for(analysis.tcp, "::").time_wait_expiring, 3u);
}

TEST(AggregatorExpiry, WithoutAWindowNothingIsCountedAndNothingElseChanges) {
  HostFacts host = small_host();
  Aggregator plain(host, nullptr);
  add_population(plain);
  Analysis without = plain.finish(0);
  Aggregator windowed(host, nullptr);
  windowed.set_expiry_window_ms(60000);
  add_population(windowed);
  Analysis with = windowed.finish(0);

  EXPECT_EQ(without.expiry_window_ms, 0u);
  EXPECT_EQ(destination(without.tcp, 80).time_wait_expiring, 0u);
  EXPECT_EQ(row_for(without.tcp, "127.0.0.1").time_wait_expiring, 0u);
  // A window of 60 s takes in every timewait socket, and moves no other figure.
  EXPECT_EQ(destination(with.tcp, 80).time_wait_expiring, 4u);
  EXPECT_EQ(row_for(with.tcp, "127.0.0.1").time_wait_expiring, 4u);
  for (const ProtocolAnalysis* protocol : {&without.tcp, &with.tcp}) {
    EXPECT_EQ(destination(*protocol, 80).connect_free, 5u);
    EXPECT_EQ(row_for(*protocol, "127.0.0.1").ports_in_use, 5u);
    EXPECT_EQ(row_for(*protocol, "127.0.0.1").bind_free, 5u);
    EXPECT_EQ(row_for(*protocol, "0.0.0.0").ports_in_use, 5u);
  }
}

TEST(AggregatorExpiry, APortStillHeldBySomethingElseDoesNotFreeItself) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(5000);
  // Port 40000: expiring TIME_WAIT to :80, and ESTABLISHED to :81 (connect()
  // shares a port between destinations). Port 40002: two expiring TIME_WAITs.
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 1000));
  aggregator.add(connection(SockState::established, "127.0.0.1", 40000, 81));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40002, 80, 1000));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40002, 81, 2000));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(destination(analysis.tcp, 80).time_wait_expiring, 2u);
  EXPECT_EQ(destination(analysis.tcp, 81).time_wait_expiring, 1u);
  const AddressRow& loopback = row_for(analysis.tcp, "127.0.0.1");
  EXPECT_EQ(loopback.ports_in_use, 2u);
  EXPECT_EQ(loopback.time_wait_expiring, 1u);  // 40002 only
  // Another address overlaps neither port.
  Aggregator other(host, nullptr);
  other.set_expiry_window_ms(5000);
  other.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 1000));
  other.add(connection(SockState::established, "127.0.0.2", 40002, 80));
  Analysis split = other.finish(0);
  EXPECT_EQ(row_for(split.tcp, "127.0.0.1").time_wait_expiring, 1u);
  EXPECT_EQ(row_for(split.tcp, "127.0.0.2").time_wait_expiring, 0u);
  EXPECT_EQ(row_for(split.tcp, "0.0.0.0").time_wait_expiring, 1u);
}

TEST(AggregatorExpiry, RecyclableTimeWaitFreesItsPortButBlocksNoConnect) {
  HostFacts host = small_host();
  host.linux_sysctls.tcp_tw_reuse = 1;
  host.linux_sysctls.tcp_tw_reuse_delay_ms = 1000;
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(3000);
  // 58 s old: connect() may take over its 4-tuple already (tcp_twsk_unique()).
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 2000));
  Analysis analysis = aggregator.finish(0);
  const DestinationRow& to_80 = destination(analysis.tcp, 80);
  EXPECT_EQ(to_80.connect_free, 10u);
  EXPECT_EQ(to_80.time_wait_expiring, 0u);  // it blocks nothing that could free
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").time_wait_expiring, 1u);  // bind(0) still meets it
}

TEST(AggregatorExpiry, ReservedPortsAreNotCounted) {
  HostFacts host = small_host();
  host.set_reserved({{40002, 40002}});
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(3000);
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 1000));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40002, 80, 1000));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(destination(analysis.tcp, 80).time_wait_expiring, 1u);
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").time_wait_expiring, 1u);
}

TEST(AggregatorExpiry, APortTheParityHeuristicMovesToBIsNotCountedTwice) {
  HostFacts host = small_host();
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(3000);
  // An odd port while even ones are free: bind()'s port, joins B (rule 2f).
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40001, 80, 1000));
  aggregator.add(timewait(SockState::time_wait, "127.0.0.1", 40000, 80, 1000));
  Analysis analysis = aggregator.finish(0);
  EXPECT_EQ(analysis.tcp.bind_owned_ports, 1u);
  const DestinationRow& to_80 = destination(analysis.tcp, 80);
  EXPECT_EQ(to_80.connect_free, 8u);        // 10 - B - the even TIME_WAIT
  EXPECT_EQ(to_80.time_wait_expiring, 1u);  // the even one; the odd one counts in B
  EXPECT_EQ(row_for(analysis.tcp, "127.0.0.1").time_wait_expiring, 2u);
}

}  // namespace
}  // namespace ephport
