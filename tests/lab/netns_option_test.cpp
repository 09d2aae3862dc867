// `--netns NAME|PATH`: ephport reads another namespace's sockets and sysctls
// from outside it. A named namespace (ip netns add) gets its own range and
// population, held by a forked child living in it; ephport runs from the
// test's namespace, which has a different range and population.

#include <unistd.h>

#include "lab_support.h"
#include "netns_holder.h"

namespace ephport::lab {
namespace {

// The named namespace's population: range 41000-41029, a listener on
// 127.0.0.1:9090, 7 connections to it, 2 TIME_WAIT, 1 bound-only socket.
// Ready line: the number of ports used. Commands: 'c' counts connect()s to
// 127.0.0.1:9090, 'b' counts bind(127.0.0.1:0).
std::string build_population(Lab& lab) {
  lab.set_range(41000, 41029);
  lab.set_tw_reuse(0);
  lab.listen("127.0.0.1", 9090);
  const auto clients = lab.connect("127.0.0.1", "127.0.0.1", 9090, 7);
  const auto tw = lab.time_wait("127.0.0.1", "127.0.0.1", 9090, 2);
  const uint16_t bound = lab.bound_only(Proto::tcp, "127.0.0.1");
  const std::vector<uint16_t> bound_list = {bound};
  return std::to_string(distinct_ports(clients, tw, bound_list));
}

int count_until_refused(Lab& lab, char command) {
  int count = 0;
  if (command == 'c') {
    count = lab.count_connects_until_refused("127.0.0.1", "127.0.0.1", 9090);
  } else if (command == 'b') {
    count = lab.count_binds_until_refused(Proto::tcp, "127.0.0.1");
  }
  lab.release_probes();
  return count;
}

class NetnsOptionTest : public LabTest {};

TEST_F(NetnsOptionTest, ReadsTheNamedNamespace) {
  // The test's own namespace: a different range and population.
  lab().set_range(40000, 40099);
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 4);

  NamedNetns netns("ephport-test-" + std::to_string(::getpid()));
  NetnsHolder holder(netns.path(), build_population, count_until_refused);
  const int used = std::stoi(holder.wait_ready());

  for (const std::string& selector : {netns.name(), netns.path()}) {
    SCOPED_TRACE("--netns " + selector);
    const Json snap = snapshot_json({"--netns", selector});
    const Json& tcp = snap.at("protocols").at("tcp");
    EXPECT_EQ(tcp.at("range").at("first"), 41000);
    EXPECT_EQ(tcp.at("range").at("last"), 41029);
    EXPECT_EQ(tcp.at("capacity"), 30);
    EXPECT_EQ(snap.at("protocols").at("udp").at("capacity"), 30);
    // listener, 7 clients, 7 children, 2 TIME_WAIT, 1 bound-only
    EXPECT_EQ(tcp.at("sockets"), 18);
    EXPECT_EQ(tcp.at("destination_count"), 1) << tcp.at("destinations").dump();
    EXPECT_FALSE(find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 8080))
        << "a destination of the caller's namespace";
    const auto row = find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 9090);
    ASSERT_TRUE(row) << tcp.at("destinations").dump();
    EXPECT_EQ(row->at("in_use"), 9);
    EXPECT_EQ(row->at("time_wait"), 2);
    // 30 ports, 1 in bind() state (the bound-only socket), 9 held by the group.
    EXPECT_EQ(row->at("connect_free"), 20);
    const auto address = find_address(snap, "tcp", "127.0.0.1");
    ASSERT_TRUE(address) << tcp.at("addresses").dump();
    EXPECT_EQ(address->at("bind_free"), 30 - used);
    EXPECT_EQ(address->at("connect_free_new_destination"), 29);
    EXPECT_EQ(address->at("listening_ports"), 1);

    // The kernel of that namespace agrees.
    EXPECT_EQ(holder.ask('c'), row->at("connect_free").get<int>());
    EXPECT_EQ(holder.ask('b'), address->at("bind_free").get<int>());
  }
}

TEST_F(NetnsOptionTest, MissingNamespaceIsAUsageError) {
  for (const std::string& selector :
       {std::string("/no/such"), "ephport-test-absent-" + std::to_string(::getpid())}) {
    SCOPED_TRACE(selector);
    const RunResult run = run_ephport({"snapshot", "--format", "json", "--netns", selector});
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find(selector), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

}  // namespace
}  // namespace ephport::lab
