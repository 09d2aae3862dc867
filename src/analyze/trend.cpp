#include "analyze/trend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

namespace ephport {

namespace {

// The namespace a sample was taken in; the nsfs inode, when known, tells
// namespaces apart that share a label.
std::string scope_of(const HostFacts& host) {
  if (host.netns_identity) {
    return host.netns + "@" + std::to_string(host.netns_identity->inode);
  }
  return host.netns;
}

// A least-squares line through the points: held ports over time.
struct Fit {
  double rate = 0;     // ports per second
  double span = 0;     // seconds from the first point to the last
  double t_value = 0;  // rate / its standard error; infinite on an exact line
};

// Empty with fewer than two points or when they span no time. Times count
// from the first point, in integer clock ticks until then: no epoch-sized
// doubles.
template <typename Points>
std::optional<Fit> least_squares(const Points& points) {
  if (points.size() < 2) {
    return std::nullopt;
  }
  auto seconds = [&](const auto& point) {
    return std::chrono::duration<double>(point.time - points.front().time).count();
  };
  double n = static_cast<double>(points.size());
  double sum_t = 0;
  double sum_y = 0;
  for (const auto& point : points) {
    sum_t += seconds(point);
    sum_y += point.held;
  }
  double covariance = 0;
  double variance = 0;
  for (const auto& point : points) {
    double dt = seconds(point) - sum_t / n;
    covariance += dt * (point.held - sum_y / n);
    variance += dt * dt;
  }
  if (variance <= 0) {
    return std::nullopt;
  }
  Fit fit;
  fit.rate = covariance / variance;
  fit.span = seconds(points.back());
  if (points.size() > 2) {
    double residuals = 0;
    for (const auto& point : points) {
      double predicted = sum_y / n + fit.rate * (seconds(point) - sum_t / n);
      residuals += (point.held - predicted) * (point.held - predicted);
    }
    // Counts are integers: residuals below this are rounding, the line exact.
    constexpr double kExact = 1e-9;
    double standard_error = std::sqrt(residuals / (n - 2) / variance);
    fit.t_value =
        residuals <= kExact ? std::numeric_limits<double>::infinity() : fit.rate / standard_error;
  }
  return fit;
}

bool exhausts_sooner(const Forecast& a, const Forecast& b) {
  return a.exhausts_in_seconds &&
         (!b.exhausts_in_seconds || *a.exhausts_in_seconds < *b.exhausts_in_seconds);
}

}  // namespace

Trend::Trend(size_t history) : history_(std::max<size_t>(history, 2)) {}

void Trend::observe_and_annotate(Analysis& analysis) {
  observe_and_annotate(std::span<Analysis>(&analysis, 1));
}

void Trend::observe_and_annotate(std::span<Analysis> sample) {
  std::map<Key, Series> next;
  for (Analysis& analysis : sample) {
    std::string scope = scope_of(analysis.host);
    if (analysis.has_tcp) {
      annotate(next, scope, analysis.host.time, analysis.tcp);
    }
    if (analysis.has_udp) {
      annotate(next, scope, analysis.host.time, analysis.udp);
    }
  }
  series_ = std::move(next);  // series of rows no longer shown are dropped here
}

void Trend::annotate(std::map<Key, Series>& next, const std::string& scope,
                     std::chrono::system_clock::time_point time, ProtocolAnalysis& protocol) {
  uint32_t capacity = protocol.capacity;
  auto destination = [&](DestinationRow& row) {
    uint32_t used = capacity >= row.connect_free ? capacity - row.connect_free : 0;
    row.forecast = observe(
        next,
        {scope, protocol.protocol, true, row.local_address, row.remote_address, row.remote_port},
        time, capacity, {used, std::min(row.time_wait, used), row.connect_free});
  };
  // The item that runs out first; if none is trending to exhaustion, the one
  // with the highest usage (where pressure_percent comes from).
  Forecast soonest;
  Forecast busiest;
  double busiest_usage = -1;
  auto consider = [&](const Forecast& forecast, double usage) {
    if (exhausts_sooner(forecast, soonest)) {
      soonest = forecast;
    }
    if (usage > busiest_usage) {
      busiest = forecast;
      busiest_usage = usage;
    }
  };
  // A wildcard row holds the ports of the addresses it overlaps, so their
  // TIME_WAIT sockets count there too: 0.0.0.0 those of IPv4, :: (dual
  // stack) every one. Too many only lowers the level, not the slope.
  auto own_time_wait = [](const AddressRow& row) {
    return row.states[static_cast<size_t>(SockState::time_wait)];
  };
  uint32_t time_wait_v4 = 0;
  uint32_t time_wait_all = 0;
  for (const AddressRow& row : protocol.addresses) {
    if (!row.wildcard) {
      time_wait_v4 += row.address.is_v4() ? own_time_wait(row) : 0;
      time_wait_all += own_time_wait(row);
    }
  }
  for (AddressRow& row : protocol.addresses) {
    uint32_t time_wait = own_time_wait(row);
    if (row.wildcard) {
      time_wait += row.address.is_v4() ? time_wait_v4 : time_wait_all;
    }
    row.forecast =
        observe(next, {scope, protocol.protocol, false, row.address, {}, 0}, time, capacity,
                {row.ports_in_use, std::min(time_wait, row.ports_in_use), row.bind_free});
    consider(row.forecast, row.usage_percent);
    if (row.worst_destination) {
      destination(*row.worst_destination);
      consider(row.worst_destination->forecast, row.worst_destination->usage_percent);
    }
  }
  for (DestinationRow& row : protocol.destinations) {
    destination(row);
    consider(row.forecast, row.usage_percent);
  }
  protocol.pressure_forecast = soonest.exhausts_in_seconds ? soonest : busiest;
}

const Forecast& Trend::observe(std::map<Key, Series>& next, const Key& key,
                               std::chrono::system_clock::time_point time, uint32_t capacity,
                               const Reading& reading) {
  auto [slot, inserted] = next.try_emplace(key);
  Series& series = slot->second;
  if (!inserted) {
    return series.forecast;  // already observed in this sample
  }
  auto previous = series_.find(key);
  if (previous != series_.end()) {
    series = std::move(previous->second);
  }
  // A new range, or a clock stepped back, makes the old points meaningless.
  if (series.capacity != capacity ||
      (!series.points.empty() && series.points.back().time >= time)) {
    series.points.clear();
  }
  series.capacity = capacity;
  append(series.points, {time, static_cast<double>(reading.used - reading.time_wait)});

  series.forecast = {};
  std::optional<Fit> fit = least_squares(series.points);
  if (!fit) {
    return series.forecast;
  }
  series.forecast.rate_per_second = fit->rate;
  // Before the warm-up a churn that began lately still looks like growth;
  // after it, a rise must be a port or more and stand out of the noise.
  bool warmed_up = fit->span >= std::chrono::duration<double>(kWarmUp).count() &&
                   series.points.size() >= kMinForecastPoints;
  bool rising = fit->rate > 0 && fit->rate * fit->span >= 1 && fit->t_value >= kMinSignificance;
  if (warmed_up && rising) {
    series.forecast.exhausts_in_seconds = reading.free_ports / fit->rate;
  }
  return series.forecast;
}

size_t Trend::points_held() const {
  size_t most = 0;
  for (const auto& [key, series] : series_) {
    most = std::max(most, series.points.size());
  }
  return most;
}

void Trend::append(std::vector<Point>& points, const Point& point) const {
  // The newest point stays only if it is this far from the one before it,
  // else the new one replaces it: a short --interval keeps about
  // kPointsPerWarmUp points per warm-up, not one per sample.
  constexpr auto kSpacing =
      std::chrono::duration_cast<std::chrono::system_clock::duration>(kWarmUp) / kPointsPerWarmUp;
  if (points.size() >= 2 && points.back().time - points[points.size() - 2].time < kSpacing) {
    points.back() = point;
  } else {
    points.push_back(point);
  }
  // Drop the oldest while the rest still hold `history_` points spanning kWarmUp.
  while (points.size() > history_ && point.time - points[1].time >= kWarmUp) {
    points.erase(points.begin());
  }
}

}  // namespace ephport
