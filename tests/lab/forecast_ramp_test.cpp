// The forecast of `ephport log` against a scripted population: a ramp of
// 5 connections per second gives a rate near 5/s and an exhaustion time that
// is connect_free / rate; a flat population gives no exhaustion. And
// time_wait_expiring against the kernel's timers: orphaned FIN_WAIT2 sockets
// under tcp_fin_timeout = 2 s are counted in a 5 s window and are gone within
// it; fresh TIME_WAIT sockets (60 s) are not counted.
//
// The ramp is paced by the test, but the samples and the connects are
// scheduled by the kernel, so rates are checked in a band; the relation
// between the reported figures is checked to rounding.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <thread>

#include "lab_support.h"

namespace ephport::lab {
namespace {

using std::chrono::milliseconds;

constexpr uint16_t kPort = 8080;

class ForecastLabTest : public LabTest {
 protected:
  // Runs `ephport log` for `count` samples `interval` seconds apart and
  // returns the JSONL samples it wrote.
  std::vector<Json> log_samples(const std::string& interval, int count) {
    const std::string file = dir_.file("log.jsonl");
    EphportProcess process({"log", "--interval", interval, "--count", std::to_string(count),
                            "--format", "jsonl", "--output", file, "--no-owners"});
    const RunResult run = process.finish(std::chrono::seconds(30));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    std::vector<Json> samples;
    for (const std::string& line : split_lines(read_file(file))) {
      samples.push_back(Json::parse(line));
    }
    EXPECT_EQ(samples.size(), static_cast<size_t>(count));
    return samples;
  }

  TempDir dir_;
};

// `forecast` is consistent with `free` ports left: the time to exhaustion is
// free / rate, to the rounding of the two printed figures (rate to four
// significant digits, time to 0.1 s).
void expect_exhaustion_matches(const Json& forecast, int free) {
  ASSERT_TRUE(forecast.at("rate_per_second").is_number()) << forecast.dump();
  ASSERT_TRUE(forecast.at("exhausts_in_seconds").is_number()) << forecast.dump();
  const double rate = forecast.at("rate_per_second").get<double>();
  const double exhausts = forecast.at("exhausts_in_seconds").get<double>();
  const double expected = free / rate;
  EXPECT_NEAR(exhausts, expected, 0.05 + expected * 1e-3) << forecast.dump() << " free " << free;
}

TEST_F(ForecastLabTest, RampOfFiveConnectionsPerSecond) {
  lab().set_range(40000, 40099);
  lab().listen("127.0.0.1", kPort);
  // 5 connections per second on a fixed schedule, for at most 9 s (45 of the
  // 100 ports); the log takes 6 samples a second apart meanwhile.
  std::atomic<bool> stop{false};
  std::string ramp_error;
  std::thread ramp([&] {
    try {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 45 && !stop; ++i) {
        std::this_thread::sleep_until(start + milliseconds(200) * i);
        lab().connect("127.0.0.1", "127.0.0.1", kPort, 1);
      }
    } catch (const std::exception& error) {
      ramp_error = error.what();
    }
  });
  std::this_thread::sleep_for(milliseconds(500));
  const std::vector<Json> samples = log_samples("1", 6);
  stop = true;
  ramp.join();
  ASSERT_EQ(ramp_error, "");
  ASSERT_EQ(samples.size(), 6u);

  for (size_t k = 0; k < samples.size(); ++k) {
    SCOPED_TRACE("sample " + std::to_string(k));
    const Json& sample = samples[k];
    EXPECT_EQ(sample.at("expiry_window_ms"), 1000);
    const auto destination = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", kPort);
    const auto address = find_address(sample, "tcp", "127.0.0.1");
    ASSERT_TRUE(destination && address) << sample.dump();
    const Json& forecast = destination->at("forecast");
    std::printf("sample %zu: in_use %d connect_free %d forecast %s; address bind_free %d %s\n", k,
                destination->at("in_use").get<int>(), destination->at("connect_free").get<int>(),
                forecast.dump().c_str(), address->at("bind_free").get<int>(),
                address->at("forecast").dump().c_str());
    if (k == 0) {
      EXPECT_TRUE(forecast.at("rate_per_second").is_null()) << forecast.dump();
      EXPECT_TRUE(forecast.at("exhausts_in_seconds").is_null()) << forecast.dump();
      continue;
    }
    ASSERT_TRUE(forecast.at("rate_per_second").is_number()) << forecast.dump();
    if (k < 3) {
      continue;  // two or three points a second apart: too few to hold to a band
    }
    // The ramp is 5/s; each sample sees it to within a connection or so.
    EXPECT_GE(forecast.at("rate_per_second").get<double>(), 3.5) << forecast.dump();
    EXPECT_LE(forecast.at("rate_per_second").get<double>(), 6.5) << forecast.dump();
    expect_exhaustion_matches(forecast, destination->at("connect_free").get<int>());
    // One destination, no port shared: the address consumes at the same pace.
    const Json& by_address = address->at("forecast");
    EXPECT_GE(by_address.at("rate_per_second").get<double>(), 3.5) << by_address.dump();
    EXPECT_LE(by_address.at("rate_per_second").get<double>(), 6.5) << by_address.dump();
    expect_exhaustion_matches(by_address, address->at("bind_free").get<int>());
    const Json& pressure = sample.at("protocols").at("tcp").at("pressure_forecast");
    EXPECT_TRUE(pressure.at("exhausts_in_seconds").is_number()) << pressure.dump();
  }
}

TEST_F(ForecastLabTest, FlatPopulationNeverExhausts) {
  lab().set_range(40000, 40099);
  lab().listen("127.0.0.1", kPort);
  lab().connect("127.0.0.1", "127.0.0.1", kPort, 10);
  const std::vector<Json> samples = log_samples("0.5", 4);
  ASSERT_EQ(samples.size(), 4u);
  for (size_t k = 1; k < samples.size(); ++k) {
    SCOPED_TRACE("sample " + std::to_string(k));
    const auto destination = find_destination(samples[k], "tcp", "127.0.0.1", "127.0.0.1", kPort);
    const auto address = find_address(samples[k], "tcp", "127.0.0.1");
    ASSERT_TRUE(destination && address) << samples[k].dump();
    for (const Json& forecast : {destination->at("forecast"), address->at("forecast"),
                                 samples[k].at("protocols").at("tcp").at("pressure_forecast")}) {
      EXPECT_EQ(forecast.at("rate_per_second"), 0.0) << forecast.dump();
      EXPECT_TRUE(forecast.at("exhausts_in_seconds").is_null()) << forecast.dump();
    }
  }
}

// Orphaned FIN_WAIT2 sockets follow the namespace's tcp_fin_timeout (2 s
// here); TIME_WAIT lasts 60 s whatever it says.
TEST_F(ForecastLabTest, ExpiringOrphansAreCountedFreshTimeWaitIsNot) {
  lab().set_range(40000, 40099);
  lab().set_tw_reuse(0);  // every timewait socket blocks its 4-tuple
  write_sysctl("net/ipv4/tcp_fin_timeout", "2");
  lab().listen("127.0.0.1", kPort);
  lab().listen("127.0.0.1", kPort + 1);
  const auto fresh_same = lab().time_wait("127.0.0.1", "127.0.0.1", kPort, 2);
  const auto fresh_other = lab().time_wait("127.0.0.1", "127.0.0.1", kPort + 1, 4);
  // The orphans go last: they live 2 s once in FIN_WAIT2, which they reach
  // as soon as the peer's ACK of their FIN is in.
  const auto orphans = lab().orphan_fin_wait("127.0.0.1", "127.0.0.1", kPort, 3);
  std::this_thread::sleep_for(milliseconds(100));
  auto states = [](const Json& snapshot, const char* state) {
    const Json& counts = snapshot.at("protocols").at("tcp").at("states");
    return counts.contains(state) ? counts.at(state).get<int>() : 0;
  };

  const auto started = std::chrono::steady_clock::now();
  const std::vector<Json> samples = log_samples("5", 1);
  const auto sampled = std::chrono::steady_clock::now();
  ASSERT_EQ(samples.size(), 1u);
  const Json& sample = samples[0];
  ASSERT_EQ(states(sample, "FIN_WAIT2"), 3) << sample.at("protocols").at("tcp").dump();
  EXPECT_EQ(sample.at("expiry_window_ms"), 5000);
  const auto to_port = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", kPort);
  const auto to_other = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", kPort + 1);
  ASSERT_TRUE(to_port && to_other) << sample.dump();
  EXPECT_EQ(to_port->at("in_use"), 5) << to_port->dump();
  EXPECT_EQ(to_port->at("time_wait"), 2) << to_port->dump();
  EXPECT_EQ(to_port->at("time_wait_expiring"), 3) << to_port->dump();  // the orphans only
  EXPECT_EQ(to_other->at("time_wait_expiring"), 0) << to_other->dump();
  // On the address: the orphans' ports that no fresh TIME_WAIT shares
  // (connect() may reuse a port for the other destination).
  std::set<uint16_t> freeing(orphans.begin(), orphans.end());
  for (uint16_t port : fresh_same) {
    freeing.erase(port);
  }
  for (uint16_t port : fresh_other) {
    freeing.erase(port);
  }
  const auto address = find_address(sample, "tcp", "127.0.0.1");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->at("time_wait_expiring").get<size_t>(), freeing.size()) << address->dump();
  std::printf(
      "expiring: destination %d, address %d (of %zu orphan ports), sampled in %lld ms\n",
      to_port->at("time_wait_expiring").get<int>(), address->at("time_wait_expiring").get<int>(),
      freeing.size(),
      static_cast<long long>(std::chrono::duration_cast<milliseconds>(sampled - started).count()));

  // The kernel agrees: within the window the orphans are gone, the fresh
  // TIME_WAIT sockets are not.
  Json after;
  while (std::chrono::steady_clock::now() < sampled + std::chrono::seconds(5)) {
    after = snapshot_json({"--no-owners"});
    if (states(after, "FIN_WAIT2") == 0) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_EQ(states(after, "FIN_WAIT2"), 0) << after.at("protocols").at("tcp").dump();
  EXPECT_EQ(states(after, "TIME_WAIT"), 6) << after.at("protocols").at("tcp").dump();

  // A single snapshot counts nothing: null, not 0.
  EXPECT_EQ(after.at("expiry_window_ms"), 0);
  EXPECT_TRUE(find_address(after, "tcp", "127.0.0.1")->at("time_wait_expiring").is_null());
  EXPECT_TRUE(find_destination(after, "tcp", "127.0.0.1", "127.0.0.1", kPort + 1)
                  ->at("time_wait_expiring")
                  .is_null());
}

}  // namespace
}  // namespace ephport::lab
