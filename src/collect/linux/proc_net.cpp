#include "collect/linux/proc_net.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "collect/linux/proc_file.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace ephport {

namespace {

// Splits off the next whitespace-separated field of `rest`.
std::string_view next_field(std::string_view& rest) {
  size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  size_t end = rest.find_first_of(" \t", start);
  std::string_view field =
      rest.substr(start, end == std::string_view::npos ? rest.npos : end - start);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  return field;
}

// Into an out-parameter: a line's fields are parsed in one chain of &&.
template <typename T>
bool parse_number(std::string_view text, int base, T& value) {
  std::optional<T> parsed = parse_in_base<T>(text, base);
  if (parsed) {
    value = *parsed;
  }
  return parsed.has_value();
}

// "0100007F:1388" (IPv4) or 32 hex digits ":" port (IPv6).
bool parse_endpoint(std::string_view text, bool ipv6, Address& address, uint16_t& port) {
  const size_t address_digits = ipv6 ? 32 : 8;
  if (text.size() != address_digits + 5 || text[address_digits] != ':') {
    return false;
  }
  // Each group of 8 digits is one 32-bit word the kernel printed as a host
  // integer; storing it back as a host integer restores network byte order.
  uint8_t bytes[16];
  for (size_t word = 0; word < address_digits / 8; ++word) {
    uint32_t value = 0;
    if (!parse_number(text.substr(word * 8, 8), 16, value)) {
      return false;
    }
    std::memcpy(bytes + word * 4, &value, 4);
  }
  address = ipv6 ? Address::from_v6(bytes) : Address::from_v4(bytes);
  return parse_number(text.substr(address_digits + 1), 16, port);
}

// "A:B" with both halves hex.
bool parse_hex_pair(std::string_view text, uint32_t& first, uint64_t& second) {
  size_t colon = text.find(':');
  return colon != std::string_view::npos && parse_number(text.substr(0, colon), 16, first) &&
         parse_number(text.substr(colon + 1), 16, second);
}

constexpr std::string_view kListenState = "0A";

// The state column, without parsing the rest of the row.
std::string_view state_field(std::string_view line) {
  for (int i = 0; i < 3; ++i) {
    next_field(line);
  }
  return next_field(line);
}

struct ProcNetFile {
  const char* name;
  Protocol protocol;
  bool ipv6;
};

}  // namespace

std::optional<SocketRecord> parse_proc_net_line(std::string_view line, Protocol protocol, bool ipv6,
                                                long clock_ticks_per_second) {
  std::string_view rest = line;
  std::string_view slot = next_field(rest);
  uint32_t slot_number = 0;
  if (slot.size() < 2 || slot.back() != ':' ||
      !parse_number(slot.substr(0, slot.size() - 1), 10, slot_number)) {
    return std::nullopt;  // also the header line ("sl  local_address ...")
  }
  SocketRecord record;
  record.protocol = protocol;
  record.family = ipv6 ? Address::Family::v6 : Address::Family::v4;
  if (!parse_endpoint(next_field(rest), ipv6, record.local, record.local_port) ||
      !parse_endpoint(next_field(rest), ipv6, record.remote, record.remote_port)) {
    return std::nullopt;
  }
  uint8_t state = 0;
  std::string_view state_text = next_field(rest);
  if (state_text.size() != 2 || !parse_number(state_text, 16, state) || state == 0 ||
      state >= kSockStateCount) {
    return std::nullopt;
  }
  record.state = static_cast<SockState>(state);

  uint32_t tx_queue = 0;
  uint64_t rx_queue = 0;
  uint32_t timer = 0;
  uint64_t ticks = 0;
  uint32_t retransmits = 0;
  if (!parse_hex_pair(next_field(rest), tx_queue, rx_queue) ||
      !parse_hex_pair(next_field(rest), timer, ticks) ||
      !parse_number(next_field(rest), 16, retransmits) ||
      !parse_number(next_field(rest), 10, record.uid)) {
    return std::nullopt;
  }
  // tr: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT (and FIN_WAIT2
  // timewait), 4 zero-window probe: the same numbers as idiag_timer.
  if (timer > 4) {
    return std::nullopt;
  }
  record.timer = static_cast<uint8_t>(timer);
  if (record.timer != 0 && clock_ticks_per_second > 0) {
    uint64_t milliseconds = ticks * 1000 / static_cast<uint64_t>(clock_ticks_per_second);
    record.expires_ms = static_cast<uint32_t>(std::min<uint64_t>(milliseconds, UINT32_MAX));
  }
  std::string_view timeout = next_field(rest);  // unanswered probes: unused
  int64_t unused_timeout = 0;
  if (!parse_number(timeout, 10, unused_timeout) ||
      !parse_number(next_field(rest), 10, record.inode)) {
    return std::nullopt;
  }
  return record;
}

void read_proc_net(const std::string& proc_root, bool tcp, bool udp, const SocketVisitor& visit) {
  const long clock_ticks = sysconf(_SC_CLK_TCK);
  auto read_rows = [&](const ProcNetFile& file, bool (*wanted)(std::string_view state)) {
    const std::string path = fmt::format("{}/net/{}", proc_root, file.name);
    size_t line_number = 0;
    for_each_proc_line(path, file.ipv6, [&](std::string_view line) {
      if (++line_number == 1 || !wanted(state_field(line))) {
        return;  // the header, or a row for the other pass
      }
      std::optional<SocketRecord> record =
          parse_proc_net_line(line, file.protocol, file.ipv6, clock_ticks);
      if (!record) {
        throw RuntimeError(fmt::format("cannot parse line {} of {}: \"{}\"", line_number, path,
                                       line.substr(0, 200)));
      }
      visit(*record);
    });
  };
  auto listen_rows = [](std::string_view state) { return state == kListenState; };
  auto other_rows = [](std::string_view state) { return state != kListenState; };
  auto all_rows = [](std::string_view) { return true; };

  const ProcNetFile tcp4{"tcp", Protocol::tcp, false};
  const ProcNetFile tcp6{"tcp6", Protocol::tcp, true};
  if (tcp) {
    read_rows(tcp4, listen_rows);
    read_rows(tcp6, listen_rows);
    read_rows(tcp4, other_rows);
    read_rows(tcp6, other_rows);
  }
  if (udp) {
    read_rows({"udp", Protocol::udp, false}, all_rows);
    read_rows({"udp6", Protocol::udp, true}, all_rows);
  }
}

}  // namespace ephport
