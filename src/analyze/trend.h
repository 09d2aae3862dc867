#pragma once
// Rate of consumption and time to exhaustion, from the last samples of a
// loop (`log`, later `serve`). One Trend lives as long as the loop; each
// sample is annotated in place before it is rendered. Plain computation, no
// I/O, no clock: the time of a sample is its host.time.
//
// Series are kept per protocol and address (ports_in_use) and per protocol
// and destination (capacity - connect_free), apart per network namespace.
// Memory is bounded by what the latest sample shows: a series whose row is
// not in it is dropped, and each series keeps at most `history` points.

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
    double used = 0;
  };
  struct Series {
    uint32_t capacity = 0;      // a change restarts the series
    std::vector<Point> points;  // oldest first, at most history_
    Forecast forecast;          // for the latest point
  };

  // Appends `used` at `time` to the series of `key` (once per
  // sample: a destination is listed and also some address's worst) and
  // returns its forecast.
  const Forecast& observe(std::map<Key, Series>& next, const Key& key,
                          std::chrono::system_clock::time_point time, uint32_t capacity,
                          uint32_t used, uint32_t free_ports);
  void annotate(std::map<Key, Series>& next, const std::string& scope,
                std::chrono::system_clock::time_point time, ProtocolAnalysis& protocol);

  size_t history_;
  std::map<Key, Series> series_;
};

}  // namespace ephport
