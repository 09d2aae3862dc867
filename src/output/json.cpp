#include "output/json.h"

#include <cmath>
#include <optional>

#include "output/process_output.h"
#include "util/time_format.h"

namespace ephport {

namespace {
using json = nlohmann::ordered_json;

// Destinations listed per process in a snapshot; evidence bundles list all.
constexpr size_t kProcessTopDestinations = 5;

// Percentages with two decimals: stable output, no float noise.
double rounded(double value) {
  return std::round(value * 100.0) / 100.0;
}

// Rates with four significant digits: slow leaks (a port an hour) stay visible.
double significant(double value) {
  if (value == 0 || !std::isfinite(value)) {
    return value;
  }
  double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(value))));
  return std::round(value * scale) / scale;
}

// Times to exhaustion to a tenth of a second.
json forecast_json(const Forecast& forecast) {
  const auto& rate = forecast.rate_per_second;
  const auto& exhausts = forecast.exhausts_in_seconds;
  return {{"rate_per_second", rate ? json(significant(*rate)) : json(nullptr)},
          {"exhausts_in_seconds",
           exhausts ? json(std::round(*exhausts * 10.0) / 10.0) : json(nullptr)}};
}

// Null for a single snapshot: nothing was counted, not zero.
json expiring_json(const Analysis& analysis, uint32_t expiring) {
  return analysis.expiry_window_ms != 0 ? json(expiring) : json(nullptr);
}

json destination_json(const Analysis& analysis, const DestinationRow& row) {
  return {{"local_address", row.local_address.str()},
          {"remote_address", row.remote_address.str()},
          {"remote_port", row.remote_port},
          {"in_use", row.in_use},
          {"time_wait", row.time_wait},
          {"connect_free", row.connect_free},
          {"connect_free_min", row.connect_free_min},
          {"connect_free_max", row.connect_free_max},
          {"usage_percent", rounded(row.usage_percent)},
          {"time_wait_expiring", expiring_json(analysis, row.time_wait_expiring)},
          {"forecast", forecast_json(row.forecast)}};
}

json address_json(const Analysis& analysis, const ProtocolAnalysis& protocol,
                  const AddressRow& row) {
  json object = {{"address", row.address.str()},
                 {"wildcard", row.wildcard},
                 {"ports_in_use", row.ports_in_use},
                 {"usage_percent", rounded(row.usage_percent)},
                 {"listening_ports", row.listening_ports},
                 {"pids", analysis.owners.resolved ? json(row.pids) : json(nullptr)},
                 {"bind_free", row.bind_free},
                 {"bind_free_min", row.bind_free_min},
                 {"bind_free_max", row.bind_free_max},
                 {"sockets", row.sockets},
                 {"states", states_json(row.states)}};
  // UDP never shares ports across destinations: these are TCP-only figures.
  bool tcp = protocol.protocol == Protocol::tcp;
  object["connect_free_new_destination"] =
      tcp ? json(row.connect_free_new_destination) : json(nullptr);
  object["connect_free_new_destination_min"] =
      tcp ? json(row.connect_free_new_destination_min) : json(nullptr);
  object["connect_free_new_destination_max"] =
      tcp ? json(row.connect_free_new_destination_max) : json(nullptr);
  object["worst_destination"] =
      row.worst_destination ? destination_json(analysis, *row.worst_destination) : json(nullptr);
  object["time_wait_expiring"] = expiring_json(analysis, row.time_wait_expiring);
  object["forecast"] = forecast_json(row.forecast);
  object["configured"] = row.configured ? json(*row.configured) : json(nullptr);
  return object;
}

// The row a pressure comes from, in one shape for both kinds of row.
json pressure_source_json(const std::optional<PressureSource>& source) {
  if (!source) {
    return nullptr;
  }
  return {
      {"kind", source->destination ? "destination" : "address"},
      {"local_address", source->local_address.str()},
      {"remote_address", source->destination ? json(source->remote_address.str()) : json(nullptr)},
      {"remote_port", source->destination ? json(source->remote_port) : json(nullptr)}};
}

json protocol_json(const Analysis& analysis, const ProtocolAnalysis& protocol) {
  json addresses = json::array();
  for (const AddressRow& row : protocol.addresses) {
    addresses.push_back(address_json(analysis, protocol, row));
  }
  json destinations = json::array();
  for (const DestinationRow& row : protocol.destinations) {
    destinations.push_back(destination_json(analysis, row));
  }
  json object = {{"range", {{"first", protocol.range.first}, {"last", protocol.range.last}}},
                 {"capacity", protocol.capacity},
                 {"capacity_guaranteed", protocol.capacity_guaranteed},
                 {"pressure_percent", rounded(protocol.pressure_percent)},
                 {"pressure_percent_max", rounded(protocol.pressure_percent_max)},
                 {"pressure_source", pressure_source_json(protocol.pressure_source)},
                 {"pressure_source_max", pressure_source_json(protocol.pressure_source_max)},
                 {"sockets", protocol.sockets},
                 {"states", states_json(protocol.states)},
                 {"addresses", std::move(addresses)}};
  object["bind_owned_ports"] = protocol.bind_owned_ports;
  object["bind_owned_ports_min"] = protocol.bind_owned_ports_min;
  object["bind_owned_ports_max"] = protocol.bind_owned_ports_max;
  object["least_connect_free_min"] =
      protocol.protocol == Protocol::tcp ? json(protocol.least_connect_free_min) : json(nullptr);
  object["destination_count"] = protocol.destination_count;
  object["destinations"] = std::move(destinations);
  object["pressure_forecast"] = forecast_json(protocol.pressure_forecast);
  if (protocol.protocol == Protocol::tcp) {
    object["unowned"] = unowned_json(protocol.unowned);
  }
  return object;
}

json host_json(const HostFacts& host) {
  json reserved = json::array();
  for (const PortRange& range : host.reserved_ports(Protocol::tcp)) {
    reserved.push_back({range.first, range.last});
  }
  return {{"netns", host.netns.empty() ? json(nullptr) : json(host.netns)},
          {"source", socket_source_name(host.source)},
          {"reserved_ports", std::move(reserved)},
          {"tcp_tw_reuse", host.linux_sysctls.tcp_tw_reuse},
          {"tcp_tw_reuse_delay_ms", host.linux_sysctls.tcp_tw_reuse_delay_ms
                                        ? json(*host.linux_sysctls.tcp_tw_reuse_delay_ms)
                                        : json(nullptr)},
          {"tcp_timestamps", host.linux_sysctls.tcp_timestamps},
          {"ip_autobind_reuse", host.linux_sysctls.ip_autobind_reuse},
          {"bindv6only", host.linux_sysctls.bindv6only},
          {"tcp_fin_timeout", host.linux_sysctls.tcp_fin_timeout}};
}
}  // namespace

json text_or_null(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

std::string dump_json(const json& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace) + "\n";
}

json states_json(const StateCounts& states) {
  json object = json::object();
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i] != 0) {
      object[std::string(state_name(static_cast<SockState>(i)))] = states[i];
    }
  }
  return object;
}

json snapshot_json(const Analysis& analysis) {
  json protocols = json::object();
  if (analysis.has_tcp) {
    protocols["tcp"] = protocol_json(analysis, analysis.tcp);
  }
  if (analysis.has_udp) {
    protocols["udp"] = protocol_json(analysis, analysis.udp);
  }
  json owners = {{"resolved", analysis.owners.resolved}};
  if (analysis.owners.resolved) {
    owners["complete"] = analysis.owners.complete;
    owners["processes_scanned"] = analysis.owners.processes_scanned;
    owners["processes_unreadable"] = analysis.owners.processes_unreadable;
    owners["method"] = owner_method_name(analysis.owners.method);
    owners["sockets_unattributed"] = analysis.owners.sockets_unattributed;
  }
  return {{"schema", kSnapshotSchema},
          {"computer", analysis.host.computer},
          {"time", format_rfc3339_utc(analysis.host.time, true)},
          {"platform", platform_name(analysis.host.platform)},
          {"bind_state", bind_state_name(analysis.bind_state)},
          {"bind_state_note",
           analysis.bind_state_note.empty() ? json(nullptr) : json(analysis.bind_state_note)},
          {"expiry_window_ms", analysis.expiry_window_ms},
          {"host", host_json(analysis.host)},
          {"owners", std::move(owners)},
          {"protocols", std::move(protocols)},
          {"processes", processes_json(analysis, kProcessTopDestinations)}};
}

std::string render_json(const Analysis& analysis) {
  return dump_json(snapshot_json(analysis), true);
}

std::string render_jsonl(const Analysis& analysis) {
  return dump_json(snapshot_json(analysis), false);
}

}  // namespace ephport
