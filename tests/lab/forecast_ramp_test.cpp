// The forecast of `ephport log` against a population driven in step with
// its samples: after each sample a scrape-like client leaves one more
// TIME_WAIT socket to one destination (a steady churn) and a leaky client
// keeps one more connection open to another. The churn never gives a
// forecast, though its port count rises for 60 s; the leak gives one once
// the samples span the 60 s warm-up, and not before. A flat population has
// a zero rate and no exhaustion. And time_wait_expiring against the
// kernel's timers: orphaned FIN_WAIT2 sockets under tcp_fin_timeout = 2 s
// are counted in a 5 s window and are gone within it; fresh TIME_WAIT
// sockets (60 s) are not counted.
//
// Nothing is asserted on how long anything took: the warm-up is judged on
// the sample times ephport itself wrote, and the time to exhaustion against
// the free count and rate of the same sample.

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "lab_support.h"
#include "util/time_format.h"

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

// Seconds between the first sample and `sample`, by their `time` fields.
double seconds_since_first(const std::vector<Json>& samples, const Json& sample) {
  auto time = [](const Json& one) {
    return parse_rfc3339(one.at("time").get<std::string>()).value();
  };
  return std::chrono::duration<double>(time(sample) - time(samples.front())).count();
}

TEST_F(ForecastLabTest, SteadyChurnIsNotForecastALeakIsAfterTheWarmUp) {
  constexpr int kSamples = 40;  // 2 s apart: 78 s, past the 60 s warm-up
  lab().set_range(40000, 40199);
  lab().set_tw_reuse(0);  // the churn's TIME_WAIT sockets block their ports
  lab().listen("127.0.0.1", kPort);
  lab().listen("127.0.0.1", kPort + 1);
  // Both rows are there from the first sample: their series start with it.
  lab().time_wait("127.0.0.1", "127.0.0.1", kPort, 1);
  lab().connect("127.0.0.1", "127.0.0.1", kPort + 1, 1);
  const std::string file = dir_.file("log.jsonl");
  EphportProcess process({"log", "--interval", "2", "--count", std::to_string(kSamples), "--format",
                          "jsonl", "--output", file, "--no-owners", "--no-evidence"});
  // Its console output is drained meanwhile, or a full pipe would stop it.
  RunResult run;
  std::thread drain([&] { run = process.finish(std::chrono::seconds(150)); });
  // After sample k is written: one more TIME_WAIT to kPort, one more open
  // connection to kPort + 1. Bounded: at most kSamples rounds, each waiting
  // at most 10 s for its sample.
  bool stalled = false;
  for (size_t seen = 0; seen < static_cast<size_t>(kSamples) - 1 && !stalled;) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    size_t lines = seen;
    while (lines == seen && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
      lines = std::filesystem::exists(file) ? line_count(read_file(file)) : 0;
    }
    stalled = lines == seen;
    for (; seen < lines; ++seen) {
      lab().time_wait("127.0.0.1", "127.0.0.1", kPort, 1);
      lab().connect("127.0.0.1", "127.0.0.1", kPort + 1, 1);
    }
  }
  if (stalled) {
    process.signal(SIGTERM);
  }
  drain.join();
  ASSERT_FALSE(stalled) << "a sample took more than 10 s: " << run.err;
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Json> samples;
  for (const std::string& line : split_lines(read_file(file))) {
    samples.push_back(Json::parse(line));
  }
  ASSERT_EQ(samples.size(), static_cast<size_t>(kSamples));

  int churn_in_use_max = 0;
  int forecasts = 0;
  for (size_t k = 1; k < samples.size(); ++k) {
    SCOPED_TRACE("sample " + std::to_string(k));
    const Json& sample = samples[k];
    const double since_first = seconds_since_first(samples, sample);
    const auto churn = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", kPort);
    const auto leak = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", kPort + 1);
    const auto address = find_address(sample, "tcp", "127.0.0.1");
    ASSERT_TRUE(churn && leak && address) << sample.dump();
    std::printf(
        "sample %zu at %.1f s: churn in_use %d time_wait %d forecast %s; leak in_use %d %s\n", k,
        since_first, churn->at("in_use").get<int>(), churn->at("time_wait").get<int>(),
        churn->at("forecast").dump().c_str(), leak->at("in_use").get<int>(),
        leak->at("forecast").dump().c_str());
    churn_in_use_max = std::max(churn_in_use_max, churn->at("in_use").get<int>());
    // The churn: never a time to exhaustion, rising or flat.
    EXPECT_TRUE(churn->at("forecast").at("exhausts_in_seconds").is_null()) << churn->dump();
    if (std::abs(since_first - 60) < 0.002) {
      continue;  // the printed times are rounded to the millisecond: either side of the warm-up
    }
    if (since_first < 60) {  // the warm-up: no forecast anywhere
      for (const Json& forecast : {leak->at("forecast"), address->at("forecast"),
                                   sample.at("protocols").at("tcp").at("pressure_forecast")}) {
        EXPECT_TRUE(forecast.at("exhausts_in_seconds").is_null()) << forecast.dump();
      }
      continue;
    }
    ++forecasts;
    // The leak, on its destination and on the address (net of the churn).
    expect_exhaustion_matches(leak->at("forecast"), leak->at("connect_free").get<int>());
    expect_exhaustion_matches(address->at("forecast"), address->at("bind_free").get<int>());
    const Json& pressure = sample.at("protocols").at("tcp").at("pressure_forecast");
    EXPECT_TRUE(pressure.at("exhausts_in_seconds").is_number()) << pressure.dump();
  }
  // The churn's count did rise (up to a TIME_WAIT per sample) and the leak
  // was forecast after the warm-up.
  EXPECT_GT(churn_in_use_max, 10);
  EXPECT_GT(forecasts, 0);
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
