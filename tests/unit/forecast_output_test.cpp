// How the sinks show the forecast and the expiring timewait sockets: null and
// "-" for a single snapshot, rounded figures in a log.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "address_csv.h"
#include "analyze/aggregator.h"
#include "output/csv.h"
#include "output/json.h"

namespace ephport {
namespace {

using testing::render_csv_header;
using testing::render_csv_rows;

Analysis one_address(uint32_t expiry_window_ms) {
  HostFacts host;
  host.computer = "web-1";
  host.time = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));
  host.set_range({40000, 40099});
  host.linux_sysctls.tcp_tw_reuse = 0;  // the TIME_WAIT blocks its 4-tuple
  Aggregator aggregator(host, nullptr);
  aggregator.set_expiry_window_ms(expiry_window_ms);
  SocketRecord socket;
  socket.state = SockState::time_wait;
  socket.timer = 3;
  socket.expires_ms = 1000;
  socket.local = *Address::parse("127.0.0.1");
  socket.remote = *Address::parse("127.0.0.1");
  socket.remote_port = 8080;
  socket.local_port = 40000;
  aggregator.add(socket);
  return aggregator.finish(10);
}

TEST(ForecastOutput, ASnapshotHasNullsAndDashes) {
  Analysis analysis = one_address(0);
  nlohmann::ordered_json json = snapshot_json(analysis);
  EXPECT_EQ(json["expiry_window_ms"], 0);
  const auto& tcp = json["protocols"]["tcp"];
  const auto& address = tcp["addresses"][0];
  EXPECT_TRUE(address["time_wait_expiring"].is_null());
  EXPECT_TRUE(address["forecast"]["rate_per_second"].is_null());
  EXPECT_TRUE(address["forecast"]["exhausts_in_seconds"].is_null());
  EXPECT_TRUE(address["worst_destination"]["time_wait_expiring"].is_null());
  EXPECT_TRUE(address["worst_destination"]["forecast"]["rate_per_second"].is_null());
  EXPECT_TRUE(tcp["destinations"][0]["time_wait_expiring"].is_null());
  EXPECT_TRUE(tcp["destinations"][0]["forecast"]["exhausts_in_seconds"].is_null());
  EXPECT_TRUE(tcp["pressure_forecast"]["rate_per_second"].is_null());
  std::string row = render_csv_rows(analysis);
  EXPECT_EQ(row.substr(row.find("8080,")), "8080,1.0,-,-,-\n") << row;
}

TEST(ForecastOutput, ALogSampleShowsRoundedFigures) {
  Analysis analysis = one_address(5000);
  AddressRow& address = analysis.tcp.addresses[0];
  address.forecast.rate_per_second = 4.987654321;
  address.forecast.exhausts_in_seconds = 19.84561;
  DestinationRow& listed = analysis.tcp.destinations[0];
  listed.forecast.rate_per_second = 1.0 / 3600;  // a port an hour
  listed.forecast.exhausts_in_seconds = 356400.04;
  analysis.tcp.pressure_forecast = address.forecast;

  nlohmann::ordered_json json = snapshot_json(analysis);
  EXPECT_EQ(json["expiry_window_ms"], 5000);
  const auto& tcp = json["protocols"]["tcp"];
  EXPECT_EQ(tcp["addresses"][0]["time_wait_expiring"], 1);
  EXPECT_EQ(tcp["addresses"][0]["forecast"]["rate_per_second"], 4.988);
  EXPECT_EQ(tcp["addresses"][0]["forecast"]["exhausts_in_seconds"], 19.8);
  EXPECT_EQ(tcp["destinations"][0]["time_wait_expiring"], 1);
  EXPECT_EQ(tcp["destinations"][0]["forecast"]["rate_per_second"], 0.0002778);
  EXPECT_EQ(tcp["destinations"][0]["forecast"]["exhausts_in_seconds"], 356400.0);
  EXPECT_EQ(tcp["pressure_forecast"]["exhausts_in_seconds"], 19.8);

  std::string row = render_csv_rows(analysis);
  EXPECT_EQ(row.substr(row.find("8080,")), "8080,1.0,4.99,20,1\n") << row;
  address.forecast.rate_per_second = -1.0 / 3600;
  address.forecast.exhausts_in_seconds.reset();
  row = render_csv_rows(analysis);
  EXPECT_EQ(row.substr(row.find("8080,")), "8080,1.0,-0.00028,-,1\n") << row;
}

}  // namespace
}  // namespace ephport
