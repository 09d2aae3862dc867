// walked_v6only() (collect/linux/v6only_ports.h): the V6ONLY a record takes
// from the BPF walk's port bitmaps when sock_diag did not report it.

#include "collect/linux/v6only_ports.h"

#include <gtest/gtest.h>

#include "aggregator_fixtures.h"

namespace ephport {
namespace {

using testing::socket_of;

V6OnlyPorts walked() {
  V6OnlyPorts ports;
  ports.v6only.insert(40001);      // only V6ONLY sockets there
  ports.dual_stack.insert(40002);  // only dual-stack ones
  ports.v6only.insert(40003);      // both
  ports.dual_stack.insert(40003);
  return ports;
}

SocketRecord client(const char* local, uint16_t port) {
  return socket_of(Protocol::tcp, SockState::established, local, port, "::1", 8080);
}

TEST(WalkedV6only, TheWalkFillsWhatSockDiagLeftOut) {
  EXPECT_EQ(walked_v6only(client("::1", 40001), walked()), 1);
  EXPECT_EQ(walked_v6only(client("::1", 40002), walked()), 0);
}

TEST(WalkedV6only, ADualStackSocketOnThePortDecides) {
  // The port blocks bind(0.0.0.0:0) through the dual-stack socket anyway.
  EXPECT_EQ(walked_v6only(client("::1", 40003), walked()), 0);
}

TEST(WalkedV6only, SocketsTheWalkDidNotSeeStayUnknown) {
  EXPECT_EQ(walked_v6only(client("::1", 40004), walked()), -1);
}

TEST(WalkedV6only, ReportedValuesAndIPv4AreLeftAlone) {
  SocketRecord listener = socket_of(Protocol::tcp, SockState::listen, "::", 40002, "::", 0);
  listener.v6only = 1;  // SKV6ONLY from sock_diag
  EXPECT_EQ(walked_v6only(listener, walked()), 1);
  EXPECT_EQ(walked_v6only(client("127.0.0.1", 40001), walked()), -1);  // v4-mapped or IPv4
}

}  // namespace
}  // namespace ephport
