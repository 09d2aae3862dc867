// Figures a first-time user misread (issue #11), on real populations:
// a process's sockets against the distinct ports they hold (one port serves
// several destinations), the wildcard rows' states beside their ports, and
// which row sets the pressure. The kernel's own answers (bind() and
// connect() until refused) check the rows the figures come from.

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "lab_support.h"
#include "serve_support.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kFirst = 40000;
constexpr uint16_t kLast = 40009;  // 10 ports: destinations must share them
constexpr int kCapacity = 10;

class FiguresLabTest : public LabTest {
 protected:
  TempDir dir_;
};

// This test process's entry in processes[] (it holds every lab socket).
Json own_process(const Json& snapshot) {
  for (const Json& process : snapshot.at("processes")) {
    if (process.at("pid") == static_cast<int>(::getpid())) {
      return process;
    }
  }
  throw std::runtime_error("processes[] has no entry for the test process");
}

// The line of `text` holding every one of `words`, or "".
std::string line_with(const std::string& text, const std::vector<std::string>& words) {
  for (const std::string& line : split_lines(text)) {
    if (std::all_of(words.begin(), words.end(), [&](const std::string& word) {
          return line.find(word) != std::string::npos;
        })) {
      return line;
    }
  }
  return "";
}

std::vector<std::string> tokens_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> tokens;
  for (std::string token; in >> token;) {
    tokens.push_back(token);
  }
  return tokens;
}

int state_count(const Json& states, const std::string& state) {
  return states.contains(state) ? states.at(state).get<int>() : 0;
}

// Two destinations served by the same 10 ports: 16 sockets, at most 10 ports.
TEST_F(FiguresLabTest, ProcessReportsItsSocketsAndTheDistinctPortsTheyHold) {
  lab().set_range(kFirst, kLast);
  lab().listen("127.0.0.1", 8080);
  lab().listen("127.0.0.1", 8081);
  const auto to_8080 = lab().connect("127.0.0.1", "127.0.0.1", 8080, 8);
  const auto to_8081 = lab().connect("127.0.0.1", "127.0.0.1", 8081, 8);
  const int ports = static_cast<int>(distinct_ports(to_8080, to_8081));
  ASSERT_LT(ports, 16) << "10 ports for 16 connections: some must serve both destinations";
  lab_note("16 client sockets on " + std::to_string(ports) + " distinct ports");

  const Json process = own_process(snapshot_json());
  EXPECT_EQ(process.at("sockets_in_range"), 16) << process.dump(2);
  EXPECT_EQ(process.at("ports"), ports) << process.dump(2);
  // Kept for ephport.snapshot/1 consumers, with its old meaning (sockets).
  EXPECT_EQ(process.at("ports_in_use"), 16);
  const Json& tcp = process.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("sockets_in_range"), 16);
  EXPECT_EQ(tcp.at("ports"), ports);
  ASSERT_EQ(process.at("addresses").size(), 1u) << process.dump(2);
  const Json& loopback = process.at("addresses").at(0);
  EXPECT_EQ(loopback.at("address"), "127.0.0.1");
  EXPECT_EQ(loopback.at("sockets_in_range"), 16);
  EXPECT_EQ(loopback.at("ports"), ports);

  RunResult table = run_ephport({"snapshot", "--processes"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> header = tokens_of(line_with(table.out, {"PID", "Process"}));
  const std::vector<std::string> row =
      tokens_of(line_with(table.out, {std::to_string(::getpid()) + " "}));
  auto column = [&](const std::string& name) {
    auto found = std::find(header.begin(), header.end(), name);
    return found == header.end() ? -1 : static_cast<int>(found - header.begin());
  };
  ASSERT_GE(column("Sockets"), 0) << table.out;
  ASSERT_GE(column("Ports"), 0) << table.out;
  ASSERT_GT(row.size(), static_cast<size_t>(column("Ports"))) << table.out;
  EXPECT_EQ(row[column("Sockets")], "16") << table.out;
  EXPECT_EQ(row[column("Ports")], std::to_string(ports)) << table.out;
}

// Connections and TIME_WAIT on specific addresses, one bound-only socket on
// 0.0.0.0: every one of them holds a port bind(0.0.0.0:0) must avoid, so the
// 0.0.0.0 row's states must list them all, as its ports_in_use counts them.
TEST_F(FiguresLabTest, WildcardRowStatesDescribeTheSocketsItsPortsCount) {
  lab().set_range(kFirst, kLast);
  lab().listen("127.0.0.1", 8080);
  const auto established = lab().connect("127.0.0.1", "127.0.0.1", 8080, 3);
  const auto time_wait = lab().time_wait("127.0.0.2", "127.0.0.1", 8080, 2);
  const uint16_t bound = lab().bound_only(Proto::tcp, "0.0.0.0", 0);
  const int held =
      static_cast<int>(distinct_ports(established, time_wait, std::vector<uint16_t>{bound}));

  const Json snapshot = snapshot_json();
  const auto any = find_address(snapshot, "tcp", "0.0.0.0");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->at("ports_in_use"), held);
  EXPECT_EQ(state_count(any->at("states"), "ESTABLISHED"), 3) << any->dump(2);
  EXPECT_EQ(state_count(any->at("states"), "TIME_WAIT"), 2) << any->dump(2);
  EXPECT_EQ(state_count(any->at("states"), "CLOSE"), 1) << any->dump(2);
  EXPECT_EQ(any->value("sockets", -1), 6) << any->dump(2);
  // A specific row: its own sockets on ports of the range and the
  // wildcard's (the bound-only socket), not the listener on 8080 nor the
  // children it accepted, which hold no port of the range.
  const auto loopback = find_address(snapshot, "tcp", "127.0.0.1");
  ASSERT_TRUE(loopback.has_value());
  EXPECT_EQ(loopback->at("ports_in_use"),
            distinct_ports(established, std::vector<uint16_t>{bound}));
  EXPECT_EQ(state_count(loopback->at("states"), "ESTABLISHED"), 3) << loopback->dump(2);
  EXPECT_EQ(state_count(loopback->at("states"), "CLOSE"), 1) << loopback->dump(2);
  EXPECT_EQ(state_count(loopback->at("states"), "LISTEN"), 0) << loopback->dump(2);
  EXPECT_EQ(loopback->value("sockets", -1), 4) << loopback->dump(2);
  // The kernel agrees on the row the states describe.
  const int binds = lab().count_binds_until_refused(Proto::tcp, "0.0.0.0");
  EXPECT_EQ(binds, kCapacity - held);
  EXPECT_EQ(any->at("bind_free"), binds);
  lab().release_probes();
  lab_note("0.0.0.0: " + std::to_string(held) + " ports held by 6 sockets; kernel bind(0) " +
           std::to_string(binds) + ", ephport bind_free " + any->at("bind_free").dump() +
           ", states " + any->at("states").dump());

  // The scrape's own connection must not join the population: it takes its
  // port from a range of its own, while serve analyses the lab's.
  lab().set_range(50000, 50999);
  ServeProcess serve(dir_, "serve", {"--range", "40000-40009"}, "http://127.0.0.1:19209");
  HttpAnswer metrics = http_get(serve.base(), "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_EQ(
      metric_value(metrics.body,
                   R"(ephport_local_address_time_wait_sockets{protocol="tcp",address="0.0.0.0"})"),
      2.0)
      << metrics.body;
  EXPECT_EQ(metric_value(metrics.body,
                         R"(ephport_local_address_sockets{protocol="tcp",address="0.0.0.0"})"),
            6.0)
      << metrics.body;
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

// Ports held on two specific addresses: each row is at most 50%, but
// bind(0.0.0.0:0) finds 9 of 10 ports taken. The table lists only the
// specific rows, so it must say that 0.0.0.0 sets the pressure.
TEST_F(FiguresLabTest, PressureNamesTheWildcardRowTheTableDoesNotShow) {
  lab().set_range(kFirst, kLast);
  for (uint16_t port = kFirst; port < kFirst + 5; ++port) {
    lab().bound_only(Proto::tcp, "127.0.0.1", port);
  }
  for (uint16_t port = kFirst + 5; port < kFirst + 9; ++port) {
    lab().bound_only(Proto::tcp, "127.0.0.2", port);
  }
  const Json snapshot = snapshot_json();
  const Json& tcp = snapshot.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("pressure_percent"), 90.0);
  const Json& source = tcp.at("pressure_source");
  EXPECT_EQ(source.at("kind"), "address") << source.dump();
  EXPECT_EQ(source.at("local_address"), "0.0.0.0") << source.dump();
  EXPECT_TRUE(source.at("remote_address").is_null()) << source.dump();
  EXPECT_EQ(lab().count_binds_until_refused(Proto::tcp, "0.0.0.0"), 1);
  lab().release_probes();

  RunResult table = run_ephport({"snapshot"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::string summary = line_with(table.out, {"tcp ", "40000-40009"});
  EXPECT_NE(summary.find("90.0"), std::string::npos) << table.out;
  EXPECT_NE(summary.find("0.0.0.0"), std::string::npos) << table.out;
  lab_note("summary: " + summary);
}

// Six connections to one destination and a port bound on another address:
// the destination has 3 connect()s left, as does bind(0.0.0.0:0); the most
// specific row at the pressure, the destination, is named.
TEST_F(FiguresLabTest, PressureNamesTheDestinationThatSetsIt) {
  lab().set_range(kFirst, kLast);
  lab().bound_only(Proto::tcp, "127.0.0.3", kLast);
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 6);
  const Predictions predicted = predict();
  for_each_bind_state_mode(predicted, [](const Json& snapshot) {
    const Json& tcp = snapshot.at("protocols").at("tcp");
    EXPECT_EQ(tcp.at("pressure_percent"), 70.0);
    const Json& source = tcp.at("pressure_source");
    EXPECT_EQ(source.at("kind"), "destination") << source.dump();
    EXPECT_EQ(source.at("local_address"), "127.0.0.1") << source.dump();
    EXPECT_EQ(source.at("remote_address"), "127.0.0.1") << source.dump();
    EXPECT_EQ(source.at("remote_port"), 8080) << source.dump();
  });
  check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8080, 3);

  RunResult table = run_ephport({"snapshot"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::string summary = line_with(table.out, {"tcp ", "40000-40009"});
  EXPECT_NE(summary.find("127.0.0.1 -> 127.0.0.1:8080"), std::string::npos) << table.out;
  lab_note("summary: " + summary);
}

}  // namespace
}  // namespace ephport::lab
