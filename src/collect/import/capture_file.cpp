#include "collect/import/capture_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "util/contract.h"
#include "util/error.h"
#include "util/escape.h"
#include "util/fd.h"
#include "util/outside_json.h"
#include "util/time_format.h"

namespace ephport {

using nlohmann::json;

namespace {

constexpr size_t kFlushBytes = size_t{64} * 1024;
constexpr uint64_t kMaxPort = std::numeric_limits<uint16_t>::max();

// A JSON value as it appears in an error message, cut short if long. Its
// depth is bounded by the parser (kMaxJsonDepth), so the dump's recursion
// is too.
std::string shown(const json& value) {
  return excerpt(value.dump(-1, ' ', false, json::error_handler_t::replace), 40);
}

// A JSON integer that is not negative; nullopt for anything else.
std::optional<uint64_t> as_unsigned(const json& value) {
  if (value.is_number_unsigned()) {
    return value.get<uint64_t>();
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

// Typed access to the fields of one JSON object. Errors are InputErrors that
// name the field as `prefix` + key, e.g. "host.range.first".
class Fields {
 public:
  Fields(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {
    if (!object_.is_object()) {
      std::string name = prefix_.empty() ? "" : prefix_.substr(0, prefix_.size() - 1) + ": ";
      throw InputError(fmt::format("{}expected a JSON object, got {}", name, shown(object_)));
    }
  }

  // nullptr if absent.
  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  const json& get(const char* key) const {
    const json* value = find(key);
    if (value == nullptr) {
      throw InputError(fmt::format("missing \"{}{}\"", prefix_, key));
    }
    return *value;
  }

  [[noreturn]] void wrong(const char* key, std::string_view expected) const {
    throw InputError(
        fmt::format("{}{}: expected {}, got {}", prefix_, key, expected, shown(get(key))));
  }

  uint64_t unsigned_int(const char* key, uint64_t max) const {
    std::optional<uint64_t> value = as_unsigned(get(key));
    if (!value || *value > max) {
      wrong(key, fmt::format("an integer 0..{}", max));
    }
    return *value;
  }

  uint16_t port(const char* key) const {
    return static_cast<uint16_t>(unsigned_int(key, kMaxPort));
  }

  int signed_int(const char* key) const {
    const json& value = get(key);
    bool fits = false;
    if (value.is_number_unsigned()) {
      fits = value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max());
    } else if (value.is_number_integer()) {
      fits = value.get<int64_t>() >= std::numeric_limits<int>::min() &&
             value.get<int64_t>() <= std::numeric_limits<int>::max();
    }
    if (!fits) {
      wrong(key, "an integer");
    }
    return static_cast<int>(value.get<int64_t>());
  }

  const std::string& string(const char* key) const {
    const json& value = get(key);
    if (!value.is_string()) {
      wrong(key, "a string");
    }
    return value.get_ref<const std::string&>();
  }

  bool boolean(const char* key) const {
    const json& value = get(key);
    if (!value.is_boolean()) {
      wrong(key, "true or false");
    }
    return value.get<bool>();
  }

  Fields object(const char* key) const { return Fields(get(key), prefix_ + key + "."); }

 private:
  const json& object_;
  std::string prefix_;
};

PortRange port_range(const Fields& fields, const std::string& name) {
  PortRange range{fields.port("first"), fields.port("last")};
  if (range.first > range.last) {
    throw InputError(
        fmt::format("{}: first port {} is above last port {}", name, range.first, range.last));
  }
  return range;
}

Address address_field(const Fields& fields, const char* key, Address::Family family) {
  const std::string& text = fields.string(key);
  std::optional<Address> address = Address::parse(text);
  if (!address) {
    throw InputError(fmt::format("{}: bad address \"{}\"", key, excerpt(text)));
  }
  if (family == Address::Family::v4 && address->is_v6()) {
    throw InputError(
        fmt::format("{}: IPv6 address \"{}\" in a family 4 socket", key, excerpt(text)));
  }
  return *address;
}

SocketRecord record_from_json(const json& line) {
  Fields fields(line, "");
  SocketRecord record;

  const std::string& proto = fields.string("proto");
  std::optional<Protocol> protocol = parse_protocol(proto);
  if (!protocol) {
    throw InputError(
        fmt::format("proto: unknown protocol \"{}\" (expected tcp or udp)", excerpt(proto)));
  }
  record.protocol = *protocol;

  std::optional<uint64_t> family = as_unsigned(fields.get("family"));
  if (family == 4U) {
    record.family = Address::Family::v4;
  } else if (family == 6U) {
    record.family = Address::Family::v6;
  } else {
    fields.wrong("family", "4 or 6");
  }

  const std::string& state = fields.string("state");
  std::optional<SockState> sock_state = parse_state(state);
  if (!sock_state) {
    throw InputError(fmt::format("state: unknown state \"{}\"", excerpt(state)));
  }
  record.state = *sock_state;

  record.local = address_field(fields, "local", record.family);
  record.local_port = fields.port("lport");
  record.remote = address_field(fields, "remote", record.family);
  record.remote_port = fields.port("rport");
  record.ifindex = static_cast<uint32_t>(fields.unsigned_int("if", UINT32_MAX));
  record.uid = static_cast<uint32_t>(fields.unsigned_int("uid", UINT32_MAX));
  record.inode = fields.unsigned_int("inode", UINT64_MAX);
  record.timer = static_cast<uint8_t>(fields.unsigned_int("timer", UINT8_MAX));
  record.expires_ms = static_cast<uint32_t>(fields.unsigned_int("expires_ms", UINT32_MAX));

  const json& v6only = fields.get("v6only");
  std::optional<uint64_t> v6only_value = as_unsigned(v6only);
  if (v6only.is_null()) {
    record.v6only = -1;
  } else if (v6only_value && *v6only_value <= 1) {
    record.v6only = static_cast<int8_t>(*v6only_value);
  } else {
    fields.wrong("v6only", "null, 0 or 1");
  }
  record.bind_address_no_port = fields.boolean("bind_address_no_port");
  return record;
}

// The optional "pids" array of a socket line, into `owners` (cleared first).
void read_recorded_pids(const json& line, std::vector<uint32_t>& owners) {
  owners.clear();
  auto pids = line.find("pids");
  if (pids == line.end()) {
    return;
  }
  if (!pids->is_array()) {
    throw InputError(fmt::format("pids: expected an array of process ids, got {}", shown(*pids)));
  }
  for (const json& pid : *pids) {
    std::optional<uint64_t> value = as_unsigned(pid);
    if (!value || *value == 0 || *value > UINT32_MAX) {
      throw InputError(fmt::format("pids: {} is not a process id", shown(pid)));
    }
    auto owner = static_cast<uint32_t>(*value);
    if (std::find(owners.begin(), owners.end(), owner) == owners.end()) {
      owners.push_back(owner);
    }
  }
}

std::string_view v6only_text(int8_t v6only) {
  if (v6only < 0) {
    return "null";
  }
  return v6only == 0 ? "0" : "1";
}

// Reads a file line by line in chunks, refusing a line longer than
// `limits.max_line_bytes` or a file longer than `limits.max_file_bytes`
// as soon as it has read that far: memory stays within one line and one
// chunk whatever the file holds (/dev/zero once grew to 2 GB).
class LineReader {
 public:
  LineReader(const std::string& path, const CaptureLimits& limits)
      : path_(path), limits_(limits), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    // The file named on the command line is missing, refused or a
    // directory: bad input (exit 2), not a failure of this host.
    struct stat info {};
    if (fd_.valid() && ::fstat(fd_.get(), &info) == 0 && S_ISDIR(info.st_mode)) {
      fd_ = UniqueFd();
      errno = EISDIR;
    }
    if (!fd_.valid()) {
      throw InputError(
          fmt::format("cannot read {}: {}", path_, std::strerror(errno != 0 ? errno : EIO)));
    }
  }

  // The next line without its end-of-line, or nullopt at the end of the
  // file. Valid until the next call.
  std::optional<std::string_view> next() {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    size_t searched = 0;
    for (;;) {
      const size_t newline = buffer_.find('\n', searched);
      if (newline != std::string::npos || (at_end_ && !buffer_.empty())) {
        const size_t length = newline == std::string::npos ? buffer_.size() : newline;
        consumed_ = newline == std::string::npos ? length : length + 1;
        ++number_;
        check_line_length(length);
        std::string_view line(buffer_.data(), length);
        while (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        return line;
      }
      if (at_end_) {
        return std::nullopt;
      }
      searched = buffer_.size();
      check_line_length(buffer_.size());
      fill();
    }
  }

  // An InputError naming this file and the current line.
  InputError error(std::string_view what) const {
    return InputError(fmt::format("{}:{}: {}", path_, number_, what));
  }

 private:
  static constexpr size_t kChunkBytes = size_t{64} * 1024;

  void check_line_length(size_t length) const {
    if (length > limits_.max_line_bytes) {
      throw InputError(
          fmt::format("{}:{}: line longer than {} bytes (not what 'ephport "
                      "snapshot --save' writes)",
                      path_, number_ + (consumed_ == 0 ? 1 : 0), limits_.max_line_bytes));
    }
  }

  void fill() {
    const size_t old_size = buffer_.size();
    buffer_.resize(old_size + kChunkBytes);
    ssize_t got = 0;
    do {
      got = ::read(fd_.get(), buffer_.data() + old_size, kChunkBytes);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      throw RuntimeError(fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
    }
    buffer_.resize(old_size + static_cast<size_t>(got));
    at_end_ = got == 0;
    read_bytes_ += static_cast<uint64_t>(got);
    if (read_bytes_ > limits_.max_file_bytes) {
      throw InputError(fmt::format("{}: longer than {} bytes (the limit of a capture)", path_,
                                   limits_.max_file_bytes));
    }
  }

  std::string path_;
  CaptureLimits limits_;
  UniqueFd fd_;
  std::string buffer_;   // read but not yet returned, from the current line on
  size_t consumed_ = 0;  // bytes of buffer_ the returned line took
  bool at_end_ = false;
  uint64_t read_bytes_ = 0;
  size_t number_ = 0;
};

json parse_json_line(std::string_view line) {
  return parse_outside_json(line, true);
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

}  // namespace

json host_facts_to_json(const HostFacts& host) {
  json reserved = json::array();
  for (const PortRange& range : host.reserved_ports(Protocol::tcp)) {
    reserved.push_back(json::array({range.first, range.last}));
  }
  json result = json::object();
  result["computer"] = host.computer;
  result["time"] = format_rfc3339_utc(host.time, true);
  result["platform"] = platform_name(host.platform);
  result["netns"] = host.netns;
  result["source"] = socket_source_name(host.source);
  const PortRange& range = host.range(Protocol::tcp);  // one for both on Linux
  result["range"] = {{"first", range.first}, {"last", range.last}};
  result["reserved"] = std::move(reserved);
  result["tcp_tw_reuse"] = host.linux_sysctls.tcp_tw_reuse;
  result["tcp_tw_reuse_delay_ms"] = host.linux_sysctls.tcp_tw_reuse_delay_ms
                                        ? json(*host.linux_sysctls.tcp_tw_reuse_delay_ms)
                                        : json(nullptr);
  result["tcp_timestamps"] = host.linux_sysctls.tcp_timestamps;
  result["ip_autobind_reuse"] = host.linux_sysctls.ip_autobind_reuse;
  result["bindv6only"] = host.linux_sysctls.bindv6only;
  result["tcp_fin_timeout"] = host.linux_sysctls.tcp_fin_timeout;
  return result;
}

HostFacts host_facts_from_json(const json& object) {
  Fields fields(object, "host.");
  HostFacts host;
  host.computer = fields.string("computer");
  const std::string& time = fields.string("time");
  auto parsed_time = parse_rfc3339(time);
  if (!parsed_time) {
    fields.wrong("time", "an RFC 3339 time");
  }
  host.time = *parsed_time;
  const std::string& platform = fields.string("platform");
  std::optional<Platform> parsed_platform = parse_platform(platform);
  if (!parsed_platform) {
    fields.wrong("platform", "linux or windows");
  }
  host.platform = *parsed_platform;
  host.netns = fields.string("netns");
  const std::string& source = fields.string("source");
  std::optional<SocketSource> parsed_source = parse_socket_source(source);
  if (!parsed_source) {
    fields.wrong("source", "netlink or procfs");
  }
  host.source = *parsed_source;
  host.set_range(port_range(fields.object("range"), "host.range"));

  const json& reserved = fields.get("reserved");
  if (!reserved.is_array()) {
    fields.wrong("reserved", "an array of [first, last] port pairs");
  }
  std::vector<PortRange> reserved_ports;
  for (size_t i = 0; i < reserved.size(); ++i) {
    const json& pair = reserved[i];
    std::string name = fmt::format("host.reserved[{}]", i);
    if (!pair.is_array() || pair.size() != 2) {
      throw InputError(fmt::format("{}: expected [first, last], got {}", name, shown(pair)));
    }
    json as_object = {{"first", pair[0]}, {"last", pair[1]}};
    reserved_ports.push_back(port_range(Fields(as_object, name + "."), name));
  }
  host.set_reserved(reserved_ports);

  host.linux_sysctls.tcp_tw_reuse = fields.signed_int("tcp_tw_reuse");
  const json* delay = fields.find("tcp_tw_reuse_delay_ms");
  if (delay != nullptr && !delay->is_null()) {
    host.linux_sysctls.tcp_tw_reuse_delay_ms = fields.signed_int("tcp_tw_reuse_delay_ms");
  }
  host.linux_sysctls.tcp_timestamps = fields.signed_int("tcp_timestamps");
  host.linux_sysctls.ip_autobind_reuse = fields.signed_int("ip_autobind_reuse");
  host.linux_sysctls.bindv6only = fields.signed_int("bindv6only");
  host.linux_sysctls.tcp_fin_timeout = fields.signed_int("tcp_fin_timeout");
  return host;
}

CaptureWriter::CaptureWriter(std::string path) : path_(std::move(path)) {
  Result<AtomicFile> file = AtomicFile::create(path_);
  if (!file.ok()) {
    fail(file.error().error_number);
  }
  file_.emplace(std::move(file).value());
}

CaptureWriter::~CaptureWriter() = default;  // file_ removes the temporary file unless committed

void CaptureWriter::write_host(const HostFacts& host, const OwnerScan* owners,
                               const PortSet* bind_owned,
                               const std::vector<Address>* local_addresses) {
  require(!host_written_ && !finished_,
          "CaptureWriter::write_host() called twice or after finish()");
  std::string owners_json = "null";
  if (owners != nullptr) {
    owners_json = fmt::format("{{\"processes_scanned\":{},\"processes_unreadable\":{}}}",
                              owners->processes_scanned, owners->processes_unreadable);
  }
  std::string bind_owned_json = "null";
  if (bind_owned != nullptr) {
    std::vector<uint32_t> ports;
    for (uint32_t port = 0; port <= 65535; ++port) {
      if (bind_owned->contains(static_cast<uint16_t>(port))) {
        ports.push_back(port);
      }
    }
    bind_owned_json = fmt::format("[{}]", fmt::join(ports, ","));
  }
  json addresses_json = nullptr;
  if (local_addresses != nullptr) {
    addresses_json = json::array();
    for (const Address& address : *local_addresses) {
      addresses_json.push_back(address.str());
    }
  }
  fmt::format_to(std::back_inserter(buffer_),
                 "{{\"schema\":\"{}\",\"host\":{},\"owners\":{},\"bind_owned\":{},"
                 "\"local_addresses\":{}}}\n",
                 kCaptureSchema,
                 host_facts_to_json(host).dump(-1, ' ', false, json::error_handler_t::replace),
                 owners_json, bind_owned_json, addresses_json.dump());
  owners_ = owners != nullptr;
  host_written_ = true;
}

void CaptureWriter::add(const SocketRecord& record) {
  require(host_written_ && !finished_,
          "CaptureWriter::add() called before write_host() or after finish()");
  // Every string here (names, addresses) needs no JSON escaping.
  fmt::format_to(std::back_inserter(buffer_),
                 "{{\"proto\":\"{}\",\"family\":{},\"state\":\"{}\",\"local\":\"{}\",\"lport\":{},"
                 "\"remote\":\"{}\",\"rport\":{},\"if\":{},\"uid\":{},\"inode\":{},\"timer\":{},"
                 "\"expires_ms\":{},\"v6only\":{},\"bind_address_no_port\":{}",
                 protocol_name(record.protocol), static_cast<int>(record.family),
                 state_name(record.state), record.local.str(), record.local_port,
                 record.remote.str(), record.remote_port, record.ifindex, record.uid, record.inode,
                 record.timer, record.expires_ms, v6only_text(record.v6only),
                 record.bind_address_no_port);
  if (owners_) {
    fmt::format_to(std::back_inserter(buffer_), ",\"pids\":[{}]", fmt::join(record.pids, ","));
  }
  buffer_ += "}\n";
  if (buffer_.size() >= kFlushBytes) {
    flush();
  }
}

void CaptureWriter::finish() {
  require(host_written_ && !finished_,
          "CaptureWriter::finish() called before write_host() or twice");
  flush();
  if (Result<void> committed = file_->commit(); !committed.ok()) {
    fail(committed.error().error_number);
  }
  finished_ = true;
}

void CaptureWriter::flush() {
  Result<void> result = file_->write(buffer_);
  buffer_.clear();
  if (!result.ok()) {
    fail(result.error().error_number);
  }
}

void CaptureWriter::fail(int error) const {
  throw RuntimeError(fmt::format("cannot write {}: {}", path_, std::strerror(error)));
}

HostFacts read_capture(const std::string& path, const SocketVisitor& visit) {
  return read_capture(path, HostVisitor{}, visit);
}

HostFacts read_capture(const std::string& path, const HostVisitor& on_host,
                       const SocketVisitor& visit, CaptureExtras* owners,
                       const CaptureLimits& limits) {
  LineReader reader(path, limits);

  std::optional<std::string_view> line = reader.next();
  if (!line) {
    throw InputError(fmt::format("{}:1: empty file, expected an {} header", path, kCaptureSchema));
  }
  HostFacts host;
  try {
    json header;
    try {
      header = parse_json_line(*line);
    } catch (const InputError&) {
      // Not JSON and not a broken object either: say what the file is not,
      // not where its JSON breaks.
      const size_t first = line->find_first_not_of(" \t");
      if (first != std::string_view::npos && (*line)[first] == '{') {
        throw;
      }
      throw InputError(fmt::format(
          "not an {} file (expected the JSON Lines that 'ephport snapshot --save' writes)",
          kCaptureSchema));
    }
    Fields fields(header, "");
    const json* schema = fields.find("schema");
    if (schema == nullptr) {
      throw InputError(fmt::format("not an {} file (no \"schema\")", kCaptureSchema));
    }
    if (*schema != kCaptureSchema) {
      throw InputError(
          fmt::format("schema is {}, expected \"{}\"", shown(*schema), kCaptureSchema));
    }
    host = host_facts_from_json(fields.get("host"));
    const json* recorded_bind_owned = fields.find("bind_owned");
    if (owners != nullptr && recorded_bind_owned != nullptr && !recorded_bind_owned->is_null()) {
      if (!recorded_bind_owned->is_array()) {
        throw InputError("bind_owned: expected an array of ports or null");
      }
      PortSet ports;
      for (const json& port : *recorded_bind_owned) {
        std::optional<uint64_t> value = as_unsigned(port);
        if (!value || *value > 65535) {
          throw InputError(fmt::format("bind_owned: {} is not a port", shown(port)));
        }
        ports.insert(static_cast<uint16_t>(*value));
      }
      owners->bind_owned = ports;
    }
    // Absent from captures written before it was recorded.
    const json* recorded_addresses = fields.find("local_addresses");
    if (owners != nullptr && recorded_addresses != nullptr && !recorded_addresses->is_null()) {
      if (!recorded_addresses->is_array()) {
        throw InputError("local_addresses: expected an array of addresses or null");
      }
      std::vector<Address> addresses;
      for (const json& text : *recorded_addresses) {
        std::optional<Address> address =
            text.is_string() ? Address::parse(text.get<std::string>()) : std::nullopt;
        if (!address || address->is_wildcard()) {
          throw InputError(fmt::format("local_addresses: {} is not an address", shown(text)));
        }
        addresses.push_back(*address);
      }
      owners->local_addresses = std::move(addresses);
    }
    const json* recorded_owners = fields.find("owners");
    if (owners != nullptr && recorded_owners != nullptr && !recorded_owners->is_null()) {
      Fields counts(*recorded_owners, "owners.");
      owners->owners =
          OwnerScan{OwnerMethod::capture, counts.unsigned_int("processes_scanned", UINT32_MAX),
                    counts.unsigned_int("processes_unreadable", UINT32_MAX)};
    }
  } catch (const InputError& error) {
    throw reader.error(error.what());
  }
  if (on_host) {
    on_host(host);
  }

  // Ordering contract: TCP LISTEN and bound-only sockets before other TCP.
  bool seen_other_tcp = false;
  std::vector<uint32_t> pids;  // the current socket's, reused
  while ((line = reader.next())) {
    if (is_blank(*line)) {
      continue;
    }
    SocketRecord record;
    try {
      json object = parse_json_line(*line);
      record = record_from_json(object);
      if (owners != nullptr && owners->owners) {
        read_recorded_pids(object, pids);
        record.pids = pids;
      }
    } catch (const InputError& error) {
      throw reader.error(error.what());
    }
    if (record.protocol == Protocol::tcp) {
      if (record.state == SockState::listen || record.is_bound_only()) {
        if (seen_other_tcp) {
          throw reader.error(
              fmt::format("TCP {} socket after other TCP sockets (a capture lists TCP LISTEN and "
                          "bound-only sockets first)",
                          state_name(record.state)));
        }
      } else {
        seen_other_tcp = true;
      }
    }
    visit(record);
  }
  return host;
}

}  // namespace ephport
