// Sinks: the seed's columns first, CSV quoting, the JSON contract's names.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "address_csv.h"
#include "analyze/aggregator.h"
#include "output/address_rows.h"
#include "output/csv.h"
#include "output/json.h"
#include "output/table.h"

namespace ephport {
namespace {

using testing::render_csv_header;
using testing::render_csv_rows;

Analysis sample_analysis() {
  HostFacts host;
  host.computer = "web-1";
  host.time = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));
  host.set_range({40000, 40099});
  host.source = SocketSource::netlink;
  Aggregator aggregator(host, nullptr);
  SocketRecord socket;
  socket.state = SockState::established;
  socket.local = *Address::parse("127.0.0.1");
  socket.remote = *Address::parse("127.0.0.1");
  socket.remote_port = 8080;
  // Even ports, as connect() picks them when the range starts even.
  for (uint16_t port = 40000; port < 40060; port += 2) {
    socket.local_port = port;
    aggregator.add(socket);
  }
  return aggregator.finish(10);
}

TEST(Output, TableStartsWithTheSeedColumns) {
  std::string table = render_table(address_sheet(sample_analysis(), true));
  EXPECT_EQ(table.rfind("Computer DateTime", 0), 0u) << table;
  EXPECT_NE(table.find("LocalAddress #OfEPortsInUse Max#OfEPorts %EPortUsage "
                       "#OfTcpListeningPorts #OfPids Proto BindFree"),
            std::string::npos)
      << table;
  // web-1, time, 127.0.0.1, 30 in use of 100, 30.0 %, 0 listening, pids unresolved.
  EXPECT_NE(table.find("web-1    2025-11-25T14:34:44Z 127.0.0.1"), std::string::npos) << table;
  EXPECT_NE(table.find(" 30          100        30.0"), std::string::npos) << table;
}

// A bind_free that rests on a guessed V6ONLY is marked like the other
// estimates in the table, and stays a plain number in CSV.
TEST(Output, GuessedBindFreeIsMarkedInTheTable) {
  Analysis analysis = sample_analysis();
  AddressRow& row = analysis.tcp.addresses.front();
  ASSERT_EQ(row.address.str(), "127.0.0.1");
  EXPECT_EQ(render_table(address_sheet(analysis, true)).find(" ~70 "), std::string::npos);
  row.bind_free_min = 68;
  row.bind_free_max = 70;
  EXPECT_NE(render_table(address_sheet(analysis, true)).find(" ~70 "), std::string::npos)
      << render_table(address_sheet(analysis, true));
  EXPECT_NE(render_csv_rows(analysis).find(",tcp,70,"), std::string::npos);
}

TEST(Output, CsvHasOneHeaderAndOneRowPerAddress) {
  Analysis analysis = sample_analysis();
  EXPECT_EQ(render_csv_header(),
            "Computer,DateTime,LocalAddress,#OfEPortsInUse,Max#OfEPorts,%EPortUsage,"
            "#OfTcpListeningPorts,#OfPids,Proto,BindFree,ConnFreeNewDest,TimeWait,"
            "WorstDestination,WorstDest%,Rate/s,ExhaustsIn,TWExpiring\n");
  EXPECT_EQ(render_csv_rows(analysis),
            "web-1,2025-11-25T14:34:44Z,127.0.0.1,30,100,30.0,0,-,tcp,70,100,0,"
            "127.0.0.1:8080,30.0,-,-,-\n");
}

TEST(Output, CsvQuotesCellsThatNeedIt) {
  Analysis analysis = sample_analysis();
  analysis.host.computer = "odd,\"name\"";
  EXPECT_EQ(render_csv_rows(analysis).rfind("\"odd,\"\"name\"\"\",", 0), 0u);
}

TEST(Output, JsonFollowsTheSnapshotContract) {
  nlohmann::ordered_json json = snapshot_json(sample_analysis());
  EXPECT_EQ(json["schema"], "ephport.snapshot/1");
  EXPECT_EQ(json["computer"], "web-1");
  EXPECT_EQ(json["time"], "2025-11-25T14:34:44.000Z");
  const nlohmann::ordered_json& tcp = json["protocols"]["tcp"];
  EXPECT_EQ(tcp["range"]["first"], 40000);
  EXPECT_EQ(tcp["capacity"], 100);
  EXPECT_EQ(tcp["pressure_percent"], 30.0);
  ASSERT_EQ(tcp["destinations"].size(), 1u);
  EXPECT_EQ(tcp["destinations"][0]["in_use"], 30);
  EXPECT_EQ(tcp["destinations"][0]["connect_free"], 70);
  EXPECT_EQ(tcp["destinations"][0]["remote_port"], 8080);
  ASSERT_EQ(tcp["addresses"].size(), 3u);
  EXPECT_EQ(tcp["addresses"][0]["address"], "127.0.0.1");
  EXPECT_EQ(tcp["addresses"][0]["bind_free"], 70);
  EXPECT_EQ(tcp["addresses"][0]["states"]["ESTABLISHED"], 30);
  EXPECT_TRUE(tcp["addresses"][0]["pids"].is_null());  // owners not resolved
  EXPECT_EQ(tcp["addresses"][1]["address"], "0.0.0.0");
  EXPECT_EQ(tcp["addresses"][2]["address"], "::");
  EXPECT_TRUE(json["protocols"]["udp"]["destinations"].empty());
}

TEST(Output, JsonlIsOneLine) {
  std::string line = render_jsonl(sample_analysis());
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(nlohmann::json::parse(line)["schema"], "ephport.snapshot/1");
}

}  // namespace
}  // namespace ephport
