#include "fleet/snapshot_document.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "output/json.h"
#include "util/error.h"
#include "util/escape.h"
#include "util/outside_json.h"
#include "util/time_format.h"

namespace ephport {

namespace {

using json = nlohmann::json;

// A JSON value with the path that led to it, for error messages.
class Field {
 public:
  Field(const json& value, std::string path) : value_(value), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw InputError("snapshot document: " + (path_.empty() ? "" : path_ + ": ") + why);
  }

  bool has(const char* key) const { return value_.is_object() && value_.contains(key); }
  bool is_null() const { return value_.is_null(); }

  Field at(const char* key) const {
    if (!value_.is_object()) {
      fail("expected an object");
    }
    auto found = value_.find(key);
    std::string path = path_.empty() ? key : path_ + "." + key;
    if (found == value_.end()) {
      Field(value_, path).fail("missing");
    }
    return {*found, path};
  }

  std::vector<Field> items() const {
    if (!value_.is_array()) {
      fail("expected an array");
    }
    std::vector<Field> items;
    for (size_t i = 0; i < value_.size(); ++i) {
      items.emplace_back(value_[i], path_ + "[" + std::to_string(i) + "]");
    }
    return items;
  }

  std::string string() const {
    if (!value_.is_string()) {
      fail("expected a string");
    }
    return value_.get<std::string>();
  }

  bool boolean() const {
    if (!value_.is_boolean()) {
      fail("expected true or false");
    }
    return value_.get<bool>();
  }

  double number() const {
    if (!value_.is_number()) {
      fail("expected a number");
    }
    return value_.get<double>();
  }

  template <typename Unsigned>
  Unsigned count() const {
    if (!value_.is_number_unsigned() &&
        !(value_.is_number_integer() && value_.get<int64_t>() >= 0)) {
      fail("expected a non-negative integer");
    }
    auto value = value_.get<uint64_t>();
    if (value > std::numeric_limits<Unsigned>::max()) {
      fail("out of range");
    }
    return static_cast<Unsigned>(value);
  }

  Address address() const {
    auto parsed = Address::parse(string());
    if (!parsed) {
      fail("'" + excerpt(string()) + "' is not an IP address");
    }
    return *parsed;
  }

  std::optional<double> optional_number() const {
    return is_null() ? std::nullopt : std::optional<double>(number());
  }

  const json& value() const { return value_; }

 private:
  const json& value_;
  std::string path_;
};

// A count that later versions added: `fallback` when the document has none
// (or null).
uint32_t count_or(const Field& field, const char* key, uint32_t fallback) {
  if (!field.has(key) || field.at(key).is_null()) {
    return fallback;
  }
  return field.at(key).count<uint32_t>();
}

// A string field that names one of an enum's values.
template <typename Parse>
auto parsed(const Field& field, Parse parse, const char* expected) {
  std::string text = field.string();
  auto value = parse(text);
  if (!value) {
    field.fail("'" + excerpt(text) + "', expected " + expected);
  }
  return *value;
}

StateCounts read_states(const Field& field) {
  StateCounts states{};
  if (!field.value().is_object()) {
    field.fail("expected an object");
  }
  for (const auto& [name, count] : field.value().items()) {
    auto state = parse_state(name);
    if (state) {  // states named later are skipped
      states[static_cast<size_t>(*state)] = field.at(name.c_str()).count<uint32_t>();
    }
  }
  return states;
}

Forecast read_forecast(const Field& field) {
  Forecast forecast;
  forecast.rate_per_second = field.at("rate_per_second").optional_number();
  forecast.exhausts_in_seconds = field.at("exhausts_in_seconds").optional_number();
  return forecast;
}

uint32_t optional_count(const Field& field) {
  return field.is_null() ? 0 : field.count<uint32_t>();
}

DestinationRow read_destination(const Field& field) {
  DestinationRow row;
  row.local_address = field.at("local_address").address();
  row.remote_address = field.at("remote_address").address();
  row.remote_port = field.at("remote_port").count<uint16_t>();
  row.in_use = field.at("in_use").count<uint32_t>();
  row.time_wait = field.at("time_wait").count<uint32_t>();
  row.connect_free = field.at("connect_free").count<uint32_t>();
  // Bounds came with ephport 0.1.x after issue #11; older documents have none.
  row.connect_free_min = count_or(field, "connect_free_min", row.connect_free);
  row.connect_free_max = count_or(field, "connect_free_max", row.connect_free);
  row.usage_percent = field.at("usage_percent").number();
  row.time_wait_expiring = optional_count(field.at("time_wait_expiring"));
  row.forecast = read_forecast(field.at("forecast"));
  return row;
}

AddressRow read_address(const Field& field) {
  AddressRow row;
  row.address = field.at("address").address();
  row.wildcard = field.at("wildcard").boolean();
  row.ports_in_use = field.at("ports_in_use").count<uint32_t>();
  row.usage_percent = field.at("usage_percent").number();
  row.listening_ports = field.at("listening_ports").count<uint32_t>();
  row.pids = optional_count(field.at("pids"));
  row.bind_free = field.at("bind_free").count<uint32_t>();
  row.bind_free_min = count_or(field, "bind_free_min", row.bind_free);
  row.bind_free_max = count_or(field, "bind_free_max", row.bind_free);
  row.states = read_states(field.at("states"));
  // `sockets` came after issue #11, with `states` counting the same
  // sockets; an older document's states counted its exact address only.
  uint32_t states_sum = 0;
  for (uint32_t count : row.states) {
    states_sum += count;
  }
  row.sockets = count_or(field, "sockets", states_sum);
  row.connect_free_new_destination = optional_count(field.at("connect_free_new_destination"));
  row.connect_free_new_destination_min =
      count_or(field, "connect_free_new_destination_min", row.connect_free_new_destination);
  row.connect_free_new_destination_max =
      count_or(field, "connect_free_new_destination_max", row.connect_free_new_destination);
  Field worst = field.at("worst_destination");
  if (!worst.is_null()) {
    row.worst_destination = read_destination(worst);
  }
  row.time_wait_expiring = optional_count(field.at("time_wait_expiring"));
  row.forecast = read_forecast(field.at("forecast"));
  // Came with issue #11; older documents have none.
  if (field.has("configured") && !field.at("configured").is_null()) {
    row.configured = field.at("configured").boolean();
  }
  // States count the sockets on exactly this address: none, no socket.
  row.own_sockets =
      std::any_of(row.states.begin(), row.states.end(), [](uint32_t count) { return count != 0; });
  return row;
}

// Absent (older documents) or null: no source.
std::optional<PressureSource> read_pressure_source(const Field& protocol, const char* key) {
  if (!protocol.has(key) || protocol.at(key).is_null()) {
    return std::nullopt;
  }
  Field field = protocol.at(key);
  PressureSource source;
  std::string kind = field.at("kind").string();
  if (kind != "address" && kind != "destination") {
    field.at("kind").fail("'" + excerpt(kind) + "', expected address or destination");
  }
  source.destination = kind == "destination";
  source.local_address = field.at("local_address").address();
  if (source.destination) {
    source.remote_address = field.at("remote_address").address();
    source.remote_port = field.at("remote_port").count<uint16_t>();
  }
  return source;
}

ProtocolAnalysis read_protocol(const Field& field, Protocol protocol) {
  ProtocolAnalysis result;
  result.protocol = protocol;
  Field range = field.at("range");
  result.range = {range.at("first").count<uint16_t>(), range.at("last").count<uint16_t>()};
  result.capacity = field.at("capacity").count<uint32_t>();
  result.capacity_guaranteed = field.at("capacity_guaranteed").count<uint32_t>();
  result.pressure_percent = field.at("pressure_percent").number();
  result.pressure_percent_max = field.has("pressure_percent_max")
                                    ? field.at("pressure_percent_max").number()
                                    : result.pressure_percent;
  result.pressure_source = read_pressure_source(field, "pressure_source");
  result.pressure_source_max = read_pressure_source(field, "pressure_source_max");
  result.sockets = field.at("sockets").count<uint64_t>();
  result.states = read_states(field.at("states"));
  for (const Field& address : field.at("addresses").items()) {
    result.addresses.push_back(read_address(address));
  }
  result.bind_owned_ports = field.at("bind_owned_ports").count<uint32_t>();
  result.bind_owned_ports_min = count_or(field, "bind_owned_ports_min", result.bind_owned_ports);
  result.bind_owned_ports_max = count_or(field, "bind_owned_ports_max", result.bind_owned_ports);
  result.destination_count = field.at("destination_count").count<uint64_t>();
  for (const Field& destination : field.at("destinations").items()) {
    result.destinations.push_back(read_destination(destination));
  }
  result.pressure_forecast = read_forecast(field.at("pressure_forecast"));
  uint32_t least = result.capacity - result.bind_owned_ports_max;
  for (const DestinationRow& row : result.destinations) {
    least = std::min(least, row.connect_free_min);
  }
  result.least_connect_free_min =
      protocol == Protocol::tcp ? count_or(field, "least_connect_free_min", least) : 0;
  return result;
}

}  // namespace

Analysis parse_snapshot_document(std::string_view text) {
  json document;
  try {
    document = parse_outside_json(text);
  } catch (const InputError& error) {
    throw InputError(std::string("snapshot document: ") + error.what());
  }
  Field root(document, "");
  if (!document.is_object()) {
    root.fail("expected an object");
  }
  std::string schema = root.at("schema").string();
  if (schema != kSnapshotSchema) {
    root.at("schema").fail("'" + excerpt(schema) + "', expected " + kSnapshotSchema);
  }
  Analysis analysis;
  analysis.host.computer = root.at("computer").string();
  std::string time = root.at("time").string();
  auto parsed_time = parse_rfc3339(time);
  if (!parsed_time) {
    root.at("time").fail("'" + excerpt(time) + "' is not an RFC 3339 time");
  }
  analysis.host.time = *parsed_time;
  analysis.host.platform = parsed(root.at("platform"), parse_platform, "linux or windows");
  analysis.bind_state = parsed(root.at("bind_state"), parse_bind_state, "exact or estimated");
  Field note = root.at("bind_state_note");
  analysis.bind_state_note = note.is_null() ? "" : note.string();
  analysis.expiry_window_ms = root.at("expiry_window_ms").count<uint32_t>();
  Field host = root.at("host");
  Field netns = host.at("netns");
  analysis.host.netns = netns.is_null() ? "" : netns.string();
  analysis.host.source = parsed(host.at("source"), parse_socket_source, "netlink or procfs");
  Field owners = root.at("owners");
  analysis.owners.resolved = owners.at("resolved").boolean();
  if (analysis.owners.resolved) {
    analysis.owners.complete = owners.at("complete").boolean();
    analysis.owners.processes_scanned = owners.at("processes_scanned").count<uint64_t>();
    analysis.owners.processes_unreadable = owners.at("processes_unreadable").count<uint64_t>();
    analysis.owners.method =
        parsed(owners.at("method"), parse_owner_method, "bpf, procfs or capture");
    analysis.owners.sockets_unattributed = owners.at("sockets_unattributed").count<uint64_t>();
  }
  Field protocols = root.at("protocols");
  analysis.has_tcp = protocols.has("tcp");
  analysis.has_udp = protocols.has("udp");
  if (analysis.has_tcp) {
    analysis.tcp = read_protocol(protocols.at("tcp"), Protocol::tcp);
    analysis.host.set_range(analysis.tcp.range);
  }
  if (analysis.has_udp) {
    analysis.udp = read_protocol(protocols.at("udp"), Protocol::udp);
    analysis.host.ranges[static_cast<size_t>(Protocol::udp)] = analysis.udp.range;
  }
  return analysis;
}

}  // namespace ephport
