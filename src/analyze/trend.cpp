#include "analyze/trend.h"

#include <algorithm>
#include <chrono>
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

// Least-squares slope of used over time, in ports per second; empty with
// fewer than two points or when they span no time. Times count from the
// first point, in integer clock ticks until then: no epoch-sized doubles.
template <typename Points>
std::optional<double> least_squares_rate(const Points& points) {
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
    sum_y += point.used;
  }
  double covariance = 0;
  double variance = 0;
  for (const auto& point : points) {
    double dt = seconds(point) - sum_t / n;
    covariance += dt * (point.used - sum_y / n);
    variance += dt * dt;
  }
  if (variance <= 0) {
    return std::nullopt;
  }
  return covariance / variance;
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
        time, capacity, used, row.connect_free);
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
  for (AddressRow& row : protocol.addresses) {
    row.forecast = observe(next, {scope, protocol.protocol, false, row.address, {}, 0}, time,
                           capacity, row.ports_in_use, row.bind_free);
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
                               uint32_t used, uint32_t free_ports) {
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
  if (series.points.size() == history_) {
    series.points.erase(series.points.begin());
  }
  series.points.push_back({time, static_cast<double>(used)});

  series.forecast = {};
  series.forecast.rate_per_second = least_squares_rate(series.points);
  if (series.forecast.rate_per_second && *series.forecast.rate_per_second > 0) {
    series.forecast.exhausts_in_seconds = free_ports / *series.forecast.rate_per_second;
  }
  return series.forecast;
}

}  // namespace ephport
