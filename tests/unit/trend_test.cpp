// The forecast over a loop's samples: least-squares rate per address and
// destination, time to exhaustion at that rate, bounded history, and series
// dropped with their rows. Synthetic analyses, so every figure is exact.

#include "analyze/trend.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace ephport {
namespace {

constexpr uint32_t kCapacity = 100;

Address ip(const char* text) {
  return *Address::parse(text);
}

// One TCP sample at `seconds`: 127.0.0.1 with `ports_in_use`, and its
// destinations 127.0.0.1:8080.. with `used` (capacity - connect_free) each,
// the first being the address's worst.
Analysis sample(double seconds, uint32_t ports_in_use, const std::vector<uint32_t>& used,
                const std::string& netns = "") {
  Analysis analysis;
  analysis.host.netns = netns;
  analysis.host.time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1764081284000 + std::llround(seconds * 1000)));
  analysis.has_udp = false;
  ProtocolAnalysis& tcp = analysis.tcp;
  tcp.capacity = kCapacity;
  for (size_t i = 0; i < used.size(); ++i) {
    DestinationRow row;
    row.local_address = ip("127.0.0.1");
    row.remote_address = ip("127.0.0.1");
    row.remote_port = static_cast<uint16_t>(8080 + i);
    row.connect_free = kCapacity - used[i];
    row.usage_percent = used[i];
    tcp.destinations.push_back(row);
  }
  AddressRow address;
  address.address = ip("127.0.0.1");
  address.ports_in_use = ports_in_use;
  address.bind_free = kCapacity - ports_in_use;
  address.usage_percent = ports_in_use;
  if (!tcp.destinations.empty()) {
    address.worst_destination = tcp.destinations.front();
  }
  tcp.addresses.push_back(address);
  return analysis;
}

// The figure, or NaN (failing the test) when it is empty.
double rate_of(const Forecast& forecast) {
  EXPECT_TRUE(forecast.rate_per_second) << "no rate";
  return forecast.rate_per_second.value_or(std::nan(""));
}

double exhausts_of(const Forecast& forecast) {
  EXPECT_TRUE(forecast.exhausts_in_seconds) << "no time to exhaustion";
  return forecast.exhausts_in_seconds.value_or(std::nan(""));
}

const Forecast& address_forecast(const Analysis& analysis) {
  return analysis.tcp.addresses.front().forecast;
}

TEST(Trend, FirstSampleHasNoRate) {
  Trend trend;
  Analysis first = sample(0, 10, {20});
  trend.observe_and_annotate(first);
  EXPECT_FALSE(address_forecast(first).rate_per_second);
  EXPECT_FALSE(address_forecast(first).exhausts_in_seconds);
  EXPECT_FALSE(first.tcp.destinations.front().forecast.rate_per_second);
  EXPECT_FALSE(first.tcp.pressure_forecast.rate_per_second);
}

TEST(Trend, SteadyRampGivesTheExactSlopeAndTimeToExhaustion) {
  Trend trend;
  // Uneven intervals: the fit uses the sample times, not their count.
  const std::vector<double> times = {0, 1, 2, 4, 5};
  for (size_t k = 0; k < times.size(); ++k) {
    double t = times[k];
    // Address: 10 + 4/s; destination: 20 + 5/s.
    Analysis analysis =
        sample(t, static_cast<uint32_t>(10 + 4 * t), {static_cast<uint32_t>(20 + 5 * t)});
    trend.observe_and_annotate(analysis);
    if (k == 0) {
      continue;
    }
    SCOPED_TRACE(k);
    const AddressRow& address = analysis.tcp.addresses.front();
    EXPECT_NEAR(rate_of(address.forecast), 4.0, 1e-9);
    EXPECT_NEAR(exhausts_of(address.forecast), address.bind_free / 4.0, 1e-9);

    // The listed destination and the same one as the address's worst.
    for (const DestinationRow* row : std::initializer_list<const DestinationRow*>{
             &analysis.tcp.destinations.front(), &*address.worst_destination}) {
      EXPECT_NEAR(rate_of(row->forecast), 5.0, 1e-9);
      EXPECT_NEAR(exhausts_of(row->forecast), row->connect_free / 5.0, 1e-9);
    }
    // The destination runs out first: (80 - 5t)/5 < (90 - 4t)/4.
    EXPECT_NEAR(exhausts_of(analysis.tcp.pressure_forecast),
                analysis.tcp.destinations.front().connect_free / 5.0, 1e-9);
    EXPECT_NEAR(rate_of(analysis.tcp.pressure_forecast), 5.0, 1e-9);
  }
}

TEST(Trend, FlatPopulationHasZeroRateAndNoExhaustion) {
  Trend trend;
  for (int k = 0; k < 4; ++k) {
    Analysis analysis = sample(k, 30, {30});
    trend.observe_and_annotate(analysis);
    if (k > 0) {
      EXPECT_EQ(address_forecast(analysis).rate_per_second, 0.0);
      EXPECT_FALSE(address_forecast(analysis).exhausts_in_seconds);
      EXPECT_EQ(analysis.tcp.destinations.front().forecast.rate_per_second, 0.0);
      EXPECT_FALSE(analysis.tcp.destinations.front().forecast.exhausts_in_seconds);
      // Nothing exhausts: the busiest row's forecast, without a time.
      EXPECT_EQ(analysis.tcp.pressure_forecast.rate_per_second, 0.0);
      EXPECT_FALSE(analysis.tcp.pressure_forecast.exhausts_in_seconds);
    }
  }
}

TEST(Trend, FallingPopulationHasANegativeRateAndNoExhaustion) {
  Trend trend;
  for (int k = 0; k < 4; ++k) {
    Analysis analysis = sample(2 * k, 60 - 6 * k, {static_cast<uint32_t>(50 - 3 * k)});
    trend.observe_and_annotate(analysis);
    if (k > 0) {
      EXPECT_NEAR(rate_of(address_forecast(analysis)), -3.0, 1e-9);
      EXPECT_FALSE(address_forecast(analysis).exhausts_in_seconds);
      EXPECT_NEAR(rate_of(analysis.tcp.destinations.front().forecast), -1.5, 1e-9);
      EXPECT_FALSE(analysis.tcp.destinations.front().forecast.exhausts_in_seconds);
    }
  }
}

TEST(Trend, HistoryKeepsOnlyTheLastSamples) {
  // Flat for 5 samples, then +10 per second: with 3 samples kept the fit sees
  // only the ramp; with 10 it still sees the flat part.
  Trend short_history(3);
  Trend long_history(10);
  std::vector<uint32_t> values = {10, 10, 10, 10, 10, 20, 30};
  Analysis last_short;
  Analysis last_long;
  for (size_t k = 0; k < values.size(); ++k) {
    last_short = sample(k, values[k], {});
    last_long = sample(k, values[k], {});
    short_history.observe_and_annotate(last_short);
    long_history.observe_and_annotate(last_long);
  }
  EXPECT_NEAR(rate_of(address_forecast(last_short)), 10.0, 1e-9);
  EXPECT_LT(rate_of(address_forecast(last_long)), 5.0);
  // A history below 2 could never fit a rate: it is raised to 2.
  Trend tiny(1);
  Analysis a = sample(0, 10, {});
  Analysis b = sample(1, 12, {});
  tiny.observe_and_annotate(a);
  tiny.observe_and_annotate(b);
  EXPECT_NEAR(rate_of(address_forecast(b)), 2.0, 1e-9);
}

TEST(Trend, SeriesOfVanishedRowsAreDropped) {
  Trend trend;
  Analysis both = sample(0, 10, {10, 20});
  trend.observe_and_annotate(both);
  EXPECT_EQ(trend.series_count(), 3u);  // the address and two destinations

  Analysis one = sample(1, 11, {11});  // 127.0.0.1:8081 is gone
  trend.observe_and_annotate(one);
  EXPECT_EQ(trend.series_count(), 2u);

  Analysis back = sample(2, 12, {12, 22});  // it is back: a new series
  trend.observe_and_annotate(back);
  EXPECT_EQ(trend.series_count(), 3u);
  EXPECT_NEAR(rate_of(back.tcp.destinations[0].forecast), 1.0, 1e-9);
  EXPECT_FALSE(back.tcp.destinations[1].forecast.rate_per_second);

  Analysis empty = sample(3, 0, {});
  empty.tcp.addresses.clear();
  trend.observe_and_annotate(empty);
  EXPECT_EQ(trend.series_count(), 0u);
}

TEST(Trend, ManyRowsNeverGrowTheHistoryBeyondItsBound) {
  Trend trend(4);
  std::vector<uint32_t> used(50, 10);
  for (int k = 0; k < 20; ++k) {
    Analysis analysis = sample(k, 10 + k, used);
    trend.observe_and_annotate(analysis);
    EXPECT_EQ(trend.series_count(), 51u);
    if (k == 0) {
      EXPECT_FALSE(address_forecast(analysis).rate_per_second);
    } else {
      EXPECT_NEAR(rate_of(address_forecast(analysis)), 1.0, 1e-9) << "k=" << k;
    }
  }
}

TEST(Trend, NamespacesKeepApartSeries) {
  Trend trend;
  for (int k = 0; k < 3; ++k) {
    std::vector<Analysis> namespaces = {sample(k, 10 + 2 * k, {}, "a"), sample(k, 50, {}, "b")};
    trend.observe_and_annotate(namespaces);
    if (k > 0) {
      EXPECT_NEAR(rate_of(address_forecast(namespaces[0])), 2.0, 1e-9);
      EXPECT_NEAR(rate_of(address_forecast(namespaces[1])), 0.0, 1e-9);
    }
  }
  EXPECT_EQ(trend.series_count(), 2u);
  // A sample without namespace "b" drops its series.
  Analysis only_a = sample(3, 16, {}, "a");
  trend.observe_and_annotate(only_a);
  EXPECT_EQ(trend.series_count(), 1u);
}

TEST(Trend, ClockSteppedBackOrNewRangeRestartsTheSeries) {
  Trend trend;
  Analysis a = sample(10, 10, {});
  Analysis b = sample(11, 20, {});
  trend.observe_and_annotate(a);
  trend.observe_and_annotate(b);
  EXPECT_NEAR(rate_of(address_forecast(b)), 10.0, 1e-9);

  Analysis stepped_back = sample(5, 20, {});
  trend.observe_and_annotate(stepped_back);
  EXPECT_FALSE(address_forecast(stepped_back).rate_per_second);

  Analysis next = sample(6, 21, {});
  trend.observe_and_annotate(next);
  EXPECT_NEAR(rate_of(address_forecast(next)), 1.0, 1e-9);

  Analysis resized = sample(7, 22, {});
  resized.tcp.capacity = 200;
  trend.observe_and_annotate(resized);
  EXPECT_FALSE(address_forecast(resized).rate_per_second);
}

TEST(Trend, ExhaustedRowRisingStillForecastsZeroSeconds) {
  Trend trend;
  Analysis a = sample(0, 98, {});
  Analysis b = sample(1, 100, {});
  trend.observe_and_annotate(a);
  trend.observe_and_annotate(b);
  EXPECT_NEAR(rate_of(address_forecast(b)), 2.0, 1e-9);
  EXPECT_EQ(address_forecast(b).exhausts_in_seconds, 0.0);
}

}  // namespace
}  // namespace ephport
