#include "output/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ephport {

namespace {

using Label = std::pair<std::string_view, std::string>;
using Labels = std::initializer_list<Label>;

// Writes families one after the other. A family's HELP and TYPE lines are
// held back until its first sample, so a family with no sample (no
// forecast yet) leaves nothing behind.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    header_ = fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }

  void sample(Labels labels, double value) { line(labels, format_value(value)); }
  void sample(Labels labels, uint64_t value) { line(labels, std::to_string(value)); }

  std::string take() { return std::move(out_); }

 private:
  // Shortest text that reads back as the same double; the format's own
  // spellings for the special values.
  static std::string format_value(double value) {
    if (std::isnan(value)) {
      return "NaN";
    }
    if (std::isinf(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", value);
  }

  void line(Labels labels, const std::string& value) {
    out_ += header_;
    header_.clear();
    out_ += name_;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const Label& label : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += label.first;
        out_ += "=\"";
        out_ += escape_label_value(label.second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  std::string out_;
  std::string name_;
  std::string header_;
};

std::string proto(const ProtocolAnalysis& protocol) {
  return std::string(protocol_name(protocol.protocol));
}

double ratio(double percent) {
  return percent / 100.0;
}

uint64_t state_count(const StateCounts& states, SockState state) {
  return states[static_cast<size_t>(state)];
}

// The states a protocol's sockets can be in get a series even at 0, so a
// series does not vanish and reappear; any other state only when present.
bool always_listed(Protocol protocol, SockState state) {
  if (state == SockState::unknown) {
    return false;
  }
  if (protocol == Protocol::tcp) {
    return true;
  }
  // The kernel reports UDP sockets as ESTABLISHED (connected) or CLOSE.
  return state == SockState::established || state == SockState::close;
}

// A protocol's local address rows as the metrics list them: the specific
// addresses busiest first (ties in the analysis's order), of which the first
// --metrics.top-addresses get series; then the wildcard rows (0.0.0.0 and
// ::, "bind(0) without an address"), which always do: at most two.
struct AddressListing {
  std::vector<const AddressRow*> specific;
  std::vector<const AddressRow*> wildcards;
  size_t listed = 0;  // of `specific`

  std::vector<const AddressRow*> with_series() const {
    std::vector<const AddressRow*> rows(specific.begin(),
                                        specific.begin() + static_cast<ptrdiff_t>(listed));
    rows.insert(rows.end(), wildcards.begin(), wildcards.end());
    return rows;
  }
};

AddressListing list_addresses(const ProtocolAnalysis& protocol, size_t top) {
  AddressListing listing;
  for (const AddressRow& row : protocol.addresses) {
    (row.wildcard ? listing.wildcards : listing.specific).push_back(&row);
  }
  std::stable_sort(
      listing.specific.begin(), listing.specific.end(),
      [](const AddressRow* a, const AddressRow* b) { return a->ports_in_use > b->ports_in_use; });
  listing.listed = std::min(top, listing.specific.size());
  return listing;
}

struct Folding {
  size_t listed = 0;
  uint64_t folded = 0;
  std::optional<double> folded_max_ratio;  // unknown when the rows were cut before
};

Folding fold_destinations(const ProtocolAnalysis& protocol, size_t top) {
  Folding folding;
  folding.listed = std::min(top, protocol.destinations.size());
  folding.folded =
      protocol.destination_count > folding.listed ? protocol.destination_count - folding.listed : 0;
  if (folding.folded == 0) {
    folding.folded_max_ratio = 0.0;
  } else if (protocol.destinations.size() > folding.listed) {
    double max_percent = 0;
    for (size_t i = folding.listed; i < protocol.destinations.size(); ++i) {
      max_percent = std::max(max_percent, protocol.destinations[i].usage_percent);
    }
    folding.folded_max_ratio = ratio(max_percent);
  }
  return folding;
}

void write_scrape(Exposition& out, const ScrapeFacts& scrape) {
  out.family("ephport_build_info", "gauge", "ephport's version, as a label; always 1.");
  out.sample({{"version", EPHPORT_VERSION}}, uint64_t{1});
  out.family("ephport_scrape_success", "gauge",
             "1 when this scrape carries a current analysis, 0 when the collection failed or "
             "timed out.");
  out.sample({}, uint64_t{scrape.success ? 1u : 0u});
  out.family("ephport_scrape_duration_seconds", "gauge",
             "Time this scrape took: waiting for the (shared) collection and rendering.");
  out.sample({}, scrape.scrape_duration_seconds);
  out.family("ephport_collections_total", "counter",
             "Collections run since start; concurrent scrapes share one, and a result is "
             "reused for --collection.max-age.");
  out.sample({}, scrape.collections_total);
  out.family("ephport_collection_failures_total", "counter",
             "Collections that failed since start.");
  out.sample({}, scrape.collection_failures_total);
  if (scrape.success) {
    out.family("ephport_collection_duration_seconds", "gauge",
               "Time the collection and analysis behind this scrape took.");
    out.sample({}, scrape.collection_duration_seconds);
  }
}

void write_protocols(Exposition& out, const Analysis& analysis,
                     const std::vector<const ProtocolAnalysis*>& protocols) {
  out.family("ephport_bind_state_exact", "gauge",
             "1 when the ports bind() owns were read from the kernel (BPF), 0 when estimated "
             "from sock_diag: then ephport_bind_owned_ports and the connect figures are "
             "estimates, each with its bounds (the _min_ports and _max_ports families), and "
             "ephport_pressure_ratio is their worst case.");
  out.sample({}, uint64_t{analysis.bind_state == BindState::exact ? 1u : 0u});

  out.family("ephport_range_first_port", "gauge", "First port of the ephemeral range.");
  for (const ProtocolAnalysis* p : protocols) {
    out.sample({{"protocol", proto(*p)}}, uint64_t{p->range.first});
  }
  out.family("ephport_range_last_port", "gauge", "Last port of the ephemeral range.");
  for (const ProtocolAnalysis* p : protocols) {
    out.sample({{"protocol", proto(*p)}}, uint64_t{p->range.last});
  }
  out.family("ephport_capacity_ports", "gauge",
             "Ports of the ephemeral range minus reserved ports.");
  for (const ProtocolAnalysis* p : protocols) {
    out.sample({{"protocol", proto(*p)}}, uint64_t{p->capacity});
  }
  out.family("ephport_bind_owned_ports", "gauge",
             "Ports of the range taken by bind() (listeners, bind-before-connect): connect() "
             "skips them for every destination.");
  for (const ProtocolAnalysis* p : protocols) {
    out.sample({{"protocol", proto(*p)}}, uint64_t{p->bind_owned_ports});
  }
  out.family("ephport_pressure_ratio", "gauge",
             "Worst usage (0..1) over every local address and destination: what to alert on. "
             "With an estimated bind state, the worst case the kernel may hold.");
  for (const ProtocolAnalysis* p : protocols) {
    // Alerts read this series: never the estimate itself (issue #11).
    out.sample({{"protocol", proto(*p)}},
               ratio(std::max(p->pressure_percent, p->pressure_percent_max)));
  }
  out.family("ephport_exhausts_in_seconds", "gauge",
             "Seconds until the first address or destination runs out at the current rate; "
             "absent when none is trending to exhaustion.");
  for (const ProtocolAnalysis* p : protocols) {
    if (p->pressure_forecast.exhausts_in_seconds) {
      out.sample({{"protocol", proto(*p)}}, *p->pressure_forecast.exhausts_in_seconds);
    }
  }
  out.family("ephport_sockets", "gauge", "Sockets by protocol and state.");
  for (const ProtocolAnalysis* p : protocols) {
    for (int i = 0; i < kSockStateCount; ++i) {
      auto state = static_cast<SockState>(i);
      uint64_t count = state_count(p->states, state);
      if (count != 0 || always_listed(p->protocol, state)) {
        out.sample({{"protocol", proto(*p)}, {"state", std::string(state_name(state))}}, count);
      }
    }
  }
  out.family("ephport_unowned_sockets", "gauge",
             "TIME_WAIT and orphaned sockets holding ports of the range that no process owns.");
  for (const ProtocolAnalysis* p : protocols) {
    if (p->protocol == Protocol::tcp) {
      out.sample({{"protocol", proto(*p)}}, p->unowned.sockets);
    }
  }
}

void write_destinations(Exposition& out, const std::vector<const ProtocolAnalysis*>& protocols,
                        const MetricsOptions& options) {
  std::vector<Folding> folding;
  folding.reserve(protocols.size());
  for (const ProtocolAnalysis* p : protocols) {
    folding.push_back(fold_destinations(*p, options.top_destinations));
  }
  out.family("ephport_destinations", "gauge",
             "Destinations (local address, remote address, remote port) with sockets.");
  for (const ProtocolAnalysis* p : protocols) {
    out.sample({{"protocol", proto(*p)}}, p->destination_count);
  }
  out.family("ephport_destinations_folded", "gauge",
             "Destinations beyond --metrics.top-destinations, without series of their own.");
  for (size_t i = 0; i < protocols.size(); ++i) {
    out.sample({{"protocol", proto(*protocols[i])}}, folding[i].folded);
  }
  out.family("ephport_destination_folded_max_usage_ratio", "gauge",
             "Highest usage (0..1) among the folded destinations (0 when none is folded).");
  for (size_t i = 0; i < protocols.size(); ++i) {
    if (folding[i].folded_max_ratio) {
      out.sample({{"protocol", proto(*protocols[i])}}, *folding[i].folded_max_ratio);
    }
  }

  struct Gauge {
    const char* name;
    const char* help;
    double (*value)(const DestinationRow&);
  };
  static const Gauge kGauges[] = {
      {"ephport_destination_usage_ratio",
       "Usage (0..1) of a destination's ports: 1 - connect_free / capacity; the "
       "--metrics.top-destinations worst.",
       [](const DestinationRow& d) { return ratio(d.usage_percent); }},
      {"ephport_destination_ports_in_use", "Ports of the range held by sockets to a destination.",
       [](const DestinationRow& d) { return static_cast<double>(d.in_use); }},
      {"ephport_destination_connect_free_ports",
       "Further connect()s to a destination the kernel would accept.",
       [](const DestinationRow& d) { return static_cast<double>(d.connect_free); }},
      {"ephport_destination_time_wait_sockets", "TIME_WAIT sockets to a destination.",
       [](const DestinationRow& d) { return static_cast<double>(d.time_wait); }},
  };
  for (const Gauge& gauge : kGauges) {
    out.family(gauge.name, "gauge", gauge.help);
    for (size_t i = 0; i < protocols.size(); ++i) {
      for (size_t row = 0; row < folding[i].listed; ++row) {
        const DestinationRow& d = protocols[i]->destinations[row];
        out.sample({{"protocol", proto(*protocols[i])},
                    {"local_address", d.local_address.str()},
                    {"remote_address", d.remote_address.str()},
                    {"remote_port", std::to_string(d.remote_port)}},
                   gauge.value(d));
      }
    }
  }
}

void write_addresses(Exposition& out, const std::vector<const ProtocolAnalysis*>& protocols,
                     const MetricsOptions& options) {
  std::vector<AddressListing> listings;
  listings.reserve(protocols.size());
  for (const ProtocolAnalysis* p : protocols) {
    listings.push_back(list_addresses(*p, options.top_addresses));
  }

  out.family("ephport_local_addresses", "gauge",
             "Specific local addresses (not 0.0.0.0 or ::): those with sockets and those "
             "configured on the interfaces.");
  for (size_t i = 0; i < protocols.size(); ++i) {
    out.sample({{"protocol", proto(*protocols[i])}}, uint64_t{listings[i].specific.size()});
  }
  out.family("ephport_local_addresses_folded", "gauge",
             "Specific local addresses beyond --metrics.top-addresses, without series of their "
             "own.");
  for (size_t i = 0; i < protocols.size(); ++i) {
    out.sample({{"protocol", proto(*protocols[i])}},
               uint64_t{listings[i].specific.size() - listings[i].listed});
  }
  out.family("ephport_local_address_folded_max_usage_ratio", "gauge",
             "Highest usage (0..1) among the folded local addresses (0 when none is folded).");
  for (size_t i = 0; i < protocols.size(); ++i) {
    double max_percent = 0;
    for (size_t row = listings[i].listed; row < listings[i].specific.size(); ++row) {
      max_percent = std::max(max_percent, listings[i].specific[row]->usage_percent);
    }
    out.sample({{"protocol", proto(*protocols[i])}}, ratio(max_percent));
  }

  struct Gauge {
    const char* name;
    const char* help;
    bool tcp_only;
    double (*value)(const AddressRow&);
  };
  static const Gauge kGauges[] = {
      {"ephport_local_address_ports_in_use",
       "Distinct ports of the range held on a local address or an overlapping wildcard (the "
       "seed's #OfEPortsInUse).",
       false, [](const AddressRow& a) { return static_cast<double>(a.ports_in_use); }},
      {"ephport_local_address_usage_ratio", "ports_in_use / capacity (0..1).", false,
       [](const AddressRow& a) { return ratio(a.usage_percent); }},
      {"ephport_local_address_bind_free_ports",
       "Further bind(address, port 0) calls that would succeed.", false,
       [](const AddressRow& a) { return static_cast<double>(a.bind_free); }},
      {"ephport_local_address_connect_free_new_destination_ports",
       "Further connect()s from the address to a destination it has no socket to yet.", true,
       [](const AddressRow& a) { return static_cast<double>(a.connect_free_new_destination); }},
      {"ephport_local_address_listening_ports",
       "Distinct listening ports on the address or a wildcard.", false,
       [](const AddressRow& a) { return static_cast<double>(a.listening_ports); }},
      {"ephport_local_address_sockets",
       "Sockets holding the ports ephport_local_address_ports_in_use counts: on a port of the "
       "range, on the address or an overlapping wildcard (for 0.0.0.0 and ::, on every address "
       "a bind() there must avoid).",
       false, [](const AddressRow& a) { return static_cast<double>(a.sockets); }},
      {"ephport_local_address_time_wait_sockets", "Of those sockets, the ones in TIME_WAIT.", false,
       [](const AddressRow& a) {
         return static_cast<double>(state_count(a.states, SockState::time_wait));
       }},
  };
  for (const Gauge& gauge : kGauges) {
    out.family(gauge.name, "gauge", gauge.help);
    for (size_t i = 0; i < protocols.size(); ++i) {
      if (gauge.tcp_only && protocols[i]->protocol != Protocol::tcp) {
        continue;
      }
      for (const AddressRow* row : listings[i].with_series()) {
        const AddressRow& a = *row;
        out.sample({{"protocol", proto(*protocols[i])}, {"address", a.address.str()}},
                   gauge.value(a));
      }
    }
  }
}

// The bounds of an estimated address figure `base`_ports, as `base`_min_ports
// (the worst case) and `base`_max_ports, for the addresses with series.
void write_address_bounds(Exposition& out, const std::vector<const ProtocolAnalysis*>& protocols,
                          const MetricsOptions& options, const std::string& base,
                          const std::string& why, uint32_t AddressRow::*min,
                          uint32_t AddressRow::*max) {
  for (const auto& [suffix, help, bound] :
       {std::tuple{
            "_min_ports",
            fmt::format("Lower bound of the estimate {}_ports ({}): the worst case.", base, why),
            min},
        std::tuple{"_max_ports",
                   fmt::format("Upper bound of the estimate {}_ports ({}).", base, why), max}}) {
    out.family(base + suffix, "gauge", help);
    for (const ProtocolAnalysis* p : protocols) {
      const AddressListing addresses = list_addresses(*p, options.top_addresses);
      for (const AddressRow* a : addresses.with_series()) {
        out.sample({{"protocol", proto(*p)}, {"address", a->address.str()}}, uint64_t{a->*bound});
      }
    }
  }
}

// With an estimated bind state (ephport_bind_state_exact 0), the bounds of
// each estimated TCP series, written beside it: the kernel's figure lies
// between them whatever bind() took (docs/model.md, "Estimates and their
// bounds"). None with the exact state: those figures are the kernel's own.
// UDP has no bind state to estimate, but its bind_free rests on a guessed
// V6ONLY too.
void write_estimate_bounds(Exposition& out, const Analysis& analysis,
                           const std::vector<const ProtocolAnalysis*>& protocols,
                           const MetricsOptions& options) {
  if (analysis.bind_state == BindState::exact) {
    return;
  }
  // Without BPF an overlapping IPv6 socket's V6ONLY is guessed, so bind_free
  // is an interval (equal bounds where nothing was guessed), either protocol.
  write_address_bounds(out, protocols, options, "ephport_local_address_bind_free",
                       "bind state estimated, V6ONLY of IPv6 sockets guessed",
                       &AddressRow::bind_free_min, &AddressRow::bind_free_max);
  if (!analysis.has_tcp) {
    return;
  }
  const ProtocolAnalysis& tcp = analysis.tcp;
  const std::string protocol = proto(tcp);
  out.family("ephport_bind_owned_min_ports", "gauge",
             "Lower bound of the estimate ephport_bind_owned_ports (bind state estimated): bind() "
             "owns at least these ports of the range.");
  out.sample({{"protocol", protocol}}, uint64_t{tcp.bind_owned_ports_min});
  out.family("ephport_bind_owned_max_ports", "gauge",
             "Upper bound of the estimate ephport_bind_owned_ports (bind state estimated): bind() "
             "owns at most these ports of the range.");
  out.sample({{"protocol", protocol}}, uint64_t{tcp.bind_owned_ports_max});

  const size_t destinations = fold_destinations(tcp, options.top_destinations).listed;
  for (const auto& [name, help, bound] :
       {std::tuple{"ephport_destination_connect_free_min_ports",
                   "Lower bound of the estimate ephport_destination_connect_free_ports (bind "
                   "state estimated): the worst case, what alerts should use.",
                   &DestinationRow::connect_free_min},
        std::tuple{"ephport_destination_connect_free_max_ports",
                   "Upper bound of the estimate ephport_destination_connect_free_ports (bind "
                   "state estimated).",
                   &DestinationRow::connect_free_max}}) {
    out.family(name, "gauge", help);
    for (size_t row = 0; row < destinations; ++row) {
      const DestinationRow& d = tcp.destinations[row];
      out.sample({{"protocol", protocol},
                  {"local_address", d.local_address.str()},
                  {"remote_address", d.remote_address.str()},
                  {"remote_port", std::to_string(d.remote_port)}},
                 uint64_t{d.*bound});
    }
  }

  write_address_bounds(out, {&tcp}, options, "ephport_local_address_connect_free_new_destination",
                       "bind state estimated", &AddressRow::connect_free_new_destination_min,
                       &AddressRow::connect_free_new_destination_max);
}

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string render_prometheus(const Analysis* analysis, const ScrapeFacts& scrape,
                              const MetricsOptions& options) {
  Exposition out;
  write_scrape(out, scrape);
  if (analysis != nullptr) {
    std::vector<const ProtocolAnalysis*> protocols;
    if (analysis->has_tcp) {
      protocols.push_back(&analysis->tcp);
    }
    if (analysis->has_udp) {
      protocols.push_back(&analysis->udp);
    }
    write_protocols(out, *analysis, protocols);
    write_destinations(out, protocols, options);
    write_addresses(out, protocols, options);
    write_estimate_bounds(out, *analysis, protocols, options);
  }
  return out.take();
}

}  // namespace ephport
