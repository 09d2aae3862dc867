// Very small ranges, 1 to 8 ports, starting on an even and on an odd port:
// how many connect()s and bind(0)s the kernel allows against what ephport
// says (docs/model.md, "Very small and odd-sized ranges").
//
// The TCP walks (__inet_hash_connect(), inet_csk_find_open_port()) step by 2
// over an even number of ports: an odd range of n >= 3 ports visits n - 1 of
// them per call. Which one it leaves out is fixed for 3 ports (the last one,
// never handed out), random between the first and the last for 5 and 7, and
// there is nothing to leave out for 1 port. UDP (udp_lib_get_port()) visits
// every port. Where the kernel's count is random (5 and 7 ports with the
// first or last port free), the count must lie between capacity_guaranteed
// and the figure; everywhere else it must equal the figure, with BPF and
// (inside its bounds) estimated.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "lab_support.h"

namespace ephport::lab {
namespace {

struct RangeCase {
  uint16_t first = 0;
  int size = 0;
  uint16_t last() const { return static_cast<uint16_t>(first + size - 1); }
};

// For gtest's messages: "40001-40003 (3 ports)".
void PrintTo(const RangeCase& range, std::ostream* out) {
  *out << range.first << "-" << range.last() << " (" << range.size << " ports)";
}

std::string range_case_name(const ::testing::TestParamInfo<RangeCase>& info) {
  return std::to_string(info.param.size) + "PortsFrom" +
         (info.param.first % 2 == 0 ? "Even" : "Odd");
}

std::vector<RangeCase> range_cases() {
  std::vector<RangeCase> cases;
  for (const uint16_t first : {uint16_t{40000}, uint16_t{40001}}) {
    for (int size = 1; size <= 8; ++size) {
      cases.push_back({first, size});
    }
  }
  return cases;
}

// Ports a TCP allocation can ever hand out (the scenario's design, from the
// kernel's walk): all but the last of a 3-port range.
int tcp_reachable(int size) {
  return size == 3 ? 2 : size;
}

// Odd ranges of 5 or more ports: each call leaves out the first or the last
// port, at random, so a count that reaches them is random too.
bool tcp_count_is_random(int size) {
  return size >= 5 && size % 2 == 1;
}

class RangeSizeLabTest : public LabTest, public ::testing::WithParamInterface<RangeCase> {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (HasFatalFailure()) {
      return;  // not root: LabTest has said so
    }
    lab().set_range(GetParam().first, GetParam().last());
    lab().set_tw_reuse(0);  // a TIME_WAIT blocks its 4-tuple however old it gets
    lab().listen("127.0.0.1", 8080);
    lab().listen("127.0.0.1", 8081);
    lab().listen("127.0.0.1", 8082);  // the new destination: nothing connects to it
  }
};

// Where the kernel's count is random: it must lie between the protocol's
// capacity_guaranteed and the figure (the most the kernel can give) in both
// modes, and the figure must be the whole capacity (the range is empty).
void expect_between_guaranteed_and_figure(const Predictions& predicted, int kernel,
                                          const std::string& what, const std::string& address,
                                          const char* field) {
  const auto figure = [&](const Json& snapshot) {
    const auto row = find_address(snapshot, "tcp", address);
    return row ? row->at(field).get<int>() : -1;
  };
  lab_note(what + " | kernel " + std::to_string(kernel) + " | bpf " +
           std::to_string(figure(predicted.bpf)) + " | estimate " +
           std::to_string(figure(predicted.estimate)) + " (random: first or last port left out)");
  for_each_bind_state_mode(predicted, [&](const Json& snapshot) {
    const Json& tcp = snapshot.at("protocols").at("tcp");
    EXPECT_GE(kernel, tcp.at("capacity_guaranteed").get<int>()) << what;
    EXPECT_LE(kernel, figure(snapshot)) << what;
    EXPECT_EQ(figure(snapshot), tcp.at("capacity").get<int>()) << what;
  });
}

// Nothing in the range: every call kind has the whole range, as far as the
// kernel's walk reaches it, over IPv4 and IPv6 alike (inet6_hash_connect()
// runs the same walk).
TEST_P(RangeSizeLabTest, EmptyRange) {
  const RangeCase range = GetParam();
  lab().listen("::1", 8082);
  const Predictions predicted = predict();
  for_each_bind_state_mode(predicted, [&](const Json& snapshot) {
    const Json& protocols = snapshot.at("protocols");
    EXPECT_EQ(protocols.at("tcp").at("capacity").get<int>(), tcp_reachable(range.size));
    EXPECT_EQ(protocols.at("tcp").at("capacity_guaranteed").get<int>(),
              tcp_count_is_random(range.size) ? range.size - 1 : tcp_reachable(range.size))
        << protocols.at("tcp").dump();
    EXPECT_EQ(protocols.at("udp").at("capacity").get<int>(), range.size);
    EXPECT_EQ(protocols.at("udp").at("capacity_guaranteed").get<int>(), range.size);
  });
  for (const std::string address : {"127.0.0.1", "::1"}) {
    if (tcp_count_is_random(range.size)) {
      const int connects = lab().count_connects_until_refused(address, address, 8082);
      lab().release_probes();
      expect_between_guaranteed_and_figure(predicted, connects,
                                           "connect_free_new_destination " + address, address,
                                           "connect_free_new_destination");
      const int binds = lab().count_binds_until_refused(Proto::tcp, address);
      lab().release_probes();
      expect_between_guaranteed_and_figure(predicted, binds, "tcp bind_free " + address, address,
                                           "bind_free");
    } else {
      const int reachable = tcp_reachable(range.size);
      check_new_destination(lab(), predicted, address, address, 8082, reachable);
      check_bind_free(lab(), predicted, Proto::tcp, address, reachable);
    }
  }
  if (!tcp_count_is_random(range.size)) {
    check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0", tcp_reachable(range.size));
  }
  check_bind_free(lab(), predicted, Proto::udp, "0.0.0.0", range.size);
  check_udp_autobinds(lab(), predicted, "127.0.0.1", 9000, range.size);
  check_udp_autobinds(lab(), predicted, "::1", 9000, range.size);
}

// A populated range: listeners on the first and last port (from 4 ports up;
// they also take the ports an odd range leaves out at random), a
// bind-before-connect client to 8080 (bind(0) picks the other parity, which
// the estimate's parity rule recognises), a plain connection to 8081 and,
// from 6 ports up, a TIME_WAIT to 8081; one connected UDP socket.
TEST_P(RangeSizeLabTest, ListenerBindBeforeConnectAndTimeWait) {
  const RangeCase range = GetParam();
  const int listeners = range.size >= 4 ? 2 : 0;
  if (listeners > 0) {
    lab().listen("127.0.0.1", range.first);
    lab().listen("127.0.0.1", range.last());
  }
  const int bind_owned_clients = range.size >= 2 ? 1 : 0;
  if (bind_owned_clients > 0) {
    lab().connect("127.0.0.1", "127.0.0.1", 8080, 1, SourceBind::take_port);
  }
  const int plain = 1;
  lab().connect("127.0.0.1", "127.0.0.1", 8081, plain);
  const int time_wait = range.size >= 6 ? 1 : 0;
  if (time_wait > 0) {
    lab().time_wait("127.0.0.1", "127.0.0.1", 8081, time_wait);
  }
  lab().udp_connect("127.0.0.1", 9001);

  const Predictions predicted = predict();
  const int reachable = tcp_reachable(range.size);
  const int bind_owned = listeners + bind_owned_clients;
  if (bind_owned_clients > 0) {  // with 1 port, nothing connects to 8080
    check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8080, reachable - bind_owned);
  }
  check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8081,
                     reachable - bind_owned - plain - time_wait);
  check_new_destination(lab(), predicted, "127.0.0.1", "127.0.0.1", 8082, reachable - bind_owned);
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.1",
                  reachable - bind_owned - plain - time_wait);
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0",
                  reachable - bind_owned - plain - time_wait);
  check_bind_free(lab(), predicted, Proto::udp, "127.0.0.1", range.size - 1);
  check_udp_autobinds(lab(), predicted, "127.0.0.1", 9000, range.size - 1);
}

INSTANTIATE_TEST_SUITE_P(SizesOneToEight, RangeSizeLabTest, ::testing::ValuesIn(range_cases()),
                         range_case_name);

}  // namespace
}  // namespace ephport::lab

namespace ephport::lab {
namespace {

class ThreePortRangeLabTest : public LabTest {};

// The last port of a 3-port range is never handed out, so a socket on it
// costs connect() and bind(0) nothing: it is outside E (capacity 2).
TEST_F(ThreePortRangeLabTest, SocketsOnTheLastPortCostNothing) {
  lab().set_range(40000, 40002);
  lab().listen("127.0.0.1", 40002);
  lab().listen("127.0.0.1", 8080);
  lab().listen("127.0.0.1", 8081);
  ClientOptions explicit_last_port = SourceBind::take_port;
  explicit_last_port.source_port = 40002;
  lab().connect("127.0.0.2", "127.0.0.1", 8080, 1, explicit_last_port);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 1);  // plain: takes 40000
  const Predictions predicted = predict();
  for_each_bind_state_mode(predicted, [](const Json& snapshot) {
    EXPECT_EQ(snapshot.at("protocols").at("tcp").at("capacity").get<int>(), 2);
  });
  check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8080, 1);
  check_new_destination(lab(), predicted, "127.0.0.1", "127.0.0.1", 8081, 2);
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.1", 1);
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.2", 2);
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0", 1);
}

}  // namespace
}  // namespace ephport::lab
