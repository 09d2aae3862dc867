// Configured addresses (rtnetlink, carried in SampleFacts and captures):
// each gets an address row with its bind_free even with no socket of its
// own, the table shows those rows only with --all-addresses, and captures
// round-trip the list (older captures without it still load).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aggregator_fixtures.h"
#include "collect/import/capture_file.h"
#include "output/address_rows.h"
#include "output/json.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::ip;
using testing::row_for;
using testing::small_host;
using testing::socket_of;

// 127.0.0.1 holds two ports; 0.0.0.0 one (a bind(0) on the wildcard, which
// every IPv4 address must avoid); 10.7.0.5 and fd00::5 are configured with
// no socket of their own.
Analysis analysis_with_configured(bool configured) {
  Aggregator aggregator(small_host(), nullptr);
  if (configured) {
    aggregator.add_configured_addresses({ip("fd00::5"), ip("127.0.0.1"), ip("10.7.0.5")});
  }
  aggregator.add(socket_of(Protocol::tcp, SockState::close, "0.0.0.0", 40003, "0.0.0.0", 0));
  aggregator.add(
      socket_of(Protocol::tcp, SockState::established, "127.0.0.1", 40000, "127.0.0.1", 80));
  aggregator.add(
      socket_of(Protocol::tcp, SockState::established, "127.0.0.1", 40001, "127.0.0.1", 80));
  return aggregator.finish(0);
}

TEST(ConfiguredAddresses, EachGetsARowWithItsBindFree) {
  Analysis analysis = analysis_with_configured(true);
  const AddressRow& quiet_v4 = row_for(analysis.tcp, "10.7.0.5");
  EXPECT_FALSE(quiet_v4.own_sockets);
  EXPECT_EQ(quiet_v4.configured, true);
  EXPECT_EQ(quiet_v4.ports_in_use, 1u);  // the wildcard's port
  EXPECT_EQ(quiet_v4.bind_free, 9u);
  const AddressRow& quiet_v6 = row_for(analysis.tcp, "fd00::5");
  EXPECT_EQ(quiet_v6.bind_free, 10u);  // an IPv4 wildcard does not hold IPv6 ports
  const AddressRow& busy = row_for(analysis.tcp, "127.0.0.1");
  EXPECT_TRUE(busy.own_sockets);
  EXPECT_EQ(busy.configured, true);
  EXPECT_EQ(busy.bind_free, 7u);
  EXPECT_EQ(row_for(analysis.udp, "10.7.0.5").bind_free, 10u);
  // Specific addresses sorted (IPv4 first), then the wildcards.
  std::vector<std::string> order;
  for (const AddressRow& row : analysis.tcp.addresses) {
    order.push_back(row.address.str());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"10.7.0.5", "127.0.0.1", "fd00::5", "0.0.0.0", "::"}));
  // JSON has them, marked.
  nlohmann::json document = nlohmann::json::parse(render_json(analysis));
  const auto& rows = document["protocols"]["tcp"]["addresses"];
  EXPECT_EQ(rows[0]["address"], "10.7.0.5");
  EXPECT_EQ(rows[0]["configured"], true);
  EXPECT_EQ(rows[0]["bind_free"], 9);
}

TEST(ConfiguredAddresses, WithoutTheListRowsAreThoseWithSockets) {
  Analysis analysis = analysis_with_configured(false);
  ASSERT_EQ(analysis.tcp.addresses.size(), 3u);  // 127.0.0.1, 0.0.0.0, ::
  EXPECT_FALSE(analysis.tcp.addresses[0].configured.has_value());
  nlohmann::json document = nlohmann::json::parse(render_json(analysis));
  EXPECT_TRUE(document["protocols"]["tcp"]["addresses"][0]["configured"].is_null());
}

TEST(ConfiguredAddresses, TheTableListsSocketlessOnesOnlyWhenAsked) {
  Analysis analysis = analysis_with_configured(true);
  auto addresses = [](const Sheet& sheet) {
    std::vector<std::string> out;
    for (const Cells& row : sheet.rows) {
      out.push_back(row[2] + "/" + row[8]);  // LocalAddress/Proto
    }
    return out;
  };
  EXPECT_EQ(addresses(address_sheet(analysis, true)), (std::vector<std::string>{"127.0.0.1/tcp"}));
  EXPECT_EQ(addresses(address_sheet(analysis, true, true)),
            (std::vector<std::string>{"10.7.0.5/tcp", "127.0.0.1/tcp", "fd00::5/tcp",
                                      "10.7.0.5/udp", "127.0.0.1/udp", "fd00::5/udp"}));
}

HostFacts capture_host() {
  HostFacts host = small_host();
  host.time = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));
  return host;
}

TEST(ConfiguredAddresses, CapturesRoundTripTheList) {
  testing::TempDir dir;
  const std::string path = dir.file("capture.jsonl");
  const std::vector<Address> configured = {ip("10.7.0.5"), ip("127.0.0.1"), ip("fd00::5")};
  {
    CaptureWriter writer(path);
    writer.write_host(capture_host(), nullptr, nullptr, &configured);
    writer.finish();
  }
  EXPECT_NE(
      testing::read_file(path).find(R"("local_addresses":["10.7.0.5","127.0.0.1","fd00::5"]})"),
      std::string::npos);
  CaptureExtras read;
  read_capture(
      path, HostVisitor{}, [](const SocketRecord&) {}, &read);
  ASSERT_TRUE(read.local_addresses.has_value());
  EXPECT_EQ(*read.local_addresses, configured);
}

TEST(ConfiguredAddresses, CapturesWithoutTheListStillLoad) {
  testing::TempDir dir;
  const std::string path = dir.file("capture.jsonl");
  {
    CaptureWriter writer(path);
    writer.write_host(capture_host());
    writer.finish();
  }
  std::string text = testing::read_file(path);
  const std::string field = R"(,"local_addresses":null)";
  ASSERT_NE(text.find(field), std::string::npos);
  CaptureExtras read;
  read_capture(
      path, HostVisitor{}, [](const SocketRecord&) {}, &read);
  EXPECT_FALSE(read.local_addresses.has_value());
  // Written before the field existed.
  text.erase(text.find(field), field.size());
  testing::write_file(path, text);
  read_capture(
      path, HostVisitor{}, [](const SocketRecord&) {}, &read);
  EXPECT_FALSE(read.local_addresses.has_value());
  // A bad list is refused, naming the field.
  text.insert(text.find("}\n"), R"(,"local_addresses":["not-an-address"])");
  testing::write_file(path, text);
  try {
    read_capture(
        path, HostVisitor{}, [](const SocketRecord&) {}, &read);
    ADD_FAILURE() << "a bad list was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("local_addresses"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ephport
