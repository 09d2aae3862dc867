// Per-process figures and unowned sockets, on the captured fixture tree
// (tests/fixtures/proc: /proc/net of a scenario process, its fd links and
// its forked child's).

#include <gtest/gtest.h>

#include <algorithm>

#include "aggregator_fixtures.h"
#include "analyze/aggregator.h"
#include "analyze/process_filter.h"
#include "collect/linux/linux_collector.h"
#include "collect/linux/proc_owners.h"
#include "collect/linux/sysctl.h"
#include "collect_fixtures.h"
#include "snapshot/owner_table.h"

namespace ephport {
namespace {

using testing::fixture_path;

Analysis analyse_fixture(bool with_owners) {
  CollectOptions options;
  options.source = Source::procfs;
  options.proc_root = fixture_path("proc");
  HostFacts host = read_host_facts(options.proc_root);
  OwnerTable owners = scan_proc_owners(options.proc_root);
  const OwnerScan scan = testing::scan_of(owners);
  Aggregator aggregator(host, with_owners ? &scan : nullptr);
  collect_sockets(options, [&](const SocketRecord& socket) {
    testing::add_owned(aggregator, with_owners ? &owners : nullptr, socket);
  });
  return aggregator.finish(10);
}

TEST(ProcessAttribution, NamesTheProcessHoldingPortsOfTheRange) {
  Analysis analysis = analyse_fixture(true);
  // 6784 (the child) holds only the shared 127.0.0.1:5000 listener, which is
  // outside 40000-40099: it holds no port of the range and is not listed.
  ASSERT_EQ(analysis.processes.size(), 1u);
  const ProcessRow& row = analysis.processes[0];
  EXPECT_EQ(row.pid, 6738u);
  EXPECT_EQ(row.sockets_in_range, 7u);
  EXPECT_EQ(row.protocol_sockets[static_cast<size_t>(Protocol::tcp)], 5u);
  EXPECT_EQ(row.protocol_sockets[static_cast<size_t>(Protocol::udp)], 2u);
  EXPECT_EQ(row.listening_ports, 4u);
  EXPECT_EQ(row.shared_sockets, 1u);  // the listener its child inherited
  EXPECT_EQ(row.states[0][static_cast<size_t>(SockState::established)], 5u);
  ASSERT_FALSE(row.destinations.empty());
  const ProcessDestination& top = row.destinations.front();
  EXPECT_EQ(top.remote_address.str(), "127.0.0.1");
  EXPECT_EQ(top.remote_port, 5000);
  EXPECT_EQ(top.sockets, 2u);
  ASSERT_FALSE(row.addresses.empty());
  EXPECT_EQ(row.addresses.front().address.str(), "127.0.0.1");
  EXPECT_EQ(row.addresses.front().sockets_in_range, 3u);
  EXPECT_EQ(analysis.owners.sockets_unattributed, 0u);
}

TEST(ProcessAttribution, ReportsTimewaitSocketsByDestinationWithTheirTimers) {
  Analysis analysis = analyse_fixture(true);
  const UnownedSockets& unowned = analysis.tcp.unowned;
  EXPECT_EQ(unowned.sockets, 3u);
  ASSERT_EQ(unowned.destinations.size(), 1u);
  const UnownedDestination& row = unowned.destinations[0];
  EXPECT_EQ(row.remote_port, 5000);
  EXPECT_EQ(row.time_wait, 3u);
  EXPECT_EQ(row.orphaned, 0u);
  EXPECT_GT(row.expires_min_ms, 0u);
  EXPECT_LE(row.expires_min_ms, row.expires_max_ms);
  EXPECT_LE(row.expires_max_ms, 60000u);
}

TEST(ProcessAttribution, WithoutOwnersListsNoProcessButStillTheUnownedSockets) {
  Analysis analysis = analyse_fixture(false);
  EXPECT_TRUE(analysis.processes.empty());
  EXPECT_FALSE(analysis.owners.resolved);
  EXPECT_EQ(analysis.tcp.unowned.sockets, 3u);
}

TEST(ProcessAttribution, CountsSocketsWhoseOwnerIsUnknown) {
  CollectOptions options;
  options.source = Source::procfs;
  options.proc_root = fixture_path("proc");
  HostFacts host = read_host_facts(options.proc_root);
  OwnerTable nobody;  // as if every process were unreadable
  const OwnerScan scan = testing::scan_of(nobody);
  Aggregator aggregator(host, &scan);
  uint64_t with_file = 0;
  collect_sockets(options, [&](const SocketRecord& socket) {
    with_file += socket.inode != 0 && !socket.is_request() ? 1 : 0;
    testing::add_owned(aggregator, &nobody, socket);
  });
  Analysis analysis = aggregator.finish(10);
  EXPECT_TRUE(analysis.processes.empty());
  EXPECT_EQ(analysis.owners.sockets_unattributed, with_file);
  EXPECT_GT(with_file, 0u);
}

// One local port serves several destinations: a process's sockets on ports
// of the range and the distinct ports they hold differ, per protocol and
// per address (issue #11: EPorts counted sockets and was read as ports).
TEST(ProcessAttribution, CountsSocketsAndDistinctPortsApart) {
  HostFacts host = testing::small_host();
  OwnerTable owners;
  auto owned = [&](Protocol protocol, const char* local, uint16_t port, const char* remote,
                   uint32_t inode) {
    SocketRecord socket =
        testing::socket_of(protocol, SockState::established, local, port, remote, 443);
    socket.inode = inode;
    owners.add(inode, 500);
    return socket;
  };
  std::vector<SocketRecord> sockets = {
      owned(Protocol::tcp, "127.0.0.1", 40000, "127.0.0.5", 1),
      owned(Protocol::tcp, "127.0.0.1", 40000, "127.0.0.6", 2),  // same port, other destination
      owned(Protocol::tcp, "127.0.0.1", 40001, "127.0.0.5", 3),
      owned(Protocol::tcp, "127.0.0.2", 40000, "127.0.0.5", 4),  // same port, other address
      owned(Protocol::udp, "127.0.0.1", 40000, "127.0.0.5", 5),
  };
  const OwnerScan scan = testing::scan_of(owners);
  Aggregator aggregator(host, &scan);
  for (const SocketRecord& socket : sockets) {
    testing::add_owned(aggregator, &owners, socket);
  }
  Analysis analysis = aggregator.finish(0);
  ASSERT_EQ(analysis.processes.size(), 1u);
  const ProcessRow& row = analysis.processes[0];
  const auto tcp = static_cast<size_t>(Protocol::tcp);
  const auto udp = static_cast<size_t>(Protocol::udp);
  EXPECT_EQ(row.sockets_in_range, 5u);
  EXPECT_EQ(row.protocol_sockets[tcp], 4u);
  EXPECT_EQ(row.protocol_ports[tcp], 2u);  // 40000 and 40001, whatever the address
  EXPECT_EQ(row.protocol_sockets[udp], 1u);
  EXPECT_EQ(row.protocol_ports[udp], 1u);
  EXPECT_EQ(row.ports, 3u);  // TCP plus UDP: two pools
  ASSERT_EQ(row.addresses.size(), 3u);
  const ProcessAddress& busiest = row.addresses.front();
  EXPECT_EQ(busiest.address, testing::ip("127.0.0.1"));
  EXPECT_EQ(busiest.protocol, Protocol::tcp);
  EXPECT_EQ(busiest.sockets_in_range, 3u);
  EXPECT_EQ(busiest.ports, 2u);
}

ProcessRow named(uint32_t pid, const char* name, const char* exe) {
  ProcessRow row;
  row.pid = pid;
  row.info.emplace();
  row.info->pid = pid;
  row.info->name = name;
  row.info->exe = exe;
  return row;
}

TEST(ProcessFilter, MatchesPidNameOrExecutableBaseName) {
  Analysis analysis;
  analysis.processes = {named(10, "nginx", "/usr/sbin/nginx"),
                        named(11, "java", "/usr/lib/jvm/bin/java (deleted)"),
                        named(12, "python3", "/usr/bin/python3.11")};
  ProcessRow exited;
  exited.pid = 13;
  analysis.processes.push_back(exited);

  Analysis by_pid = analysis;
  keep_matching_processes(by_pid, {{13}, {}});
  ASSERT_EQ(by_pid.processes.size(), 1u);
  EXPECT_EQ(by_pid.processes[0].pid, 13u);

  Analysis by_name = analysis;
  keep_matching_processes(by_name, {{}, {"java", "python3.11"}});
  ASSERT_EQ(by_name.processes.size(), 2u);  // "(deleted)" is not part of the name
  EXPECT_EQ(by_name.processes[0].pid, 11u);
  EXPECT_EQ(by_name.processes[1].pid, 12u);

  Analysis none = analysis;
  keep_matching_processes(none, {{99}, {"ngin"}});  // no prefix matches
  EXPECT_TRUE(none.processes.empty());

  Analysis all = analysis;
  keep_matching_processes(all, {});
  EXPECT_EQ(all.processes.size(), 4u);
}

}  // namespace
}  // namespace ephport
