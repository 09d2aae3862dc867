#pragma once
// Rate of consumption and time to exhaustion, from the last samples of a
// loop (`log`, `serve`). One Trend lives as long as the loop; each sample is
// annotated in place before it is rendered. Plain computation, no I/O, no
// clock: the time of a sample is its host.time.
//
// Series are kept per protocol and address (ports_in_use) and per protocol
// and destination (capacity - connect_free), apart per network namespace.
//
// The rate is the net rate: ports taken minus TIME_WAIT ports expiring. A
// port that enters TIME_WAIT is given back by the kernel 60 s later
// whatever happens, so in a steady churn (a scrape every few seconds) the
// ports entering TIME_WAIT and those leaving it cancel out; the rate is the
// least-squares slope of the ports held by sockets not in TIME_WAIT. It
// forecasts exhaustion only after a warm-up (the series spans kWarmUp, the
// lifetime of a TIME_WAIT socket, and has 3 points) and when the rise is
// more than the noise of the counts (docs/model.md, "Forecast").
//
// Memory is bounded by what the latest sample shows: a series whose row is
// not in it is dropped, and each series keeps the last `history` points, or
// more when they span less than kWarmUp, at most one per kWarmUp /
// kPointsPerWarmUp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "analyze/analysis.h"

namespace ephport {

class Trend {
 public:
  static constexpr size_t kDefaultHistory = 10;
  // TCP_TIMEWAIT_LEN (include/net/tcp.h): a TIME_WAIT socket lives 60 s,
  // whatever tcp_fin_timeout says (that one only times orphaned FIN_WAIT2).
  static constexpr std::chrono::seconds kWarmUp{60};
  static constexpr size_t kPointsPerWarmUp = 30;
  // Least points, and least t-statistic of the slope, for a forecast.
  static constexpr size_t kMinForecastPoints = 3;
  static constexpr double kMinSignificance = 3.0;

  // `history`: samples kept per series (values below 2 are raised to 2).
  explicit Trend(size_t history = kDefaultHistory);

  // Records `analysis` as the newest sample and fills the forecast of every
  // address row, destination row (listed and worst) and protocol. Series of
  // rows absent from it are dropped.
  void observe_and_annotate(Analysis& analysis);
  // The same for one sample made of several namespaces (`--netns all`).
  void observe_and_annotate(std::span<Analysis> sample);

  // Series currently held (for tests of the memory bound).
  size_t series_count() const { return series_.size(); }
  // Points held by the longest series (for tests of the thinning).
  size_t points_held() const;

 private:
  struct Key {
    std::string scope;  // the namespace (host.netns, and its inode when known)
    Protocol protocol = Protocol::tcp;
    bool destination = false;  // else an address row
    Address local;
    Address remote;
    uint16_t remote_port = 0;
    // clang-tidy 14 misreads a defaulted <=> as a literal 0 comparison.
    auto operator<=>(const Key&) const = default;  // NOLINT(modernize-use-nullptr)
  };
  struct Point {
    std::chrono::system_clock::time_point time;  // host.time
    double held = 0;                             // ports held by sockets not in TIME_WAIT
  };
  struct Series {
    uint32_t capacity = 0;      // a change restarts the series
    std::vector<Point> points;  // oldest first, at most history_
    Forecast forecast;          // for the latest point
  };

  // What one row shows in a sample.
  struct Reading {
    uint32_t used = 0;        // ports in use
    uint32_t time_wait = 0;   // of which held by TIME_WAIT sockets (at most `used`)
    uint32_t free_ports = 0;  // what runs out
  };

  // Appends the reading at `time` to the series of `key` (once per
  // sample: a destination is listed and also some address's worst) and
  // returns its forecast.
  const Forecast& observe(std::map<Key, Series>& next, const Key& key,
                          std::chrono::system_clock::time_point time, uint32_t capacity,
                          const Reading& reading);
  // Appends a point, keeping the bound described above.
  void append(std::vector<Point>& points, const Point& point) const;
  void annotate(std::map<Key, Series>& next, const std::string& scope,
                std::chrono::system_clock::time_point time, ProtocolAnalysis& protocol);

  size_t history_;
  std::map<Key, Series> series_;
};

}  // namespace ephport
