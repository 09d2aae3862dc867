// The forecast over a loop's samples: least-squares net rate per address and
// destination (TIME_WAIT ports counted as freed), time to exhaustion at that
// rate after the warm-up, bounded history, and series dropped with their
// rows. Synthetic analyses, so every figure is exact.

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
  const std::vector<double> times = {0, 20, 40, 80, 100, 120};
  for (size_t k = 0; k < times.size(); ++k) {
    double t = times[k];
    // Address: 10 + 0.2/s; destination: 20 + 0.25/s.
    Analysis analysis =
        sample(t, static_cast<uint32_t>(10 + t / 5), {static_cast<uint32_t>(20 + t / 4)});
    trend.observe_and_annotate(analysis);
    if (k == 0) {
      continue;
    }
    SCOPED_TRACE(k);
    const AddressRow& address = analysis.tcp.addresses.front();
    EXPECT_NEAR(rate_of(address.forecast), 0.2, 1e-9);
    if (t < 60) {  // the warm-up: a rate, no forecast yet
      EXPECT_FALSE(address.forecast.exhausts_in_seconds);
      EXPECT_FALSE(analysis.tcp.pressure_forecast.exhausts_in_seconds);
      continue;
    }
    EXPECT_NEAR(exhausts_of(address.forecast), address.bind_free / 0.2, 1e-9);

    // The listed destination and the same one as the address's worst.
    for (const DestinationRow* row : std::initializer_list<const DestinationRow*>{
             &analysis.tcp.destinations.front(), &*address.worst_destination}) {
      EXPECT_NEAR(rate_of(row->forecast), 0.25, 1e-9);
      EXPECT_NEAR(exhausts_of(row->forecast), row->connect_free / 0.25, 1e-9);
    }
    // The destination runs out first: (80 - t/4)/0.25 < (90 - t/5)/0.2.
    EXPECT_NEAR(exhausts_of(analysis.tcp.pressure_forecast),
                analysis.tcp.destinations.front().connect_free / 0.25, 1e-9);
    EXPECT_NEAR(rate_of(analysis.tcp.pressure_forecast), 0.25, 1e-9);
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
  // A minute apart, flat for 5 samples, then +10 a minute: with 3 samples
  // kept (they span the warm-up) the fit sees only the ramp; with 10 it
  // still sees the flat part.
  Trend short_history(3);
  Trend long_history(10);
  std::vector<uint32_t> values = {10, 10, 10, 10, 10, 20, 30};
  Analysis last_short;
  Analysis last_long;
  for (size_t k = 0; k < values.size(); ++k) {
    last_short = sample(60.0 * k, values[k], {});
    last_long = sample(60.0 * k, values[k], {});
    short_history.observe_and_annotate(last_short);
    long_history.observe_and_annotate(last_long);
  }
  EXPECT_NEAR(rate_of(address_forecast(last_short)), 10.0 / 60, 1e-9);
  EXPECT_LT(rate_of(address_forecast(last_long)), 5.0 / 60);
  // A history below 2 could never fit a rate: it is raised to 2.
  Trend tiny(1);
  Analysis a = sample(0, 10, {});
  Analysis b = sample(60, 12, {});
  tiny.observe_and_annotate(a);
  tiny.observe_and_annotate(b);
  EXPECT_NEAR(rate_of(address_forecast(b)), 2.0 / 60, 1e-9);
}

TEST(Trend, SamplesCloserThanTheSpacingAreThinnedAndStillSpanTheWarmUp) {
  // Ten samples a second: the history keeps about kPointsPerWarmUp points
  // over the warm-up, not 600, and its first points still fall out.
  Trend trend(4);
  for (int k = 0; k <= 3000; ++k) {
    Analysis analysis = sample(k / 10.0, static_cast<uint32_t>(k / 100), {});
    trend.observe_and_annotate(analysis);
    ASSERT_LE(trend.points_held(), Trend::kPointsPerWarmUp + 2) << k;
  }
  EXPECT_GE(trend.points_held(), Trend::kPointsPerWarmUp - 1);
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
  Analysis a = sample(0, 94, {});
  Analysis b = sample(30, 97, {});
  Analysis c = sample(60, 100, {});
  trend.observe_and_annotate(a);
  trend.observe_and_annotate(b);
  trend.observe_and_annotate(c);
  EXPECT_NEAR(rate_of(address_forecast(c)), 0.1, 1e-9);
  EXPECT_EQ(address_forecast(c).exhausts_in_seconds, 0.0);
}

// One TCP sample at `seconds` on 127.0.0.1 with one destination
// (127.0.0.1:8080): `held` ports held by sockets that stay, and `time_wait`
// TIME_WAIT sockets to it (each a port of its own).
Analysis churn_sample(double seconds, uint32_t held, uint32_t time_wait) {
  Analysis analysis = sample(seconds, held + time_wait, {held + time_wait});
  analysis.tcp.destinations.front().time_wait = time_wait;
  AddressRow& address = analysis.tcp.addresses.front();
  address.states[static_cast<size_t>(SockState::time_wait)] = time_wait;
  address.states[static_cast<size_t>(SockState::established)] = held;
  address.worst_destination = analysis.tcp.destinations.front();
  return analysis;
}

// TIME_WAIT sockets at `t` of a scrape every `period` s from `start` on:
// each connection closed at start, start + period, ... stays 60 s.
uint32_t scrape_time_wait(double t, double start, double period) {
  uint32_t count = 0;
  for (double closed = start; closed <= t; closed += period) {
    count += t - closed < 60 ? 1 : 0;
  }
  return count;
}

TEST(Trend, SteadyTimeWaitChurnGivesNoForecast) {
  // A scrape every 5 s, from the first sample on and, in a second loop,
  // starting 100 s into it: TIME_WAIT rises for 60 s to 12, then is flat.
  // The scrape's own connection is open in every third sample.
  for (double start : {0.0, 100.0}) {
    SCOPED_TRACE(start);
    Trend trend;
    for (int k = 0; k <= 60; ++k) {
      double t = 10.0 * k + 1;
      uint32_t open = k % 3 == 0 ? 1 : 0;
      Analysis analysis = churn_sample(t, open, scrape_time_wait(t, start, 5));
      trend.observe_and_annotate(analysis);
      SCOPED_TRACE(k);
      const AddressRow& address = analysis.tcp.addresses.front();
      EXPECT_FALSE(address.forecast.exhausts_in_seconds) << *address.forecast.rate_per_second;
      EXPECT_FALSE(analysis.tcp.destinations.front().forecast.exhausts_in_seconds);
      EXPECT_FALSE(analysis.tcp.pressure_forecast.exhausts_in_seconds);
      if (k > 0) {
        // Net: what stays is the scrape's own connection, 0 or 1.
        EXPECT_LE(std::abs(rate_of(address.forecast)), 0.1);
      }
    }
  }
}

TEST(Trend, ChurnAfterTheWarmUpIsNotForecastOnTheWildcardRowEither) {
  // The scrape starts 200 s into the loop. 0.0.0.0's ports_in_use holds the
  // ports of every IPv4 address (bind(0.0.0.0:0) must avoid them) but its
  // own states have no TIME_WAIT: the TIME_WAIT of the IPv4 rows counts.
  Trend trend;
  for (int k = 0; k <= 40; ++k) {
    double t = 10.0 * k;
    uint32_t time_wait = scrape_time_wait(t, 200, 5);
    Analysis analysis = churn_sample(t, 0, time_wait);
    AddressRow wildcard;
    wildcard.address = Address::any_v4();
    wildcard.wildcard = true;
    wildcard.ports_in_use = time_wait;
    wildcard.bind_free = kCapacity - time_wait;
    wildcard.usage_percent = time_wait;
    analysis.tcp.addresses.push_back(wildcard);
    trend.observe_and_annotate(analysis);
    SCOPED_TRACE(k);
    EXPECT_FALSE(analysis.tcp.addresses.back().forecast.exhausts_in_seconds);
    EXPECT_FALSE(analysis.tcp.pressure_forecast.exhausts_in_seconds);
  }
}

TEST(Trend, LeakUnderChurnIsForecastWithTheRightTime) {
  // The same scrape, and a client that keeps one more connection open every
  // 4 s: the net rate is the leak's, 0.25/s, exactly.
  Trend trend;
  for (int k = 0; k <= 30; ++k) {
    double t = 4.0 * k;
    Analysis analysis = churn_sample(t, static_cast<uint32_t>(k), scrape_time_wait(t, 0, 5));
    trend.observe_and_annotate(analysis);
    if (t < 60) {
      continue;
    }
    SCOPED_TRACE(k);
    const AddressRow& address = analysis.tcp.addresses.front();
    EXPECT_NEAR(rate_of(address.forecast), 0.25, 1e-9);
    EXPECT_NEAR(exhausts_of(address.forecast), address.bind_free / 0.25, 1e-9);
    const DestinationRow& destination = analysis.tcp.destinations.front();
    EXPECT_NEAR(exhausts_of(destination.forecast), destination.connect_free / 0.25, 1e-9);
    EXPECT_NEAR(exhausts_of(analysis.tcp.pressure_forecast), destination.connect_free / 0.25, 1e-9);
  }
}

TEST(Trend, NoForecastBeforeTheWarmUp) {
  // A leak of one port a second, sampled every second: a rate from the
  // second sample on, a time to exhaustion only once the series spans 60 s.
  Trend trend;
  for (int k = 0; k <= 70; ++k) {
    Analysis analysis = sample(k, static_cast<uint32_t>(k), {});
    trend.observe_and_annotate(analysis);
    SCOPED_TRACE(k);
    const Forecast& forecast = address_forecast(analysis);
    if (k == 0) {
      EXPECT_FALSE(forecast.rate_per_second);
    } else {
      EXPECT_NEAR(rate_of(forecast), 1.0, 1e-9);
    }
    EXPECT_EQ(forecast.exhausts_in_seconds.has_value(), k >= 60);
  }
}

TEST(Trend, NoiseAroundAFlatCountGivesNoForecast) {
  // Held ports wandering between 20 and 22 with no trend: the rise of the fit
  // stays within the noise.
  const std::vector<uint32_t> held = {20, 22, 21, 20, 21, 22, 20, 21, 22, 21, 20, 22, 21, 21};
  Trend trend;
  for (size_t k = 0; k < held.size(); ++k) {
    Analysis analysis = sample(10.0 * static_cast<double>(k), held[k], {});
    trend.observe_and_annotate(analysis);
    EXPECT_FALSE(address_forecast(analysis).exhausts_in_seconds) << k;
  }
}

}  // namespace
}  // namespace ephport
