#pragma once
// The Prometheus text exposition format 0.0.4 of one analysis: what
// `ephport serve` answers on /metrics. Pure formatting, no I/O, no clock.
// docs/metrics.md lists every family, its labels and its bounds.
//
// Conventions (prometheus.io/docs/practices/naming): prefix ephport_, base
// units (ports, sockets, seconds), _ratio for 0..1, _total only on counters,
// HELP and TYPE before every family, no timestamps.
//
// The series count is bounded whatever the population: at most
// `top_destinations` destinations and `top_addresses` local addresses per
// protocol get their own series; the rest are folded into per-protocol
// gauges (how many were folded, and the highest usage among them). The
// wildcard address rows (0.0.0.0, ::) always get series, besides the top ones.

#include <cstddef>
#include <cstdint>
#include <string>

#include "analyze/analysis.h"

namespace ephport {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

struct MetricsOptions {
  size_t top_destinations = 20;
  size_t top_addresses = 20;
};

// What the exporter knows about the scrape itself.
struct ScrapeFacts {
  bool success = false;                    // the analysis is there and current
  double scrape_duration_seconds = 0;      // this request: waiting for the collection, rendering
  double collection_duration_seconds = 0;  // the collection that produced the analysis
  uint64_t collections_total = 0;          // collections run since start
  uint64_t collection_failures_total = 0;  // of which failed
};

// The exposition. `analysis` is null when the collection failed or timed
// out: only the scrape's own families are written, with
// ephport_scrape_success 0. For the folded destination gauge to be exact
// the analysis must list at least top_destinations + 1 destinations (or all
// of them); the exporter samples with that many.
std::string render_prometheus(const Analysis* analysis, const ScrapeFacts& scrape,
                              const MetricsOptions& options);

// A label value escaped for the text format: backslash, double quote, newline.
std::string escape_label_value(const std::string& value);

}  // namespace ephport
