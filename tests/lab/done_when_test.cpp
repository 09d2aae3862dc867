// The acceptance scenario: range 40000-40099, listeners 127.0.0.1:8080 and
// :8081, 30 connections to the first and 20 to the second. ephport's figures
// must equal what the kernel then accepts, call for call.

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>

#include "lab_support.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kFirst = 40000;
constexpr uint16_t kLast = 40099;
constexpr int kCapacity = 100;

class DoneWhenTest : public LabTest {
 protected:
  // Builds the population; returns the number of distinct local ports the 50
  // clients hold (connect() may give two destinations the same port).
  void build() {
    lab().set_range(kFirst, kLast);
    lab().listen("127.0.0.1", 8080);
    lab().listen("127.0.0.1", 8081);
    to_8080_ = lab().connect("127.0.0.1", "127.0.0.1", 8080, 30);
    to_8081_ = lab().connect("127.0.0.1", "127.0.0.1", 8081, 20);
    used_ = static_cast<int>(distinct_ports(to_8080_, to_8081_));
  }

  std::vector<uint16_t> to_8080_;
  std::vector<uint16_t> to_8081_;
  int used_ = 0;
};

std::vector<std::string> tokens_of(const std::string& line) {
  std::istringstream in(line);
  return {std::istream_iterator<std::string>(in), {}};
}

// Index of `token` in `tokens`, or -1.
int index_of(const std::vector<std::string>& tokens, const std::string& token) {
  const auto found = std::find(tokens.begin(), tokens.end(), token);
  return found == tokens.end() ? -1 : static_cast<int>(found - tokens.begin());
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The table's header line (tokens), or empty.
std::vector<std::string> table_header(const std::string& text) {
  for (const std::string& line : split_lines(text)) {
    auto tokens = tokens_of(line);
    if (index_of(tokens, "LocalAddress") >= 0) {
      return tokens;
    }
  }
  return {};
}

// Tokens of the table row for `address` whose Proto column is `proto`, counted
// from the address (the DateTime before it may hold spaces); empty if none.
std::vector<std::string> table_row(const std::string& text, const std::string& address,
                                   const std::string& proto) {
  for (const std::string& line : split_lines(text)) {
    auto tokens = tokens_of(line);
    const int at = index_of(tokens, address);
    if (at >= 0 && static_cast<int>(tokens.size()) > at + 8 && lower(tokens[at + 6]) == proto) {
      return {tokens.begin() + at, tokens.end()};
    }
  }
  return {};
}

TEST_F(DoneWhenTest, JsonFiguresForTheScenario) {
  build();
  const Json snap = snapshot_json();
  ASSERT_EQ(snap.at("schema"), "ephport.snapshot/1");
  ASSERT_EQ(snap.at("platform"), "linux");
  const Json& tcp = snap.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("range").at("first"), kFirst);
  EXPECT_EQ(tcp.at("range").at("last"), kLast);
  EXPECT_EQ(tcp.at("capacity"), kCapacity);
  EXPECT_EQ(tcp.at("capacity_guaranteed"), kCapacity);
  // 2 listeners, 50 clients, 50 accepted children.
  EXPECT_EQ(tcp.at("sockets"), 102);
  EXPECT_EQ(tcp.at("states").value("LISTEN", 0), 2);
  EXPECT_EQ(tcp.at("states").value("ESTABLISHED", 0), 100);

  const auto d8080 = find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 8080);
  const auto d8081 = find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 8081);
  ASSERT_TRUE(d8080) << tcp.at("destinations").dump();
  ASSERT_TRUE(d8081) << tcp.at("destinations").dump();
  EXPECT_EQ(d8080->at("in_use"), 30);
  EXPECT_EQ(d8080->at("time_wait"), 0);
  EXPECT_EQ(d8080->at("connect_free"), 70);
  EXPECT_DOUBLE_EQ(d8080->at("usage_percent").get<double>(), 30.0);
  EXPECT_EQ(d8081->at("in_use"), 20);
  EXPECT_EQ(d8081->at("connect_free"), 80);
  EXPECT_DOUBLE_EQ(d8081->at("usage_percent").get<double>(), 20.0);
  // Accepted children (local port 8080/8081) are not destinations.
  EXPECT_EQ(tcp.at("destination_count"), 2) << tcp.at("destinations").dump();
  // Worst first.
  ASSERT_GE(tcp.at("destinations").size(), 1u);
  EXPECT_EQ(tcp.at("destinations")[0].at("remote_port"), 8080);

  const auto address = find_address(snap, "tcp", "127.0.0.1");
  ASSERT_TRUE(address) << tcp.at("addresses").dump();
  EXPECT_EQ(address->at("ports_in_use"), used_);
  EXPECT_EQ(address->at("bind_free"), kCapacity - used_);
  EXPECT_DOUBLE_EQ(address->at("usage_percent").get<double>(), used_);
  EXPECT_EQ(address->at("connect_free_new_destination"), kCapacity);
  EXPECT_EQ(address->at("listening_ports"), 2);
  EXPECT_EQ(address->at("pids"), 1);  // this test process owns every socket
  EXPECT_EQ(address->at("worst_destination").at("remote_port"), 8080);
  // The worst figure is the address (used_ >= 30 ports) or the destination (30 %).
  EXPECT_DOUBLE_EQ(tcp.at("pressure_percent").get<double>(), std::max(used_, 30));

  const auto wildcard = find_address(snap, "tcp", "0.0.0.0");
  ASSERT_TRUE(wildcard) << tcp.at("addresses").dump();
  EXPECT_TRUE(wildcard->at("wildcard").get<bool>());
  // bind(0.0.0.0:0) conflicts with every IPv4 socket on the port.
  EXPECT_EQ(wildcard->at("bind_free"), kCapacity - used_);
}

// Both bind-state modes: nothing here is bind()-owned but the listeners, which
// sit outside the range, so BPF and the estimate must agree with the kernel.
TEST_F(DoneWhenTest, ConnectFreeEqualsRealConnects) {
  build();
  const Predictions predicted = predict();
  naive_percent("127.0.0.1", kFirst, kLast);
  // Connects to one destination take ports in connect() state: they do not
  // block another destination; each check releases its probes anyway.
  check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8080, 70);
  check_connect_free(lab(), predicted, "127.0.0.1", "127.0.0.1", 8081, 80);
  lab().listen("127.0.0.1", 8082);
  check_new_destination(lab(), predicted, "127.0.0.1", "127.0.0.1", 8082, kCapacity);
}

TEST_F(DoneWhenTest, BindFreeEqualsRealBinds) {
  build();
  const Predictions predicted = predict();

  const int binds = lab().count_binds_until_refused(Proto::tcp, "127.0.0.1");
  EXPECT_EQ(binds, kCapacity - used_);
  for_each_bind_state_mode(predicted, [&](const Json& snapshot) {
    const auto address = find_address(snapshot, "tcp", "127.0.0.1");
    ASSERT_TRUE(address) << snapshot.dump();
    EXPECT_EQ(address->at("bind_free"), binds);
  });

  // The probes are bound-only sockets now holding every other port of E in
  // bind() state: connect() skips them for every destination (rule 2), so
  // 8080 keeps only the ports the 8081 clients alone hold.
  const Predictions held = predict();
  for_each_bind_state_mode(held, [&](const Json& snapshot) {
    const auto held_address = find_address(snapshot, "tcp", "127.0.0.1");
    const auto held_8080 = find_destination(snapshot, "tcp", "127.0.0.1", "127.0.0.1", 8080);
    ASSERT_TRUE(held_address && held_8080) << snapshot.dump();
    EXPECT_EQ(held_address->at("bind_free"), 0);
    EXPECT_EQ(held_address->at("ports_in_use"), kCapacity);
    EXPECT_EQ(held_address->at("connect_free_new_destination"), used_);
    EXPECT_EQ(held_8080->at("connect_free"), used_ - 30);
  });
  EXPECT_EQ(lab().count_connects_until_refused("127.0.0.1", "127.0.0.1", 8080), used_ - 30);
  EXPECT_EQ(lab().count_binds_until_refused(Proto::tcp, "127.0.0.1"), 0);

  // Closing the probes gives the ports back (6.18 bucket-state reset).
  lab().release_probes();
  const Predictions after = predict();
  check_bind_free(lab(), after, Proto::tcp, "127.0.0.1", kCapacity - used_);
  check_connect_free(lab(), after, "127.0.0.1", "127.0.0.1", 8080, 70);
}

TEST_F(DoneWhenTest, TableAndCsvRowFor127001) {
  build();
  // The seed's columns, then ephport's.
  const std::vector<std::string> expected_header = tokens_of(
      "Computer DateTime LocalAddress #OfEPortsInUse Max#OfEPorts %EPortUsage "
      "#OfTcpListeningPorts #OfPids Proto BindFree ConnFreeNewDest TimeWait WorstDestination "
      "WorstDest% Rate/s ExhaustsIn TWExpiring");
  // #OfPids is a lower bound, marked '+', when a socket's owner could not be
  // read (a process whose fds were refused, even to root); the JSON says which.
  const Json snap = snapshot_json();
  const auto address = find_address(snap, "tcp", "127.0.0.1");
  ASSERT_TRUE(address) << snap.dump();
  const std::string pids = std::to_string(address->at("pids").get<int>()) +
                           (snap.at("owners").at("complete").get<bool>() ? "" : "+");
  EXPECT_EQ(address->at("pids"), 1);
  // `ephport` alone is `ephport snapshot`, which prints the table.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"snapshot", "--format", "table"}, std::vector<std::string>{}}) {
    SCOPED_TRACE(args.empty() ? "ephport" : "ephport snapshot --format table");
    const RunResult run = run_ephport(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(table_header(run.out), expected_header) << run.out;
    const auto row = table_row(run.out, "127.0.0.1", "tcp");
    ASSERT_FALSE(row.empty()) << run.out;
    EXPECT_EQ(row[1], std::to_string(used_)) << run.out;              // #OfEPortsInUse
    EXPECT_EQ(row[2], std::to_string(kCapacity)) << run.out;          // Max#OfEPorts
    EXPECT_EQ(row[4], "2") << run.out;                                // 8080, 8081
    EXPECT_EQ(row[5], pids) << run.out;                               // one pid
    EXPECT_EQ(row[7], std::to_string(kCapacity - used_)) << run.out;  // BindFree
    EXPECT_EQ(row[8], std::to_string(kCapacity)) << run.out;          // ConnFreeNewDest
  }

  const RunResult csv = run_ephport({"snapshot", "--format", "csv", "--proto", "tcp"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const auto lines = split_lines(csv.out);
  ASSERT_GE(lines.size(), 2u) << csv.out;
  EXPECT_EQ(lines[0].rfind("Computer,DateTime,LocalAddress,#OfEPortsInUse,Max#OfEPorts,", 0), 0u)
      << lines[0];
  bool found = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells;
    std::istringstream in(lines[i]);
    for (std::string cell; std::getline(in, cell, ',');) {
      cells.push_back(cell);
    }
    if (cells.size() > 3 && cells[2] == "127.0.0.1") {
      found = true;
      EXPECT_EQ(cells[3], std::to_string(used_)) << lines[i];
      EXPECT_EQ(cells[4], std::to_string(kCapacity)) << lines[i];
    }
  }
  EXPECT_TRUE(found) << csv.out;
}

}  // namespace
}  // namespace ephport::lab
