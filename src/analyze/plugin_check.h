#pragma once
// `ephport check`: what one Analysis means to a monitoring system. Picks the
// checked figure per protocol, applies the thresholds, finds the rows that
// decide it (worst first) and gathers the perfdata figures. Plain values,
// no I/O; output/plugin_output.h renders them.
//
// Figures, per protocol, all as in the ephport.snapshot/1 JSON. With an
// estimated bind state each is its worst case (pressure_percent_max,
// least_connect_free_min, connect_free_min, bind_owned_ports_max): an
// estimate never says OK while the kernel may already refuse connect().
//   pressure      pressure_percent rounded to two decimals (as in the JSON)
//   in_use        capacity minus the free count of the row that sets the
//                 pressure (the most used address or destination)
//   bind_free     the smallest bind_free over the addresses (wildcards too)
//   connect_free  TCP: the smallest connect_free over all destinations, or
//                 connect_free_new_destination when there is none
//   sockets, time_wait: the protocol's socket count and its TIME_WAIT count

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/analysis.h"
#include "analyze/plugin_range.h"

namespace ephport {

// The figure the thresholds apply to.
enum class CheckMetric {
  pressure,      // percent, alerts when high (default -w 80 -c 95)
  bind_free,     // ports, alerts when low (default: fewer than 20% / 5% of capacity)
  connect_free,  // ports, TCP only, alerts when low (same defaults)
};

std::string_view check_metric_name(CheckMetric metric);  // "pressure", ...
// Throws InputError for a name other than the three above.
CheckMetric parse_check_metric(std::string_view name);

struct CheckSpec {
  CheckMetric metric = CheckMetric::pressure;
  // Empty: the metric's defaults (see default_thresholds()).
  std::optional<PluginRange> warning;
  std::optional<PluginRange> critical;
};

// The defaults: pressure "80" and "95"; a free count "W:" and "C:" with
// W = ceil(capacity * 0.20) and C = ceil(capacity * 0.05), so that a free
// count alerts exactly when the pressure it implies exceeds 80% or 95%.
Thresholds default_thresholds(CheckMetric metric, uint32_t capacity);

// One row that decides a figure: a local address (bind), a destination
// (connect) or "a destination not used yet" (connect, no row of its own).
struct CheckRow {
  enum class Kind { address, destination, new_destination };
  Kind kind = Kind::address;
  Address local_address;   // address rows and destinations
  Address remote_address;  // destinations
  uint16_t remote_port = 0;
  uint32_t free = 0;         // bind_free or connect_free
  double usage_percent = 0;  // 100 * (capacity - free) / capacity
  uint32_t in_use = 0;       // address: ports_in_use; destination: sockets
};

struct ProtocolCheck {
  Protocol protocol = Protocol::tcp;
  PortRange range;
  uint32_t capacity = 0;
  double pressure_percent = 0;  // rounded to two decimals
  uint32_t in_use = 0;
  uint32_t bind_free = 0;
  std::optional<uint32_t> connect_free;  // TCP only
  uint64_t sockets = 0;
  uint32_t time_wait = 0;
  uint64_t destination_count = 0;

  bool worst_case = false;  // the figures are the worst case of an estimate
  // bind_free is the worst case of a guessed V6ONLY (some row's bind_free_min
  // is below its bind_free)
  bool bind_free_worst_case = false;
  bool checked = false;  // false: the metric does not apply (connect_free on UDP)
  double value = 0;      // the checked figure
  Thresholds thresholds;
  PluginState state = PluginState::ok;
  // The rows behind the checked figure, worst first: for pressure every
  // address and destination by usage, for bind_free the addresses, for
  // connect_free the destinations then new destinations. Destinations are
  // those the Analysis kept (its top-N); the figures above use all of them.
  std::vector<CheckRow> worst;
};

struct CheckResult {
  CheckMetric metric = CheckMetric::pressure;
  PluginState state = PluginState::ok;   // the worst over the checked protocols
  std::vector<ProtocolCheck> protocols;  // the analysed ones, TCP first
  BindState bind_state = BindState::estimated;
  std::string bind_state_note;
  std::string netns;  // as given to --netns, empty for the caller's own
};

// Applies `spec` to `analysis`.
CheckResult evaluate_check(const Analysis& analysis, const CheckSpec& spec);

}  // namespace ephport
