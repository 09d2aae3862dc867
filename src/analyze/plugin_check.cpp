#include "analyze/plugin_check.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "util/error.h"

namespace ephport {

namespace {
// The JSON's rounding (output/json.cpp): a threshold judges the figure the
// operator sees in perfdata and in the snapshot, not float noise beneath it.
double two_decimals(double value) {
  return std::round(value * 100.0) / 100.0;
}

double usage(uint32_t free, uint32_t capacity) {
  return capacity == 0 || free >= capacity ? 0.0 : 100.0 * (capacity - free) / capacity;
}

CheckRow address_row(const AddressRow& row) {
  CheckRow out;
  out.kind = CheckRow::Kind::address;
  out.local_address = row.address;
  out.free = row.bind_free;
  out.usage_percent = row.usage_percent;
  out.in_use = row.ports_in_use;
  return out;
}

// `worst_case`: the row's connect_free_min, for an estimated bind state.
CheckRow destination_row(const DestinationRow& row, uint32_t capacity, bool worst_case) {
  CheckRow out;
  out.kind = CheckRow::Kind::destination;
  out.local_address = row.local_address;
  out.remote_address = row.remote_address;
  out.remote_port = row.remote_port;
  out.free = worst_case ? row.connect_free_min : row.connect_free;
  out.usage_percent = worst_case ? usage(out.free, capacity) : row.usage_percent;
  out.in_use = row.in_use;
  return out;
}

// Worst first: least free; among equals destinations before addresses (a
// destination names more), then the analysis' own order.
void sort_worst_first(std::vector<CheckRow>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const CheckRow& a, const CheckRow& b) {
    auto destination_first = [](const CheckRow& row) {
      return row.kind == CheckRow::Kind::destination ? 0 : 1;
    };
    return std::make_tuple(a.free, destination_first(a)) <
           std::make_tuple(b.free, destination_first(b));
  });
}

ProtocolCheck check_protocol(const ProtocolAnalysis& protocol, const CheckSpec& spec,
                             bool worst_case) {
  ProtocolCheck check;
  check.protocol = protocol.protocol;
  check.range = protocol.range;
  check.capacity = protocol.capacity;
  check.worst_case = worst_case;
  // With an estimated bind state the figures alarms use are the worst the
  // kernel may hold: an estimate must never say OK while connect() fails.
  check.pressure_percent =
      two_decimals(worst_case ? std::max(protocol.pressure_percent, protocol.pressure_percent_max)
                              : protocol.pressure_percent);
  check.sockets = protocol.sockets;
  check.time_wait = protocol.states[static_cast<size_t>(SockState::time_wait)];
  check.destination_count = protocol.destination_count;
  const bool tcp = protocol.protocol == Protocol::tcp;

  // The aggregator sorts destinations by connect_free: the first is the
  // smallest over all of them, even when the list was cut to the top N.
  check.bind_free = protocol.capacity;
  // bind_free_min: where an IPv6 socket's V6ONLY is guessed, the kernel
  // may hold more ports than the best guess (docs/model.md).
  for (const AddressRow& row : protocol.addresses) {
    check.bind_free = std::min(check.bind_free, row.bind_free_min);
    check.bind_free_worst_case = check.bind_free_worst_case || row.bind_free_min != row.bind_free;
  }
  uint32_t least_free = check.bind_free;
  if (!protocol.destinations.empty()) {
    least_free = std::min(least_free, protocol.destinations.front().connect_free);
  }
  if (worst_case && tcp) {
    least_free = std::min(least_free, protocol.least_connect_free_min);
  }
  check.in_use = protocol.capacity - least_free;
  const uint32_t new_destination_free =
      protocol.capacity - (worst_case ? protocol.bind_owned_ports_max : protocol.bind_owned_ports);
  if (tcp) {
    if (worst_case) {
      check.connect_free = protocol.least_connect_free_min;
    } else {
      check.connect_free =
          protocol.destinations.empty()
              ? new_destination_free
              : std::min(new_destination_free, protocol.destinations.front().connect_free);
    }
  }

  std::vector<CheckRow>& rows = check.worst;
  switch (spec.metric) {
    case CheckMetric::pressure:
      check.checked = true;
      check.value = check.pressure_percent;
      for (const AddressRow& row : protocol.addresses) {
        rows.push_back(address_row(row));
      }
      for (const DestinationRow& row : protocol.destinations) {
        rows.push_back(destination_row(row, protocol.capacity, worst_case));
      }
      break;
    case CheckMetric::bind_free:
      check.checked = true;
      check.value = check.bind_free;
      for (const AddressRow& row : protocol.addresses) {
        rows.push_back(address_row(row));
      }
      break;
    case CheckMetric::connect_free:
      // UDP connect() takes a port by bind(0) on the wildcard: bind_free covers it.
      check.checked = tcp;
      check.value = check.connect_free.value_or(0);
      if (tcp) {
        for (const DestinationRow& row : protocol.destinations) {
          rows.push_back(destination_row(row, protocol.capacity, worst_case));
        }
        CheckRow fresh;
        fresh.kind = CheckRow::Kind::new_destination;
        fresh.free = new_destination_free;
        fresh.usage_percent = usage(new_destination_free, protocol.capacity);
        fresh.in_use = worst_case ? protocol.bind_owned_ports_max : protocol.bind_owned_ports;
        rows.push_back(fresh);
      }
      break;
  }
  sort_worst_first(rows);

  Thresholds defaults = default_thresholds(spec.metric, protocol.capacity);
  check.thresholds.warning = spec.warning ? spec.warning : defaults.warning;
  check.thresholds.critical = spec.critical ? spec.critical : defaults.critical;
  if (check.checked) {
    check.state = check.thresholds.evaluate(check.value);
  }
  return check;
}
}  // namespace

std::string_view check_metric_name(CheckMetric metric) {
  switch (metric) {
    case CheckMetric::pressure:
      return "pressure";
    case CheckMetric::bind_free:
      return "bind_free";
    case CheckMetric::connect_free:
      break;
  }
  return "connect_free";
}

CheckMetric parse_check_metric(std::string_view name) {
  for (CheckMetric metric :
       {CheckMetric::pressure, CheckMetric::bind_free, CheckMetric::connect_free}) {
    if (name == check_metric_name(metric)) {
      return metric;
    }
  }
  throw InputError("--metric: '" + std::string(name) +
                   "' is not a metric; expected pressure, bind_free or connect_free");
}

Thresholds default_thresholds(CheckMetric metric, uint32_t capacity) {
  if (metric == CheckMetric::pressure) {
    return {PluginRange::parse("80", "default warning"),
            PluginRange::parse("95", "default critical")};
  }
  // Fewer than 20% (5%) of the capacity left <=> more than 80% (95%) used.
  // Integer ceil(capacity * percent / 100): no float rounding at the boundary.
  auto at_least = [&](uint64_t percent, std::string_view what) {
    const uint64_t ports = (uint64_t{capacity} * percent + 99) / 100;
    return PluginRange::parse(std::to_string(ports) + ":", what);
  };
  return {at_least(20, "default warning"), at_least(5, "default critical")};
}

CheckResult evaluate_check(const Analysis& analysis, const CheckSpec& spec) {
  CheckResult result;
  result.metric = spec.metric;
  result.bind_state = analysis.bind_state;
  result.bind_state_note = analysis.bind_state_note;
  result.netns = analysis.host.netns;
  const bool worst_case = analysis.bind_state == BindState::estimated;
  if (analysis.has_tcp) {
    result.protocols.push_back(check_protocol(analysis.tcp, spec, worst_case));
  }
  if (analysis.has_udp) {
    result.protocols.push_back(check_protocol(analysis.udp, spec, worst_case));
  }
  for (const ProtocolCheck& protocol : result.protocols) {
    result.state = worse(result.state, protocol.state);
  }
  return result;
}

}  // namespace ephport
