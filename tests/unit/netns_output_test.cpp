// `--netns all` sinks: the Netns label and column, one summary block per
// namespace, the ephport.snapshots/1 wrapper.

#include "output/netns_output.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "address_csv.h"
#include "analyze/aggregator.h"
#include "output/csv.h"
#include "output/sheet.h"

namespace ephport {
namespace {

using testing::render_csv_header;
using testing::render_csv_rows;

// A namespace holding `connections` sockets from 127.0.0.1 to :9090 on
// consecutive ports of its range.
Analysis namespace_analysis(NetnsIdentity identity, PortRange range, uint16_t connections) {
  HostFacts host;
  host.computer = "node-7";
  host.time = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));
  host.set_range(range);
  host.source = SocketSource::netlink;
  host.netns = identity.name.empty() ? identity.path : identity.name;
  host.netns_identity = std::move(identity);
  Aggregator aggregator(host, nullptr);
  SocketRecord socket;
  socket.state = SockState::established;
  socket.local = *Address::parse("127.0.0.1");
  socket.remote = *Address::parse("127.0.0.1");
  socket.remote_port = 9090;
  for (uint16_t i = 0; i < connections; ++i) {
    socket.local_port = static_cast<uint16_t>(range.first + i);
    aggregator.add(socket);
  }
  return aggregator.finish(10);
}

NetnsSamples two_namespaces() {
  NetnsSamples samples;
  samples.computer = "node-7";
  samples.time = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));
  NetnsIdentity blue;
  blue.inode = 4026532800;
  blue.name = "blue";
  blue.path = "/run/netns/blue";
  NetnsIdentity web;
  web.inode = 4026532301;
  web.path = "/proc/1200/ns/net";
  web.pid = 1200;
  web.runtime = "docker";
  web.container = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";
  samples.namespaces.push_back(namespace_analysis(web, {41000, 41029}, 3));
  samples.namespaces.push_back(namespace_analysis(blue, {42000, 42049}, 5));
  samples.vanished = 1;
  return samples;
}

TEST(NetnsLabel, NameOrInodeThenWhoLivesThere) {
  NetnsIdentity identity;
  identity.inode = 4026532301;
  EXPECT_EQ(netns_label(identity), "4026532301");
  identity.name = "blue";
  EXPECT_EQ(netns_label(identity), "blue");
  identity.unit = "demo.service";
  EXPECT_EQ(netns_label(identity), "blue/demo.service");
  identity.pod = "0f3c2a1e-5b7d-4c9e-8a6f-2d1e0c9b8a7f";
  EXPECT_EQ(netns_label(identity), "blue/pod:0f3c2a1e");
  identity.container = "3f4e5a6b7c8d9e0f1a2b";
  EXPECT_EQ(netns_label(identity), "blue/3f4e5a6b7c8d");
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t end = text.find(separator); end != std::string::npos;
       start = end + 1, end = text.find(separator, start)) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

TEST(NetnsOutput, CsvCarriesNetnsAfterTheSeedColumns) {
  auto render_netns_csv_header = [] {
    return render_csv(Sheet{netns_address_sheet({}, false).columns, {}});
  };
  auto render_netns_csv_rows = [](const NetnsSamples& samples) {
    return render_csv(netns_address_sheet(samples, false), false);
  };
  // The single-namespace header with Netns after #OfPids.
  std::string expected = render_csv_header();
  expected.insert(expected.find(",Proto,"), ",Netns");
  ASSERT_EQ(render_netns_csv_header(), expected);
  EXPECT_EQ(render_netns_csv_header().rfind(
                "Computer,DateTime,LocalAddress,#OfEPortsInUse,Max#OfEPorts,%EPortUsage,"
                "#OfTcpListeningPorts,#OfPids,Netns,Proto,",
                0),
            0u);

  const std::vector<std::string> header = split(render_netns_csv_header(), ',');
  auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  std::vector<std::string> lines = split(render_netns_csv_rows(two_namespaces()), '\n');
  ASSERT_EQ(lines.size(), 3u);  // two rows and the final newline
  EXPECT_EQ(lines[2], "");
  const std::vector<std::string> web = split(lines[0], ',');
  const std::vector<std::string> blue = split(lines[1], ',');
  ASSERT_EQ(web.size(), header.size());
  ASSERT_EQ(blue.size(), header.size());
  EXPECT_EQ(web[column("Netns")], "4026532301/3f4e5a6b7c8d");
  EXPECT_EQ(web[column("#OfEPortsInUse")], "3");
  EXPECT_EQ(web[column("Max#OfEPorts")], "30");
  EXPECT_EQ(web[column("Proto")], "tcp");
  EXPECT_EQ(blue[column("Netns")], "blue");
  EXPECT_EQ(blue[column("#OfEPortsInUse")], "5");
  EXPECT_EQ(blue[column("Max#OfEPorts")], "50");
  EXPECT_EQ(blue[column("WorstDestination")], "127.0.0.1:9090");
}

TEST(NetnsOutput, SnapshotTableHasOneBlockPerNamespace) {
  const std::string table = render_netns_snapshot_table(two_namespaces());
  EXPECT_EQ(table.rfind("Computer DateTime", 0), 0u) << table;
  EXPECT_NE(table.find(" #OfPids Netns                   Proto "), std::string::npos) << table;
  const size_t web = table.find("Network namespace 4026532301 (pid 1200, docker 3f4e5a6b7c8d):\n");
  const size_t blue = table.find("Network namespace blue (inode 4026532800):\n");
  ASSERT_NE(web, std::string::npos) << table;
  ASSERT_NE(blue, std::string::npos) << table;
  EXPECT_LT(web, blue);
  EXPECT_NE(table.find("tcp   41000-41029       30", web), std::string::npos) << table;
  EXPECT_NE(table.find("tcp   42000-42049       50", blue), std::string::npos) << table;
  // The shared notes once, at the end.
  const size_t owners = table.find("note: process owners not resolved");
  ASSERT_NE(owners, std::string::npos) << table;
  EXPECT_GT(owners, blue);
  EXPECT_EQ(table.find("note: process owners not resolved", owners + 1), std::string::npos);
  EXPECT_NE(table.find("note: 1 namespace(s) vanished"), std::string::npos) << table;
}

TEST(NetnsOutput, JsonWrapsOneSnapshotPerNamespace) {
  const nlohmann::ordered_json json = netns_snapshots_json(two_namespaces());
  EXPECT_EQ(json["schema"], "ephport.snapshots/1");
  EXPECT_EQ(json["computer"], "node-7");
  EXPECT_EQ(json["time"], "2025-11-25T14:34:44.000Z");
  EXPECT_EQ(json["namespaces_vanished"], 1);
  ASSERT_EQ(json["namespaces"].size(), 2u);
  const auto& web = json["namespaces"][0];
  EXPECT_EQ(web["schema"], "ephport.snapshot/1");
  // "netns" comes right after "time".
  auto key = web.begin();
  std::vector<std::string> first_keys;
  for (int i = 0; i < 4 && key != web.end(); ++i, ++key) {
    first_keys.push_back(key.key());
  }
  EXPECT_EQ(first_keys, (std::vector<std::string>{"schema", "computer", "time", "netns"}));
  EXPECT_EQ(web["netns"],
            nlohmann::ordered_json::parse(
                R"({"inode":4026532301,"name":null,"path":"/proc/1200/ns/net","pid":1200,)"
                R"("runtime":"docker","container":)"
                R"("3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",)"
                R"("pod":null,"unit":null})"));
  EXPECT_EQ(web["protocols"]["tcp"]["range"]["first"], 41000);
  EXPECT_EQ(web["protocols"]["tcp"]["capacity"], 30);
  const auto& blue = json["namespaces"][1];
  EXPECT_EQ(blue["netns"]["name"], "blue");
  EXPECT_EQ(blue["netns"]["pid"], nullptr);
  EXPECT_EQ(blue["host"]["netns"], "blue");
  EXPECT_EQ(blue["protocols"]["tcp"]["capacity"], 50);
  EXPECT_EQ(blue["protocols"]["tcp"]["addresses"][0]["ports_in_use"], 5);
}

TEST(NetnsOutput, JsonlIsOneLinePerSample) {
  const std::string line = render_netns_jsonl(two_namespaces());
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(nlohmann::json::parse(line)["namespaces"].size(), 2u);
}

}  // namespace
}  // namespace ephport
