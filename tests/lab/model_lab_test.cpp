// The model against the kernel, one rule per scenario: build a population in a
// private namespace with a tiny range, take ephport's JSON, then make real
// connect()/bind() calls until refusal. Every prediction must equal the count.
// (linux-port-rules.md names the rules: 1 4-tuples, 2 bind() state, 3 bind(0),
// 4 TIME_WAIT, 5 reserved ports, 7 IPv6, 8 UDP, 9 accepted children.)

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "lab_support.h"

namespace ephport::lab {
namespace {

class ModelLabTest : public LabTest {};

void expect_destination(const Json& snapshot, const std::string& local, const std::string& dest,
                        uint16_t port, int in_use, int time_wait) {
  SCOPED_TRACE(local + " -> " + dest + ":" + std::to_string(port));
  const auto row = find_destination(snapshot, "tcp", local, dest, port);
  ASSERT_TRUE(row) << snapshot.at("protocols").at("tcp").at("destinations").dump();
  EXPECT_EQ(row->at("in_use").get<int>(), in_use) << row->dump();
  EXPECT_EQ(row->at("time_wait").get<int>(), time_wait) << row->dump();
}

// Rule 1: each (source, destination) pair has the whole range to itself.
TEST_F(ModelLabTest, SeveralSourcesAndDestinations) {
  lab().set_range(40000, 40049);
  lab().listen("127.0.0.1", 7001);
  lab().listen("127.0.0.1", 7002);
  lab().listen("127.0.0.5", 7003);
  const auto a = lab().connect("127.0.0.1", "127.0.0.1", 7001, 12);
  const auto b = lab().connect("127.0.0.1", "127.0.0.1", 7002, 5);
  const auto c = lab().connect("127.0.0.2", "127.0.0.1", 7001, 20);
  const auto d = lab().connect("127.0.0.3", "127.0.0.5", 7003, 7);
  const auto e = lab().connect("127.0.0.2", "127.0.0.5", 7003, 3);

  const Json snap = snapshot_json();
  const Json& tcp = snap.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("capacity"), 50);
  EXPECT_EQ(tcp.at("destination_count"), 5) << tcp.at("destinations").dump();
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 7001, 12, 0);
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 7002, 5, 0);
  expect_destination(snap, "127.0.0.2", "127.0.0.1", 7001, 20, 0);
  expect_destination(snap, "127.0.0.3", "127.0.0.5", 7003, 7, 0);
  expect_destination(snap, "127.0.0.2", "127.0.0.5", 7003, 3, 0);
  // Worst first: 127.0.0.2 -> 127.0.0.1:7001 (20 of 50).
  EXPECT_EQ(tcp.at("destinations")[0].at("in_use"), 20);

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 7001, 38);
  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 7002, 45);
  check_connect_free(lab(), snap, "127.0.0.2", "127.0.0.1", 7001, 30);
  check_connect_free(lab(), snap, "127.0.0.3", "127.0.0.5", 7003, 43);
  check_connect_free(lab(), snap, "127.0.0.2", "127.0.0.5", 7003, 47);
  check_new_destination(lab(), snap, "127.0.0.3", "127.0.0.1", 7001, 50);

  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 50 - distinct_ports(a, b));
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.2", 50 - distinct_ports(c, e));
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.3", 50 - distinct_ports(d));
  check_bind_free(lab(), snap, Proto::tcp, "0.0.0.0", 50 - distinct_ports(a, b, c, d, e));
}

// Rules 2 and 9: a listener inside the range takes its port from connect()
// for every destination; its accepted children cost nothing more and are not
// destinations.
TEST_F(ModelLabTest, ListenerInsideTheRange) {
  lab().set_range(40000, 40019);
  lab().listen("127.0.0.1", 40005);
  lab().listen("127.0.0.1", 8080);
  const auto a = lab().connect("127.0.0.1", "127.0.0.1", 40005, 6);
  const auto b = lab().connect("127.0.0.1", "127.0.0.1", 8080, 4);

  const Json snap = snapshot_json();
  const Json& tcp = snap.at("protocols").at("tcp");
  // The 6 children (127.0.0.1:40005 -> client ports) are no destinations.
  EXPECT_EQ(tcp.at("destination_count"), 2) << tcp.at("destinations").dump();
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 40005, 6, 0);
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 4, 0);
  const auto address = find_address(snap, "tcp", "127.0.0.1");
  ASSERT_TRUE(address) << tcp.at("addresses").dump();
  EXPECT_EQ(address->at("listening_ports"), 2);
  EXPECT_EQ(address->at("ports_in_use").get<size_t>(), 1 + distinct_ports(a, b));

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 40005, 20 - 1 - 6);
  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 20 - 1 - 4);
  lab().listen("127.0.0.1", 8081);
  check_new_destination(lab(), snap, "127.0.0.1", "127.0.0.1", 8081, 20 - 1);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - 1 - distinct_ports(a, b));
}

// Rule 2c: a bound-only socket on 127.0.0.2 blocks connect() from 127.0.0.1
// on its port, for every destination; bind(0) only on overlapping addresses.
TEST_F(ModelLabTest, BoundOnlySocketOnAnotherAddress) {
  lab().set_range(40000, 40019);
  const uint16_t explicit_port = lab().bound_only(Proto::tcp, "127.0.0.2", 40003);
  const uint16_t chosen_port = lab().bound_only(Proto::tcp, "127.0.0.2");
  ASSERT_EQ(explicit_port, 40003);
  ASSERT_NE(chosen_port, 40003);
  lab().listen("127.0.0.1", 8080);
  const auto clients = lab().connect("127.0.0.1", "127.0.0.1", 8080, 5);

  const Json snap = snapshot_json();
  const Json& tcp = snap.at("protocols").at("tcp");
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 5, 0);
  EXPECT_EQ(tcp.at("states").value("CLOSE", 0), 2) << tcp.at("states").dump();

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 20 - 2 - 5);
  lab().listen("127.0.0.1", 8081);
  check_new_destination(lab(), snap, "127.0.0.1", "127.0.0.1", 8081, 20 - 2);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - 5);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.2", 20 - 2);
  check_bind_free(lab(), snap, Proto::tcp, "0.0.0.0", 20 - 2 - 5);
}

// Rule 5: reserved ports leave the range for connect() and bind(0), TCP and UDP.
TEST_F(ModelLabTest, ReservedPorts) {
  lab().set_range(40000, 40009);
  lab().set_reserved("40002,40005-40006,50000");
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 2);
  const uint16_t udp_port = lab().bound_only(Proto::udp, "127.0.0.1");
  ASSERT_TRUE(udp_port != 40002 && udp_port != 40005 && udp_port != 40006);

  const Json snap = snapshot_json();
  for (const char* proto : {"tcp", "udp"}) {
    SCOPED_TRACE(proto);
    const Json& p = snap.at("protocols").at(proto);
    EXPECT_EQ(p.at("range").at("first"), 40000);
    EXPECT_EQ(p.at("range").at("last"), 40009);
    EXPECT_EQ(p.at("capacity"), 7);
    EXPECT_EQ(p.at("capacity_guaranteed"), 7);
  }
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 2, 0);

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 5);
  lab().listen("127.0.0.1", 8081);
  check_new_destination(lab(), snap, "127.0.0.1", "127.0.0.1", 8081, 7);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 5);
  check_bind_free(lab(), snap, Proto::udp, "127.0.0.1", 6);
}

// Rule 4 with tcp_tw_reuse=0: TIME_WAIT holds its 4-tuple for connect() to its
// own destination only, and its port for bind(0).
TEST_F(ModelLabTest, TimeWaitWithoutReuseBlocksOnlyItsDestination) {
  lab().set_range(40000, 40019);
  lab().set_tw_reuse(0);
  lab().listen("127.0.0.1", 8080);
  lab().listen("127.0.0.1", 8081);
  const auto tw = lab().time_wait("127.0.0.1", "127.0.0.1", 8080, 4);
  const auto est = lab().connect("127.0.0.1", "127.0.0.1", 8081, 3);

  const Json snap = snapshot_json();
  EXPECT_EQ(snap.at("protocols").at("tcp").at("states").value("TIME_WAIT", 0), 4);
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 4, 4);
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8081, 3, 0);

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 16);
  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8081, 17);
  lab().listen("127.0.0.1", 8082);
  check_new_destination(lab(), snap, "127.0.0.1", "127.0.0.1", 8082, 20);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - distinct_ports(tw, est));
}

// Rule 4 with the default tcp_tw_reuse=2 on loopback: TIME_WAIT younger than
// tcp_tw_reuse_delay blocks connect(), older is recycled; bind(0) always blocked.
TEST_F(ModelLabTest, TimeWaitRecycledOnlyAfterTheDelay) {
  lab().set_range(40000, 40019);
  ASSERT_EQ(read_sysctl("net/ipv4/tcp_tw_reuse"), "2");
  lab().listen("127.0.0.1", 8080);

  write_sysctl("net/ipv4/tcp_tw_reuse_delay", "30000");
  const auto young = lab().time_wait("127.0.0.1", "127.0.0.1", 8080, 4);
  const Json before = snapshot_json();
  expect_destination(before, "127.0.0.1", "127.0.0.1", 8080, 4, 4);
  check_connect_free(lab(), before, "127.0.0.1", "127.0.0.1", 8080, 16);

  write_sysctl("net/ipv4/tcp_tw_reuse_delay", "200");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const Json after = snapshot_json();
  expect_destination(after, "127.0.0.1", "127.0.0.1", 8080, 4, 4);
  // bind(0) first: the recycling connect()s replace the TIME_WAIT sockets.
  check_bind_free(lab(), after, Proto::tcp, "127.0.0.1", 20 - distinct_ports(young));
  check_connect_free(lab(), after, "127.0.0.1", "127.0.0.1", 8080, 20);
}

// Counts `ss -tanH state <state> dst <dest>` rows (iproute2 state names).
int ss_count(const std::string& state, const std::string& dest) {
  FILE* pipe = ::popen(("ss -tanH state " + state + " dst " + dest).c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("popen ss");
  }
  int lines = 0;
  for (int c = std::fgetc(pipe); c != EOF; c = std::fgetc(pipe)) {
    lines += c == '\n' ? 1 : 0;
  }
  ::pclose(pipe);
  return lines;
}

// Rule 10c: every state in the established hash holds its 4-tuple. With
// tcp_tw_reuse=2 on loopback an old TIME_WAIT is recycled, but CLOSE_WAIT,
// ESTABLISHED and an orphaned FIN_WAIT2 (a timewait socket too, timer 3) are not.
TEST_F(ModelLabTest, StatesThatHoldPortsAndTheOneThatIsRecycled) {
  lab().set_range(40000, 40019);
  ASSERT_EQ(read_sysctl("net/ipv4/tcp_tw_reuse"), "2");
  write_sysctl("net/ipv4/tcp_tw_reuse_delay", "100");
  lab().listen("127.0.0.1", 8080);
  const auto close_wait = lab().close_wait("127.0.0.1", "127.0.0.1", 8080, 3);
  const auto fin_wait = lab().orphan_fin_wait("127.0.0.1", "127.0.0.1", 8080, 2);
  const auto time_wait = lab().time_wait("127.0.0.1", "127.0.0.1", 8080, 4);
  const auto established = lab().connect("127.0.0.1", "127.0.0.1", 8080, 2);
  // The server's delayed ACK moves the orphans from FIN_WAIT1 to FIN_WAIT2.
  for (int i = 0; i < 100 && ss_count("fin-wait-2", "127.0.0.1:8080") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ss_count("fin-wait-2", "127.0.0.1:8080"), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // TIME_WAIT older than 100 ms

  const Json snap = snapshot_json();
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 3 + 2 + 4 + 2, 4);
  // bind(0) first: the recycling connect()s replace the TIME_WAIT sockets.
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1",
                  20 - distinct_ports(close_wait, fin_wait, time_wait, established));
  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 20 - 3 - 2 - 2);
}

// Rule 10d: with an odd-sized range each connect()/bind(0) walk misses lo or
// hi, so only capacity - 1 calls are guaranteed.
TEST_F(ModelLabTest, OddSizedRange) {
  lab().set_range(40000, 40010);
  lab().listen("127.0.0.1", 8080);
  const Json snap = snapshot_json();
  const Json& tcp = snap.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("capacity"), 11);
  EXPECT_EQ(tcp.at("capacity_guaranteed"), 10);
  const int binds = lab().count_binds_until_refused(Proto::tcp, "127.0.0.1");
  lab().release_probes();
  const int connects = lab().count_connects_until_refused("127.0.0.1", "127.0.0.1", 8080);
  lab().release_probes();
  for (const int kernel : {binds, connects}) {
    EXPECT_GE(kernel, tcp.at("capacity_guaranteed").get<int>());
    EXPECT_LE(kernel, tcp.at("capacity").get<int>());
  }
}

// Rule 7: IPv6 shares the range; a v4-mapped AF_INET6 connection competes for
// the IPv4 4-tuples and is counted in the IPv4 destination.
TEST_F(ModelLabTest, Ipv6AndV4MappedConnections) {
  lab().set_range(40000, 40019);
  lab().listen("::1", 8080);
  lab().listen("127.0.0.1", 8080);
  // Unbound (autobound) IPv6 clients are not V6ONLY (bindv6only=0).
  const auto v6 = lab().connect("", "::1", 8080, 5);
  const auto v4 = lab().connect("127.0.0.1", "127.0.0.1", 8080, 3);
  const auto mapped = lab().connect("", "::ffff:127.0.0.1", 8080, 2);

  const Json snap = snapshot_json();
  const Json& tcp = snap.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("destination_count"), 2) << tcp.at("destinations").dump();
  expect_destination(snap, "::1", "::1", 8080, 5, 0);
  expect_destination(snap, "127.0.0.1", "127.0.0.1", 8080, 3 + 2, 0);

  check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 15);
  check_connect_free(lab(), snap, "::ffff:127.0.0.1", "::ffff:127.0.0.1", 8080, 15);
  check_connect_free(lab(), snap, "::1", "::1", 8080, 15);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - distinct_ports(v4, mapped));
  check_bind_free(lab(), snap, Proto::tcp, "::1", 20 - distinct_ports(v6));
  check_bind_free(lab(), snap, Proto::tcp, "0.0.0.0", 20 - distinct_ports(v6, v4, mapped));
  check_bind_free(lab(), snap, Proto::tcp, "::", 20 - distinct_ports(v6, v4, mapped));
}

// Rule 7d/7e: binding a specific IPv6 address makes a socket V6ONLY, so a
// [::1] listener or UDP socket does not hold its port against IPv4 bind(0);
// a [::] listener (V6ONLY off) does. Both listeners are in B for connect().
// /proc/net does not show V6ONLY, but the kernel's rule gives it here, so
// both collectors must agree with the kernel.
TEST_F(ModelLabTest, Ipv6BoundSocketsInsideTheRange) {
  lab().set_range(40000, 40019);
  lab().listen("::1", 40005);
  lab().listen("::", 40007);
  lab().listen("127.0.0.1", 8080);
  lab().listen("127.0.0.1", 8081);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 2);
  ASSERT_EQ(lab().bound_only(Proto::udp, "::1", 40003), 40003);

  for (const std::string source : {"netlink", "procfs"}) {
    SCOPED_TRACE("--source " + source);
    const Json snap = snapshot_json({"--source", source});
    check_connect_free(lab(), snap, "127.0.0.1", "127.0.0.1", 8080, 20 - 2 - 2);
    check_new_destination(lab(), snap, "127.0.0.1", "127.0.0.1", 8081, 20 - 2);
    check_bind_free(lab(), snap, Proto::tcp, "0.0.0.0", 20 - 1 - 2);
    check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - 1 - 2);
    check_bind_free(lab(), snap, Proto::tcp, "::1", 20 - 2);
    check_bind_free(lab(), snap, Proto::tcp, "::", 20 - 2 - 2);
    check_bind_free(lab(), snap, Proto::udp, "0.0.0.0", 20);
    check_bind_free(lab(), snap, Proto::udp, "::", 20 - 1);
  }
}

// Rule 8: UDP is its own pool; bind(0) needs a port no overlapping UDP socket
// holds; autobind (connect() on an unbound socket) behaves as the wildcard.
TEST_F(ModelLabTest, UdpBindFree) {
  lab().set_range(40000, 40019);
  std::vector<uint16_t> on_1;
  std::vector<uint16_t> on_2;
  std::vector<uint16_t> wild;
  std::vector<uint16_t> connected;
  for (int i = 0; i < 3; ++i) {
    on_1.push_back(lab().bound_only(Proto::udp, "127.0.0.1"));
  }
  for (int i = 0; i < 2; ++i) {
    wild.push_back(lab().bound_only(Proto::udp, "0.0.0.0"));
    connected.push_back(lab().udp_connect("127.0.0.1", 5353));
  }
  on_2.push_back(lab().bound_only(Proto::udp, "127.0.0.2"));
  // A TCP population beside it changes nothing for UDP.
  lab().listen("127.0.0.1", 8080);
  const auto tcp_clients = lab().connect("127.0.0.1", "127.0.0.1", 8080, 6);

  const Json snap = snapshot_json();
  const Json& udp = snap.at("protocols").at("udp");
  EXPECT_EQ(udp.at("capacity"), 20);
  EXPECT_EQ(udp.at("sockets"), 8);
  const auto wildcard = find_address(snap, "udp", "0.0.0.0");
  ASSERT_TRUE(wildcard) << udp.at("addresses").dump();
  EXPECT_TRUE(wildcard->at("wildcard").get<bool>());

  check_bind_free(lab(), snap, Proto::udp, "127.0.0.1", 20 - distinct_ports(on_1, wild, connected));
  check_bind_free(lab(), snap, Proto::udp, "127.0.0.2", 20 - distinct_ports(on_2, wild));
  const int all = 20 - distinct_ports(on_1, on_2, wild, connected);
  check_bind_free(lab(), snap, Proto::udp, "0.0.0.0", all);
  const int autobinds = lab().count_udp_autobinds_until_refused("127.0.0.1", 5353);
  lab().release_probes();
  EXPECT_EQ(autobinds, all);
  EXPECT_EQ(wildcard->at("bind_free").get<int>(), autobinds);
  check_bind_free(lab(), snap, Proto::tcp, "127.0.0.1", 20 - distinct_ports(tcp_clients));
}

}  // namespace
}  // namespace ephport::lab
